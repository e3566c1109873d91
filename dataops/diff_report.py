"""What `python -m dataops diff` prints: one summary row per compared pair of plans, then the
details of the pairs that differ, as terminal text, Markdown (a pull-request comment) or JSON.
The three carry the same facts: per resource its action, the inputs that force a replacement,
what a replacement or deletion puts at risk, and whether `pulumi up` will refuse it.

`gate` is the check the pull-request workflow runs with `diff --fail-on-protected`: a change
that replaces or deletes a protected (or retained) resource fails it unless the pull request
declares the change intended (`--protected-change-intended`, set by a label: docs/ci.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dataops.diff import Diff, ResourceDiff
from dataops.plan_types import Plan

INTENDED_LABEL = "replaces-protected"
"""The pull-request label that declares a protected resource's replacement or deletion intended."""

BLOCKED = {
    "protected": "blocked at apply: protected",
    "retained": "retained at apply: the old one stays in the account, no longer managed",
}


@dataclass(frozen=True)
class Delta:
    """Monthly cost and from-scratch deploy time of both sides of a pair."""

    cost_a: float
    cost_b: float
    fixed_change: float
    up_a: float
    up_b: float

    @property
    def cost_change(self) -> float:
        return round(self.cost_b - self.cost_a, 2)

    @property
    def up_change_minutes(self) -> float:
        return round((self.up_b - self.up_a) / 60, 1)

    def line(self) -> str:
        return (
            f"cost ${self.cost_a:,.2f} -> ${self.cost_b:,.2f}/month ({self.cost_change:+,.2f}; fixed "
            f"{self.fixed_change:+,.2f}); from-scratch up {self.up_a / 60:.1f} min -> "
            f"{self.up_b / 60:.1f} min"
        )


@dataclass
class Pair:
    """One compared pair: its row label (a stack, or `dev -> prod`), its diff and its delta."""

    label: str
    diff: Diff
    delta: Delta

    def row(self) -> dict[str, Any]:
        d, actions = self.diff, self.diff.actions()
        return {
            "stack": self.label,
            "changes": len(d.resources),
            **actions,
            "atRisk": len(d.at_risk),
            "blocked": len(d.blocked),
            "costPerMonthChange": self.delta.cost_change,
            "deployMinutesChange": self.delta.up_change_minutes,
        }


def deltas(root: Path, pairs: list[tuple[Plan, Plan]]) -> list[Delta]:
    """Per pair, what going from A to B does to monthly cost and from-scratch deploy time."""
    from dataops import estimate
    from dataops.estimate_inputs import region_and_host

    tables = estimate.load_tables(root)
    out = []
    for a, b in pairs:
        region, host = region_and_host(b.stack, root) if b.resources else (tables.prices["region"], None)
        (ca, da), (cb, db) = [
            (estimate.cost(p, tables, region, host), estimate.deploy_time(p, tables)) for p in (a, b)
        ]
        out.append(
            Delta(
                round(ca.fixed + ca.usage, 2),
                round(cb.fixed + cb.usage, 2),
                round(cb.fixed - ca.fixed, 2),
                da.up_seconds,
                db.up_seconds,
            )
        )
    return out


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _show(value: Any) -> str:
    return "(absent)" if value is None else json.dumps(value, sort_keys=True)


def _action(r: ResourceDiff) -> str:
    """`replace (forced by instanceTypes)`, `update`, `create` ...; then why apply stops, if it does."""
    text = r.action
    if r.action == "replace":
        text += f" (forced by {', '.join(r.forced_by)})"
    elif r.action == "update" and r.unknown_type:
        text += " (or replace: no replacement rules for this type in dataops/replacements)"
    elif r.action == "ignored":
        text = "no change at apply (ignoreChanges)"
    if r.refused:
        text += f"; fails at apply: {', '.join(r.refused)} cannot change in place"
    if r.protection:
        text += f"; {BLOCKED[r.protection]}"
    return text


