"""`estimate`: the price and latency tables are complete and sourced, the cost and deploy-time
arithmetic matches small plans worked out by hand, and every shipped stack is fully priced."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

from dataops import cli, estimate
from dataops.plan import ROOT
from dataops.plan_types import Plan, PlanError, PlannedResource
from tests.conftest import CLOUD_STACKS, SHIPPED

TABLES = estimate.load_tables(ROOT)


def small_tables() -> estimate.Tables:
    """Round numbers, so the expected figures below can be checked by hand."""
    tables = copy.deepcopy(TABLES)
    tables.prices["hoursPerMonth"] = 700
    tables.prices["unit"] |= {
        "eksClusterHour": {"price": 0.1},
        "natGatewayHour": {"price": 0.05},
        "natGatewayGb": {"price": 0.05},
        "ebsGp3GbMonth": {"price": 0.1},
        "kmsKeyMonth": {"price": 1.0},
    }
    tables.prices["ec2"] = {"m.large": {"hour": 0.1, "vcpu": 2, "memGiB": 8}}
    tables.prices["spotDiscount"] = {"fraction": 0.5}
    tables.assumptions |= {"natGbPerMonth": 100, "busyNotebookNodes": 2, "busyHoursPerMonth": 100}
    tables.latencies["types"] = {
        "aws:eks/cluster:Cluster": {"create": 600, "delete": 300},
        "aws:eks/nodeGroup:NodeGroup": {"create": 240, "delete": 300},
        "kubernetes:helm.sh/v3:Release": {"create": 240, "delete": 60},
        "docker:index/image:Image": {"create": 480, "delete": 5},
    }
    tables.latencies["default"] = {"create": 1, "delete": 1}
    return tables


def res(name, type_, inputs=None, deps=(), parent="urn:stack", custom=True, provider="") -> PlannedResource:
    return PlannedResource(
        f"urn:{name}", type_, name, parent, inputs or {}, list(deps), False, False, provider, custom
    )


def plan(*resources: PlannedResource) -> Plan:
    return Plan("p", "s", [res("stack", "pulumi:pulumi:Stack", parent=""), *resources], {})


def test_tables_are_dated_and_every_entry_has_a_source():
    prices, latencies = TABLES.prices, TABLES.latencies
    assert prices["date"] and latencies["date"] and prices["region"] and prices["currency"] == "USD"
    sources = set(prices["sources"])
    assert all(entry["source"] in sources for entry in prices["unit"].values())
    for section in ("s3GbMonth", "ec2", "spotDiscount"):
        assert prices[section]["source"] in sources, section
    assert all(str(url).startswith("https://") for url in prices["sources"].values())
    lat_sources = set(latencies["sources"])
    assert latencies["default"]["source"] in lat_sources
    assert all(entry["source"] in lat_sources for entry in latencies["types"].values())


@pytest.mark.parametrize("stack", SHIPPED)
def test_every_resource_of_every_shipped_plan_is_priced_or_free(plans, stack):
    assert estimate.cost(plans[stack], TABLES, "eu-west-1").unpriced == []


def test_the_sandbox_is_priced_too_and_adds_little_beyond_scratch(sandbox_plan, plans):
    c = estimate.cost(sandbox_plan, TABLES, "eu-west-1", host=plans["dev"])
    assert c.unpriced == []
    assert c.fixed <= 1.0  # its own KMS key; no cluster, NAT or nodes of its own
    assert {line.type for line in c.lines} == {
        "aws:kms/key:Key",
        "aws:s3/bucket:Bucket",
        "kubernetes:apps/v1:Deployment",
    }


def test_cost_of_a_small_plan_worked_out_by_hand():
    t = small_tables()
    template = res(
        "lt", "aws:ec2/launchTemplate:LaunchTemplate", {"blockDeviceMappings": [{"ebs": {"volumeSize": 50}}]}
    )
    p = plan(
        res("eks", "aws:eks/cluster:Cluster"),
        template,
        res("system", "aws:eks/nodeGroup:NodeGroup",
            {"instanceTypes": ["m.large"], "scalingConfig": {"desiredSize": 2, "maxSize": 3}}, deps=[template.urn]),
        res("notebooks", "aws:eks/nodeGroup:NodeGroup",
            {"instanceTypes": ["m.large"], "capacityType": "SPOT", "labels": {"hub.jupyter.org/node-purpose": "user"},
             "scalingConfig": {"desiredSize": 0, "maxSize": 5}}),
        res("nat", "aws:ec2/natGateway:NatGateway"),
        res("key", "aws:kms/key:Key"),
        res("role", "aws:iam/role:Role"),
    )  # fmt: skip
    c = estimate.cost(p, t, "eu-west-1")
    got = {line.resource: (line.fixed, line.usage) for line in c.lines}
    assert got["eks"] == (70.0, 0.0)  # 0.1 * 700
    # 2 nodes * (0.1 $/h + 50 GiB * 0.1 $/GiB-month / 700 h) * 700 h = 2 * (70 + 5)
    assert got["system"] == (150.0, 0.0)
    # spot at half price, 20 GiB default disk, 2 busy nodes for 100 h: 2 * (0.05 + 2/700) * 100
    assert got["notebooks"] == (0.0, round(2 * (0.05 + 20 * 0.1 / 700) * 100, 2))
    assert got["nat"] == (35.0, 5.0) and got["key"] == (1.0, 0.0)
    assert "role" not in got and c.unpriced == []
    assert c.fixed == 256.0


def dask_chart(cores: float, gib: float) -> PlannedResource:
    worker = {"cores": {"request": cores}, "memory": {"request": int(gib * 2**30)}}
    values = {"gateway": {"backend": {"worker": worker}}}
    return res(
        "dask", "kubernetes:helm.sh/v4:Chart", {"chart": "dask-gateway", "values": values}, custom=False
    )


@pytest.mark.parametrize(
    ("capacity", "cores", "gib", "share"),
    [
        ("ON_DEMAND", 1, 2, 0.5),  # 1 of 2 vCPU is the larger share (2 of 8 GiB is 0.25)
        ("ON_DEMAND", 0.5, 6, 0.75),  # 6 of 8 GiB is the larger share
        ("SPOT", 1, 2, 0.5 * 0.5),  # at the spot discount
    ],
)
def test_dask_workers_cost_their_share_of_a_notebook_node_for_the_assumed_hours(capacity, cores, gib, share):
    t = small_tables()
    t.assumptions["daskWorkerHoursPerMonth"] = 200
    p = plan(
        res("notebooks", "aws:eks/nodeGroup:NodeGroup",
            {"instanceTypes": ["m.large"], "capacityType": capacity, "labels": {"hub.jupyter.org/node-purpose": "user"},
             "scalingConfig": {"desiredSize": 0, "maxSize": 5}}),
        dask_chart(cores, gib),
    )  # fmt: skip
    (line,) = [line for line in estimate.cost(p, t, "eu-west-1").lines if line.resource == "dask"]
    # 200 worker-hours x the worker's share of a node x 0.1 $/h
    assert (line.fixed, line.usage) == (0.0, round(200 * share * 0.1, 2))
    assert "200 worker-hours" in line.what


def test_dask_workers_on_an_adopted_cluster_are_not_the_platforms_to_price():
    """No notebook node group of the platform's: no line, and nothing unpriced either."""
    c = estimate.cost(plan(dask_chart(1, 2)), small_tables(), "eu-west-1")
    assert [line.resource for line in c.lines] == [] and c.unpriced == []


