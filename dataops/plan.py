"""The offline plan: the real `__main__.py` run in-process under Pulumi's mock runtime.

Nothing here needs the Pulumi CLI, cloud credentials or the network. The recording monitor
keeps every registration request exactly as the engine would receive it (type, name, parent,
inputs, dependencies, protect, retainOnDelete) and the stack's outputs. Every tool and most
tests consume this one `Plan`; nothing else runs the program its own way.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import logging
import runpy
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import empty_pb2, json_format
from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks, settings
from pulumi.runtime.stack import run_in_stack

from components.config import ConfigError, StackConfig, validate
from dataops import stack_files
from dataops.fake_cloud import FakeCloud

ROOT = Path(__file__).resolve().parent.parent
ORGANIZATION = "organization"  # the organization name of self-managed backends

# Sentinels of Pulumi's property wire format (sdk/go/common/resource/sig).
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 - a wire-format marker
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


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


def _normalise(value: Any) -> Any:
    """Wire-format values as a person reads them: secrets hidden, whole numbers as ints."""
    if isinstance(value, dict):
        sig = value.get(_SIG_KEY)
        if sig == _SECRET_SIG:
            return "[secret]"
        if sig == _RESOURCE_SIG:
            return value.get("urn", "[resource]")
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value == _UNKNOWN:
        return "[unknown]"
    return value


class RecordingMonitor(mocks.MockMonitor):
    """The mock monitor, keeping the full registration request of every resource."""

    def __init__(self, cloud: FakeCloud):
        super().__init__(cloud)
        self.registrations: list[PlannedResource] = []
        self.outputs: dict[str, dict[str, Any]] = {}

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        self._record(
            response.urn,
            request,
            request.object,
            protect=request.protect,
            retain=request.retainOnDelete,
            custom=request.custom,
        )
        return response

    def ReadResource(self, request):
        # Reads (e.g. StackReference) are part of the program too: record them like registrations.
        response = super().ReadResource(request)
        self._record(response.urn, request, request.properties, protect=False, retain=False, custom=True)
        return response

    def _record(
        self, urn: str, request: Any, properties: Any, *, protect: bool, retain: bool, custom: bool
    ) -> None:
        self.registrations.append(
            PlannedResource(
                urn=urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                inputs=_normalise(json_format.MessageToDict(properties)),
                dependencies=sorted(set(request.dependencies)),
                protect=bool(protect),
                retainOnDelete=bool(retain),
                provider=request.provider,
                custom=bool(custom),
            )
        )

    def RegisterResourceOutputs(self, request):
        self.outputs[request.urn] = _normalise(json_format.MessageToDict(request.outputs))
        return super().RegisterResourceOutputs(request)


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def load_config(
    stack: str, root: Path = ROOT, config_path: Path | None = None
) -> tuple[stack_files.StackFiles, StackConfig]:
    """Read and validate a stack's config; PlanError with one line per problem."""
    try:
        files = stack_files.load(root, stack, config_path)
    except stack_files.StackFileError as exc:
        raise PlanError([str(exc)]) from None
    try:
        cfg = validate(files.raw, project=files.project, stack=stack, source=files.source, offline=True)
    except ConfigError as exc:
        raise PlanError([str(p) for p in exc.problems]) from None
    return files, cfg


_CACHE: dict[str, Plan] = {}


def build_plan(
    stack: str, root: Path = ROOT, config_path: Path | None = None, _chain: tuple[str, ...] = ()
) -> Plan:
    """Evaluate `stack` offline. Raises PlanError for user mistakes."""
    files, cfg = load_config(stack, root, config_path)
    key = hashlib.sha256(
        b"".join(p.read_bytes() for p in files.files) + stack.encode() + str(root).encode()
    ).hexdigest()
    if key in _CACHE:
        return _CACHE[key]

    stack_outputs: dict[str, dict[str, Any]] = {}
    if cfg.lake.role == "consumer":
        owner = cfg.owner_stack
        fqn = cfg.owner_stack_name(ORGANIZATION)
        known = stack_files.known_stacks(root)
        if owner in _chain or owner == stack:
            raise PlanError(
                [
                    f"{files.source.stack_file}: {files.project}:lake.ownerStack = {cfg.lake.owner_stack!r}: "
                    f"stack references form a cycle ({' -> '.join((*_chain, stack, owner))}); "
                    "fix: exactly one stack has lake.role owner"
                ]
            )
        if owner not in known or not fqn.endswith(f"/{files.project}/{owner}"):
            raise PlanError(
                [
                    f"{files.source.stack_file}: {files.project}:lake.ownerStack = {cfg.lake.owner_stack!r}: "
                    f"not a stack of this project (known: {', '.join(known)}); "
                    "fix: name the stack whose lake.role is owner"
                ]
            )
        if not load_config(owner, root)[1].owns_cloud_lake:
            raise PlanError(
                [
                    f"{files.source.stack_file}: {files.project}:lake.ownerStack = {cfg.lake.owner_stack!r}: "
                    f"stack {owner} does not own a cloud lake; fix: name the stack whose lake.role is owner"
                ]
            )
        stack_outputs[fqn] = build_plan(owner, root, None, (*_chain, stack)).outputs

    plan = contextvars.copy_context().run(_run, files, cfg, stack_outputs)
    _CACHE[key] = plan
    return plan


