"""An in-memory Pulumi backend with the interface of `dataops.sandbox_backend.Backend`: what the
sandbox commands' selection and safety logic is tested against (the Automation API adapter
itself needs the Pulumi CLI). It behaves like the real thing where the logic depends on it:
a deployed resource's state records what the cloud made (its physical name and ARN, as the
offline fake cloud answers), `remove` forgets a stack whatever it still holds (as the real
adapter's forced removal does; `orphaned` records what it left behind), `destroy`
deletes only what the stack manages (never read resources), and any operation can be made to
fail for one stack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from pulumi.runtime import MockResourceArgs

from dataops.fake_cloud import FakeCloud
from dataops.plan import Plan
from dataops.sandbox_backend import BackendError, StackInfo, StateResource

REGION = "eu-west-1"  # every shipped stack's (Pulumi.yaml)


def state_of(plan: Plan) -> list[StateResource]:
    """A plan as the checkpoint a successful `pulumi up` of it would leave: the stack's outputs on
    its root, and on every cloud resource what the cloud made of its inputs."""
    cloud = FakeCloud(plan.stack, REGION)
    out = []
    for r in plan.resources:
        external = r.type == "pulumi:pulumi:StackReference"  # reads are external in the checkpoint
        if r.type == "pulumi:pulumi:Stack":
            outputs = plan.outputs
        elif r.custom and not r.type.startswith("pulumi:"):
            outputs = cloud.new_resource(MockResourceArgs(r.type, r.name, r.inputs, r.provider, "", True))[1]
        else:
            outputs = {}
        out.append(
            StateResource(
                r.urn,
                r.type,
                r.custom,
                external,
                r.protect,
                r.inputs,
                outputs,
                r.parent,
                list(r.dependencies),
            )
        )
    return out


LONG_AGO = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass
class MemoryStack:
    config: dict[str, str] = field(default_factory=dict)
    resources: list[StateResource] = field(default_factory=list)
    updating: bool = False
    updated: datetime | None = LONG_AGO


class MemoryBackend:
    def __init__(self, program: Callable[[str, dict[str, str]], list[StateResource]] | None = None):
        self.stacks_: dict[str, MemoryStack] = {}
        self.failures: dict[tuple[str, str], str] = {}
        """(stack, operation) -> error message."""
        self.calls: list[tuple[str, str]] = []
        self.destroyed: list[str] = []
        """Every URN a destroy deleted, in order."""
        self.added_during_destroy: list[StateResource] = []
        self.orphaned: list[StateResource] = []
        """What `remove` forgot while the stack still managed it (left in the cloud)."""
        self._program = program or (lambda _stack, _config: [])

    def add(
        self,
        name: str,
        resources: list[StateResource],
        *,
        updating: bool = False,
        updated: datetime | None = LONG_AGO,
    ) -> None:
        self.stacks_[name] = MemoryStack(resources=list(resources), updating=updating, updated=updated)

    def _op(self, stack: str, operation: str) -> MemoryStack:
        self.calls.append((operation, stack))
        if (stack, operation) in self.failures:
            raise BackendError(f"stack {stack}: {self.failures[(stack, operation)]}")
        if stack not in self.stacks_:
            raise BackendError(f"stack {stack}: no such stack")
        return self.stacks_[stack]

    def stacks(self) -> list[StackInfo]:
        return [
            StackInfo(name, len([r for r in s.resources if not r.external]), s.updated, s.updating)
            for name, s in self.stacks_.items()
        ]

    def create(self, stack: str, config: dict[str, str]) -> None:
        self.calls.append(("create", stack))
        if stack in self.stacks_:
            raise BackendError(f"stack {stack} already exists")
        self.stacks_[stack] = MemoryStack(config=dict(config))

    def up(self, stack: str, *, preview_only: bool) -> str:
        s = self._op(stack, "preview" if preview_only else "up")
        resources = self._program(stack, s.config)
        if not preview_only:
            s.resources = resources
        return f"create {len(resources)}"

    def state(self, stack: str) -> list[StateResource]:
        return list(self._op(stack, "state").resources)

    def destroy_targets(self, stack: str) -> list[str]:
        return [r.urn for r in self._op(stack, "destroy_targets").resources if not r.external]

    def destroy(self, stack: str, targets: list[str]) -> None:
        s = self._op(stack, "destroy")
        doomed = set(targets)
        if any(r.protect for r in s.resources if r.urn in doomed):
            raise BackendError(f"stack {stack}: refusing to delete protected resources")
        # Like the engine: a targeted destroy may not leave a target's children or dependents.
        for r in s.resources:
            if r.urn not in doomed and (r.parent in doomed or doomed & set(r.dependencies)):
                raise BackendError(f"stack {stack}: delete untargeted resource {r.urn}")
        s.resources = [r for r in s.resources if r.urn not in doomed]
        self.destroyed.extend(targets)
        if self.added_during_destroy:  # a concurrent `up` elsewhere
            s.resources += self.added_during_destroy
            self.added_during_destroy = []

    def remove(self, stack: str) -> None:
        # As AutomationBackend.remove does (with force): the stack goes, and whatever it still
        # manages is forgotten but left in the cloud. The callers must check first; `orphaned`
        # shows when they did not.
        s = self._op(stack, "remove")
        self.orphaned += [
            r
            for r in s.resources
            if r.custom
            and not r.external
            and r.type != "pulumi:pulumi:Stack"
            and not r.type.startswith("pulumi:providers:")
        ]
        del self.stacks_[stack]


def tagged(resource: StateResource, **tags: str) -> StateResource:
    return replace(resource, inputs={**resource.inputs, "tags": {**resource.inputs.get("tags", {}), **tags}})