def test_other_charts_are_free_objects_on_the_nodes(plans):
    c = estimate.cost(plans["prod"], TABLES, "eu-west-1")
    charts = {r.name for r in plans["prod"].of_type("kubernetes:helm.sh/v4:Chart")}
    priced = {line.resource for line in c.lines}
    assert charts & priced == {"dask-chart"}


def test_lake_data_is_priced_in_the_class_its_lifecycle_reached(plans):
    by_name = {line.resource: line for line in estimate.cost(plans["prod"], TABLES, "eu-west-1").lines}
    # raw: STANDARD_IA after 30 days, GLACIER_IR after 180 (Pulumi.prod.yaml); the data is 180 days old.
    assert by_name["lake-raw-bucket"].what == "S3 GLACIER_IR, 500 GB (assumed)"
    assert by_name["lake-raw-bucket"].usage == round(500 * TABLES.prices["s3GbMonth"]["GLACIER_IR"], 2)
    assert by_name["lake-curated-bucket"].what.startswith("S3 INTELLIGENT_TIERING")
    assert by_name["lake-analytics-bucket"].what.startswith("S3 STANDARD,")
    younger = copy.deepcopy(TABLES)
    younger.assumptions["dataAgeDays"] = 60
    raw = next(
        x for x in estimate.cost(plans["prod"], younger, "eu-west-1").lines if x.resource == "lake-raw-bucket"
    )
    assert raw.what.startswith("S3 STANDARD_IA")


