"""What an offline plan is: the data every tool reads (`Plan`, `PlannedResource`) and the
error every tool raises for a user's mistake (`PlanError`).

Their own module, so that the planner (`dataops.plan`), the engine that builds a plan
(`dataops.engine`) and the cache that stores one (`dataops.plan_cache`) each import them without
importing one another: the planner calls the other two, and neither calls back. Importing this
costs nothing (no SDK, no config model, no YAML), which a cache hit relies on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# The organization name of self-managed backends: the engine runs the program in it, and the
# planner names the stacks a stack references with it.
ORGANIZATION = "organization"


@dataclass
class PlannedResource:
    urn: str
    type: str
    name: str
    parent: str
    inputs: dict[str, Any]
    dependencies: list[str]
    protect: bool
    retainOnDelete: bool
    provider: str = ""
    """The explicit provider (`urn::id`); "" means the package's default provider."""
    custom: bool = field(default=True, repr=False)
    aliases: list[dict[str, Any]] = field(default_factory=list)
    """The URNs the resource also answers to (Pulumi alias specs: `parentUrn`, `type`, `name`,
    `noParent`, or a whole `urn`), so that a state recorded under one of them is moved to this
    URN, not deleted and created again."""
    ignoreChanges: list[str] = field(default_factory=list)
    """Input paths `pulumi up` leaves as deployed (the `ignoreChanges` resource option)."""
    replaceOnChanges: list[str] = field(default_factory=list)
    """Input paths whose change replaces the resource whatever its provider says (the
    `replaceOnChanges` resource option)."""


@dataclass
class Plan:
    project: str
    stack: str
    resources: list[PlannedResource]
    outputs: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "resources": [{k: v for k, v in asdict(r).items() if k != "custom"} for r in self.resources],
            "outputs": self.outputs,
        }

    def to_record(self) -> dict[str, Any]:
        """`to_dict` plus what only this tooling reads (`custom`, `warnings`): the form a plan
        is cached in and handed between processes, read back by `from_dict`."""
        doc = self.to_dict() | {"warnings": list(self.warnings)}
        for entry, resource in zip(doc["resources"], self.resources, strict=True):
            entry["custom"] = resource.custom
        return doc

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Plan:
        """The inverse of `to_dict` (and of `plan --json`); `custom` and `warnings` when present."""
        fields = PlannedResource.__dataclass_fields__
        return cls(
            doc["project"],
            doc["stack"],
            [PlannedResource(**{k: r[k] for k in fields if k in r}) for r in doc["resources"]],
            doc["outputs"],
            list(doc.get("warnings", [])),
        )

    def of_type(self, type_: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_]

    def by_urn(self, urn: str) -> PlannedResource:
        for r in self.resources:
            if r.urn == urn:
                return r
        raise KeyError(urn)

    def named(self, name: str) -> PlannedResource:
        found = [r for r in self.resources if r.name == name]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources named {name!r} in the {self.stack} plan")
        return found[0]

    def children(self, urn: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.parent == urn]

    def descendants(self, urn: str) -> list[PlannedResource]:
        out: list[PlannedResource] = []
        for child in self.children(urn):
            out += [child, *self.descendants(child.urn)]
        return out

    def attached_to(self, bucket: PlannedResource, type_: str) -> list[PlannedResource]:
        """Bucket settings (separate resources in pulumi-aws 7) joined to `bucket` by its id."""
        bucket_id = bucket.inputs.get("bucket")
        return [r for r in self.of_type(type_) if r.inputs.get("bucket") == bucket_id]


class PlanError(Exception):
    """A user-facing problem (bad config, missing stack file): exit 2, one line per problem."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        super().__init__("\n".join(lines))
