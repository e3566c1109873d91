"""The rules as pulumi-policy objects (no server: PolicyPack is built only in __main__.py)."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, StackValidationPolicy
from pulumi_policy.policy import Severity

try:  # as a package (tests, tooling) or from the pack's own directory (the Pulumi CLI)
    from policies.rules import RULES, Rule, run
except ImportError:  # pragma: no cover - exercised by the Pulumi CLI only
    from rules import RULES, Rule, run  # type: ignore[no-redef]


def as_policy(rule: Rule) -> StackValidationPolicy:
    def validate(args, report_violation):
        # run() keeps a rule silent when a value it needs is unknown during a preview.
        for _, message, urn in run([rule], list(args.resources)):
            report_violation(message, urn)

    return StackValidationPolicy(
        name=rule.name,
        description=f"{rule.description} Controls: {', '.join(rule.controls) or 'platform rule'}.",
        validate=validate,
        enforcement_level=EnforcementLevel(rule.enforcement),
        severity=Severity(rule.severity),
        tags=list(rule.controls),
    )


def policies() -> list[StackValidationPolicy]:
    return [as_policy(rule) for rule in RULES]
