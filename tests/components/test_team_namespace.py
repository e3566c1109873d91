"""TeamNamespace: Pod Security restricted, quota, defaults, deny-by-default networking, and the
service account bound to the environment's workload role."""

from __future__ import annotations

import pytest

from tests.conftest import CLOUD_STACKS

NS = "kubernetes:core/v1:Namespace"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


def in_namespace(plan, type_, namespace):
    return [r for r in plan.of_type(type_) if r.inputs["metadata"].get("namespace") == namespace]


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_namespace_enforces_pod_security_restricted(plans, stack):
    (ns,) = [n for n in plans[stack].of_type(NS) if n.inputs["metadata"]["name"] == "data-science"]
    labels = ns.inputs["metadata"]["labels"]
    for mode in ("enforce", "warn", "audit"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted", ns.urn


def test_every_team_gets_quota_defaults_and_policies(everything):
    namespaces = [
        ns.inputs["metadata"]["name"] for ns in everything.of_type(NS) if ns.name.startswith("team-")
    ]
    assert namespaces == ["analytics", "data-science", "hub"]  # the hub's namespace is set up like a team's
    for ns in namespaces:
        (quota,) = in_namespace(everything, "kubernetes:core/v1:ResourceQuota", ns)
        assert quota.inputs["spec"]["hard"]["services.loadbalancers"] == "0"
        assert len(in_namespace(everything, "kubernetes:core/v1:LimitRange", ns)) == 1
        own = [p for p in in_namespace(everything, NETPOL, ns) if "dataops:index:TeamNamespace$" in p.urn]
        assert len(own) == 5, ns  # the hub's namespace holds the Dask gateway's policies too
    (quota,) = in_namespace(everything, "kubernetes:core/v1:ResourceQuota", "data-science")
    assert quota.inputs["spec"]["hard"]["requests.cpu"] == "64"
    assert quota.inputs["spec"]["hard"]["requests.storage"] == "2Ti"
    (limits,) = in_namespace(everything, "kubernetes:core/v1:LimitRange", "data-science")
    assert limits.inputs["spec"]["limits"][0]["defaultRequest"] == {"cpu": "250m", "memory": "512Mi"}


def test_network_is_denied_by_default_with_minimal_allows(plans):
    policies = {p.inputs["metadata"]["name"]: p.inputs["spec"] for p in plans["dev"].of_type(NETPOL)}
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    dns = policies["allow-dns"]["egress"][0]
    assert {p["port"] for p in dns["ports"]} == {53}
    hub = policies["allow-hub"]
    assert hub["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "jupyterhub"
    }
    lake = policies["allow-data-lake"]["egress"][0]
    assert lake["ports"] == [{"protocol": "TCP", "port": 443}]
    blocked = lake["to"][0]["ipBlock"]["except"]
    assert "169.254.169.254/32" in blocked and "10.0.0.0/8" in blocked
    assert (
        policies["allow-pod-identity-agent"]["egress"][0]["to"][0]["ipBlock"]["cidr"] == "169.254.170.23/32"
    )


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_workload_service_account_is_bound_to_the_environment_role(plans, stack):
    plan = plans[stack]
    sa = plan.named("team-data-science-data-access")
    assert sa.inputs["metadata"]["name"] == "data-access"
    assert sa.inputs["automountServiceAccountToken"] is False
    associations = [
        a
        for a in plan.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
        if a.inputs["serviceAccount"] == "data-access"
    ]
    assert sorted(a.inputs["namespace"] for a in associations) == ["data-science", "jupyterhub"]
    for assoc in associations:
        assert {k: v for k, v in assoc.inputs.items() if k != "namespace"} == {
            "clusterName": f"dataops-{stack}",
            "serviceAccount": "data-access",
            "roleArn": f"arn:aws:iam::111122223333:role/dataops-{stack}-data-access",
        }
