"""ClusterAutoscaler: notebook capacity follows demand — a server that cannot be scheduled brings
up a node of its pool, from zero; a node left empty goes away.

Cluster Autoscaler rather than Karpenter, for a small platform team: it drives the managed node
groups the platform already has (EKS keeps their AMIs current), needs one role and no CRDs,
queues, event rules or instance profiles, and never removes a node that runs a pod without a
controller — a user's notebook server — where Karpenter's consolidation would evict it unless
every server is annotated (Cluster Autoscaler FAQ, "What types of pods can prevent CA from
removing a node?", https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/FAQ.md).
The price is one notebook node group per AZ: a home volume lives in one AZ, and the autoscaler
cannot choose the AZ inside a group that spans several (its AWS README, "Common notes and
gotchas"); `balance-similar-node-groups` spreads new nodes over them.

Scale from zero: the autoscaler learns a group's labels and taints from `eks:DescribeNodegroup`
while the group has no node (AWS README, "Auto-Discovery Setup"), and from node-template tags
on the group's Auto Scaling group, which the Cluster component also sets.

The autoscaler's minor version follows the cluster's (its README: "use the Cluster Autoscaler
version that matches the Kubernetes version of your cluster"); IMAGE_TAGS pins one per minor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.workload_identity import controller_identity

TYPE = "dataops:index:ClusterAutoscaler"
CHART = "cluster-autoscaler"
CHART_VERSION = "9.59.0"  # pinned: an upgrade is a reviewed change of this line
CHART_REPOSITORY = "https://kubernetes.github.io/autoscaler"
NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "cluster-autoscaler"
# registry.k8s.io/autoscaling/cluster-autoscaler, one release per Kubernetes minor.
# The newest patch of each (tags cluster-autoscaler-1.3x.y of kubernetes/autoscaler, 2026-08).
IMAGE_TAGS = {"1.33": "v1.33.6", "1.34": "v1.34.5", "1.35": "v1.35.2", "1.36": "v1.36.1"}


@dataclass
class ClusterAutoscalerArgs:
    cluster_name: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    kubernetes_version: str
    region: pulumi.Input[str]
    tags: dict[str, str]
    node_selector: dict[str, str]


def autoscaler_policy(cluster: str) -> dict[str, Any]:
    """The documented "minimal" policy (AWS README, "IAM Policy"), with the resizing actions
    limited to Auto Scaling groups EKS tagged as this cluster's node groups
    (`k8s.io/cluster-autoscaler/<cluster>: owned`)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                # Describe calls have no resource-level permissions.
                "Sid": "Read",
                "Effect": "Allow",
                "Action": [
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeLaunchConfigurations",
                    "autoscaling:DescribeScalingActivities",
                    "autoscaling:DescribeTags",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplateVersions",
                    "ec2:GetInstanceTypesFromInstanceRequirements",
                    "eks:DescribeNodegroup",
                ],
                "Resource": "*",
            },
            {
                "Sid": "ResizeOwnNodeGroups",
                "Effect": "Allow",
                "Action": [
                    "autoscaling:SetDesiredCapacity",
                    "autoscaling:TerminateInstanceInAutoScalingGroup",
                ],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster}": "owned"}
                },
            },
        ],
    }


class ClusterAutoscaler(pulumi.ComponentResource):
    chart: k8s.helm.v4.Chart
    """The autoscaler's Helm chart."""

    def __init__(
        self,
        name: str,
        args: ClusterAutoscalerArgs,
        provider: k8s.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(TYPE, name, None, opts)
        association = controller_identity(
            name,
            cluster_name=args.cluster_name,
            cluster_arn=args.cluster_arn,
            namespace=NAMESPACE,
            service_account=SERVICE_ACCOUNT,
            policy_name="cluster-autoscaler",
            policy=pulumi.Output.from_input(args.cluster_name).apply(
                lambda c: json.dumps(autoscaler_policy(c))
            ),
            description="Cluster Autoscaler (Pod Identity, kube-system)",
            tags=args.tags,
            parent=self,
        )
        values = pulumi.Output.all(args.cluster_name, args.region).apply(
            lambda v: autoscaler_values(v[0], v[1], args.kubernetes_version, args.node_selector)
        )
        self.chart = k8s.helm.v4.Chart(
            f"{name}-chart",
            chart=CHART,
            version=CHART_VERSION,
            repository_opts={"repo": CHART_REPOSITORY},
            namespace=NAMESPACE,
            values=values,
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[association]),
        )
        self.register_outputs({})


def autoscaler_values(
    cluster_name: str, region: str, kubernetes_version: str, node_selector: dict[str, str]
) -> dict[str, Any]:
    return {
        "cloudProvider": "aws",
        "awsRegion": region,  # nodes keep IMDS one hop away from pods: no region discovery
        "autoDiscovery": {"clusterName": cluster_name},
        "image": {"tag": IMAGE_TAGS[kubernetes_version]},
        "rbac": {"serviceAccount": {"create": True, "name": SERVICE_ACCOUNT}},
        "extraArgs": {
            "balance-similar-node-groups": True,  # the per-AZ notebook groups grow together
            "expander": "least-waste",
            "scale-down-unneeded-time": "10m",
        },
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 65534,
            "runAsGroup": 65534,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containerSecurityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "nodeSelector": node_selector,
    }