@pytest.mark.parametrize(
    ("text", "cores", "gib"),
    [("500m", 0.5, None), ("2", 2.0, None), ("4Gi", None, 4.0), ("512Mi", None, 0.5),
     ("1073741824", None, 1.0), ("1G", None, 1e9 / 2**30), ("1Ti", None, 1024.0)],
)  # fmt: skip
def test_kubernetes_quantities(text, cores, gib):
    if cores is not None:
        assert estimate.cpu_cores(text) == cores
    if gib is not None:
        assert estimate.memory_gib(text) == pytest.approx(gib)


def test_bad_quantities_are_none_not_a_crash():
    assert estimate.cpu_cores("one") is None and estimate.memory_gib("4 GB") is None


def test_unknown_prices_are_reported_never_zero():
    t = small_tables()
    p = plan(
        res(
            "gpu",
            "aws:eks/nodeGroup:NodeGroup",
            {"instanceTypes": ["p5.48xlarge"], "scalingConfig": {"desiredSize": 1}},
        ),
        res("db", "aws:rds/instance:Instance"),
    )
    c = estimate.cost(p, t, "eu-west-1")
    assert c.lines == [] and len(c.unpriced) == 2
    assert "instance type p5.48xlarge has no price" in c.unpriced[0]
    assert "aws:rds/instance:Instance" in c.unpriced[1] and "not listed as free" in c.unpriced[1]
    other = estimate.cost(p, t, "us-east-1")
    assert other.lines == [] and "has prices for eu-west-1 only" in other.unpriced[0]


def test_deploy_time_follows_the_critical_path():
    t = small_tables()
    cluster = res("eks", "aws:eks/cluster:Cluster", parent="urn:cluster")
    nodes = res("nodes", "aws:eks/nodeGroup:NodeGroup", deps=[cluster.urn], parent="urn:cluster")
    provider = res("k8s", "pulumi:providers:kubernetes", deps=[cluster.urn], parent="urn:cluster")
    hub = res(
        "hub",
        "kubernetes:helm.sh/v3:Release",
        deps=[nodes.urn],
        provider=f"{provider.urn}::id",
        parent="urn:nb",
    )
    image = res("image", "docker:index/image:Image", parent="urn:img")
    components = [res(n, "dataops:index:X", custom=False) for n in ("cluster", "nb", "img")]
    d = estimate.deploy_time(plan(*components, cluster, nodes, provider, hub, image), t)
    assert d.up_seconds == 600 + 240 + 240
    assert [name for name, _, _ in d.critical_path] == ["eks", "nodes", "hub"]
    # Destroy: the release (60), then the nodes (300) and the provider (1), then the cluster (300).
    assert d.destroy_seconds == 60 + 300 + 300
    assert d.serialised == []


def test_a_slow_resource_waiting_on_another_components_cluster_is_flagged():
    t = small_tables()
    cluster = res("eks", "aws:eks/cluster:Cluster", parent="urn:cluster")
    image = res("image", "docker:index/image:Image", deps=[cluster.urn], parent="urn:img")
    components = [res(n, "dataops:index:X", custom=False) for n in ("cluster", "img")]
    d = estimate.deploy_time(plan(*components, cluster, image), t)
    assert d.up_seconds == 1080
    assert len(d.serialised) == 1 and d.serialised[0].startswith(
        "image (docker:index/image:Image, 480 s) waits for eks"
    )


