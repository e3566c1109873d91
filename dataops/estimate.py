"""`python -m dataops estimate --stack S`: what a stack costs per month and how long a
from-scratch `pulumi up` (and a full `destroy`) takes, before anyone deploys it.

Both come from the stack's offline plan and two dated tables in the repo:
`estimates/prices.yaml` (list prices of one region, with sources, and the usage assumptions)
and `estimates/latencies.yaml` (typical create and delete times per resource type). Cost is
split into **fixed** (billed while the stack exists, whether anyone works or not: the idle
cost) and **usage** (what working adds, at the stated assumptions). A resource type that is
neither priced nor listed as free is reported as unpriced, never counted as zero. Resources on
a provider with its own endpoints (the `local` stack's endpoint in Docker) cost nothing.

Deploy time is the critical path through the plan's dependency graph (explicit and implied
dependencies, and each resource's provider); `serialised` lists slow resources that wait for
a slow resource of another component although they are not on its cluster.
"""

# size: cost and deploy time come from the same plan and tables and are always shown together
# (`render`, `change_line`, `render_summary`); split, one report would span three modules.

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from components.config import INTERFACE_SERVICES, cpu_cores, memory_gib
from dataops.plan_types import Plan, PlanError, PlannedResource
from dataops.stack_files import parse_yaml

PRICES = Path("estimates") / "prices.yaml"
LATENCIES = Path("estimates") / "latencies.yaml"
SLOW_SECONDS = 60
NOTEBOOK_LABEL = ("hub.jupyter.org/node-purpose", "user")


# -- tables -------------------------------------------------------------------------------------


@dataclass
class Tables:
    prices: dict[str, Any]
    latencies: dict[str, Any]
    assumptions: dict[str, float]

    def unit(self, name: str) -> float:
        return float(self.prices["unit"][name]["price"])

    @property
    def month(self) -> float:
        return float(self.prices["hoursPerMonth"])

    def free(self, type_: str) -> bool:
        return any(fnmatchcase(type_, pattern) for pattern in self.prices["free"])

    def latency(self, type_: str) -> tuple[float, float]:
        entry = self.latencies["types"].get(type_, self.latencies["default"])
        return float(entry["create"]), float(entry["delete"])


def load_tables(root: Path, overrides: dict[str, float] | None = None) -> Tables:
    docs = []
    for path in (PRICES, LATENCIES):
        try:
            docs.append(parse_yaml((root / path).read_text(encoding="utf-8")))
        except (OSError, yaml.YAMLError) as exc:
            raise PlanError([f"{path}: cannot read ({exc})"]) from None
    prices, latencies = docs
    assumptions = {k: float(v) for k, v in prices["assumptions"].items()}
    for key, value in (overrides or {}).items():
        if key not in assumptions:
            raise PlanError(
                [
                    f"--assume {key}: not an assumption of {PRICES}; "
                    f"fix: use one of {', '.join(sorted(assumptions))}"
                ]
            )
        assumptions[key] = value
    return Tables(prices, latencies, assumptions)


# -- cost ---------------------------------------------------------------------------------------


@dataclass
class CostLine:
    resource: str
    type: str
    what: str
    fixed: float = 0.0
    """USD per month while the stack exists."""
    usage: float = 0.0
    """USD per month added by work, at the assumptions."""


@dataclass
class Cost:
    region: str
    lines: list[CostLine] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)
    """One line per resource whose type or instance type has no price."""
    notes: list[str] = field(default_factory=list)
    """What a choice not taken would cost (e.g. interface endpoints where they are off)."""

    @property
    def fixed(self) -> float:
        return round(sum(line.fixed for line in self.lines), 2)

    @property
    def usage(self) -> float:
        return round(sum(line.usage for line in self.lines), 2)


