"""The engine of the offline plan: the real `__main__.py` run in-process under Pulumi's mock
runtime, with a recording monitor that keeps every registration request exactly as the Pulumi
engine would receive it (type, name, parent, inputs, dependencies, protect, retainOnDelete).

Only `dataops.plan.build_plan` calls this, and only when its cache has no plan for the inputs:
importing the Pulumi SDKs the program uses is most of an offline plan's cost.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import runpy
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pulumi
from google.protobuf import empty_pb2, json_format
from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks, settings
from pulumi.runtime.stack import run_in_stack

from components.config import StackConfig
from dataops import stack_files
from dataops.fake_cloud import FakeCloud
from dataops.plan_types import ORGANIZATION, Plan, PlanError, PlannedResource

# Sentinels of Pulumi's property wire format (sdk/go/common/resource/sig).
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 - a wire-format marker
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


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


def _aliases(request: Any) -> list[dict[str, Any]]:
    """The alias specs of a registration (reads have none), without their empty fields."""
    out = []
    for alias in getattr(request, "aliases", []):
        if alias.HasField("spec"):
            spec = json_format.MessageToDict(alias.spec)
            out.append({k: v for k, v in spec.items() if v not in ("", False)})
        else:
            out.append({"urn": alias.urn})
    return out


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
                aliases=_aliases(request),
                # Reads (stack references) take neither option.
                ignoreChanges=list(getattr(request, "ignoreChanges", [])),
                replaceOnChanges=list(getattr(request, "replaceOnChanges", [])),
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


def run_program(
    files: stack_files.StackFiles, cfg: StackConfig, stack_outputs: dict[str, dict[str, Any]]
) -> Plan:
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
    except Exception:
        if cloud.refusals:  # the cloud refused a lookup (a role that does not exist): a user mistake
            raise PlanError(_refusal_lines(files, cfg, cloud.refusals)) from None
        raise
    finally:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        # A failed run leaves its output tasks in the SDK's set, which can outlive this context;
        # the next run in this process would wait on them in a closed loop.
        settings.SETTINGS.outputs.clear()
        # A program with resource transforms (components/dask_gateway.py) makes the SDK start a
        # gRPC callback server, and with it grpc's asyncio poller thread, which runs as long as
        # any server object lives. Stopped and dropped here, the poller ends, so the process is
        # single-threaded again and can still fork to plan other stacks (dataops/plan.py).
        loop.run_until_complete(settings._shutdown_callbacks())
        settings.SETTINGS.callbacks = None
        gc.collect()  # the server is in a reference cycle
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


def _refusal_lines(
    files: stack_files.StackFiles, cfg: StackConfig, refusals: list[tuple[str, str]]
) -> list[str]:
    """One line per thing the (offline) account lacks that the config names, naming its key."""
    where = files.source.file_of
    missing_roles = {name for kind, name in refusals if kind == "role"}
    configured = {f"cluster.adminRoles[{i}]": arn for i, arn in enumerate(cfg.cluster.admin_roles)}
    configured |= cfg.ci.access_roles()
    lines = []
    for key, arn in configured.items():
        if arn.rsplit("/", 1)[-1] in missing_roles:
            full = f"{files.project}:{key}"
            lines.append(
                f"{where(full.split('.')[0])}: {full} = {json.dumps(arn)}: no such IAM role "
                "in the account (offline: dataops/offline_account.yaml); fix: create the role first "
                "(see the README's first deploy) or correct the ARN"
            )
    for kind, name in refusals:
        if kind == "zone":
            full = f"{files.project}:notebooks"
            lines.append(
                f"{where(full)}: {full}.hostedZone = {json.dumps(name)}: no such public Route 53 zone in "
                "the account (offline: dataops/offline_account.yaml); fix: create the zone, or name yours"
            )
        elif kind in ("subnet", "vpc"):
            full = f"{files.project}:cluster"
            lines.append(
                f"{where(full)}: {full}.network.existing = {json.dumps(name)}: no such "
                f"{'subnet' if kind == 'subnet' else 'VPC'} in the account (offline: "
                "dataops/offline_account.yaml); fix: name your VPC and its subnets"
            )
        elif kind == "region":
            lines.append(f"{files.source.stack_file}: aws:region = {json.dumps(name)}: not modelled offline")
    return lines or [f"{files.source.stack_file}: the account refused: {refusals}"]


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
