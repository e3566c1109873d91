"""The cluster's add-ons in every eks plan: the load balancer controller, the autoscaler and the
policy engine — pinned charts, values the pinned chart versions know, their own roles, and the
order a real apply needs."""

from __future__ import annotations

import json

import pytest

from components import dask_gateway
from components.cluster import autoscaler as cluster_autoscaler
from components.cluster import load_balancer_controller, policy_engine
from policies.rules import PRIVILEGED_NAMESPACES
from tests.conftest import CLOUD_STACKS

CHART = "kubernetes:helm.sh/v4:Chart"

# The values keys the program sets and the types the pinned chart versions give them. None of
# these three charts ships a values schema, so these are read from their values.yaml:
# aws/eks-charts stable/aws-load-balancer-controller/values.yaml at 3.5.0 (commit 52396092);
# kubernetes/autoscaler cluster-autoscaler/charts/cluster-autoscaler/values.yaml at
# cluster-autoscaler-chart-9.59.0; projectcalico/calico charts/tigera-operator/values.yaml at
# v3.32.1. A key missing here, or of another type, would be ignored by Helm without a word.
KNOWN = {
    "aws-load-balancer-controller": {
        "clusterName": str,
        "region": str,
        "vpcId": str,
        "replicaCount": int,
        "podDisruptionBudget": dict,
        "serviceAccount": {"create": bool, "name": str},
        "ingressClass": str,
        "createIngressClassResource": bool,
        "defaultTargetType": str,
        "defaultSSLPolicy": str,
        "enableServiceMutatorWebhook": bool,
        "enableShield": bool,
        "enableWaf": bool,
        "enableWafv2": bool,
        "keepTLSSecret": bool,
        "defaultTags": dict,
        "podSecurityContext": dict,
        "securityContext": dict,
        "nodeSelector": dict,
    },
    "cluster-autoscaler": {
        "cloudProvider": str,
        "awsRegion": str,
        "autoDiscovery": {"clusterName": str},
        "image": {"tag": str},
        "rbac": {"serviceAccount": {"create": bool, "name": str}},
        "extraArgs": dict,
        "securityContext": dict,
        "containerSecurityContext": dict,
        "nodeSelector": dict,
    },
    "tigera-operator": {
        "installation": {"kubernetesProvider": str, "cni": {"type": str}, "calicoNetwork": {"bgp": str}},
        "apiServer": {"enabled": bool},
        "goldmane": {"enabled": bool},
        "whisker": {"enabled": bool},
        "manageCRDs": bool,
    },
}


def unknown_keys(values: dict, known: dict, path: str = "") -> list[str]:
    out = []
    for key, value in values.items():
        where = f"{path}{key}"
        if key not in known:
            out.append(f"{where}: not a values key of the pinned chart")
        elif isinstance(known[key], dict):
            out += (
                unknown_keys(value, known[key], f"{where}.")
                if isinstance(value, dict)
                else [f"{where}: not a mapping"]
            )
        elif not isinstance(value, known[key]) or (known[key] is int and isinstance(value, bool)):
            out.append(f"{where}: {type(value).__name__}, the chart expects {known[key].__name__}")
    return out


def charts(plan) -> dict[str, object]:
    return {r.inputs["chart"]: r for r in plan.of_type(CHART)}


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_every_add_on_chart_is_pinned_and_its_values_are_known_keys(plans, stack):
    # The Dask gateway's chart is the notebook service's, not a cluster add-on: test_dask_gateway.py.
    found = {c: r for c, r in charts(plans[stack]).items() if c != dask_gateway.CHART}
    assert {c: r.inputs["version"] for c, r in found.items()} == {
        "aws-load-balancer-controller": load_balancer_controller.CHART_VERSION,
        "cluster-autoscaler": cluster_autoscaler.CHART_VERSION,
        "crd.projectcalico.org.v1": policy_engine.CHART_VERSION,
        "tigera-operator": policy_engine.CHART_VERSION,
    }
    for chart, known in KNOWN.items():
        assert unknown_keys(found[chart].inputs.get("values") or {}, known) == [], (stack, chart)