def cost(plan: Plan, tables: Tables, region: str, host: Plan | None = None) -> Cost:
    """The monthly cost of `plan`. `host`: a sandbox's host stack plan (its node type)."""
    if region != tables.prices["region"]:
        return Cost(
            region,
            unpriced=[
                f"region {region}: {PRICES} has prices for {tables.prices['region']} only; nothing priced"
            ],
        )
    out = Cost(region)
    by_urn = {r.urn: r for r in plan.resources}
    # Resources on a provider with its own endpoints (the local stack's S3-compatible endpoint in
    # Docker) are not AWS's and cost nothing.
    local = {
        r.urn for r in plan.resources if r.type.startswith("pulumi:providers:") and r.inputs.get("endpoints")
    }
    month, a = tables.month, tables.assumptions
    endpoints = [
        r
        for r in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if r.inputs.get("vpcEndpointType") == "Interface"
    ]
    pool = _NotebookPool.of(plan, tables)
    for r in plan.resources:
        line = CostLine(r.name, r.type, "")
        t = r.type
        if r.provider.rsplit("::", 1)[0] in local:
            continue
        if t == "aws:eks/cluster:Cluster":
            line.what, line.fixed = "EKS control plane", tables.unit("eksClusterHour") * month
        elif t == "aws:eks/nodeGroup:NodeGroup":
            if not _node_group(r, by_urn, tables, line, out, pool):
                continue
        elif t == "aws:ec2/natGateway:NatGateway":
            # Interface endpoints carry the AWS API traffic the NAT would otherwise process.
            gb = max(0.0, a["natGbPerMonth"] - (a["awsApiGbPerMonth"] if endpoints else 0.0))
            line.what = f"NAT gateway, {gb:g} GB processed" + (
                " (AWS APIs through endpoints)" if endpoints else ""
            )
            line.fixed = tables.unit("natGatewayHour") * month
            line.usage = tables.unit("natGatewayGb") * gb
        elif t == "aws:ec2/vpcEndpoint:VpcEndpoint":
            if r.inputs.get("vpcEndpointType") != "Interface":
                continue  # the S3 gateway endpoint is free
            zones = len(r.inputs.get("subnetIds") or [])
            gb = a["awsApiGbPerMonth"] / len(endpoints)
            service = str(r.inputs.get("serviceName", "")).rsplit(".", 1)[-1]
            line.fixed = tables.unit("interfaceEndpointAzHour") * zones * month
            line.usage = tables.unit("interfaceEndpointGb") * gb
            line.what = (
                f"interface endpoint {service}, {zones} AZs, {gb:g} GB "
                f"(${tables.unit('natGatewayGb') * gb:,.2f} of NAT processing instead)"
            )
        elif t == "kubernetes:networking.k8s.io/v1:Ingress":
            lcus = a["albLcus"]
            line.what = f"Application Load Balancer, {lcus:g} LCU"
            line.fixed = (tables.unit("albHour") + tables.unit("albLcuHour") * lcus) * month
        elif t == "aws:ec2/eip:Eip":
            line.what, line.fixed = "public IPv4 address", tables.unit("publicIpv4Hour") * month
        elif t in ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"):
            line.what, line.fixed = "load balancer (hours; LCUs not included)", tables.unit("albHour") * month
        elif t == "aws:kms/key:Key":
            line.what, line.fixed = "KMS key", tables.unit("kmsKeyMonth")
        elif t == "aws:s3/bucket:Bucket":
            gb, storage_class = _bucket_gb(r, a), _storage_class(plan, r, a["dataAgeDays"])
            line.what = f"S3 {storage_class}, {gb:g} GB (assumed)"
            line.usage = tables.prices["s3GbMonth"][storage_class] * gb
        elif t == "aws:ecr/repository:Repository":
            line.what, line.usage = f"ECR storage, {a['ecrGb']:g} GB", tables.unit("ecrGbMonth") * a["ecrGb"]
        elif t == "aws:cloudwatch/logGroup:LogGroup":
            gb = a["controlPlaneLogGbPerMonth"]
            days = float(r.inputs.get("retentionInDays") or 30)
            stored = gb * min(days, 365) / 30  # a steady state of `days` days of logs
            line.what = f"CloudWatch Logs, {gb:g} GB/month kept {days:g} days"
            line.usage = tables.unit("logsIngestGb") * gb + tables.unit("logsStoreGbMonth") * stored
        elif t == "aws:codebuild/project:Project":
            compute = (r.inputs.get("environment") or {}).get("computeType", "?")
            price = tables.prices["codebuildMinute"].get(compute)
            if price is None:
                out.unpriced.append(f"{r.name}: CodeBuild compute type {compute} has no price in {PRICES}")
                continue
            minutes_ = a["runnerMinutesPerMonth"]
            line.what = f"CI runner (CodeBuild {compute}), {minutes_:g} job minutes"
            line.usage = float(price) * minutes_
        elif t == "kubernetes:helm.sh/v4:Chart" and _dask_workers(r) is not None:
            if not _dask_worker_hours(r, plan, tables, line, pool):
                continue
        elif t == "kubernetes:apps/v1:Deployment" and host is not None:
            if not _pod_share(r, host, tables, line, out):
                continue
        elif tables.free(t):
            continue
        else:
            out.unpriced.append(f"{r.name} ({t}): no price in {PRICES} and not listed as free")
            continue
        line.fixed, line.usage = round(line.fixed, 2), round(line.usage, 2)
        out.lines.append(line)
    if not endpoints and (zones := _private_zones(plan)):
        count = len(INTERFACE_SERVICES)
        fixed = tables.unit("interfaceEndpointAzHour") * zones * count * month
        saved = (tables.unit("natGatewayGb") - tables.unit("interfaceEndpointGb")) * a["awsApiGbPerMonth"]
        out.notes.append(
            f"interface endpoints are off: {count} in {zones} AZs would add ${fixed:,.2f}/month and save "
            f"${saved:,.2f}/month of NAT processing at {a['awsApiGbPerMonth']:g} GB "
            "(cluster.network.interfaceEndpoints)"
        )
    return out


