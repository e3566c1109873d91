"""The first deploy: the README's and the bootstrap workflow's `--exclude` really creates the
way in (network, runner, 443 rule, cluster, access) and no Kubernetes object, on every plan."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml

from dataops import bootstrap
from dataops.plan import ROOT, Plan
from tests.conftest import CLOUD_STACKS

README = (ROOT / "README.md").read_text()
WORKFLOW = ROOT / ".github" / "workflows" / "bootstrap.yml"


def documented_patterns(text: str) -> list[str]:
    return re.findall(r"--exclude '([^']+)'", text)


# What a runner needs to reach the private API, and what must be there before it does.
NEEDED_FIRST = {
    "aws:ec2/vpc:Vpc",
    "aws:ec2/natGateway:NatGateway",
    "aws:codebuild/project:Project",
    "aws:codebuild/webhook:Webhook",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:eks/cluster:Cluster",
    "aws:eks/nodeGroup:NodeGroup",
    "aws:eks/addon:Addon",
    "aws:eks/accessEntry:AccessEntry",
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
}


def test_the_readme_and_the_workflow_document_the_same_exclusion():
    first_deploy = README[README.index("## First deploy") : README.index("### On a laptop")]
    assert set(documented_patterns(first_deploy)) == {bootstrap.EXCLUDE}
    assert "--exclude-dependents" in first_deploy
    run = " ".join(
        s.get("run", "") for s in yaml.safe_load(WORKFLOW.read_text())["jobs"]["bootstrap"]["steps"]
    )
    assert documented_patterns(run) == [bootstrap.EXCLUDE] and "--exclude-dependents" in run


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_the_bootstrap_creates_the_way_in_and_no_kubernetes_object(plans, stack):
    plan = plans[stack]
    phases = bootstrap.phases(plan)
    now = {r.type for r in phases.now}
    assert now >= NEEDED_FIRST, NEEDED_FIRST - now
    assert not any(r.type.startswith(("kubernetes:", "pulumi:providers:kubernetes")) for r in phases.now)
    # the pattern names real resources: the Kubernetes provider and every Kubernetes object
    pattern = bootstrap.urn_pattern(bootstrap.EXCLUDE)
    kubernetes = [
        r
        for r in plan.resources
        if r.type.startswith("kubernetes:") or r.type == "pulumi:providers:kubernetes"
    ]
    assert kubernetes and all(pattern.match(r.urn) for r in kubernetes)
    # the runner's 443 rule into the cluster's API security group is in the first phase
    (rule,) = [r for r in phases.now if r.name == "ci-runner-to-cluster-api"]
    assert rule.inputs["fromPort"] == 443


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_each_phase_is_closed_under_dependencies(plans, stack):
    """Nothing the bootstrap creates depends on something it leaves out (Pulumi would refuse),
    and what it leaves out is exactly what needs the Kubernetes API."""
    plan = plans[stack]
    by_urn = {r.urn: r for r in plan.resources}
    left_out = bootstrap.excluded(plan, [bootstrap.EXCLUDE])
    for r in plan.resources:
        if r.urn in left_out:
            continue
        for edge in bootstrap._edges(r):
            assert edge not in left_out, f"{r.urn} needs {edge}, which the bootstrap leaves out"
    later = {by_urn[u].type for u in left_out if by_urn[u].custom}
    # beside Kubernetes objects: the workload roles' associations (they name service accounts) and
    # the hub's DNS record (it points at the load balancer an Ingress makes)
    assert later - {
        t for t in later if t.startswith("kubernetes:") or t == "pulumi:providers:kubernetes"
    } == {
        "aws:eks/podIdentityAssociation:PodIdentityAssociation",
        "aws:route53/record:Record",
    }


def test_urn_globs_follow_pulumis_rules():
    urn = "urn:pulumi:prod::dataops-platform::dataops:index:Cluster$kubernetes:core/v1:Namespace::ns"
    assert bootstrap.urn_pattern("urn:pulumi:**kubernetes:**").match(urn)
    assert bootstrap.urn_pattern("urn:pulumi:prod::*::**").match(urn)
    assert not bootstrap.urn_pattern("urn:pulumi:*kubernetes:**").match(urn)  # `*` stops at `:`
    assert not bootstrap.urn_pattern("urn:pulumi:prod::dataops-platform").match(urn)  # whole URN


def test_dependents_are_left_out_transitively():
    from dataops.plan_types import PlannedResource

    def res(name: str, type_: str, deps=(), parent="", provider="") -> PlannedResource:
        urn = f"urn:pulumi:s::p::{type_}::{name}"
        return PlannedResource(urn, type_, name, parent, {}, list(deps), False, False, provider)

    k8s = res("k8s", "pulumi:providers:kubernetes")
    ns = res("ns", "kubernetes:core/v1:Namespace", provider=f"{k8s.urn}::id")
    sa = res("sa", "aws:eks/podIdentityAssociation:PodIdentityAssociation", deps=[ns.urn])
    child = res("child", "aws:iam/rolePolicy:RolePolicy", parent=sa.urn)
    free = res("free", "aws:s3/bucket:Bucket")
    plan = Plan("p", "s", [k8s, ns, sa, child, free], {})
    assert bootstrap.excluded(plan, [bootstrap.EXCLUDE]) == {k8s.urn, ns.urn, sa.urn, child.urn}
    assert bootstrap.excluded(plan, [bootstrap.EXCLUDE], dependents=False) == {k8s.urn, ns.urn}


def bootstrap_cli(stack: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dataops", "bootstrap", "--stack", stack],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_prints_the_commands_and_refuses_a_stack_without_kubernetes():
    ok = bootstrap_cli("prod")
    assert ok.returncode == 0, ok.stderr
    assert f"pulumi up --stack prod --exclude '{bootstrap.EXCLUDE}' --exclude-dependents" in ok.stdout
    local = bootstrap_cli("local")
    assert local.returncode == 2 and local.stderr.startswith("error: local: has no Kubernetes objects")
