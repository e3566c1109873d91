"""`python -m dataops diff A B`: what differs between two stacks' offline plans.

Resources are matched by type and logical name, never by generated ids; the two stacks' names
are replaced by `<stack>` wherever they stand as words (bucket names, tags), so dev against
prod shows the real differences, not naming noise. Output: terminal text, Markdown for a pull
request comment, or JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from dataops.plan_types import Plan, PlannedResource

STACK_TOKEN = "<stack>"  # noqa: S105 - a placeholder word, not a secret


@dataclass
class Change:
    path: str
    a: Any
    b: Any


@dataclass
class ResourceDiff:
    component: str
    type: str
    name: str
    status: str  # "only-a" | "only-b" | "changed"
    changes: list[Change] = field(default_factory=list)


@dataclass
class Diff:
    a: str
    b: str
    resources: list[ResourceDiff]

    @property
    def empty(self) -> bool:
        return not self.resources

    def counts(self) -> dict[str, int]:
        out = {"only-a": 0, "only-b": 0, "changed": 0}
        for r in self.resources:
            out[r.status] += 1
        return out


def _normalise(value: Any, stacks: re.Pattern[str]) -> Any:
    if isinstance(value, dict):
        return {_normalise(k, stacks): _normalise(v, stacks) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v, stacks) for v in value]
    if isinstance(value, str):
        if value.startswith(("{", "[")):  # policies and other JSON documents: compare as data
            try:
                return _normalise(json.loads(value), stacks)
            except json.JSONDecodeError:
                pass
        return stacks.sub(STACK_TOKEN, value)
    return value


def _stack_words(*names: str) -> re.Pattern[str]:
    """Both stacks' names (and their environments') as whole words: a consumer's references to
    the owner's lake (`dataops-prod-raw-...`) then match the owner's own names, and a stack `qa`
    of environment `test` carries its environment in tags and labels as dev carries `dev`."""
    alternatives = "|".join(re.escape(n) for n in sorted(set(names), key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])")


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        out = {}
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def _component(by_urn: dict[str, PlannedResource], r: PlannedResource) -> str:
    """The top-level component a resource belongs to (its ancestor just below the stack)."""
    current = r
    while current.parent in by_urn and by_urn[current.parent].type != "pulumi:pulumi:Stack":
        current = by_urn[current.parent]
    return f"{current.type.split(':')[-1]} {current.name}"


def _index(plan: Plan, stacks: re.Pattern[str]) -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
    out = {}
    by_urn = {x.urn: x for x in plan.resources}
    for r in plan.resources:
        if r.type == "pulumi:pulumi:Stack":
            continue
        state = {"inputs": r.inputs, "protect": r.protect, "retainOnDelete": r.retainOnDelete}
        out[(r.type, r.name)] = (_component(by_urn, r), _flatten(_normalise(state, stacks)))
    return out


def diff(a: Plan, b: Plan) -> Diff:
    environments = [p.outputs.get("environment") for p in (a, b)]
    stacks = _stack_words(a.stack, b.stack, *(e for e in environments if isinstance(e, str) and e))
    ia, ib = _index(a, stacks), _index(b, stacks)
    resources = []
    for key in sorted(ia.keys() | ib.keys(), key=lambda k: ((ia.get(k) or ib.get(k))[0], k)):
        type_, name = key
        if key not in ib:
            resources.append(ResourceDiff(ia[key][0], type_, name, "only-a"))
        elif key not in ia:
            resources.append(ResourceDiff(ib[key][0], type_, name, "only-b"))
        else:
            fa, fb = ia[key][1], ib[key][1]
            changes = [
                Change(p, fa.get(p), fb.get(p))
                for p in sorted(fa.keys() | fb.keys())
                if fa.get(p) != fb.get(p)
            ]
            if changes:
                resources.append(ResourceDiff(ia[key][0], type_, name, "changed", changes))
    return Diff(a.stack, b.stack, resources)


def _show(value: Any) -> str:
    return "(absent)" if value is None else json.dumps(value, sort_keys=True)


def render_text(d: Diff, colour: bool = False) -> str:
    def paint(code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if colour else text

    c = d.counts()
    lines = [
        f"{d.a} -> {d.b}: {c['only-a']} only in {d.a}, {c['only-b']} only in {d.b}, {c['changed']} changed"
    ]
    component = None
    for r in d.resources:
        if r.component != component:
            component = r.component
            lines.append(paint("1", component))
        mark = {
            "only-a": paint("31", f"- only in {d.a}"),
            "only-b": paint("32", f"+ only in {d.b}"),
            "changed": paint("33", "~ changed"),
        }[r.status]
        lines.append(f"  {mark}  {r.type}  {r.name}")
        for ch in r.changes:
            lines.append(f"      {ch.path}: {_show(ch.a)} -> {_show(ch.b)}")
    return "\n".join(lines)


def render_markdown(d: Diff, max_lines: int = 400) -> str:
    c = d.counts()
    out = [
        f"### Environment diff: `{d.a}` → `{d.b}`",
        "",
        f"| only in `{d.a}` | only in `{d.b}` | changed |",
        "|---:|---:|---:|",
        f"| {c['only-a']} | {c['only-b']} | {c['changed']} |",
    ]
    if d.empty:
        return "\n".join([*out, "", "No differences."])
    by_component: dict[str, list[ResourceDiff]] = {}
    for r in d.resources:
        by_component.setdefault(r.component, []).append(r)
    budget = max_lines
    for component, items in by_component.items():
        out += ["", f"<details><summary><b>{component}</b>: {len(items)} resources differ</summary>", ""]
        for r in items:
            label = {"only-a": f"only in `{d.a}`", "only-b": f"only in `{d.b}`", "changed": "changed"}[
                r.status
            ]
            out.append(f"- `{r.type}` **{r.name}**: {label}")
            for ch in r.changes:
                if budget <= 0:
                    break
                out.append(f"  - `{ch.path}`: `{_show(ch.a)[:120]}` → `{_show(ch.b)[:120]}`")
                budget -= 1
        out += ["", "</details>"]
        if budget <= 0:
            out += [
                "",
                f"_Trimmed: more changes than {max_lines} lines; run `python -m dataops diff {d.a} {d.b}`._",
            ]
            break
    return "\n".join(out)


def render_json(d: Diff) -> str:
    return json.dumps(
        {
            "a": d.a,
            "b": d.b,
            "counts": d.counts(),
            "resources": [
                {
                    "component": r.component,
                    "type": r.type,
                    "name": r.name,
                    "status": r.status,
                    "changes": [{"path": ch.path, "a": ch.a, "b": ch.b} for ch in r.changes],
                }
                for r in d.resources
            ],
        },
        indent=2,
    )
