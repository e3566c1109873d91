"""The small interface the sandbox commands need from a Pulumi backend, and the adapter that
implements it with the Pulumi Automation API.

Everything the commands decide (which sandboxes are expired, whether one may be destroyed) is in
`dataops.sandbox` and works on these types only; the tests drive it with an in-memory backend
(`tests/dataops/memory_backend.py`). `AutomationBackend` is deliberately thin: each method is one
or two Automation API calls. It needs the Pulumi CLI and works with whatever backend the user
is logged into (Pulumi Cloud, or a self-managed `file://` / `s3://` backend); it uses no
feature that only Pulumi Cloud has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol


class BackendError(Exception):
    """The backend refused or failed an operation; one line for the user."""


@dataclass(frozen=True)
class StackInfo:
    name: str
    resource_count: int | None = None
    last_update: datetime | None = None
    update_in_progress: bool = False


@dataclass(frozen=True)
class StateResource:
    """One resource of a stack's checkpoint, as `pulumi stack export` shows it."""

    urn: str
    type: str
    custom: bool = True
    external: bool = False
    """Read, not managed (a StackReference, a `get`): destroy never deletes it."""
    protect: bool = False
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    parent: str = ""
    dependencies: list[str] = field(default_factory=list)
    pending: str = ""
    """An operation an interrupted update left unfinished ("creating", "deleting", ...)."""


class Backend(Protocol):
    def stacks(self) -> list[StackInfo]:
        """Every stack of this project."""
        ...

    def create(self, stack: str, config: dict[str, str]) -> None:
        """A new stack with this config; BackendError if it exists. If the config cannot be set,
        the new stack is removed again."""
        ...

    def up(self, stack: str, *, preview_only: bool) -> str:
        """Deploy (or only preview) the stack; a one-line summary of the changes."""
        ...

    def state(self, stack: str) -> list[StateResource]:
        """The stack's checkpoint (empty for a stack never deployed)."""
        ...

    def destroy_targets(self, stack: str) -> list[str]:
        """The URNs `destroy` would delete (a preview; nothing changes)."""
        ...

    def destroy(self, stack: str, targets: list[str]) -> None:
        """Destroy exactly these URNs (the ones the caller checked) and nothing else."""
        ...

    def remove(self, stack: str) -> None:
        """Remove the stack and its config. Callers first make sure that nothing but the stack's
        own bookkeeping (its root resource, providers) is left in its state."""
        ...


class AutomationBackend:
    """The Pulumi Automation API, on the project in `work_dir` (needs the Pulumi CLI). Every
    failure becomes a one-line BackendError naming the stack."""

    def __init__(self, work_dir: Path, on_output: Any = None):
        from pulumi import automation as auto

        self._auto = auto
        self._work_dir = str(work_dir)
        self._on_output = on_output
        try:
            self._workspace = auto.LocalWorkspace(work_dir=self._work_dir)
        except FileNotFoundError:
            raise BackendError(
                "the Pulumi CLI is not on PATH; fix: install it (https://www.pulumi.com/docs/install/) "
                "and run `pulumi login` for your backend"
            ) from None
        except Exception as exc:  # the CLI's own errors, a CLI too old for the SDK, ...
            raise BackendError(f"cannot start the Pulumi CLI: {_first_line(exc)}") from None

    def _call(self, what: str, action: Any) -> Any:
        try:
            return action()
        except self._auto.StackAlreadyExistsError:
            raise BackendError(f"{what}: the stack already exists") from None
        except Exception as exc:  # CommandError, or the SDK's RuntimeError on a broken event stream
            raise BackendError(f"{what}: {_first_line(exc)}") from None

    def _select(self, stack: str) -> Any:
        return self._call(f"stack {stack}", lambda: self._auto.select_stack(stack, work_dir=self._work_dir))

    def stacks(self) -> list[StackInfo]:
        summaries = self._call("listing stacks (run `pulumi login` first?)", self._workspace.list_stacks)
        return [
            StackInfo(s.name.split("/")[-1], s.resource_count, s.last_update, bool(s.update_in_progress))
            for s in summaries
        ]

    def create(self, stack: str, config: dict[str, str]) -> None:
        created = self._call(
            f"stack {stack}", lambda: self._auto.create_stack(stack, work_dir=self._work_dir)
        )
        values = {k: self._auto.ConfigValue(v) for k, v in config.items()}
        try:
            self._call(f"stack {stack}: setting its config", lambda: created.set_all_config(values))
        except BackendError:
            self._call(f"stack {stack}", lambda: self._workspace.remove_stack(stack))
            raise

    def up(self, stack: str, *, preview_only: bool) -> str:
        selected = self._select(stack)
        if preview_only:
            changes = self._call(
                f"stack {stack}", lambda: selected.preview(on_output=self._on_output)
            ).change_summary
        else:
            result = self._call(f"stack {stack}", lambda: selected.up(on_output=self._on_output))
            changes = result.summary.resource_changes or {}
        return ", ".join(f"{op} {n}" for op, n in sorted(changes.items())) or "no changes"

    def state(self, stack: str) -> list[StateResource]:
        selected = self._select(stack)
        deployment = self._call(f"stack {stack}: reading its state", selected.export_stack).deployment or {}

        def resource(r: dict[str, Any], pending: str = "") -> StateResource:
            return StateResource(
                urn=r["urn"],
                type=r["type"],
                custom=bool(r.get("custom", False)),
                external=bool(r.get("external", False)),
                protect=bool(r.get("protect", False)),
                inputs=r.get("inputs") or {},
                outputs=r.get("outputs") or {},
                parent=r.get("parent") or "",
                dependencies=list(r.get("dependencies") or []),
                pending=pending,
            )

        # Operations an interrupted update left behind are part of what the stack may own.
        pending = [
            resource(op["resource"], op.get("type") or "unknown")
            for op in deployment.get("pending_operations") or []
            if isinstance(op, dict) and isinstance(op.get("resource"), dict)
        ]
        return [*(resource(r) for r in deployment.get("resources") or []), *pending]

    def destroy_targets(self, stack: str) -> list[str]:
        urns: list[str] = []

        def collect(event: Any) -> None:
            pre = getattr(event, "resource_pre_event", None)
            if pre is not None and str(getattr(pre.metadata.op, "value", pre.metadata.op)).startswith(
                "delete"
            ):
                urns.append(pre.metadata.urn)

        selected = self._select(stack)
        self._call(f"stack {stack}: destroy preview", lambda: selected.preview_destroy(on_event=collect))
        return urns

    def destroy(self, stack: str, targets: list[str]) -> None:
        selected = self._select(stack)
        self._call(
            f"stack {stack}: destroy", lambda: selected.destroy(target=targets, on_output=self._on_output)
        )

    def remove(self, stack: str) -> None:
        # --force: what is left is the stack's root resource and providers (the caller checked).
        self._call(f"stack {stack}: removing it", lambda: self._workspace.remove_stack(stack, force=True))


def _first_line(exc: BaseException) -> str:
    """The CLI's own error line out of a CommandError (which holds the whole stdout/stderr)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    for line in lines:
        if "error:" in line:
            return line.split("error:", 1)[1].strip()
    return lines[0] if lines else type(exc).__name__