def _private_zones(plan: Plan) -> int:
    """The cluster's AZs (its private subnets); 0 for a stack without a VPC of its own."""
    return sum(1 for s in plan.of_type("aws:ec2/subnet:Subnet") if "private" in s.name)


def _bucket_gb(r: PlannedResource, a: dict[str, float]) -> float:
    zone = (r.inputs.get("tags") or {}).get("zone", "")
    if zone == "access-logs":
        return a["accessLogGbPerMonth"] * 3  # logs are kept and expire; a quarter's worth on average
    if zone == "workspace":
        sandbox = (r.inputs.get("tags") or {}).get("environment") == "sandbox"
        return a["sandboxScratchGb"] if sandbox else a["workspaceGb"]
    return a["lakeGbPerZone"]


def _storage_class(plan: Plan, bucket: PlannedResource, age_days: float) -> str:
    """The class the bucket's lifecycle has moved data of the assumed age into."""
    found, reached = "STANDARD", -1.0
    for config in plan.attached_to(
        bucket, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    ):
        for rule in config.inputs.get("rules") or []:
            if rule.get("status") != "Enabled":
                continue
            for step in rule.get("transitions") or []:
                days = float(step.get("days", 0))
                if reached < days <= age_days:
                    found, reached = step["storageClass"], days
    return found


def _instance(tables: Tables, type_: str) -> dict[str, Any] | None:
    entry = tables.prices["ec2"].get(type_)
    return entry if isinstance(entry, dict) else None


@dataclass
class _NotebookPool:
    """The notebook node groups (one per AZ) share the busy-hours assumption and the nodes the
    hub's placeholders keep warm; the first group's line carries the warm nodes."""

    groups: list[str]
    warm_nodes: int

    @staticmethod
    def of(plan: Plan, tables: Tables) -> _NotebookPool:
        groups = [
            g.urn
            for g in plan.of_type("aws:eks/nodeGroup:NodeGroup")
            if (g.inputs.get("labels") or {}).get(NOTEBOOK_LABEL[0]) == NOTEBOOK_LABEL[1]
            and (g.inputs.get("labels") or {}).get("dataops.io/pool") != "gpu"
        ]
        return _NotebookPool(groups, _warm_nodes(plan, tables, groups))