def test_shipped_stacks_are_lean_where_the_design_allows(plans):
    dev = estimate.cost(plans["dev"], TABLES, "eu-west-1")
    prod = estimate.cost(plans["prod"], TABLES, "eu-west-1")
    assert dev.fixed < prod.fixed / 2
    nat = [line for line in dev.lines if line.type == "aws:ec2/natGateway:NatGateway"]
    assert len(nat) == 1  # one NAT gateway in dev
    notebook_nodes = [line for line in dev.lines if line.resource.startswith("cluster-notebooks-")]
    assert len(notebook_nodes) == 2  # a group per AZ
    assert all(n.fixed == 0 and n.usage > 0 for n in notebook_nodes)  # dev's notebook nodes idle at zero
    # the autoscaler spreads the busy-hours nodes over the groups: the same total as one group
    busy = TABLES.assumptions["busyNotebookNodes"] * TABLES.assumptions["busyHoursPerMonth"]
    hour = TABLES.prices["ec2"]["r6i.xlarge"]["hour"] + 50 * TABLES.unit("ebsGp3GbMonth") / TABLES.month
    assert abs(sum(n.usage for n in notebook_nodes) - busy * hour) < 0.05


def test_idle_cost_follows_demand(plans):
    """Dev's idle cost includes its load balancer and no notebook node; prod keeps one node warm
    for its placeholder; interface endpoints, where off, are shown with what they would cost."""
    dev = estimate.cost(plans["dev"], TABLES, "eu-west-1")
    prod = estimate.cost(plans["prod"], TABLES, "eu-west-1")
    assert any(line.what.startswith("Application Load Balancer") and line.fixed > 0 for line in dev.lines)
    warm = [line for line in prod.lines if "kept warm for placeholders" in line.what]
    assert len(warm) == 1 and warm[0].fixed > 0
    assert any(n.startswith("interface endpoints are off") for n in dev.notes)
    assert estimate.deploy_time(plans["dev"], TABLES).scale_from_zero_seconds > 0


def test_deploy_paths_wait_only_where_they_must(plans):
    for stack in CLOUD_STACKS:
        d = estimate.deploy_time(plans[stack], TABLES)
        assert d.serialised == [], stack
    # prod's critical path is the cluster, what must run on it, and the hub's address.
    prod_path = estimate.deploy_time(plans["prod"], TABLES).critical_path
    assert prod_path[0][1] in ("aws:iam/role:Role", "aws:kms/key:Key", "aws:ec2/vpc:Vpc")
    assert any(t == "aws:eks/cluster:Cluster" for _, t, _ in prod_path)
    slow = [(n, t) for n, t, s in prod_path if s >= estimate.SLOW_SECONDS]
    allowed = ("aws:eks/", "aws:ec2/natGateway", "kubernetes:", "aws:route53/record", "aws:acm/")
    assert all(t.startswith(allowed) for _, t in slow), slow


def dataops(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dataops", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_cli_formats_and_bad_input():
    doc = json.loads(dataops("estimate", "--stack", "dev", "--format", "json").stdout)
    assert doc["stack"] == "dev" and doc["fixedPerMonth"] > 0 and doc["unpriced"] == []
    assert doc["criticalPath"] and doc["upSeconds"] > 600
    text = dataops("estimate", "--stack", "dev", "--assume", "natGbPerMonth=1000")
    assert text.returncode == 0 and "NAT gateway, 1000 GB processed" in text.stdout
    for args, message in (
        (("--stack", "nope"), "Pulumi.nope.yaml: no such stack file"),
        (("--stack", "dev", "--assume", "rain=3"), "--assume rain: not an assumption"),
        (("--stack", "dev", "--assume", "natGbPerMonth"), "--assume natGbPerMonth: write KEY=NUMBER"),
    ):
        bad = dataops("estimate", *args)
        assert bad.returncode == 2 and message in bad.stderr, bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "1e400", "-1", "-0.5"])
def test_an_assumption_must_be_a_finite_number_not_below_zero(value):
    bad = dataops("estimate", "--stack", "dev", "--assume", f"busyHoursPerMonth={value}")
    assert bad.returncode == 2 and bad.stdout == "", bad.stderr
    assert bad.stderr == (
        f"error: --assume busyHoursPerMonth={value}: not a finite number >= 0; "
        "fix: e.g. --assume busyHoursPerMonth=200\n"
    )


def test_zero_and_fractions_are_assumptions():
    assumed = cli._assumptions(["natGbPerMonth=0", "busyNotebookNodes=1.5", "busyHoursPerMonth=1e3"])
    assert assumed == {"natGbPerMonth": 0.0, "busyNotebookNodes": 1.5, "busyHoursPerMonth": 1000.0}


def test_estimate_errors_are_plan_errors():
    with pytest.raises(PlanError, match="not an assumption"):
        estimate.load_tables(ROOT, {"nope": 1.0})
