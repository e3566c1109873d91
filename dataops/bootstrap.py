"""`python -m dataops bootstrap --stack S`: the first deploy of a stack whose API endpoint is private.

A cluster's endpoint is private, and the runner inside the VPC that deploys it is created by the
same stack. So the first `pulumi up` runs from anywhere with AWS credentials and creates every
AWS resource but no Kubernetes one: `--exclude` names the Kubernetes provider and objects, and
`--exclude-dependents` everything that needs them (Pulumi CLI 3.158 and later; "Targeted
updates", https://www.pulumi.com/docs/iac/operations/stack-management/targeted-updates/). Every
later run, the Kubernetes objects included, runs on the stack's runner.

This module applies the same selection to the offline plan, so the README's command is checked
against the program (tests/dataops/test_bootstrap.py) and a user sees what each phase creates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dataops.plan_types import Plan, PlannedResource

# Every Kubernetes object and the Kubernetes provider: their URNs hold `kubernetes:`.
EXCLUDE = "urn:pulumi:**kubernetes:**"


def urn_pattern(glob: str) -> re.Pattern[str]:
    """Pulumi's URN globs: `**` crosses `:`, `*` does not, the whole URN must match
    (`UrnTargets` in pulumi/pulumi pkg/resource/deploy)."""
    parts = re.split(r"(\*\*|\*)", glob)
    body = "".join(".*" if p == "**" else "[^:]*" if p == "*" else re.escape(p) for p in parts)
    return re.compile(f"^{body}$")


def _edges(r: PlannedResource) -> list[str]:
    """What a resource depends on in Pulumi's dependency graph: its dependencies, its parent
    and its provider."""
    provider = r.provider.rsplit("::", 1)[0] if r.provider else ""
    return [*r.dependencies, *([r.parent] if r.parent else []), *([provider] if provider else [])]


def excluded(plan: Plan, patterns: list[str], *, dependents: bool = True) -> set[str]:
    """URNs `pulumi up --exclude P... [--exclude-dependents]` leaves out."""
    compiled = [urn_pattern(p) for p in patterns]
    out = {r.urn for r in plan.resources if any(c.match(r.urn) for c in compiled)}
    changed = dependents
    while changed:
        changed = False
        for r in plan.resources:
            if r.urn not in out and any(e in out for e in _edges(r)):
                out.add(r.urn)
                changed = True
    return out


@dataclass
class Phases:
    stack: str
    now: list[PlannedResource]
    """Created by the bootstrap run, from outside the VPC."""
    later: list[PlannedResource]
    """Created by the first run on the stack's runner."""

    def commands(self) -> list[str]:
        flags = f"--exclude '{EXCLUDE}' --exclude-dependents"
        return [f"pulumi preview --stack {self.stack} {flags}", f"pulumi up --stack {self.stack} {flags}"]


def phases(plan: Plan) -> Phases:
    left_out = excluded(plan, [EXCLUDE])
    custom = [r for r in plan.resources if r.custom]
    return Phases(
        plan.stack,
        [r for r in custom if r.urn not in left_out],
        [r for r in custom if r.urn in left_out],
    )


def render(p: Phases) -> str:
    from collections import Counter

    def counts(resources: list[PlannedResource]) -> list[str]:
        return [f"  {n:3d}  {t}" for t, n in sorted(Counter(r.type for r in resources).items())]

    runner = next((r.inputs.get("name") for r in p.now if r.type == "aws:codebuild/project:Project"), None)
    lines = [
        f"{p.stack}: the first deploy, from a machine with AWS credentials (the API endpoint is private):",
        *(f"  {c}" for c in p.commands()),
        f"creates {len(p.now)} resources now:",
        *counts(p.now),
        f"and {len(p.later)} later, from the stack's runner"
        + (f" (CodeBuild project {runner})" if runner else "")
        + ": push to main and the deploy workflow applies them:",
        *counts(p.later),
    ]
    return "\n".join(lines)
