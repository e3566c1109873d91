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


class Backend(Protocol):
    def stacks(self) -> list[StackInfo]:
        """Every stack of this project."""
        ...

    def create(self, stack: str, config: dict[str, str]) -> None:
        """A new stack with this config; BackendError if it exists."""
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

    def destroy(self, stack: str) -> None: ...

    def remove(self, stack: str) -> None:
        """Remove the stack and its config; refused by the backend while it has resources."""
        ...


class AutomationBackend:
    """The Pulumi Automation API, on the project in `work_dir` (needs the Pulumi CLI)."""

    def __init__(self, work_dir: Path, on_output: Any = None):
        try:
            from pulumi import automation as auto
        except ImportError as exc:  # pragma: no cover - the SDK is a locked dependency
            raise BackendError(f"the Pulumi Automation API is not importable: {exc}") from None
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
        except (self._auto.CommandError, OSError) as exc:
            raise BackendError(f"cannot start the Pulumi CLI: {_first_line(exc)}") from None

    def _select(self, stack: str) -> Any:
        try:
            return self._auto.select_stack(stack, work_dir=self._work_dir)
        except (self._auto.CommandError, OSError) as exc:
            raise BackendError(f"stack {stack}: {_first_line(exc)}") from None

    def stacks(self) -> list[StackInfo]:
        try:
            summaries = self._workspace.list_stacks()
        except (self._auto.CommandError, OSError) as exc:
            raise BackendError(
                f"cannot list stacks (run `pulumi login` first?): {_first_line(exc)}"
            ) from None
        return [
            StackInfo(s.name.split("/")[-1], s.resource_count, s.last_update, bool(s.update_in_progress))
            for s in summaries
        ]

    def create(self, stack: str, config: dict[str, str]) -> None:
        try:
            created = self._auto.create_stack(stack, work_dir=self._work_dir)
            created.set_all_config({k: self._auto.ConfigValue(v) for k, v in config.items()})
        except self._auto.StackAlreadyExistsError:
            raise BackendError(f"stack {stack} already exists") from None
        except (self._auto.CommandError, OSError) as exc:
            raise BackendError(f"stack {stack}: {_first_line(exc)}") from None

    def up(self, stack: str, *, preview_only: bool) -> str:
        selected = self._select(stack)
        try:
            if preview_only:
                changes = selected.preview(on_output=self._on_output).change_summary
            else:
                changes = selected.up(on_output=self._on_output).summary.resource_changes or {}
        except (self._auto.CommandError, OSError) as exc:
            raise BackendError(f"stack {stack}: {_first_line(exc)}") from None
        return ", ".join(f"{op} {n}" for op, n in sorted(changes.items())) or "no changes"

    def state(self, stack: str) -> list[StateResource]:
        deployment = self._select(stack).export_stack().deployment or {}
        return [
            StateResource(
                urn=r["urn"],
                type=r["type"],
                custom=bool(r.get("custom", False)),
                external=bool(r.get("external", False)),
                protect=bool(r.get("protect", False)),
                inputs=r.get("inputs") or {},
                outputs=r.get("outputs") or {},
            )
            for r in deployment.get("resources") or []
        ]

    def destroy_targets(self, stack: str) -> list[str]:
        urns: list[str] = []

        def collect(event: Any) -> None:
            pre = getattr(event, "resource_pre_event", None)
            if pre is not None and str(getattr(pre.metadata.op, "value", pre.metadata.op)).startswith(
                "delete"
            ):
                urns.append(pre.metadata.urn)

        try:
            self._select(stack).preview_destroy(on_event=collect)
        except (self._auto.CommandError, OSError) as exc:
            raise BackendError(f"stack {stack}: destroy preview failed: {_first_line(exc)}") from None
        return urns

    def destroy(self, stack: str) -> None:
        try:
            self._select(stack).destroy(on_output=self._on_output)
        except (self._auto.CommandError, OSError) as exc:
            raise BackendError(f"stack {stack}: destroy failed: {_first_line(exc)}") from None

    def remove(self, stack: str) -> None:
        try:
            self._workspace.remove_stack(stack)
        except (self._auto.CommandError, OSError) as exc:
            raise BackendError(f"stack {stack}: removing the stack failed: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    """The CLI's own error line out of a CommandError (which holds the whole stdout/stderr)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    for line in lines:
        if "error:" in line:
            return line.split("error:", 1)[1].strip()
    return lines[0] if lines else type(exc).__name__
