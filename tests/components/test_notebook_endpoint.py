"""The hub's HTTPS address in every cloud plan: a certificate validated in the configured zone,
an Ingress the load balancer controller serves (pod targets, HTTPS with that certificate, HTTP
redirected), and an alias record written once the Ingress has its load balancer — and the hub's
user pods placed on the autoscaled pool and covered by policies Calico enforces."""

from __future__ import annotations

import json

import pytest

from components.cluster.load_balancer_controller import INGRESS_CLASS, SSL_POLICY
from tests.conftest import CLOUD_STACKS, CONFIGS

ALB = "alb.ingress.kubernetes.io"
HOSTS = {stack: CONFIGS[stack].notebooks.hostname for stack in CLOUD_STACKS}


def values(plan) -> dict:
    (release,) = plan.of_type("kubernetes:helm.sh/v3:Release")
    return release.inputs["values"]


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_the_hub_is_served_over_https_with_a_validated_certificate(plans, stack):
    plan = plans[stack]
    cert = plan.named("notebooks-endpoint-certificate")
    assert cert.inputs["domainName"] == HOSTS[stack] and cert.inputs["validationMethod"] == "DNS"
    validation = plan.named("notebooks-endpoint-validation")
    assert validation.inputs["type"] == "CNAME" and validation.inputs["name"].endswith(f".{HOSTS[stack]}.")
    validated = plan.named("notebooks-endpoint-certificate-validation")
    assert plan.named("notebooks-endpoint-validation").urn in validated.dependencies
    ingress = plan.named("notebooks-endpoint-ingress")
    annotations = ingress.inputs["metadata"]["annotations"]
    assert annotations[f"{ALB}/target-type"] == "ip"  # the proxy is a ClusterIP service
    assert json.loads(annotations[f"{ALB}/listen-ports"]) == [{"HTTP": 80}, {"HTTPS": 443}]
    assert annotations[f"{ALB}/ssl-redirect"] == "443"  # HTTP only redirects
    assert annotations[f"{ALB}/ssl-policy"] == SSL_POLICY
    # the certificate the listener gets is the one validation finished for
    assert annotations[f"{ALB}/certificate-arn"] == validated.inputs["certificateArn"]
    assert validated.urn in ingress.dependencies
    spec = ingress.inputs["spec"]
    assert spec["ingressClassName"] == INGRESS_CLASS
    (rule,) = spec["rules"]
    assert rule["host"] == HOSTS[stack]
    assert rule["http"]["paths"][0]["backend"] == {
        "service": {"name": "proxy-public", "port": {"name": "http"}}
    }
    assert values(plan)["proxy"]["service"]["type"] == "ClusterIP"
    assert plan.outputs["notebooks"]["url"] == f"https://{HOSTS[stack]}"


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_things_happen_in_the_order_a_real_apply_needs(plans, stack):
    plan = plans[stack]
    ingress = plan.named("notebooks-endpoint-ingress")
    record = plan.named("notebooks-endpoint-record")
    release = plan.named("notebooks-release")
    controller = plan.named("cluster-load-balancer-controller-chart")
    engine = plan.named("cluster-policy-engine-operator")
    # the alias record after the Ingress has its load balancer's address
    assert ingress.urn in record.dependencies
    (alias,) = record.inputs["aliases"]
    assert alias["name"].endswith(".eu-west-1.elb.amazonaws.com") and alias["zoneId"] == "Z32O12XQLNTSW2"
    # the Ingress after the controller (its webhook admits it) and the hub (its backend)
    assert {controller.urn, release.urn} <= set(ingress.dependencies)
    # the hub after the policy engine and the controller
    assert {controller.urn, engine.urn} <= set(release.dependencies)


def test_internal_by_default_and_internet_facing_only_for_listed_ranges(plans, everything):
    assert (
        plans["prod"].named("notebooks-endpoint-ingress").inputs["metadata"]["annotations"][f"{ALB}/scheme"]
        == "internal"
    )
    a = everything.named("notebooks-endpoint-ingress").inputs["metadata"]["annotations"]
    assert a[f"{ALB}/scheme"] == "internet-facing"
    assert a[f"{ALB}/inbound-cidrs"] == "203.0.113.0/24,198.51.100.0/24"


