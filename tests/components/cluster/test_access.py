"""The sandbox role on dev's cluster: what its access policy cannot grant is granted by a
ClusterRole, and the ValidatingAdmissionPolicy's CEL (evaluated here with cel-python, as the
API server would) confines every such write to namespaces named sandbox-*."""

from __future__ import annotations

import celpy
import pytest

GROUP = "dataops-sandbox-managers"
WRITES = {"create", "update", "patch", "delete"}


def cel(expression: str, request: dict) -> bool:
    """Evaluate as the API server does: `request`, and `object` (null for a DELETE)."""
    env = celpy.Environment()
    activation = {"request": celpy.json_to_cel(request), "object": celpy.json_to_cel(request.get("object"))}
    return bool(env.program(env.compile(expression)).evaluate(activation))


def admission(plan) -> dict:
    return plan.named("cluster-sandbox-namespaces-only").inputs["spec"]


RESTRICTED = {"pod-security.kubernetes.io/enforce": "restricted"}


def request(
    resource: str,
    name: str,
    namespace: str,
    groups: list[str],
    operation: str = "CREATE",
    labels: dict | None = RESTRICTED,
) -> dict:
    meta = {"name": name, **({"labels": labels} if labels is not None else {})}
    return {
        "operation": operation,
        "resource": {"group": "", "version": "v1", "resource": resource},
        "name": name,
        "namespace": namespace,
        "userInfo": {"username": "arn:aws:sts::111122223333:assumed-role/x/s", "groups": groups},
        "object": None if operation == "DELETE" else {"metadata": meta},
    }


def decision(spec: dict, req: dict) -> str:
    """'skip' when the policy does not apply, else 'allow' or 'deny' (all validations must hold)."""
    rules = spec["matchConstraints"]["resourceRules"]
    if not any(
        req["resource"]["resource"] in r["resources"] and req["operation"] in r["operations"] for r in rules
    ):
        return "skip"
    if not all(cel(c["expression"], req) for c in spec["matchConditions"]):
        return "skip"
    return "allow" if all(cel(v["expression"], req) for v in spec["validations"]) else "deny"


SANDBOX = [GROUP, "system:authenticated"]


@pytest.mark.parametrize(
    ("req", "expected"),
    [
        (request("namespaces", "sandbox-demo", "", SANDBOX), "allow"),
        (request("namespaces", "sandbox-demo", "", SANDBOX, "DELETE"), "allow"),
        (request("namespaces", "jupyterhub", "", SANDBOX), "deny"),
        (request("namespaces", "kube-system", "", SANDBOX, "DELETE"), "deny"),
        (request("namespaces", "", "", SANDBOX), "deny"),  # generateName: no name yet, fails closed
        (request("namespaces", "sandboxed", "", SANDBOX), "deny"),
        (request("resourcequotas", "team-quota", "sandbox-demo", SANDBOX), "allow"),
        (request("resourcequotas", "team-quota", "data-science", SANDBOX, "UPDATE"), "deny"),
        (request("limitranges", "container-defaults", "jupyterhub", SANDBOX, "DELETE"), "deny"),
        (request("limitranges", "container-defaults", "sandbox-demo", SANDBOX), "allow"),
        # a sandbox namespace that would let privileged pods onto the host's nodes
        (
            request(
                "namespaces",
                "sandbox-demo",
                "",
                SANDBOX,
                labels={"pod-security.kubernetes.io/enforce": "privileged"},
            ),
            "deny",
        ),
        (request("namespaces", "sandbox-demo", "", SANDBOX, "UPDATE", labels={}), "deny"),
        (request("namespaces", "sandbox-demo", "", SANDBOX, labels=None), "deny"),
        (
            request(
                "namespaces",
                "sandbox-demo",
                "",
                SANDBOX,
                labels=RESTRICTED | {"pod-security.kubernetes.io/enforce-version": "v1.0"},
            ),
            "deny",
        ),
        (
            request(
                "namespaces",
                "sandbox-demo",
                "",
                SANDBOX,
                "UPDATE",
                labels=RESTRICTED | {"pod-security.kubernetes.io/enforce-version": "latest"},
            ),
            "allow",
        ),
        # anyone else (the deploy role, an admin) is not this policy's business
        (request("namespaces", "jupyterhub", "", ["system:authenticated"], "DELETE"), "skip"),
        # reads are not admission requests; the policy only sees writes
        (request("namespaces", "kube-system", "", SANDBOX, "CONNECT"), "skip"),
    ],
)
def test_the_admission_policy_confines_the_sandbox_group(plans, req, expected):
    assert decision(admission(plans["dev"]), req) == expected


def test_every_write_the_cluster_role_grants_is_guarded(plans):
    plan = plans["dev"]
    granted = {
        resource
        for rule in plan.named("cluster-sandbox-manager").inputs["rules"]
        if WRITES & set(rule["verbs"])
        for resource in rule["resources"]
    }
    guarded = {
        resource
        for rule in admission(plan)["matchConstraints"]["resourceRules"]
        if {"CREATE", "UPDATE", "DELETE"} <= set(rule["operations"])
        for resource in rule["resources"]
    }
    assert granted == guarded == {"namespaces", "resourcequotas", "limitranges"}
    assert admission(plan)["failurePolicy"] == "Fail"
    entry = next(
        e for e in plan.of_type("aws:eks/accessEntry:AccessEntry") if e.inputs.get("kubernetesGroups")
    )
    assert entry.inputs["kubernetesGroups"] == [GROUP]
    assert entry.inputs["principalArn"].endswith(":role/dataops-github-sandbox")


def test_the_sandbox_namespace_itself_passes_the_admission_policy(plans, sandbox_plan):
    """What a sandbox stack really applies: its namespace, as planned, is admitted."""
    (namespace,) = sandbox_plan.of_type("kubernetes:core/v1:Namespace")
    meta = namespace.inputs["metadata"]
    req = request("namespaces", meta["name"], "", SANDBOX, labels=meta["labels"])
    assert decision(admission(plans["dev"]), req) == "allow"
