"""The cluster's network is an input: the VPC the stack creates, or an existing VPC's subnets
(`cluster.network.existing`), looked up in the account and checked before anything is built."""

from __future__ import annotations

import pytest

from dataops.plan import ROOT, PlanError

EXISTING_VPC = "vpc-0a1b2c3d4e5f60718"
PRIVATE = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]
PUBLIC = ["subnet-0a1b2c3d4e5f60011", "subnet-0a1b2c3d4e5f60012"]


def stack_file(existing: str, scheme: str = "internal") -> str:
    """Pulumi.test.yaml with the given `cluster.network` body (indented six spaces)."""
    text = (ROOT / "Pulumi.test.yaml").read_text()
    text = text.replace("    network:\n      vpcCidr: 10.41.0.0/16\n", f"    network:\n{existing}")
    return text.replace(
        "    hostedZone: example.com\n", f"    hostedZone: example.com\n    scheme: {scheme}\n"
    )


def existing(private: list[str], public: list[str] | None = None, vpc: str = EXISTING_VPC) -> str:
    lines = f"      existing:\n        vpcId: {vpc}\n        privateSubnetIds: [{', '.join(private)}]\n"
    return lines + (f"        publicSubnetIds: [{', '.join(public)}]\n" if public else "")


def test_an_existing_vpc_creates_no_network_and_places_everything_in_its_subnets(plan_with):
    plan = plan_with("test", stack_file(existing(PRIVATE, PUBLIC)))
    for type_ in ("aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/natGateway:NatGateway"):
        assert not plan.of_type(type_), type_
    assert not plan.of_type("dataops:index:Network")
    eks = plan.of_type("aws:eks/cluster:Cluster")[0].inputs
    assert eks["vpcConfig"]["subnetIds"] == PRIVATE
    groups = {
        g.inputs["nodeGroupName"]: g.inputs["subnetIds"] for g in plan.of_type("aws:eks/nodeGroup:NodeGroup")
    }
    assert groups == {"system": PRIVATE, "notebooks-0": PRIVATE[:1], "notebooks-1": PRIVATE[1:]}
    runner = plan.of_type("aws:codebuild/project:Project")[0].inputs
    assert runner["vpcConfig"]["vpcId"] == EXISTING_VPC and runner["vpcConfig"]["subnets"] == PRIVATE
    for sg in plan.of_type("aws:ec2/securityGroup:SecurityGroup"):
        assert sg.inputs["vpcId"] == EXISTING_VPC, sg.name
    # An internal hub's load balancer goes into the private subnets, named, not discovered by tags.
    ingress = plan.named("notebooks-endpoint-ingress").inputs["metadata"]["annotations"]
    assert ingress["alb.ingress.kubernetes.io/subnets"] == ",".join(PRIVATE)


def test_an_internet_facing_hub_in_an_existing_vpc_uses_its_public_subnets(plan_with):
    plan = plan_with("test", stack_file(existing(PRIVATE, PUBLIC), scheme="internet-facing"))
    ingress = plan.named("notebooks-endpoint-ingress").inputs["metadata"]["annotations"]
    assert ingress["alb.ingress.kubernetes.io/subnets"] == ",".join(PUBLIC)


def test_the_created_vpc_leaves_subnets_to_discovery(plans):
    ingress = plans["test"].named("notebooks-endpoint-ingress").inputs["metadata"]["annotations"]
    assert "alb.ingress.kubernetes.io/subnets" not in ingress


@pytest.mark.parametrize(
    ("private", "vpc", "expected"),
    [
        # a subnet the account does not have
        (["subnet-0a1b2c3d4e5f60001", "subnet-0123456789abcdef0"], EXISTING_VPC, "no such subnet"),
        # a subnet of another VPC
        (["subnet-0a1b2c3d4e5f60001", "subnet-0f0e0d0c0b0a00001"], EXISTING_VPC, "not in vpcId"),
        # two subnets in one AZ: the per-AZ node groups would share it
        (["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60004"], EXISTING_VPC, "in eu-west-1a too"),
        # the right subnets, the wrong VPC
        (PRIVATE, "vpc-0f0e0d0c0b0a09080", "not in vpcId"),
    ],
)
def test_subnets_that_do_not_fit_fail_the_plan_with_one_line(plan_with, private, vpc, expected):
    with pytest.raises(PlanError) as caught:
        plan_with("test", stack_file(existing(private, vpc=vpc)))
    text = "\n".join(caught.value.lines)
    assert expected in text, text
    assert "Traceback" not in text


def test_the_network_keeps_the_urn_it_had_inside_the_cluster(plans):
    """Once a child of the cluster, the network now comes before it; its alias names its old URN,
    so stacks deployed then move it instead of replacing the VPC (children keep theirs: a URN
    names only the immediate parent's type)."""
    plan = plans["dev"]
    cluster = plan.named("cluster")
    network = plan.named("cluster-network")
    assert network.parent != cluster.urn
    (alias,) = network.aliases
    assert alias == {"parentUrn": cluster.urn}
    vpc = plan.named("cluster-network-vpc")
    assert vpc.urn.split("::")[2].startswith("dataops:index:Network$"), vpc.urn
