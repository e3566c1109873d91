"""DaskGateway under the mock runtime: the pinned chart beside the hub, registered with it, its
values within the chart's schema, its pods and the cluster pods `restricted`, on the notebook
image with the lake role. Its network policies: test_dask_network.py."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from components import dask_gateway as dg
from components.cluster.node_pools import POOL_LABEL, USER_TAINT
from components.workload_identity import SERVICE_ACCOUNT
from tests.conftest import CLOUD_STACKS, CONFIGS, SHIPPED
from tests.pod_security import violations

SCHEMA = json.loads(
    (Path(__file__).parent.parent / "fixtures" / "dask_gateway_values_subset.schema.json").read_text()
)
WITH_DASK = [s for s in CLOUD_STACKS if CONFIGS[s].runs_dask_gateway]
HUB = "jupyterhub"


def chart(plan):
    (c,) = [r for r in plan.of_type("kubernetes:helm.sh/v4:Chart") if r.inputs["chart"] == dg.CHART]
    return c


def values(plan) -> dict:
    return chart(plan).inputs["values"]


def hub_values(plan) -> dict:
    (release,) = plan.of_type("kubernetes:helm.sh/v3:Release")
    return release.inputs["values"]


def test_every_cloud_stack_with_notebooks_runs_the_gateway_and_no_other_does(plans):
    assert [s for s in CLOUD_STACKS if CONFIGS[s].notebooks.enabled] == WITH_DASK
    assert WITH_DASK
    for stack in SHIPPED:
        charts = [
            r for r in plans[stack].of_type("kubernetes:helm.sh/v4:Chart") if r.inputs["chart"] == dg.CHART
        ]
        assert len(charts) == (stack in WITH_DASK), stack


def test_a_sandbox_runs_no_gateway(sandbox_plan):
    assert not [
        r for r in sandbox_plan.of_type("kubernetes:helm.sh/v4:Chart") if r.inputs["chart"] == dg.CHART
    ]


@pytest.mark.parametrize("stack", WITH_DASK)
def test_the_chart_is_pinned_beside_the_hub_and_installed_after_it(plans, stack):
    plan = plans[stack]
    c = chart(plan)
    assert c.inputs["version"] == dg.CHART_VERSION and c.inputs["repositoryOpts"] == {
        "repo": dg.CHART_REPOSITORY
    }
    assert c.inputs["namespace"] == HUB and c.inputs["name"] == dg.RELEASE
    (release,) = plan.of_type("kubernetes:helm.sh/v3:Release")
    # the hub's Secret holds the service token the gateway's pod starts with
    assert release.urn in c.dependencies


@pytest.mark.parametrize("stack", WITH_DASK)
def test_values_fit_the_pinned_charts_schema(plans, stack):
    jsonschema.validate(values(plans[stack]), SCHEMA, cls=jsonschema.Draft202012Validator)


def test_the_schema_subset_refuses_what_the_chart_refuses(plans):
    """The subset is not vacuous: a key the chart does not know, or a wrong type, fails it."""
    bad = json.loads(json.dumps(values(plans["dev"])))
    bad["gateway"]["backend"]["worker"]["cores"]["request"] = [1]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA, cls=jsonschema.Draft202012Validator)
    bad = json.loads(json.dumps(values(plans["dev"])))
    bad["gateway"]["backend"]["worker"]["replicas"] = 2
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA, cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize("stack", WITH_DASK)
def test_the_hub_registers_the_gateway_and_its_users_may_use_it(plans, stack):
    v = hub_values(plans[stack])
    service = v["hub"]["services"][dg.SERVICE]
    # no token in the values: the chart generates it into the hub Secret, where the gateway reads it
    assert "apiToken" not in service and "api_token" not in service
    auth = values(plans[stack])["gateway"]["auth"]
    assert auth["type"] == "jupyterhub" and "apiToken" not in auth["jupyterhub"]
    # only tokens with this scope are accepted: users hold it, and their servers' tokens carry it
    assert auth["jupyterhub"]["jupyterhubServiceName"] == dg.SERVICE
    scope = f"access:services!service={dg.SERVICE}"
    assert (
        scope in v["hub"]["loadRoles"]["user"]["scopes"] and "self" in v["hub"]["loadRoles"]["user"]["scopes"]
    )
    assert scope in v["hub"]["config"]["KubeSpawner"]["server_token_scopes"]
    env = v["singleuser"]["extraEnv"]
    assert env["DASK_GATEWAY__AUTH__TYPE"] == "jupyterhub"
    assert env["DASK_GATEWAY__ADDRESS"].startswith(f"http://traefik-{dg.RELEASE}.{HUB}")
    assert any(k.startswith("DATAOPS_") for k in env), "the lake's variables are still there"


@pytest.mark.parametrize("stack", WITH_DASK)
def test_cluster_pods_run_the_stack_image_as_the_lake_role_on_notebook_nodes(plans, stack):
    plan = plans[stack]
    backend = values(plan)["gateway"]["backend"]
    image = backend["image"]
    assert f"{image['name']}:{image['tag']}" == plan.outputs["image"]["ref"]
    assert "@sha256" in image["name"]
    (association,) = [
        a
        for a in plan.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
        if a.inputs["namespace"] == HUB and a.inputs["serviceAccount"] == SERVICE_ACCOUNT
    ]
    assert association.inputs["roleArn"] == plan.outputs["access"]["roleArn"]
    assert backend["namespace"] == HUB
    for part in ("scheduler", "worker"):
        pod = backend[part]["extraPodConfig"]
        assert pod["serviceAccountName"] == SERVICE_ACCOUNT
        assert pod["nodeSelector"] == {POOL_LABEL: "notebooks"}
        assert {"key": USER_TAINT["key"], "value": USER_TAINT["value"], "effect": "NoSchedule"}.items() <= (
            pod["tolerations"][0].items()
        )
    env = backend["environment"]
    assert env == {
        k: v for k, v in hub_values(plan)["singleuser"]["extraEnv"].items() if not k.startswith("DASK_")
    }


def test_the_chart_transform_makes_its_pods_restricted():
    """The chart sets no securityContext (its Deployments as rendered by 2026.3.0, reduced to what
    the transform touches); the transform gives each pod and container what `restricted` needs
    and keeps what was there."""
    import pulumi

    deployment = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "gateway", "securityContext": {"runAsUser": 1000}},
                        {"name": "sidecar"},
                    ]
                }
            }
        }
    }
    args = pulumi.ResourceTransformArgs(
        custom=True,
        type_="kubernetes:apps/v1:Deployment",
        name="x",
        props=deployment,
        opts=pulumi.ResourceOptions(),
    )
    result = dg.restricted_chart_pods(args)
    assert result is not None
    spec = result.props["spec"]["template"]["spec"]
    assert violations(deployment["spec"]["template"]["spec"]), "the chart's pods as rendered are refused"
    assert violations(spec) == []
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] == 1000
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in spec["containers"]:
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert spec["containers"][0]["securityContext"]["runAsUser"] == 1000
    assert "securityContext" not in deployment["spec"]["template"]["spec"], "the input is not changed"
    other = pulumi.ResourceTransformArgs(
        custom=True, type_="kubernetes:core/v1:Service", name="x", props={}, opts=pulumi.ResourceOptions()
    )
    assert dg.restricted_chart_pods(other) is None
