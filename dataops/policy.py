"""`python -m dataops policy --stack S`: the policy pack's rules on a stack's offline plan.

The same rules `pulumi preview --policy-pack policies` applies, run without the CLI or
credentials, on the resources of the offline plan as pulumi-policy would present them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dataops.plan_types import Plan
from policies.rules import RULES, Rule, run


@dataclass(frozen=True)
class Options:
    protect: bool


@dataclass(frozen=True)
class Resource:
    """The attributes of pulumi_policy.PolicyResource the rules use."""

    resource_type: str
    props: dict[str, Any]
    urn: str
    name: str
    opts: Options


def resources(plan: Plan) -> list[Resource]:
    """The plan's resources as a preview shows them to the pack: custom resources, and Helm
    charts (the offline plan has a v4 Chart's values but not the objects it renders)."""
    return [
        Resource(r.type, r.inputs, r.urn, r.name, Options(r.protect))
        for r in plan.resources
        if r.custom or r.type.startswith("kubernetes:helm.sh/")
    ]


@dataclass(frozen=True)
class Violation:
    rule: Rule
    message: str
    urn: str | None

    def __str__(self) -> str:
        return f"{self.rule.enforcement.upper()} {self.rule.name} ({self.rule.severity}): {self.message}"


def check(plan: Plan, rules: tuple[Rule, ...] = RULES) -> list[Violation]:
    return [Violation(rule, message, urn) for rule, message, urn in run(rules, resources(plan))]