def _warm_nodes(plan: Plan, tables: Tables, groups: list[str]) -> int:
    """Nodes the hub's placeholder pods keep running: their requests packed onto notebook nodes."""
    releases = plan.of_type("kubernetes:helm.sh/v3:Release")
    placeholder = (
        (((releases[0].inputs.get("values") or {}).get("scheduling") or {}).get("userPlaceholder") or {})
        if releases
        else {}
    )
    replicas = int(placeholder.get("replicas") or 0) if placeholder.get("enabled") else 0
    if not replicas or not groups:
        return 0
    first = next(g for g in plan.of_type("aws:eks/nodeGroup:NodeGroup") if g.urn == groups[0])
    instance = _instance(tables, (first.inputs.get("instanceTypes") or ["?"])[0])
    requests = (placeholder.get("resources") or {}).get("requests") or {}
    cpu, memory = cpu_cores(str(requests.get("cpu", "0"))), memory_gib(str(requests.get("memory", "0")))
    if instance is None or cpu is None or memory is None:
        return 1
    share = max(cpu / float(instance["vcpu"]), memory / float(instance["memGiB"]))
    return max(1, math.ceil(replicas * share - 1e-9))


def _node_group(
    r: PlannedResource,
    by_urn: dict[str, PlannedResource],
    tables: Tables,
    line: CostLine,
    out: Cost,
    pool: _NotebookPool,
) -> bool:
    types = r.inputs.get("instanceTypes") or ["?"]
    instance = _instance(tables, types[0])
    if instance is None:
        out.unpriced.append(f"{r.name}: instance type {types[0]} has no price in {PRICES} (ec2)")
        return False
    scaling = r.inputs.get("scalingConfig") or {}
    desired, maximum = int(scaling.get("desiredSize", 0)), int(scaling.get("maxSize", 0))
    hour = float(instance["hour"])
    spot = r.inputs.get("capacityType") == "SPOT"
    if spot:
        hour *= 1 - float(tables.prices["spotDiscount"]["fraction"])
    disk = next(
        (
            float(m["ebs"]["volumeSize"])
            for dep in r.dependencies
            if by_urn.get(dep) and by_urn[dep].type == "aws:ec2/launchTemplate:LaunchTemplate"
            for m in by_urn[dep].inputs.get("blockDeviceMappings", [])
        ),
        20.0,  # EKS's default root volume
    )
    node_hour = hour + disk * tables.unit("ebsGp3GbMonth") / tables.month
    # A group idles at its desired size (the placeholders' warm nodes on top, in the pool's first
    # group); the autoscaler adds notebook nodes while users work, spread over the pool's groups.
    notebook = r.urn in pool.groups
    warm = pool.warm_nodes if notebook and r.urn == pool.groups[0] else 0
    line.fixed = (desired + warm) * node_hour * tables.month
    busy = 0.0
    if notebook:
        wanted = tables.assumptions["busyNotebookNodes"] / len(pool.groups)
        busy = max(0.0, min(float(maximum), desired + warm + wanted) - desired - warm)
    line.usage = busy * node_hour * tables.assumptions["busyHoursPerMonth"]
    kind = "spot" if spot else "on-demand"
    line.what = (
        f"{desired} x {types[0]} {kind} + {disk:g} GiB gp3"
        + (f"; {warm} kept warm for placeholders" if warm else "")
        + (f"; +{busy:g} while users work" if busy else "")
    )
    return True


def _dask_workers(chart: PlannedResource) -> dict[str, Any] | None:
    """The worker section of a Dask Gateway chart's values (components/dask_gateway.py), if it is one."""
    values = chart.inputs.get("values") or {}
    worker = ((values.get("gateway") or {}).get("backend") or {}).get("worker")
    return worker if isinstance(worker, dict) else None


