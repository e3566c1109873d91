"""The in-VPC runner of each eks stack: in the private subnets, started only for listed GitHub
users, reaching out on 443 only, and holding no deploy rights of its own."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import CLOUD_STACKS

ACTORS = [5943201, 7310482]  # Pulumi.yaml ci.runner.allowedActorIds


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_the_webhook_starts_jobs_of_listed_users_only(plans, stack):
    (hook,) = plans[stack].of_type("aws:codebuild/webhook:Webhook")
    (group,) = hook.inputs["filterGroups"]
    filters = {f["type"]: f["pattern"] for f in group["filters"]}
    assert filters["EVENT"] == "WORKFLOW_JOB_QUEUED"
    actor = re.compile(filters["ACTOR_ACCOUNT_ID"])
    assert all(actor.fullmatch(str(i)) for i in ACTORS)
    for other in ("1", "59432011", "15943201", "5943201|1", ""):
        assert not actor.fullmatch(other), other


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_the_runner_sits_in_the_private_subnets_and_only_speaks_https(plans, stack):
    plan = plans[stack]
    (project,) = plan.of_type("aws:codebuild/project:Project")
    private = {s.urn for s in plan.of_type("aws:ec2/subnet:Subnet") if "private" in s.name}
    subnet_ids = set(project.inputs["vpcConfig"]["subnets"])
    assert len(subnet_ids) == len(private) and all(s.startswith("subnet-") for s in subnet_ids)
    assert (
        plan.named("cluster-eks").inputs["vpcConfig"]["subnetIds"] == project.inputs["vpcConfig"]["subnets"]
    )
    egress = plan.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    assert [(e.inputs["ipProtocol"], e.inputs["fromPort"], e.inputs["toPort"]) for e in egress] == [
        ("tcp", 443, 443)
    ]
    assert project.inputs["source"]["auth"]["type"] == "CODECONNECTIONS"
    # Docker builds only where the image is built
    assert project.inputs["environment"]["privilegedMode"] is (stack == "dev")


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_the_runner_role_cannot_deploy(plans, stack):
    plan = plans[stack]
    role = plan.named("ci-runner-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "codebuild.amazonaws.com"}
    policies = [
        p for p in plan.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.inputs["name"]
    ]
    actions = {
        a
        for p in policies
        for s in json.loads(p.inputs["policy"])["Statement"]
        for a in s["Action"]
        if isinstance(s["Action"], list)
    } | {
        s["Action"]
        for p in policies
        for s in json.loads(p.inputs["policy"])["Statement"]
        if isinstance(s["Action"], str)
    }
    services = {a.split(":")[0] for a in actions}
    assert services == {"logs", "ec2", "codeconnections"}, services
    assert not [
        a
        for a in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == role.inputs["name"]
    ]
    # and the cluster grants it nothing: jobs assume the workflow roles for that
    principals = {e.inputs["principalArn"] for e in plan.of_type("aws:eks/accessEntry:AccessEntry")}
    assert not any(p.endswith(f"role/{role.inputs['name']}") for p in principals)
