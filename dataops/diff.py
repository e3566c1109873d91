"""`python -m dataops diff A B`: what differs between two stacks' offline plans.

Resources are matched by type and logical name, never by generated ids; the two stacks' names
are replaced by `<stack>` wherever they stand as words (bucket names, tags), so dev against
prod shows the real differences, not naming noise.

Each differing resource gets the action `pulumi up` would take on it, moving from side A (the
deployed state) to side B (the program): `create`, `delete`, `update`, or `replace` naming the
input that forces it (`dataops.replacements` holds the rules, with their sources). A change
that only `ignoreChanges` covers is `ignored`. Replacing or deleting a resource that keeps data
or serves users is "at risk"; replacing or deleting a protected one is blocked at apply. The
renderers (text, Markdown for a pull-request comment, JSON) are in `dataops.diff_report`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from dataops import replacements
from dataops.plan_types import Plan, PlannedResource

STACK_TOKEN = "<stack>"  # noqa: S105 - a placeholder word, not a secret


@dataclass
class Change:
    path: str
    a: Any
    b: Any
    effect: str = "update"
    """`update`, `replace` (this input forces a new resource), `ignored` (`ignoreChanges`), or
    `refused` (the provider updates it but the service rejects the change at apply)."""
    why: str = ""
    """For `replace` and `refused`: the condition or option behind it, and the source."""


ACTIONS = ("create", "update", "replace", "delete", "ignored")


@dataclass
class ResourceDiff:
    component: str
    type: str
    name: str
    status: str  # "only-a" | "only-b" | "changed"
    changes: list[Change] = field(default_factory=list)
    action: str = "update"
    """One of ACTIONS: what `pulumi up` does to the resource going from A to B."""
    at_risk: str = ""
    """For a replacement or deletion of a stateful type: what is lost (`replacements.AT_RISK`)."""
    protection: str = ""
    """`protected` when Pulumi refuses the replacement or deletion (the `protect` option),
    `retained` when the old resource is left in the account (`retainOnDelete`), else ""."""
    unknown_type: bool = False
    """The type has no replacement rules, so a `replace` cannot be predicted."""

    @property
    def forced_by(self) -> list[str]:
        return [c.path.removeprefix("inputs.") for c in self.changes if c.effect == "replace"]

    @property
    def refused(self) -> list[str]:
        """Inputs whose change the service rejects: `pulumi up` fails on this resource."""
        return [c.path.removeprefix("inputs.") for c in self.changes if c.effect == "refused"]


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

    def actions(self) -> dict[str, int]:
        out = dict.fromkeys(ACTIONS, 0)
        for r in self.resources:
            out[r.action] += 1
        return out

    @property
    def at_risk(self) -> list[ResourceDiff]:
        return [r for r in self.resources if r.at_risk or r.protection]

    @property
    def blocked(self) -> list[ResourceDiff]:
        return [r for r in self.resources if r.protection]


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
    """The top-level component a resource belongs to (its ancestor just below the stack): its
    name, and its type when the name does not already say it (`cluster`, `lake (DataLake)`)."""
    current = r
    while current.parent in by_urn and by_urn[current.parent].type != "pulumi:pulumi:Stack":
        current = by_urn[current.parent]
    kind = current.type.split(":")[-1]
    return current.name if current.name.replace("-", "") == kind.lower() else f"{current.name} ({kind})"


Indexed = tuple[str, dict[str, Any], PlannedResource]


def _index(plan: Plan, stacks: re.Pattern[str]) -> dict[tuple[str, str], Indexed]:
    out = {}
    by_urn = {x.urn: x for x in plan.resources}
    for r in plan.resources:
        if r.type == "pulumi:pulumi:Stack":
            continue
        state = {"inputs": r.inputs, "protect": r.protect, "retainOnDelete": r.retainOnDelete}
        out[(r.type, r.name)] = (_component(by_urn, r), _flatten(_normalise(state, stacks)), r)
    return out


_INDEX = re.compile(r"\[\d+\]")


def _input_path(path: str) -> str:
    """A Pulumi property path as the rules name it: no list indices (`rules[0].id` -> `rules.id`)."""
    return _INDEX.sub("", path)


def _covers(options: list[str], path: str) -> bool:
    """Whether an `ignoreChanges` / `replaceOnChanges` path names the changed input `path` (as the
    diff writes it, with the indices of lists of objects), or an object or list it is in; `[*]`
    stands for any index. A list of plain values is compared whole, so an option naming one of
    its elements does not cover it: the change is shown as applied rather than hidden."""
    for option in options:
        pattern = re.escape(option).replace(r"\[\*\]", r"\[\d+\]")
        if re.fullmatch(rf"{pattern}(?:[.\[].*)?", path):
            return True
    return False


def _provider_inputs(plan: Plan, r: PlannedResource) -> dict[str, Any]:
    """The inputs of the explicit provider a resource uses (`urn::id`), or none for a default one."""
    urn = r.provider.rpartition("::")[0]
    return next((p.inputs for p in plan.resources if p.urn == urn), {}) if urn else {}


def _classify(change: Change, old: PlannedResource, new: PlannedResource, plan_b: Plan) -> None:
    """Sets the change's effect: what `pulumi up` does about this one input."""
    if not change.path.startswith("inputs."):
        return  # protect, retainOnDelete: options, recorded in the state by an update
    raw = change.path.removeprefix("inputs.")
    path = _input_path(raw)
    # The engine applies the new program's options (step_generator.go: goal.IgnoreChanges,
    # goal.ReplaceOnChanges) before and after the provider's own diff.
    if _covers(new.ignoreChanges, raw):
        change.effect, change.why = "ignored", "ignoreChanges"
        return
    if _covers(new.replaceOnChanges, raw):
        change.effect, change.why = "replace", "replaceOnChanges"
        return
    rules = replacements.rules_for(new.type, new.custom)
    if rules is None:
        return
    sides = replacements.Sides(old.inputs, new.inputs, _provider_inputs(plan_b, new) if new.provider else {})
    if forced := replacements.forcing(rules, path, sides):
        change.effect, change.why = "replace", forced.condition
    elif refused := replacements.refusing(rules, path, sides):
        change.effect, change.why = "refused", refused.condition or "immutable once created"