def _dask_worker_hours(
    chart: PlannedResource, plan: Plan, tables: Tables, line: CostLine, pool: _NotebookPool
) -> bool:
    """Dask workers run on the notebook nodes: the assumed worker-hours, each the share of a node
    that a default-sized worker takes."""
    if not pool.groups:
        return False  # an adopted cluster's nodes are not the platform's to price
    worker = _dask_workers(chart) or {}
    first = next(g for g in plan.of_type("aws:eks/nodeGroup:NodeGroup") if g.urn == pool.groups[0])
    type_ = (first.inputs.get("instanceTypes") or ["?"])[0]
    instance = _instance(tables, type_)
    if instance is None:
        return False  # the node group's own line reports the missing price
    cores = float((worker.get("cores") or {}).get("request") or 1)
    gib = float((worker.get("memory") or {}).get("request") or 0) / 2**30
    share = max(cores / float(instance["vcpu"]), gib / float(instance["memGiB"]))
    hours = tables.assumptions["daskWorkerHoursPerMonth"]
    spot = (
        1 - float(tables.prices["spotDiscount"]["fraction"])
        if first.inputs.get("capacityType") == "SPOT"
        else 1
    )
    line.usage = hours * share * float(instance["hour"]) * spot
    line.what = (
        f"Dask workers, {hours:g} worker-hours of {cores:g} cores and {gib:g} GiB on {type_} (assumed)"
    )
    return True


def _pod_share(r: PlannedResource, host: Plan, tables: Tables, line: CostLine, out: Cost) -> bool:
    """A sandbox's server runs on its host's notebook nodes: its share of one while it runs."""
    groups = [
        g
        for g in host.of_type("aws:eks/nodeGroup:NodeGroup")
        if (g.inputs.get("labels") or {}).get(NOTEBOOK_LABEL[0])
    ]
    type_ = (groups[0].inputs.get("instanceTypes") or ["?"])[0] if groups else "?"
    instance = _instance(tables, type_)
    if instance is None:
        out.unpriced.append(f"{r.name}: the host's notebook instance type {type_} has no price in {PRICES}")
        return False
    container = r.inputs["spec"]["template"]["spec"]["containers"][0]
    requests = container.get("resources", {}).get("requests", {})
    cpu, memory = cpu_cores(str(requests.get("cpu", "0"))), memory_gib(str(requests.get("memory", "0")))
    if cpu is None or memory is None:
        out.unpriced.append(f"{r.name}: requests {requests} are not Kubernetes quantities")
        return False
    share = max(cpu / float(instance["vcpu"]), memory / float(instance["memGiB"]))
    hours = tables.assumptions["sandboxServerHoursPerMonth"]
    line.what = f"notebook server: {share:.0%} of a {type_} for {hours:g} h"
    line.usage = share * float(instance["hour"]) * hours
    return True


# -- deploy time --------------------------------------------------------------------------------


@dataclass
class DeployTime:
    up_seconds: float
    destroy_seconds: float
    critical_path: list[tuple[str, str, float]]
    """(name, type, create seconds) from the first resource to the last."""
    serialised: list[str] = field(default_factory=list)
    scale_from_zero_seconds: float | None = None
    """How long a server start waits for a notebook node when the pool is at zero."""


