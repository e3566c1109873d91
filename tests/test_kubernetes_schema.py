"""Every Kubernetes object the program declares, rendered from its recorded inputs, validates
against the official schema of the stack's Kubernetes version (kubernetes-validate, strict)."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest

from dataops.plan import load_config
from tests.conftest import CLOUD_STACKS


def objects(plan):
    """Kubernetes API objects (a Helm release is a Pulumi resource, not an API object)."""
    return [
        r
        for r in plan.resources
        if r.type.startswith("kubernetes:") and not r.type.startswith("kubernetes:helm.sh/")
    ]


def validate(resource, version: str) -> None:
    body = copy.deepcopy(resource.inputs)
    # Secret payloads are hidden in the plan; validate the object around them.
    for key in ("data", "stringData"):
        if body.get(key) == "[secret]":
            body[key] = {"redacted": "redacted"}
    kubernetes_validate.validate(body, version, strict=True)


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_objects_of_every_stack_validate_strictly(plans, stack):
    version = load_config(stack)[1].cluster.kubernetes_version
    found = objects(plans[stack])
    assert len(found) >= 9
    for r in found:
        assert r.inputs["apiVersion"] and r.inputs["kind"], r.urn
        validate(r, version)


def test_everything_config_validates_at_its_version(everything):
    for r in objects(everything):
        validate(r, "1.34")


def test_schema_check_can_fail(plans):
    policy = copy.deepcopy(next(r for r in objects(plans["dev"]) if r.inputs["kind"] == "NetworkPolicy"))
    policy.inputs["spec"]["policyTypes"] = "Ingress"  # must be a list
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(policy, "1.35")
    policy.inputs["spec"]["policyTypes"] = ["Ingress"]
    policy.inputs["spec"]["podSelectr"] = {}  # unknown field: strict mode refuses it
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(policy, "1.35")


def test_sandbox_objects_validate_strictly(sandbox_plan):
    # A sandbox runs on its host's cluster, so its objects meet the host's Kubernetes version.
    version = load_config("dev")[1].cluster.kubernetes_version
    found = objects(sandbox_plan)
    assert {r.inputs["kind"] for r in found} >= {"Namespace", "Deployment", "Service", "NetworkPolicy"}
    for r in found:
        validate(r, version)