def _effect(effect: str, why: str) -> str:
    """How one changed input is marked: nothing for a plain update."""
    label = {
        "update": "",
        "replace": "forces replacement",
        "ignored": "ignored",
        "refused": "refused at apply",
    }[effect]
    return f"{label}: {why}" if label and why else label


_HEADS = (
    "changes",
    "create",
    "update",
    "replace",
    "delete",
    "at risk",
    "blocked",
    "cost $/month",
    "deploy time",
)


def _cells(p: Pair) -> list[str]:
    r = p.row()
    return [
        str(r["changes"]),
        str(r["create"]),
        str(r["update"]),
        str(r["replace"]),
        str(r["delete"]),
        str(r["atRisk"]),
        str(r["blocked"]),
        f"{r['costPerMonthChange']:+,.2f}",
        f"{r['deployMinutesChange']:+.1f} min",
    ]


def _at_risk_lines(d: Diff) -> list[tuple[ResourceDiff, str]]:
    return [(r, r.at_risk or "a resource the program protects") for r in d.at_risk]


def gate(pairs: list[Pair], intended: bool) -> list[str]:
    """One line per protected or retained resource a pair replaces or deletes; none when the
    pull request declares them intended."""
    if intended:
        return []
    return [
        f"{p.label}: {r.type} {r.name}: {_action(r)}; fix: "
        + (f"keep {', '.join(r.forced_by)} as deployed" if r.action == "replace" else f"keep {r.name}")
        + f", or declare the change intended with the pull-request label `{INTENDED_LABEL}` (docs/ci.md)"
        for p in pairs
        for r in p.diff.blocked
    ]


def _gate_note(pairs: list[Pair], intended: bool) -> str:
    n = sum(len(p.diff.blocked) for p in pairs)
    if not n:
        return ""
    which = plural(n, "replacement or deletion", "replacements or deletions")
    if intended:
        return (
            f"{which} of protected or retained resources declared intended (label `{INTENDED_LABEL}`): "
            "the deploy stops at a protected one until it is unprotected by hand (docs/ci.md)."
        )
    return (
        f"{which} of protected or retained resources: the protected-resources gate fails unless the "
        f"pull request carries the label `{INTENDED_LABEL}` (docs/ci.md)."
    )


