"""`python -m dataops parity`: the stacks parity.yaml lists under `compare` differ only where it
says they may.

Every difference between their offline plans (as `diff` finds them), for every pair of them,
must match a declared allowance; the rest — a Kubernetes or chart version, a governance
setting, the image digest between test and prod — fails with the stack pair, resource and
property named. A stack file listed neither under `compare` nor under `skip` (with the reason
it cannot be compared) fails too, so that a new environment is compared from its first day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from dataops.diff import diff
from dataops.plan_types import Plan, PlanError
from dataops.stack_files import parse_yaml

KEYS = {"compare", "skip", "allowed"}
ANY = "*"


@dataclass(frozen=True)
class Allowance:
    resources: str
    reason: str
    exists: bool = False
    property: str | None = None
    between: tuple[str, str] | None = None

    def applies(self, a: str, b: str) -> bool:
        """`between: [x, y]` holds for that pair only; `[x, "*"]` for x and any other stack."""
        if self.between is None:
            return True
        x, y = self.between
        return {a, b} == {x, y} or (y == ANY and x in (a, b)) or (x == ANY and y in (a, b))


@dataclass(frozen=True)
class Parity:
    """parity.yaml: the stacks compared, the stacks deliberately not compared (with why), and the
    differences allowed between the compared ones."""

    compare: tuple[str, ...]
    skip: dict[str, str] = field(default_factory=dict)
    allowed: list[Allowance] = field(default_factory=list)

    def pairs(self) -> list[tuple[str, str]]:
        """Every pair of compared stacks, neighbours in the list first (the promotion steps,
        dev->test and test->prod), then the pairs further apart (dev->prod)."""
        stacks, n = self.compare, len(self.compare)
        return [(stacks[i], stacks[i + gap]) for gap in range(1, n) for i in range(n - gap)]

    def unlisted(self, stacks: list[str], name: str = "parity.yaml") -> list[str]:
        """One line per stack of the project that is neither compared nor skipped; PlanError for a
        listed stack that has no stack file."""
        listed = [*self.compare, *self.skip]
        missing = [s for s in listed if s not in stacks]
        if missing:
            raise PlanError(
                [
                    f"{name}: stack {s} is listed but there is no Pulumi.{s}.yaml (stacks: "
                    f"{', '.join(stacks)}); fix: remove it from {name} or add its stack file"
                    for s in missing
                ]
            )
        return [
            f"stack {s} (Pulumi.{s}.yaml) is not compared; fix: add it to `compare:` in {name}, "
            "or to `skip:` with the reason it cannot be compared"
            for s in stacks
            if s not in listed
        ]


def load(path: Path) -> Parity:
    try:
        doc = parse_yaml(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise PlanError([f"{path.name}: cannot read the allowed differences ({exc})"]) from None
    doc = doc or {}
    if not isinstance(doc, dict) or set(doc) - KEYS:
        raise PlanError([f"{path.name}: expected the keys {', '.join(sorted(KEYS))}; fix the file"])
    return Parity(_compare(path, doc), _skip(path, doc), _allowances(path, doc))


def _compare(path: Path, doc: dict[str, Any]) -> tuple[str, ...]:
    compare = doc.get("compare")
    if (
        not isinstance(compare, list)
        or len(compare) < 2
        or not all(isinstance(s, str) for s in compare)
        or len(set(compare)) != len(compare)
    ):
        raise PlanError(
            [
                f"{path.name}: compare = {compare!r}: list the stacks to compare, at least two and "
                "each once, in promotion order (e.g. compare: [dev, test, prod])"
            ]
        )
    return tuple(compare)


def _skip(path: Path, doc: dict[str, Any]) -> dict[str, str]:
    skip = doc.get("skip") or {}
    if not isinstance(skip, dict) or not all(isinstance(r, str) and r.strip() for r in skip.values()):
        raise PlanError(
            [f"{path.name}: skip = {skip!r}: map each stack not compared to the reason (stack: why)"]
        )
    if both := sorted(set(skip) & set(doc["compare"])):
        raise PlanError([f"{path.name}: {', '.join(both)} both compared and skipped; fix: keep one"])
    return {str(stack): reason for stack, reason in skip.items()}


def _allowances(path: Path, doc: dict[str, Any]) -> list[Allowance]:
    out = []
    for i, entry in enumerate(doc.get("allowed") or []):
        unknown = set(entry) - {"resources", "reason", "exists", "property", "between"}
        if (
            unknown
            or "resources" not in entry
            or not entry.get("reason")
            or (not entry.get("exists") and not entry.get("property"))
        ):
            raise PlanError(
                [
                    f"{path.name}: allowed[{i}] = {entry}: each entry needs `resources`, a `reason`, "
                    "and `exists: true` or a `property`; fix the entry"
                ]
            )
        between = tuple(entry["between"]) if entry.get("between") else None
        if between is not None and (
            len(between) != 2 or any(s != ANY and s not in doc["compare"] for s in between)
        ):
            raise PlanError(
                [
                    f"{path.name}: allowed[{i}].between = {entry['between']!r}: name two compared stacks, "
                    f'or one and "*" for any other; fix the entry'
                ]
            )
        out.append(
            Allowance(
                entry["resources"],
                entry["reason"],
                bool(entry.get("exists")),
                # Property paths contain literal brackets (`rules[0]`): only `*` is a wildcard there.
                entry["property"].replace("[", "[[]") if entry.get("property") else None,
                between,
            )
        )  # type: ignore[arg-type]
    return out


def violations(plans: dict[str, Plan], parity: Parity) -> list[str]:
    out = []
    for a, b in parity.pairs():
        rules = [r for r in parity.allowed if r.applies(a, b)]
        for r in diff(plans[a], plans[b]).resources:
            if r.status != "changed":
                if not any(x.exists and fnmatchcase(r.name, x.resources) for x in rules):
                    where = a if r.status == "only-a" else b
                    out.append(
                        f"{a}->{b}: {r.type} {r.name} exists only in {where}; not declared in parity.yaml"
                    )
                continue
            for ch in r.changes:
                if not any(
                    x.property and fnmatchcase(r.name, x.resources) and fnmatchcase(ch.path, x.property)
                    for x in rules
                ):
                    out.append(
                        f"{a}->{b}: {r.type} {r.name}: {ch.path}: {ch.a!r} -> {ch.b!r}; "
                        "not declared in parity.yaml"
                    )
    return out