def test_the_known_keys_check_can_fail():
    assert unknown_keys({"clusterNmae": "x"}, KNOWN["aws-load-balancer-controller"]) == [
        "clusterNmae: not a values key of the pinned chart"
    ]
    assert unknown_keys({"replicaCount": "2"}, KNOWN["aws-load-balancer-controller"]) == [
        "replicaCount: str, the chart expects int"
    ]


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_controller_values_work_without_instance_metadata_and_target_pods(plans, stack):
    plan = plans[stack]
    v = charts(plan)["aws-load-balancer-controller"].inputs["values"]
    eks = plan.named("cluster-eks").inputs
    assert v["clusterName"] == eks["name"] and v["region"] == "eu-west-1"
    assert v["vpcId"].startswith("vpc-")
    assert v["defaultTargetType"] == "ip" and v["enableServiceMutatorWebhook"] is False
    assert v["keepTLSSecret"] is True
    # Pod Security restricted: what the chart's defaults lack
    assert v["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert v["podSecurityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    a = charts(plan)["cluster-autoscaler"].inputs["values"]
    assert a["autoDiscovery"]["clusterName"] == eks["name"] and a["awsRegion"] == "eu-west-1"
    # the autoscaler's minor follows the cluster's
    assert a["image"]["tag"].startswith(f"v{eks['version']}.")
    assert a["extraArgs"]["balance-similar-node-groups"] is True
    assert a["securityContext"]["runAsNonRoot"] is True and a["containerSecurityContext"]["capabilities"] == {
        "drop": ["ALL"]
    }


def test_every_kubernetes_version_the_config_accepts_has_an_autoscaler():
    from components.config import KUBERNETES_VERSIONS

    assert set(cluster_autoscaler.IMAGE_TAGS) == set(KUBERNETES_VERSIONS)


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_add_ons_wait_for_their_identity_and_the_policy_engine_for_its_crds(plans, stack):
    plan = plans[stack]
    found = charts(plan)
    for chart, service_account in (
        ("aws-load-balancer-controller", "aws-load-balancer-controller"),
        ("cluster-autoscaler", "cluster-autoscaler"),
    ):
        (association,) = [
            a
            for a in plan.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
            if a.inputs["serviceAccount"] == service_account
        ]
        assert association.inputs["namespace"] == "kube-system"
        assert association.urn in found[chart].dependencies, chart
    operator = found["tigera-operator"]
    assert found["crd.projectcalico.org.v1"].urn in operator.dependencies
    assert plan.named("cluster-policy-engine-namespace").urn in operator.dependencies
    v = operator.inputs["values"]["installation"]
    assert v == {
        "kubernetesProvider": "EKS",
        "cni": {"type": "AmazonVPC"},
        "calicoNetwork": {"bgp": "Disabled"},
    }


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_add_on_roles_grant_only_what_the_add_on_does(plans, stack):
    plan = plans[stack]
    docs = {
        p.inputs["name"]: json.loads(p.inputs["policy"])
        for p in plan.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["name"] in ("load-balancer-controller", "cluster-autoscaler")
    }
    actions = {
        name: {
            a
            for s in d["Statement"]
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        }
        for name, d in docs.items()
    }
    # no WAF, Shield or Cognito: turned off in the controller's values
    assert not any(
        a.split(":")[0] in ("waf", "wafv2", "waf-regional", "shield", "cognito-idp")
        for a in actions["load-balancer-controller"]
    )
    # the controller changes only load balancers and security groups tagged as this cluster's,
    # or rules in this cluster's VPC
    cluster = plan.named("cluster-eks").inputs["name"]
    for s in docs["load-balancer-controller"]["Statement"]:
        writes = [
            a
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
            if not a.split(":")[1].startswith(("Describe", "Get", "List"))
        ]
        if writes and s["Resource"] == "*":
            pytest.fail(f"{s['Sid']}: writes on every resource")
        if s["Sid"] in ("OwnSecurityGroups", "ChangeOwnLoadBalancers"):
            assert s["Condition"] == {"StringEquals": {"aws:ResourceTag/elbv2.k8s.aws/cluster": cluster}}
    (resize,) = [
        s for s in docs["cluster-autoscaler"]["Statement"] if "autoscaling:SetDesiredCapacity" in s["Action"]
    ]
    assert resize["Condition"] == {
        "StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster}": "owned"}
    }


@pytest.mark.parametrize("plan_name", [*CLOUD_STACKS, "everything"])
def test_no_namespace_is_below_restricted_but_the_policy_engines(plans, everything, plan_name):
    plan = everything if plan_name == "everything" else plans[plan_name]
    levels = {
        r.inputs["metadata"]["name"]: r.inputs["metadata"]["labels"].get("pod-security.kubernetes.io/enforce")
        for r in plan.of_type("kubernetes:core/v1:Namespace")
    }
    assert levels.pop("tigera-operator") == "privileged"
    assert set(PRIVILEGED_NAMESPACES) == {"tigera-operator"}
    assert levels and all(level == "restricted" for level in levels.values()), levels


def test_interface_endpoints_only_where_turned_on_and_only_for_the_vpc(plans, everything):
    for stack in CLOUD_STACKS:
        assert not [
            e
            for e in plans[stack].of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
            if e.inputs["vpcEndpointType"] == "Interface"
        ]
    endpoints = [
        e
        for e in everything.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if e.inputs["vpcEndpointType"] == "Interface"
    ]
    assert sorted(
        e.inputs["serviceName"].rsplit(".", 1)[-1]
        if "ecr" not in e.inputs["serviceName"]
        else e.inputs["serviceName"].split("eu-west-1.")[1]
        for e in endpoints
    ) == ["ec2", "ecr.api", "ecr.dkr", "eks-auth", "sts"]
    assert all(e.inputs["privateDnsEnabled"] is True and len(e.inputs["subnetIds"]) == 3 for e in endpoints)
    (rule,) = [
        r
        for r in everything.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.name.endswith("endpoints-https")
    ]
    assert rule.inputs["cidrIpv4"] == "10.60.0.0/16" and rule.inputs["fromPort"] == 443