def test_without_a_hosted_zone_the_hub_is_reached_by_port_forward(plan_with):
    from dataops.plan import ROOT

    text = (ROOT / "Pulumi.test.yaml").read_text().replace("    hostedZone: example.com\n", "")
    plan = plan_with("test", text)
    assert not plan.of_type("kubernetes:networking.k8s.io/v1:Ingress")
    assert not plan.of_type("aws:acm/certificate:Certificate")
    assert plan.outputs["notebooks"]["url"].startswith("kubectl --namespace jupyterhub port-forward")
    said = [w for w in plan.warnings if "notebooks.hostedZone is not set" in w]
    assert len(said) == 1, plan.warnings


def test_a_zone_the_account_does_not_have_fails_the_plan_in_one_line(plan_with):
    from dataops.plan import ROOT, PlanError

    text = (
        (ROOT / "Pulumi.test.yaml")
        .read_text()
        .replace("hostedZone: example.com", "hostedZone: test.example.com")
    )
    with pytest.raises(PlanError) as info:
        plan_with("test", text)
    (line,) = info.value.lines
    assert 'dataops-platform:notebooks.hostedZone = "test.example.com": no such public Route 53 zone' in line


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_user_pods_land_on_the_autoscaled_pool_it_can_grow_from_zero(plans, stack):
    plan = plans[stack]
    v = values(plan)
    selector = v["singleuser"]["nodeSelector"]
    assert v["scheduling"]["userPods"]["nodeAffinity"]["matchNodePurpose"] == "require"
    # Zero to JupyterHub requires hub.jupyter.org/node-purpose=user with `require` and gives user
    # pods a toleration of hub.jupyter.org/dedicated=user:NoSchedule (its scheduling docs).
    wanted = {**selector, "hub.jupyter.org/node-purpose": "user"}
    pools = [
        g.inputs
        for g in plan.of_type("aws:eks/nodeGroup:NodeGroup")
        if g.inputs["labels"].get("dataops.io/pool") == "notebooks"
    ]
    assert pools
    for group in pools:
        assert wanted.items() <= group["labels"].items()
        assert group["taints"] == [
            {"key": "hub.jupyter.org/dedicated", "value": "user", "effect": "NO_SCHEDULE"}
        ]
        assert group["scalingConfig"]["minSize"] == 0
    # the autoscaler is there to grow them, and the user scheduler packs servers so nodes empty out
    assert plan.named("cluster-autoscaler-chart")
    assert (
        v["scheduling"]["userScheduler"]["enabled"] is True
        and v["scheduling"]["podPriority"]["enabled"] is True
    )


def test_warm_capacity_is_a_setting(plans):
    dev, prod = values(plans["dev"])["scheduling"], values(plans["prod"])["scheduling"]
    assert dev["userPlaceholder"]["enabled"] is False and dev["userPlaceholder"]["replicas"] == 0
    assert prod["userPlaceholder"] == {
        "enabled": True,
        "replicas": 1,
        "resources": {"requests": {"cpu": "0.5", "memory": "2G"}},  # the default profile's guarantee
    }


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_user_pods_are_covered_by_policies_the_installed_engine_enforces(plans, stack):
    plan = plans[stack]
    hub = "jupyterhub"
    policies = {
        p.inputs["metadata"]["name"]: p.inputs["spec"]
        for p in plan.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
        if p.inputs["metadata"]["namespace"] == hub
    }
    # every pod of the namespace, the standalone user pods included: an empty podSelector
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    lake = policies["allow-data-lake"]["egress"][0]["to"][0]["ipBlock"]
    assert "169.254.169.254/32" in lake["except"] and "10.0.0.0/8" in lake["except"]
    # enforced by Calico (which applies policies to pods without an owner), not the CNI's agent
    cni = json.loads(
        next(a for a in plan.of_type("aws:eks/addon:Addon") if a.inputs["addonName"] == "vpc-cni").inputs[
            "configurationValues"
        ]
    )
    assert cni["enableNetworkPolicy"] == "false"
    assert plan.named("cluster-policy-engine-operator").urn in plan.named("notebooks-release").dependencies
    assert values(plan)["singleuser"]["networkPolicy"]["enabled"] is True
    assert values(plan)["singleuser"]["cloudMetadata"] == {"blockWithIptables": False}