def deploy_time(plan: Plan, tables: Tables) -> DeployTime:
    by_urn = {r.urn: r for r in plan.resources}
    children: dict[str, list[str]] = {}
    for r in plan.resources:
        children.setdefault(r.parent, []).append(r.urn)

    def deps(r: PlannedResource) -> list[str]:
        found = [d for d in r.dependencies if d in by_urn]
        provider = r.provider.rsplit("::", 1)[0] if r.provider else ""
        if provider in by_urn:
            found.append(provider)
        return found

    finish: dict[str, float] = {}
    via: dict[str, str | None] = {}
    # Kubernetes objects are applied from the stack's in-VPC runner: the cluster's provider waits
    # for the runner and for a job to start on it.
    runners = [r.urn for r in plan.of_type("aws:codebuild/project:Project")]
    runner_start = float(tables.latencies.get("runnerStart", {}).get("seconds", 0))

    def done(urn: str, stack: tuple[str, ...] = ()) -> float:
        if urn in finish:
            return finish[urn]
        r = by_urn[urn]
        if urn in stack:  # a cycle cannot happen in a valid plan; do not recurse forever
            return 0.0
        if not r.custom:  # a component is done when its children are
            waits = [(done(c, (*stack, urn)), c) for c in children.get(urn, [])]
            latency = 0.0
        else:
            waits = [(done(d, (*stack, urn)), d) for d in deps(r)]
            if r.type == "pulumi:providers:kubernetes":
                waits += [(done(d, (*stack, urn)) + runner_start, d) for d in runners]
            latency = tables.latency(r.type)[0]
        start, before = max(waits, default=(0.0, None))
        finish[urn], via[urn] = start + latency, before
        return finish[urn]

    for r in plan.resources:
        done(r.urn)
    last = max(finish, key=lambda u: finish[u]) if finish else None
    path: list[tuple[str, str, float]] = []
    urn = last
    while urn is not None:
        r = by_urn[urn]
        if r.custom:
            path.append((r.name, r.type, tables.latency(r.type)[0]))
        urn = via.get(urn)
    path.reverse()

    # Destroy: a resource goes once everything that depends on it has gone.
    dependents: dict[str, list[str]] = {}
    for r in plan.resources:
        if r.custom:
            for d in deps(r):
                dependents.setdefault(d, []).append(r.urn)
    gone: dict[str, float] = {}

    def removed(urn: str, stack: tuple[str, ...] = ()) -> float:
        if urn in gone:
            return gone[urn]
        if urn in stack:
            return 0.0
        r = by_urn[urn]
        after = max((removed(d, (*stack, urn)) for d in dependents.get(urn, [])), default=0.0)
        gone[urn] = after + (tables.latency(r.type)[1] if r.custom else 0.0)
        return gone[urn]

    destroy = max((removed(r.urn) for r in plan.resources if r.custom), default=0.0)
    scale_up = None
    if _NotebookPool.of(plan, tables).groups:
        scale_up = float(tables.latencies.get("scaleFromZero", {}).get("seconds", 0)) or None
    return DeployTime(
        finish.get(last, 0.0) if last else 0.0,
        destroy,
        path,
        _serialised(plan, tables, by_urn, deps, finish),
        scale_up,
    )


def _top(by_urn: dict[str, PlannedResource], r: PlannedResource) -> str:
    current = r
    while current.parent in by_urn and by_urn[current.parent].type != "pulumi:pulumi:Stack":
        current = by_urn[current.parent]
    return current.name


def _serialised(plan, tables, by_urn, deps, finish) -> list[str]:
    """Slow resources that start only after a slow resource of another component, when they
    are not objects on that component's cluster (which must wait for it)."""
    out = []
    for r in plan.resources:
        create = tables.latency(r.type)[0] if r.custom else 0.0
        # Kubernetes objects, and what reads them (the hub's DNS record reads its Ingress), must
        # wait for the cluster.
        on_cluster = r.type.startswith("kubernetes:") or any(
            by_urn[d].type.startswith("kubernetes:") for d in deps(r)
        )
        if create < SLOW_SECONDS or on_cluster:
            continue
        seen, todo, slow = set(), list(deps(r)), []
        while todo:
            d = todo.pop()
            if d in seen:
                continue
            seen.add(d)
            dr = by_urn[d]
            if (
                dr.custom
                and tables.latency(dr.type)[0] >= SLOW_SECONDS
                and _top(by_urn, dr) != _top(by_urn, r)
            ):
                slow.append(dr)
            todo += deps(dr)
        if slow:
            worst = max(slow, key=lambda s: finish.get(s.urn, 0.0))
            out.append(
                f"{r.name} ({r.type}, {create:.0f} s) waits for {worst.name} ({worst.type}) of component "
                f"{_top(by_urn, worst)}: it starts at {finish[r.urn] - create:.0f} s instead of in parallel; "
                "check whether it needs it"
            )
    return out


