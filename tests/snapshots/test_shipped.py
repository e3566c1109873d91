"""Snapshot of the shipped stacks: the concrete values their stack files give (which stacks there
are, their environments and regions, resource counts, network ranges, node groups, Kubernetes
version, lake zones, monthly cost, deploy time), recorded in shipped.json beside this file.

The other tests hold for any stack file; these hold only for the files as shipped. So an ordinary
change to a stack file (a new stack, a zone, a node size) fails here and nowhere else: read the
difference, and if it is what you meant, record it with

    .venv/bin/python -m pytest tests/snapshots --update-snapshots

and commit shipped.json with the change, so the review sees both.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dataops import estimate
from dataops.plan import ROOT
from dataops.plan_types import Plan
from tests.conftest import CONFIGS, SHIPPED

SNAPSHOT = Path(__file__).with_name("shipped.json")
NODEGROUP = "aws:eks/nodeGroup:NodeGroup"


def facts(stack: str, plan: Plan, tables: estimate.Tables) -> dict[str, Any]:
    cfg = CONFIGS[stack]
    cost = estimate.cost(plan, tables, cfg.region)
    deploy = estimate.deploy_time(plan, tables)
    lake = plan.outputs.get("lake") or {}
    out: dict[str, Any] = {
        "environment": cfg.environment,
        "region": cfg.region,
        "resources": len(plan.resources) - 1,  # as `plan` counts them: not the stack itself
        "protected": sum(1 for r in plan.resources if r.protect),
        "lakeZones": sorted(lake.get("zones") or []),
        "lakeObjectLock": lake.get("objectLock"),
        "reads": sorted(cfg.access.read),
        "hostsSandboxes": cfg.hosts_sandboxes,
        "costPerMonth": {"fixed": round(cost.fixed, 2), "usage": round(cost.usage, 2)},
        "deploySeconds": {"up": round(deploy.up_seconds), "destroy": round(deploy.destroy_seconds)},
    }
    if eks := plan.of_type("aws:eks/cluster:Cluster"):
        private = [s for s in plan.of_type("aws:ec2/subnet:Subnet") if "private" in s.name]
        out["cluster"] = {
            "kubernetesVersion": eks[0].inputs["version"],
            "vpcCidr": [v.inputs["cidrBlock"] for v in plan.of_type("aws:ec2/vpc:Vpc")],
            "availabilityZones": len({s.inputs["availabilityZone"] for s in private}),
            "natGateways": len(plan.of_type("aws:ec2/natGateway:NatGateway")),
            "nodeGroups": {
                g.inputs["nodeGroupName"]: {
                    "instanceTypes": g.inputs["instanceTypes"],
                    "capacityType": g.inputs.get("capacityType"),
                    "scaling": g.inputs["scalingConfig"],
                }
                for g in plan.of_type(NODEGROUP)
            },
        }
    return out


@pytest.fixture(scope="module")
def current(plans) -> dict[str, Any]:
    tables = estimate.load_tables(ROOT)
    # Through JSON, so that it compares with the recorded document value for value.
    return json.loads(json.dumps({s: facts(s, plans[s], tables) for s in SHIPPED}))


@pytest.fixture(scope="module")
def recorded(request, current) -> dict[str, Any]:
    if request.config.getoption("--update-snapshots"):
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    return json.loads(SNAPSHOT.read_text())


def test_the_shipped_stacks_are_the_recorded_ones(recorded):
    assert sorted(recorded) == SHIPPED, "regenerate the snapshot (see this module's docstring)"


@pytest.mark.parametrize("stack", SHIPPED)
def test_each_shipped_stack_has_its_recorded_values(recorded, current, stack):
    assert current[stack] == recorded.get(stack), "regenerate the snapshot (see this module's docstring)"