def _run(files: stack_files.StackFiles, cfg: StackConfig, stack_outputs: dict[str, dict[str, Any]]) -> Plan:
    """One program run in a fresh context, so several plans can be built in one process."""
    cloud = FakeCloud(files.stack, cfg.region, stack_outputs)
    monitor = RecordingMonitor(cloud)
    logger = logging.getLogger(f"dataops.plan.{files.stack}")
    logger.propagate = False
    warnings = _Warnings()
    logger.handlers = [warnings]
    features = set(monitor.GetDeploymentInfo(empty_pb2.Empty()).supportedFeatures)
    settings.configure(
        mocks.MockSettings(
            monitor=monitor,
            monitor_features=features,
            engine=mocks.MockEngine(logger),
            project=files.project,
            stack=files.stack,
            dry_run=False,
            organization=ORGANIZATION,
            callbacks=None,
        )
    )
    settings.ROOT.set(None)
    raw, secret_keys = dict(files.raw), list(files.secret_keys)
    # A secret the stack has not set yet ran through validation as a placeholder; the program
    # run must see the same placeholder, marked secret (see components.config.validate).
    secret_key = f"{files.project}:oauthClientSecret"
    if cfg.oauth_client_secret is not None and secret_key not in raw:
        raw[secret_key] = cfg.oauth_client_secret.get_secret_value()
        secret_keys.append(secret_key)
    runtime_config.set_all_config(raw, secret_keys)

    if str(files.root) not in sys.path:
        sys.path.insert(0, str(files.root))
    program = files.root / "__main__.py"
    loop = asyncio.new_event_loop()
    # The SDK calls the monitor from executor threads, and each makes itself an event loop.
    # Giving the threads loops we own lets us close them, instead of leaving them to the GC.
    thread_loops: list[asyncio.AbstractEventLoop] = []

    def thread_loop() -> None:
        thread_loops.append(asyncio.new_event_loop())
        asyncio.set_event_loop(thread_loops[-1])

    loop.set_default_executor(ThreadPoolExecutor(initializer=thread_loop))
    try:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(run_in_stack(lambda: runpy.run_path(str(program), run_name="__main__")))
    except pulumi.RunError as exc:
        # The program's own way of reporting a user mistake (e.g. a zone the owner lake lacks).
        raise PlanError([f"{files.source.stack_file}: {exc}"]) from None
    finally:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_default_executor())
        for other in thread_loops:
            other.close()
        loop.close()
        asyncio.set_event_loop(None)

    by_urn = {r.urn: r for r in monitor.registrations}
    root_urn = next(r.urn for r in monitor.registrations if r.type == "pulumi:pulumi:Stack")
    return Plan(
        project=files.project,
        stack=files.stack,
        resources=_tree_order(by_urn, root_urn),
        outputs=monitor.outputs.get(root_urn, {}),
        warnings=[*cfg.notes, *warnings.messages],
    )


def _tree_order(by_urn: dict[str, PlannedResource], root_urn: str) -> list[PlannedResource]:
    """Parents before children, siblings by URN: the same order on every run, whatever order
    the runtime's threads registered them in."""
    children: dict[str, list[str]] = {}
    for r in by_urn.values():
        children.setdefault(r.parent, []).append(r.urn)
    out: list[PlannedResource] = []

    def visit(urn: str) -> None:
        out.append(by_urn[urn])
        for child in sorted(children.get(urn, [])):
            visit(child)

    visit(root_urn)
    return out
