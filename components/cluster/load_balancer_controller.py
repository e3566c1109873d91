"""LoadBalancerController: the AWS Load Balancer Controller, which turns the hub's Ingress into
an Application Load Balancer with TLS from ACM.

Installed with `helm.v4.Chart`: the chart has no Helm hooks, and v4 upgrades its CRDs on a
version bump and renders with the cluster's state (so `keepTLSSecret` keeps the webhook's
certificate instead of replacing it on every run). Its role reaches the controller through EKS
Pod Identity, scoped to its service account. Values that differ from the chart's defaults, and
why (chart values of aws/eks-charts stable/aws-load-balancer-controller at 3.5.0; the chart has
no values schema, so tests/components/test_cluster_addons.py holds the keys relied on):
- `region`, `vpcId`: nodes keep IMDS one hop away from pods, so the controller cannot discover
  them ("Configure ... `--aws-region` and `--aws-vpc-id`", controller installation guide,
  https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/installation/);
- `defaultTargetType: ip`: the hub's proxy is a ClusterIP service and team quotas forbid
  NodePorts, which the default `instance` targets need;
- `enableServiceMutatorWebhook: false`: the hub's Ingress is the one load balancer; the webhook
  would turn any LoadBalancer service into an NLB;
- `enableShield`, `enableWaf`, `enableWafv2: false`: not used, and fewer permissions;
- security contexts: the defaults lack `seccompProfile` and a dropped `ALL`, which Pod Security
  `restricted` requires.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.pod_security import RESTRICTED_CONTAINER
from components.workload_identity import controller_identity

TYPE = "dataops:index:LoadBalancerController"
CHART = "aws-load-balancer-controller"
CHART_VERSION = "3.5.0"  # pinned: an upgrade is a reviewed change of this line
CHART_REPOSITORY = "https://aws.github.io/eks-charts"
NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "aws-load-balancer-controller"
INGRESS_CLASS = "alb"
# TLS 1.3 and 1.2 only (the controller's default, ELBSecurityPolicy-2016-08, still allows 1.0):
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html
SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"


@dataclass
class LoadBalancerControllerArgs:
    cluster_name: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    region: pulumi.Input[str]
    tags: dict[str, str]
    node_selector: dict[str, str]


def controller_policy(partition: str, region: str, account: str, vpc_id: str, cluster: str) -> dict[str, Any]:
    """What the controller does for an Ingress, from its documented policy
    (docs/install/iam_policy.json of kubernetes-sigs/aws-load-balancer-controller at v3.5.0),
    narrowed: no Shield, WAF or Cognito (turned off), security-group rules only in this VPC, and
    changes to load balancers, target groups and security groups only on those it tagged as this
    cluster's (`elbv2.k8s.aws/cluster`)."""
    elb = f"arn:{partition}:elasticloadbalancing:{region}:{account}"
    ec2 = f"arn:{partition}:ec2:{region}:{account}"
    owned = {"StringEquals": {"aws:ResourceTag/elbv2.k8s.aws/cluster": cluster}}
    tagging_new = {"StringEquals": {"aws:RequestTag/elbv2.k8s.aws/cluster": cluster}}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ServiceLinkedRole",
                "Effect": "Allow",
                "Action": "iam:CreateServiceLinkedRole",
                "Resource": f"arn:{partition}:iam::{account}:role/aws-service-role/"
                "elasticloadbalancing.amazonaws.com/*",
                "Condition": {"StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}},
            },
            {
                # Describe and list calls have no resource-level permissions.
                "Sid": "Read",
                "Effect": "Allow",
                "Action": [
                    "ec2:DescribeAccountAttributes",
                    "ec2:DescribeAddresses",
                    "ec2:DescribeAvailabilityZones",
                    "ec2:DescribeInternetGateways",
                    "ec2:DescribeVpcs",
                    "ec2:DescribeVpcPeeringConnections",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeInstances",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeTags",
                    "ec2:DescribeRouteTables",
                    "ec2:GetSecurityGroupsForVpc",
                    "elasticloadbalancing:DescribeLoadBalancers",
                    "elasticloadbalancing:DescribeLoadBalancerAttributes",
                    "elasticloadbalancing:DescribeListeners",
                    "elasticloadbalancing:DescribeListenerAttributes",
                    "elasticloadbalancing:DescribeListenerCertificates",
                    "elasticloadbalancing:DescribeSSLPolicies",
                    "elasticloadbalancing:DescribeRules",
                    "elasticloadbalancing:DescribeTargetGroups",
                    "elasticloadbalancing:DescribeTargetGroupAttributes",
                    "elasticloadbalancing:DescribeTargetHealth",
                    "elasticloadbalancing:DescribeTags",
                    "elasticloadbalancing:DescribeTrustStores",
                    "acm:ListCertificates",
                    "acm:DescribeCertificate",
                ],
                "Resource": "*",
            },
            {
                "Sid": "SecurityGroupsInThisVpc",
                "Effect": "Allow",
                "Action": ["ec2:CreateSecurityGroup"],
                "Resource": [f"{ec2}:security-group/*", f"{ec2}:vpc/{vpc_id}"],
            },
            {
                "Sid": "TagNewSecurityGroups",
                "Effect": "Allow",
                "Action": "ec2:CreateTags",
                "Resource": f"{ec2}:security-group/*",
                "Condition": {"StringEquals": {"ec2:CreateAction": "CreateSecurityGroup"}, **tagging_new},
            },
            {
                "Sid": "OwnSecurityGroups",
                "Effect": "Allow",
                "Action": [
                    "ec2:AuthorizeSecurityGroupIngress",
                    "ec2:RevokeSecurityGroupIngress",
                    "ec2:DeleteSecurityGroup",
                    "ec2:CreateTags",
                    "ec2:DeleteTags",
                ],
                "Resource": f"{ec2}:security-group/*",
                "Condition": owned,
            },
            {
                # The node security group: the controller admits the load balancer to the pods.
                "Sid": "NodeSecurityGroupRules",
                "Effect": "Allow",
                "Action": ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
                "Resource": f"{ec2}:security-group/*",
                "Condition": {"ArnEquals": {"ec2:Vpc": f"{ec2}:vpc/{vpc_id}"}},
            },
            {
                "Sid": "CreateOwnLoadBalancers",
                "Effect": "Allow",
                "Action": [
                    "elasticloadbalancing:CreateLoadBalancer",
                    "elasticloadbalancing:CreateTargetGroup",
                    "elasticloadbalancing:AddTags",
                ],
                "Resource": [f"{elb}:loadbalancer/app/*/*", f"{elb}:targetgroup/*/*"],
                "Condition": tagging_new,
            },
            {
                "Sid": "ChangeOwnLoadBalancers",
                "Effect": "Allow",
                "Action": [
                    "elasticloadbalancing:ModifyLoadBalancerAttributes",
                    "elasticloadbalancing:SetIpAddressType",
                    "elasticloadbalancing:SetSecurityGroups",
                    "elasticloadbalancing:SetSubnets",
                    "elasticloadbalancing:DeleteLoadBalancer",
                    "elasticloadbalancing:ModifyTargetGroup",
                    "elasticloadbalancing:ModifyTargetGroupAttributes",
                    "elasticloadbalancing:DeleteTargetGroup",
                    "elasticloadbalancing:RegisterTargets",
                    "elasticloadbalancing:DeregisterTargets",
                    "elasticloadbalancing:AddTags",
                    "elasticloadbalancing:RemoveTags",
                ],
                "Resource": [f"{elb}:loadbalancer/app/*/*", f"{elb}:targetgroup/*/*"],
                "Condition": owned,
            },
            {
                # Listeners and rules carry no tags of their own when created; they live on the
                # controller's load balancers.
                "Sid": "ListenersAndRules",
                "Effect": "Allow",
                "Action": [
                    "elasticloadbalancing:CreateListener",
                    "elasticloadbalancing:DeleteListener",
                    "elasticloadbalancing:ModifyListener",
                    "elasticloadbalancing:ModifyListenerAttributes",
                    "elasticloadbalancing:AddListenerCertificates",
                    "elasticloadbalancing:RemoveListenerCertificates",
                    "elasticloadbalancing:CreateRule",
                    "elasticloadbalancing:DeleteRule",
                    "elasticloadbalancing:ModifyRule",
                    "elasticloadbalancing:SetRulePriorities",
                    "elasticloadbalancing:AddTags",
                    "elasticloadbalancing:RemoveTags",
                ],
                # The listener actions' resource types (Service Authorization Reference) cover
                # both kinds of load balancer; the controller makes application ones only.
                "Resource": [
                    f"{elb}:loadbalancer/app/*/*",
                    f"{elb}:listener/app/*/*/*",
                    f"{elb}:listener/net/*/*/*",
                    f"{elb}:listener-rule/app/*/*/*/*",
                    f"{elb}:listener-rule/net/*/*/*/*",
                ],
            },
        ],
    }


