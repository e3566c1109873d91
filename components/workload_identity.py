"""How pods get AWS credentials, and the trust policy that lets only those pods in.

EKS clusters use EKS Pod Identity (no OIDC provider to manage; the association names the exact
namespace and service account). Adopted clusters use IRSA when their OIDC provider is given.
Without a cluster, the role is assumable from the account (or the listed roles) only.
"""

from __future__ import annotations

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
        statements.append(
            {
                "Sid": "EksPodIdentity",
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                # Only this account's cluster may hand the role to its pods (confused-deputy guard).
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnEquals": {"aws:SourceArn": cluster_arn},
                },
            }
        )
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


def service_trust(
    service: str, *, tag_session: bool = False, conditions: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Trust for an AWS service principal (the cluster, nodes, or add-on pods via Pod Identity)."""
    actions = ["sts:AssumeRole", "sts:TagSession"] if tag_session else "sts:AssumeRole"
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service}, "Action": actions}
    if conditions:
        statement["Condition"] = conditions
    return {"Version": "2012-10-17", "Statement": [statement]}