# -- output -------------------------------------------------------------------------------------


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def render(stack: str, c: Cost, d: DeployTime, tables: Tables, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(
            {
                "stack": stack,
                "region": c.region,
                "currency": tables.prices["currency"],
                "pricesDate": tables.prices["date"],
                "fixedPerMonth": c.fixed,
                "usagePerMonth": c.usage,
                "lines": [asdict(line) for line in c.lines],
                "unpriced": c.unpriced,
                "notes": c.notes,
                "upSeconds": d.up_seconds,
                "destroySeconds": d.destroy_seconds,
                "criticalPath": [{"name": n, "type": t, "seconds": s} for n, t, s in d.critical_path],
                "serialised": d.serialised,
                "scaleFromZeroSeconds": d.scale_from_zero_seconds,
                "assumptions": tables.assumptions,
            },
            indent=2,
        )
    head = (
        f"{stack}: ${c.fixed:,.2f}/month fixed (idle) + ${c.usage:,.2f}/month usage = "
        f"${c.fixed + c.usage:,.2f}/month; "
        f"from-scratch up {minutes(d.up_seconds)}, destroy {minutes(d.destroy_seconds)}"
    )
    note = f"prices: {c.region}, {tables.prices['date']} ({PRICES}); usage at the assumptions listed there"
    path = " -> ".join(f"{n} ({s:.0f} s)" for n, _, s in d.critical_path if s > 0)
    if fmt == "markdown":
        lines = [
            f"#### {stack}",
            "",
            head,
            "",
            "| resource | what | fixed $/mo | usage $/mo |",
            "|---|---|---:|---:|",
        ]
        lines += [f"| `{x.resource}` | {x.what} | {x.fixed:,.2f} | {x.usage:,.2f} |" for x in c.lines]
        lines += ["", f"Critical path: {path}", ""]
        lines += [f"- unpriced: {u}" for u in c.unpriced] + [f"- serialised: {s}" for s in d.serialised]
        lines += [f"- note: {n}" for n in c.notes]
        if d.scale_from_zero_seconds:
            lines.append(
                f"- a server start on an idle notebook pool waits about {minutes(d.scale_from_zero_seconds)}"
            )
        return "\n".join([*lines, f"_{note}_"])
    width = max((len(x.resource) for x in c.lines), default=8)
    lines = [head, ""]
    lines += [f"  {x.resource.ljust(width)}  {x.fixed:9,.2f}  {x.usage:9,.2f}  {x.what}" for x in c.lines]
    lines += ["", f"critical path: {path}"]
    lines += [f"unpriced: {u}" for u in c.unpriced] + [f"serialised: {s}" for s in d.serialised]
    lines += [f"note: {n}" for n in c.notes]
    if d.scale_from_zero_seconds:
        lines.append(
            f"a server start on an idle notebook pool waits about {minutes(d.scale_from_zero_seconds)}"
        )
    return "\n".join([*lines, note])


def change_line(stack: str, before: tuple[Cost, DeployTime], after: tuple[Cost, DeployTime]) -> str:
    """One line for a pull-request diff: what the change does to cost and deploy time."""
    (cb, db), (ca, da) = before, after
    total_b, total_a = cb.fixed + cb.usage, ca.fixed + ca.usage
    return (
        f"{stack}: cost ${total_b:,.2f} -> ${total_a:,.2f}/month ({total_a - total_b:+,.2f}; fixed "
        f"{ca.fixed - cb.fixed:+,.2f}); from-scratch up {minutes(db.up_seconds)} -> {minutes(da.up_seconds)}"
    )


def render_summary(rows: list[tuple[str, Cost, DeployTime]], tables: Tables, fmt: str) -> str:
    """One row per stack: what each environment costs idle and in use, and how long it takes."""
    if fmt == "json":
        return json.dumps(
            [
                {
                    "stack": s,
                    "fixedPerMonth": c.fixed,
                    "usagePerMonth": c.usage,
                    "upSeconds": d.up_seconds,
                    "destroySeconds": d.destroy_seconds,
                    "unpriced": c.unpriced,
                }
                for s, c, d in rows
            ],
            indent=2,
        )
    head = ["stack", "fixed (idle) $/month", "usage $/month", "from-scratch up", "destroy", "unpriced"]
    body = [
        [
            s,
            f"{c.fixed:,.2f}",
            f"{c.usage:,.2f}",
            minutes(d.up_seconds),
            minutes(d.destroy_seconds),
            str(len(c.unpriced)),
        ]
        for s, c, d in rows
    ]
    prices = tables.prices
    note = f"{prices['region']} list prices of {prices['date']}, usage at the assumptions in {PRICES}"
    if fmt == "markdown":
        lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join([*lines, "", f"_{note}_"])
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [head, *body]]
    return "\n".join([*lines, note])
