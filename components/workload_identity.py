"""How pods get AWS credentials, and the trust policy that lets only those pods in.

EKS clusters use EKS Pod Identity (no OIDC provider to manage; the association names the exact
namespace and service account). Adopted clusters use IRSA when their OIDC provider is given.
Without a cluster, the role is assumable from the account (or the listed roles) only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi

SERVICE_ACCOUNT = "data-access"
"""The service account, in each team namespace, that carries the environment's workload role."""


@dataclass
class WorkloadIdentity:
    mode: Literal["pod-identity", "irsa", "none"]
    cluster_name: pulumi.Input[str] | None = None
    cluster_arn: pulumi.Input[str] | None = None
    oidc_provider_arn: str | None = None
    namespaces: list[str] = field(default_factory=list)
    """Namespaces whose `data-access` service account may assume the role."""


def trust_policy(
    identity_mode: str,
    partition: str,
    account: str,
    *,
    cluster_arn: str | None = None,
    oidc_provider_arn: str | None = None,
    namespaces: list[str] | None = None,
    trusted_principals: list[str] | None = None,
) -> dict[str, Any]:
    statements: list[dict[str, Any]] = []
    if identity_mode == "pod-identity":
        assert cluster_arn is not None
        statements.append(pod_identity_statement(cluster_arn, namespaces or [], [SERVICE_ACCOUNT]))
    elif identity_mode == "irsa":
        issuer = (oidc_provider_arn or "").split("oidc-provider/", 1)[-1]
        statements.append(
            {
                "Sid": "IrsaServiceAccounts",
                "Effect": "Allow",
                "Principal": {"Federated": oidc_provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{issuer}:aud": "sts.amazonaws.com",
                        f"{issuer}:sub": [
                            f"system:serviceaccount:{ns}:{SERVICE_ACCOUNT}" for ns in namespaces or []
                        ],
                    }
                },
            }
        )
    principals = list(trusted_principals or [])
    if identity_mode == "none" and not principals:
        principals = [f"arn:{partition}:iam::{account}:root"]
    if principals:
        statements.append(
            {
                "Sid": "TrustedRoles",
                "Effect": "Allow",
                "Principal": {"AWS": principals},
                "Action": "sts:AssumeRole",
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com"
# The session tags EKS Pod Identity sets on every AssumeRole it makes for a pod (EKS user guide,
# "Create IAM role with trust policy required by EKS Pod Identity",
# https://docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html, and "Enable or disable
# session tags", https://docs.aws.amazon.com/eks/latest/userguide/pod-id-abac.html):
# eks-cluster-arn (the cluster's ARN exactly), eks-cluster-name, kubernetes-namespace,
# kubernetes-service-account, kubernetes-pod-name, kubernetes-pod-uid.
CLUSTER_TAG = "aws:RequestTag/eks-cluster-arn"
NAMESPACE_TAG = "aws:RequestTag/kubernetes-namespace"
SERVICE_ACCOUNT_TAG = "aws:RequestTag/kubernetes-service-account"


def pod_identity_statement(
    cluster_arn: str, namespaces: list[str], service_accounts: list[str]
) -> dict[str, Any]:
    """Trust for pods of one cluster, in exactly these namespaces under these service accounts.

    The conditions use the session tags EKS documents; `sts:TagSession` is what lets EKS set
    them. The cluster ARN matters as much as the namespace: namespaces and service accounts are
    unique only within a cluster, and every cluster of the account shares the service principal
    (EKS best practices, "ABAC and EKS Pod Identities"). `aws:SourceArn` is not used: EKS does not
    document it for Pod Identity, and where it is present it is not the cluster's ARN. Session
    tags are on unless an association disables them; none of ours does (a test checks).
    """
    return {
        "Sid": "EksPodIdentity",
        "Effect": "Allow",
        "Principal": {"Service": POD_IDENTITY_SERVICE},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
        "Condition": {
            "StringEquals": {
                CLUSTER_TAG: cluster_arn,
                NAMESPACE_TAG: sorted(namespaces),
                SERVICE_ACCOUNT_TAG: sorted(service_accounts),
            }
        },
    }


def pod_identity_trust(cluster_arn: str, namespace: str, service_account: str) -> dict[str, Any]:
    """The trust policy of a role one Pod Identity association hands out (add-on roles)."""
    return {
        "Version": "2012-10-17",
        "Statement": [pod_identity_statement(cluster_arn, [namespace], [service_account])],
    }


def service_trust(
    service: str, *, tag_session: bool = False, conditions: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Trust for an AWS service principal (the cluster, nodes, CodeBuild)."""
    actions = ["sts:AssumeRole", "sts:TagSession"] if tag_session else "sts:AssumeRole"
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service}, "Action": actions}
    if conditions:
        statement["Condition"] = conditions
    return {"Version": "2012-10-17", "Statement": [statement]}


def controller_identity(
    name: str,
    *,
    cluster_name: pulumi.Input[str],
    cluster_arn: pulumi.Input[str],
    namespace: str,
    service_account: str,
    policy_name: str,
    policy: pulumi.Input[str],
    description: str,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> pulumi.Resource:
    """A cluster add-on's own role: trusted through Pod Identity by exactly its service account,
    with one inline policy. Returns the association, which the add-on's pods must wait for."""
    import pulumi_aws as aws  # the SDK only where resources are declared

    child = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        f"{name}-role",
        description=description,
        assume_role_policy=pulumi.Output.from_input(cluster_arn).apply(
            lambda arn: json.dumps(pod_identity_trust(arn, namespace, service_account))
        ),
        tags=tags,
        opts=child,
    )
    attached = aws.iam.RolePolicy(f"{name}-policy", role=role.id, name=policy_name, policy=policy, opts=child)
    return aws.eks.PodIdentityAssociation(
        f"{name}-pod-identity",
        cluster_name=cluster_name,
        namespace=namespace,
        service_account=service_account,
        role_arn=role.arn,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[attached]),
    )
