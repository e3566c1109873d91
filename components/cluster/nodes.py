"""An EKS cluster's nodes and the EKS-managed add-ons they need: the node role (join the
cluster, pull images, nothing else), the Pod Identity agent, the VPC CNI and kube-proxy before
the node groups (node_pools.py), and CoreDNS and the EBS CSI driver once there are nodes."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.cluster.node_pools import USER_LABEL, USER_TAINT, Pool, node_groups
from components.config import NodeGroupConfig
from components.workload_identity import pod_identity_trust, service_trust

MANAGED = "arn:{partition}:iam::aws:policy/{name}"


def managed_policy(partition: pulumi.Output[str], name: str) -> pulumi.Output[str]:
    """The ARN of an AWS-managed policy in the stack's partition."""
    return partition.apply(lambda p: MANAGED.format(partition=p, name=name))


@dataclass
class NodesArgs:
    cluster: aws.eks.Cluster
    physical_name: str
    """The cluster's name, for descriptions."""
    partition: pulumi.Output[str]
    subnet_ids: list[pulumi.Input[str]]
    """The node subnets, one per AZ (the notebook and GPU pools get a group per subnet)."""
    system_nodes: NodeGroupConfig
    notebook_nodes: NodeGroupConfig
    gpu_nodes: NodeGroupConfig | None
    tags: dict[str, str]


@dataclass
class Nodes:
    groups: list[aws.eks.NodeGroup]
    coredns: aws.eks.Addon
    ebs: aws.eks.Addon
    """The EBS CSI driver, which the StorageClass provisions through."""


def create_nodes(name: str, args: NodesArgs, *, parent: pulumi.Resource) -> Nodes:
    """The node role, the managed add-ons and the node groups, as children of `parent`."""
    child = pulumi.ResourceOptions(parent=parent)
    cluster_name = args.cluster.name
    node_role = aws.iam.Role(
        f"{name}-node-role",
        assume_role_policy=json.dumps(service_trust("ec2.amazonaws.com")),
        tags=args.tags,
        opts=child,
    )
    # Nodes join the cluster and pull images; the VPC CNI's permissions go to its own pod
    # identity below, and data access only to workload roles.
    node_policies = [
        aws.iam.RolePolicyAttachment(
            f"{name}-node-{policy}",
            role=node_role.name,
            policy_arn=managed_policy(args.partition, policy),
            opts=child,
        )
        for policy in ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly")
    ]

    def addon_role(addon: str, service_account: str, policy: str) -> aws.iam.Role:
        role = aws.iam.Role(
            f"{name}-{addon}-role",
            # Only the add-on's own service account in this cluster may receive the role.
            assume_role_policy=args.cluster.arn.apply(
                lambda arn: json.dumps(pod_identity_trust(arn, "kube-system", service_account))
            ),
            tags=args.tags,
            opts=child,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-{addon}-policy",
            role=role.name,
            policy_arn=managed_policy(args.partition, policy),
            opts=child,
        )
        return role

    def addon(
        addon_name: str,
        *,
        config: dict | None = None,
        identity: tuple[str, aws.iam.Role] | None = None,
        after: list[pulumi.Resource] | None = None,
    ) -> aws.eks.Addon:
        return aws.eks.Addon(
            f"{name}-{addon_name}",
            cluster_name=cluster_name,
            addon_name=addon_name,
            configuration_values=json.dumps(config) if config else None,
            pod_identity_associations=(
                [{"service_account": identity[0], "role_arn": identity[1].arn}] if identity else None
            ),
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=parent, depends_on=after or []),
        )

    pod_identity_agent = addon("eks-pod-identity-agent")
    # Calico enforces the NetworkPolicies (policy_engine.py): the CNI's own agent must be off,
    # and the CNI annotates pod IPs so Calico learns them at once.
    cni = addon(
        "vpc-cni",
        config={"enableNetworkPolicy": "false", "env": {"ANNOTATE_POD_IP": "true"}},
        identity=("aws-node", addon_role("vpc-cni", "aws-node", "AmazonEKS_CNI_Policy")),
        after=[pod_identity_agent],
    )
    kube_proxy = addon("kube-proxy")

    pools = [
        Pool("system", args.system_nodes),
        Pool("notebooks", args.notebook_nodes, per_zone=True, labels=USER_LABEL, taints=[USER_TAINT]),
    ]
    if args.gpu_nodes is not None:
        pools.append(
            Pool(
                "gpu",
                args.gpu_nodes,
                ami_type="AL2023_x86_64_NVIDIA",
                per_zone=True,
                labels=USER_LABEL,
                taints=[USER_TAINT],
            )
        )
    groups = node_groups(
        name,
        args.physical_name,
        cluster_name,
        node_role.arn,
        args.subnet_ids,
        pools,
        args.tags,
        parent=parent,
        after=[*node_policies, cni, kube_proxy],
    )
    coredns = addon("coredns", after=groups)
    ebs = addon(
        "aws-ebs-csi-driver",
        identity=(
            "ebs-csi-controller-sa",
            addon_role("ebs-csi", "ebs-csi-controller-sa", "service-role/AmazonEBSCSIDriverPolicy"),
        ),
        after=groups,
    )
    return Nodes(groups=groups, coredns=coredns, ebs=ebs)