class LoadBalancerController(pulumi.ComponentResource):
    chart: k8s.helm.v4.Chart
    """The controller's Helm chart (its Deployment, webhooks and the `alb` IngressClass)."""

    def __init__(
        self,
        name: str,
        args: LoadBalancerControllerArgs,
        provider: k8s.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(TYPE, name, None, opts)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        partition = aws.get_partition_output(opts=invoke).partition
        account = aws.get_caller_identity_output(opts=invoke).account_id

        association = controller_identity(
            name,
            cluster_name=args.cluster_name,
            cluster_arn=args.cluster_arn,
            namespace=NAMESPACE,
            service_account=SERVICE_ACCOUNT,
            policy_name="load-balancer-controller",
            policy=pulumi.Output.all(partition, args.region, account, args.vpc_id, args.cluster_name).apply(
                lambda v: json.dumps(controller_policy(*v))
            ),
            description="AWS Load Balancer Controller (Pod Identity, kube-system)",
            tags=args.tags,
            parent=self,
        )
        values = pulumi.Output.all(args.cluster_name, args.region, args.vpc_id).apply(
            lambda v: controller_values(v[0], v[1], v[2], args.tags, args.node_selector)
        )
        self.chart = k8s.helm.v4.Chart(
            f"{name}-chart",
            chart=CHART,
            version=CHART_VERSION,
            repository_opts={"repo": CHART_REPOSITORY},
            namespace=NAMESPACE,
            values=values,
            # the controller's pods must find their credentials when they start
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[association]),
        )
        self.register_outputs({"ingressClass": INGRESS_CLASS})


def controller_values(
    cluster_name: str, region: str, vpc_id: str, tags: dict[str, str], node_selector: dict[str, str]
) -> dict[str, Any]:
    return {
        "clusterName": cluster_name,
        "region": region,
        "vpcId": vpc_id,
        "replicaCount": 2,
        "podDisruptionBudget": {"maxUnavailable": 1},
        "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT},
        "ingressClass": INGRESS_CLASS,
        "createIngressClassResource": True,
        "defaultTargetType": "ip",
        "defaultSSLPolicy": SSL_POLICY,
        "enableServiceMutatorWebhook": False,
        "enableShield": False,
        "enableWaf": False,
        "enableWafv2": False,
        "keepTLSSecret": True,
        "defaultTags": dict(sorted(tags.items())),
        "podSecurityContext": {"fsGroup": 65534, "seccompProfile": {"type": "RuntimeDefault"}},
        "securityContext": {**RESTRICTED_CONTAINER, "readOnlyRootFilesystem": True},
        "nodeSelector": node_selector,
    }
