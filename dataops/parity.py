"""`python -m dataops parity`: dev, test and prod differ only where parity.yaml says they may.

Every difference between the offline plans (as `diff` finds them) must match a declared
allowance; the rest — a Kubernetes or chart version, a governance setting, the image digest
between test and prod — fails with the stack pair, resource and property named.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

import yaml

from dataops.diff import diff
from dataops.plan_types import Plan, PlanError
from dataops.stack_files import parse_yaml

PAIRS = (("dev", "test"), ("test", "prod"), ("dev", "prod"))


@dataclass(frozen=True)
class Allowance:
    resources: str
    reason: str
    exists: bool = False
    property: str | None = None
    between: tuple[str, str] | None = None

    def applies(self, a: str, b: str) -> bool:
        return self.between is None or {a, b} == set(self.between)


def load_allowances(path: Path) -> list[Allowance]:
    try:
        doc = parse_yaml(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise PlanError([f"{path.name}: cannot read the allowed differences ({exc})"]) from None
    out = []
    for i, entry in enumerate((doc or {}).get("allowed") or []):
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


def violations(plans: dict[str, Plan], allowances: list[Allowance]) -> list[str]:
    out = []
    for a, b in PAIRS:
        rules = [r for r in allowances if r.applies(a, b)]
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
