"""NotebookService: the JupyterHub release built from config, checked against the chart's schema."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest

from components.lake_access import lake_variable
from components.notebook_service import CHART_REPOSITORY, CHART_VERSION
from dataops.plan import ROOT
from tests.conftest import CLOUD_STACKS, CONFIGS, CONSUMERS

SCHEMA = json.loads(
    (Path(__file__).parent.parent / "fixtures" / "z2jh_values_subset.schema.json").read_text()
)
RELEASE = "kubernetes:helm.sh/v3:Release"


def release(plan):
    (r,) = plan.of_type(RELEASE)
    return r


def values(plan) -> dict:
    return release(plan).inputs["values"]


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_release_pins_the_chart_and_runs_exactly_the_stack_image(plans, stack):
    plan = plans[stack]
    r = release(plan)
    assert r.inputs["chart"] == "jupyterhub" and r.inputs["version"] == CHART_VERSION
    assert r.inputs["repositoryOpts"] == {"repo": CHART_REPOSITORY}
    assert r.inputs["namespace"] == "jupyterhub"
    image = values(plan)["singleuser"]["image"]
    assert f"{image['name']}:{image['tag']}" == plan.outputs["image"]["ref"]
    assert r.provider.startswith(plan.of_type("pulumi:providers:kubernetes")[0].urn)


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_values_are_valid_for_the_chart(plans, stack):
    jsonschema.validate(values(plans[stack]), SCHEMA, cls=jsonschema.Draft202012Validator)


def test_everything_values_are_valid_for_the_chart(everything):
    jsonschema.validate(values(everything), SCHEMA, cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        (("singleuser", "cpu"), {"guarantee": "500m"}),
        (("singleuser", "cloudMetadata"), {"blockWithIptables": "no"}),
        (("singleuser", "colour"), "blue"),
        (("proxy", "service"), {"type": "Public"}),
    ],
)
def test_schema_check_can_fail(plans, path, bad):
    broken = copy.deepcopy(values(plans["dev"]))
    broken[path[0]][path[1]] = bad
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA, cls=jsonschema.Draft202012Validator)


def test_user_servers_are_restricted_and_use_the_workload_identity(plans):
    v = values(plans["dev"])
    single = v["singleuser"]
    assert single["cloudMetadata"] == {"blockWithIptables": False}
    assert single["networkPolicy"]["egressAllowRules"]["cloudMetadataServer"] is False
    assert single["networkPolicy"]["egressAllowRules"]["privateIPs"] is False
    assert single["serviceAccountName"] == "data-access"
    assert single["allowPrivilegeEscalation"] is False
    spawner = v["hub"]["config"]["KubeSpawner"]
    assert spawner["container_security_context"]["capabilities"] == {"drop": ["ALL"]}
    assert spawner["container_security_context"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spawner["pod_security_context"]["runAsNonRoot"] is True
    assert single["storage"]["dynamic"]["storageClass"] == "gp3-encrypted"
    assert single["nodeSelector"] == {"dataops.io/pool": "notebooks"}
    assert v["scheduling"]["userPods"]["nodeAffinity"]["matchNodePurpose"] == "require"
    assert (
        single["extraEnv"]["DATAOPS_LAKE_CURATED_BUCKET"]
        == plans["prod"].outputs["lake"]["zones"]["curated"]["bucket"]
    )


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_idle_culling_is_on(plans, stack):
    cull = values(plans[stack])["cull"]
    assert cull["enabled"] is True
    assert cull["timeout"] == (7200 if stack == "prod" else 3600)


def test_github_login_with_the_secret_outside_the_values(plans):
    plan = plans["prod"]
    v = values(plan)
    assert v["hub"]["config"]["JupyterHub"] == {"authenticator_class": "github"}
    gh = v["hub"]["config"]["GitHubOAuthenticator"]
    assert gh["allowed_organizations"] == ["example-org"]
    assert gh["oauth_callback_url"] == "https://notebooks.example.com/hub/oauth_callback"
    assert "client_secret" not in json.dumps(v)
    ref = v["hub"]["extraEnv"]["OAUTH_CLIENT_SECRET"]["valueFrom"]["secretKeyRef"]
    (secret,) = plan.of_type("kubernetes:core/v1:Secret")
    assert (
        secret.inputs["metadata"]["name"] == ref["name"]
        and secret.inputs["metadata"]["namespace"] == "jupyterhub"
    )
    assert secret.inputs["stringData"] == "[secret]"


def test_proxy_is_private_and_reached_through_the_platforms_ingress(plans, everything):
    for plan in (plans["dev"], everything):
        v = values(plan)
        assert v["proxy"]["service"]["type"] == "ClusterIP"
        assert v["ingress"] == {"enabled": False}  # the platform's own Ingress instead
    v = values(everything)
    assert v["hub"]["config"]["GenericOAuthenticator"]["allowed_groups"] == ["data-science", "analytics"]
    # no LoadBalancer or NodePort service anywhere: the hub's load balancer is the only way in
    for plan in (plans["dev"], everything):
        for quota in plan.of_type("kubernetes:core/v1:ResourceQuota"):
            hard = quota.inputs["spec"]["hard"]
            assert hard["services.loadbalancers"] == "0" and hard["services.nodeports"] == "0", quota.urn


def test_profiles_by_size_with_gpu_only_where_enabled(everything, plans):
    profiles = values(everything)["singleuser"]["profileList"]
    assert [p["slug"] for p in profiles] == ["small", "gpu"]
    assert profiles[1]["kubespawner_override"]["extra_resource_limits"] == {"nvidia.com/gpu": "1"}
    assert "extra_resource_limits" not in profiles[0]["kubespawner_override"]
    assert [p["default"] for p in profiles] == [True, False]
    dev = values(plans["dev"])["singleuser"]["profileList"]
    assert not any("extra_resource_limits" in p["kubespawner_override"] for p in dev)


def test_user_servers_run_in_the_hubs_restricted_namespace(plans):
    plan = plans["dev"]
    assert release(plan).inputs["namespace"] == "jupyterhub"
    ns = plan.named("team-jupyterhub-namespace")
    assert ns.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert plan.named("team-jupyterhub-data-access").inputs["metadata"]["namespace"] == "jupyterhub"
    deps = {d.split("::")[-1] for d in release(plan).dependencies}
    assert {
        "team-jupyterhub-namespace",
        "cluster-system-nodes",
        "cluster-notebooks-0-nodes",
        "cluster-notebooks-1-nodes",
        "cluster-coredns",
        "cluster-aws-ebs-csi-driver",
        "cluster-storage-class",
        # NetworkPolicies hold for the hub's pods from their first start
        "cluster-policy-engine-operator",
        "cluster-load-balancer-controller-chart",
    } <= deps
    assert not any(
        "namespace" in p["kubespawner_override"] for p in values(plan)["singleuser"]["profileList"]
    )


@pytest.mark.parametrize("stack", CONSUMERS)
def test_servers_see_only_the_zones_they_may_read_and_their_workspace(plans, stack):
    env = values(plans[stack])["singleuser"]["extraEnv"]
    zones = {k for k in env if k.startswith("DATAOPS_LAKE_") and k.endswith("_BUCKET")}
    assert zones == {lake_variable(z) for z in CONFIGS[stack].access.read}
    assert env["DATAOPS_WORKSPACE_BUCKET"] == plans[stack].outputs["access"]["workspaceBucket"]


def test_outputs(plans):
    assert plans["prod"].outputs["notebooks"] == {
        "url": "https://notebooks.example.com",
        "namespace": "jupyterhub",
        "serviceAccount": "data-access",
    }


def test_dummy_login_is_refused_in_cloud_stacks(tmp_path):
    from dataops.plan import PlanError, load_config

    for stack, env in (("dev", "dev"), ("sandbox-ana", "sandbox")):
        path = tmp_path / f"Pulumi.{stack}.yaml"
        path.write_text(
            f"config:\n  dataops-platform:environment: {env}\n  dataops-platform:deletionProtection: false\n"
            "  dataops-platform:lake: {role: consumer, ownerStack: prod}\n"
            "  dataops-platform:cluster: {adminRoles: ['arn:aws:iam::111122223333:role/break-glass']}\n"
            "  dataops-platform:notebooks: {authenticator: dummy}\n"
        )
        if env == "sandbox":
            # Sandboxes run no hub at all (their own server instead), so the login is moot.
            with pytest.raises(PlanError) as info:
                load_config(stack, ROOT, path)
            assert not any("notebooks.authenticator" in line for line in info.value.lines)
        else:
            with pytest.raises(PlanError) as info:
                load_config(stack, ROOT, path)
            assert any(
                'dataops-platform:notebooks.authenticator = "dummy"' in line for line in info.value.lines
            )