def _protection(old: PlannedResource, new: PlannedResource | None) -> str:
    """What stops or changes a replacement (new given) or deletion (new None) at apply. Pulumi
    refuses to replace a resource protected in both the state and the program, and to delete one
    protected in the state (pulumi/pulumi pkg/resource/deploy/step_generator.go and step.go at
    1b5949891b3cefcb9974752b24a5ecef0acc86c8); the state's `retainOnDelete` (step.go reads the old
    state's, not the program's) deletes it from the state only, leaving it in the account."""
    if old.protect and (new is None or new.protect):
        return "protected"
    return "retained" if old.retainOnDelete else ""


def diff(a: Plan, b: Plan) -> Diff:
    environments = [p.outputs.get("environment") for p in (a, b)]
    stacks = _stack_words(a.stack, b.stack, *(e for e in environments if isinstance(e, str) and e))
    ia, ib = _index(a, stacks), _index(b, stacks)
    resources = []
    for key in sorted(ia.keys() | ib.keys(), key=lambda k: ((ia.get(k) or ib.get(k))[0], k)):
        type_, name = key
        if key not in ib:
            old = ia[key][2]
            risk = replacements.AT_RISK.get(type_, "")
            resources.append(
                ResourceDiff(ia[key][0], type_, name, "only-a", [], "delete", risk, _protection(old, None))
            )
        elif key not in ia:
            resources.append(ResourceDiff(ib[key][0], type_, name, "only-b", action="create"))
        else:
            (component, fa, old), (_, fb, new) = ia[key], ib[key]
            changes = [
                Change(p, fa.get(p), fb.get(p))
                for p in sorted(fa.keys() | fb.keys())
                if fa.get(p) != fb.get(p)
            ]
            if not changes:
                continue
            for ch in changes:
                _classify(ch, old, new, b)
            r = ResourceDiff(component, type_, name, "changed", changes)
            r.unknown_type = replacements.rules_for(new.type, new.custom) is None
            effects = {ch.effect for ch in changes}
            if "replace" in effects:
                # The new object is created with every new value: nothing is patched, so nothing
                # is refused.
                for ch in changes:
                    if ch.effect == "refused":
                        ch.effect, ch.why = "update", ""
                r.action = "replace"
                r.at_risk = replacements.AT_RISK.get(type_, "")
                r.protection = _protection(old, new)
            elif effects == {"ignored"}:
                r.action = "ignored"
            resources.append(r)
    return Diff(a.stack, b.stack, resources)