def render_text(pairs: list[Pair], intended: bool = False, colour: bool = False) -> str:
    def paint(code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if colour else text

    label_width = max(len("stack"), *(len(p.label) for p in pairs))
    rows = [["stack".ljust(label_width), *_HEADS]] + [[p.label.ljust(label_width), *_cells(p)] for p in pairs]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    if note := _gate_note(pairs, intended):
        lines.append(note)
    for p in pairs:
        d = p.diff
        lines.append("")
        if d.empty:
            lines.append(f"{d.a} -> {d.b}: no differences; {p.delta.line()}")
            continue
        c = d.counts()
        differ = plural(len(d.resources), "resource differs", "resources differ")
        lines.append(
            paint("1", f"{d.a} -> {d.b}") + f": {differ} ({c['only-a']} only in {d.a}, "
            f"{c['only-b']} only in {d.b}, {c['changed']} changed); {p.delta.line()}"
        )
        if risky := _at_risk_lines(d):
            lines.append(paint("31", "  data or availability at risk:"))
            lines += [f"    {r.type}  {r.name}: {_action(r)}: {what}" for r, what in risky]
        component = None
        marks = {"create": ("32", "+"), "delete": ("31", "-"), "replace": ("31", "+-"), "update": ("33", "~")}
        for r in d.resources:
            if r.component != component:
                component = r.component
                lines.append(paint("1", f"  {component}"))
            code, mark = marks.get(r.action, ("2", "="))
            lines.append(f"    {paint(code, mark)} {r.type}  {r.name}: {_action(r)}")
            for ch in r.changes:
                effect = _effect(ch.effect, ch.why)
                lines.append(
                    f"        {ch.path}: {_show(ch.a)} -> {_show(ch.b)}" + (f"  [{effect}]" if effect else "")
                )
    return "\n".join(lines)


def render_markdown(pairs: list[Pair], intended: bool = False, max_lines: int = 400) -> str:
    out = [
        "### Environment diff",
        "",
        f"| stack | {' | '.join(_HEADS)} |",
        "|---|" + "---:|" * len(_HEADS),
        *(f"| `{p.label}` | {' | '.join(_cells(p))} |" for p in pairs),
    ]
    if note := _gate_note(pairs, intended):
        out += ["", f"**Protected resources**: {note}"]
    unchanged = [p.label for p in pairs if p.diff.empty]
    if len(pairs) > 1 and unchanged:
        out += ["", f"No differences in {', '.join(f'`{s}`' for s in unchanged)}."]
    elif len(pairs) == 1 and pairs[0].diff.empty:
        out += ["", "No differences."]
    budget = max_lines
    for p in pairs:
        d = p.diff
        if d.empty:
            continue
        differ = plural(len(d.resources), "resource differs", "resources differ")
        out += ["", f"#### `{d.a}` → `{d.b}`: {differ}", ""]
        if risky := _at_risk_lines(d):
            out += ["**Data or availability at risk**", ""]
            out += [f"- `{r.type}` **{r.name}**: {_action(r)}: {what}" for r, what in risky]
            out.append("")
        by_component: dict[str, list[ResourceDiff]] = {}
        for r in d.resources:
            by_component.setdefault(r.component, []).append(r)
        for component, items in by_component.items():
            differ = plural(len(items), "resource differs", "resources differ")
            out += [f"<details><summary><b>{component}</b>: {differ}</summary>", ""]
            for r in items:
                out.append(f"- `{r.type}` **{r.name}**: {_action(r)}")
                for ch in r.changes:
                    if budget <= 0:
                        break
                    effect = _effect(ch.effect, ch.why)
                    out.append(
                        f"  - `{ch.path}`: `{_show(ch.a)[:120]}` → `{_show(ch.b)[:120]}`"
                        + (f" ({effect})" if effect else "")
                    )
                    budget -= 1
            out += ["", "</details>", ""]
            if budget <= 0:
                break
        out.append(f"**Cost and deploy time**: {p.delta.line()}")
        if budget <= 0:
            out += [
                "",
                f"_Trimmed: more changes than {max_lines} lines; run `python -m dataops diff` locally._",
            ]
            break
    return "\n".join(out)


def render_json(pairs: list[Pair], intended: bool = False) -> str:
    return json.dumps(
        {
            "summary": [p.row() for p in pairs],
            "protected": {
                "blocked": sum(len(p.diff.blocked) for p in pairs),
                "intended": intended,
                "gateFails": bool(gate(pairs, intended)),
            },
            "stacks": [
                {
                    "stack": p.label,
                    "a": p.diff.a,
                    "b": p.diff.b,
                    "counts": p.diff.counts(),
                    "actions": p.diff.actions(),
                    "cost": {
                        "a": p.delta.cost_a,
                        "b": p.delta.cost_b,
                        "change": p.delta.cost_change,
                        "fixedChange": p.delta.fixed_change,
                    },
                    "deploySeconds": {"a": p.delta.up_a, "b": p.delta.up_b},
                    "resources": [
                        {
                            "component": r.component,
                            "type": r.type,
                            "name": r.name,
                            "status": r.status,
                            "action": r.action,
                            "forcedBy": r.forced_by,
                            "refusedAtApply": r.refused,
                            "atRisk": r.at_risk,
                            "blockedAtApply": BLOCKED.get(r.protection, ""),
                            "unknownType": r.unknown_type,
                            "changes": [
                                {"path": ch.path, "a": ch.a, "b": ch.b, "effect": ch.effect, "why": ch.why}
                                for ch in r.changes
                            ],
                        }
                        for r in p.diff.resources
                    ],
                }
                for p in pairs
            ],
        },
        indent=2,
    )
