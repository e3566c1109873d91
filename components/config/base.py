"""What every part of the config model shares: the project's name, the strict base of every
section, the names and patterns the model and its rules check against, and the tags the
platform sets on every resource."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

PROJECT = "dataops-platform"

# Namespaces other than the project's that a stack file may set; their keys belong to the
# providers (e.g. `aws:region`, `kubernetes:context`) and are passed through untouched.
PROVIDER_NAMESPACES = ("aws", "kubernetes", "docker", "pulumi")

Environment = Literal["local", "sandbox", "dev", "test", "prod"]
Classification = Literal["public", "internal", "confidential", "restricted"]
StorageClass = Literal[
    "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"
]

DEFAULT_ZONES = ("raw", "curated", "analytics")

# S3 refuses lifecycle transitions to the infrequent-access classes before an object is 30 days
# old (https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html).
MIN_DAYS_BEFORE_IA = 30

NAME_RE = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")
REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
ACCOUNT_ID_LEN = 12
# The private IPv4 ranges (RFC 1918).
PRIVATE_CIDRS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")


def per_environment(text: str) -> dict[str, str]:
    """A field's environment-dependent default or rule, for the configuration reference (the
    rule itself lives in the model's properties or in `components/config/rules/`)."""
    return {"environments": text}


class _Strict(BaseModel):
    """Nested sections: camelCase keys as in every Pulumi config file, no unknown keys, no coercion."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=False, extra="forbid", strict=True, frozen=True
    )


# Kubernetes minor versions EKS supports (standard or extended) as of 2026-11:
# https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html, https://endoflife.date/amazon-eks
KUBERNETES_VERSIONS = ("1.33", "1.34", "1.35", "1.36")
CONTROL_PLANE_LOGS = ("api", "audit", "authenticator", "controllerManager", "scheduler")
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
REPOSITORY_RE = re.compile(r"^([a-z0-9.-]+(:\d+)?/)?[a-z0-9][a-z0-9._/-]*$")
DNS_LABEL_RE = re.compile(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")


# What nodes and pods call at volume besides S3 (EKS user guide, "Deploy private clusters with
# limited internet access", https://docs.aws.amazon.com/eks/latest/userguide/private-clusters.html):
# image manifests and tokens (ECR), credentials (STS; `eks-auth` for EKS Pod Identity, "required"
# for private clusters: https://docs.aws.amazon.com/eks/latest/userguide/pod-id-how-it-works.html)
# and the VPC CNI's address management (EC2). ECR's image layers come from S3, through the free
# gateway endpoint.
INTERFACE_SERVICES = ("ecr.api", "ecr.dkr", "sts", "eks-auth", "ec2")


MANDATORY_TAG_KEYS = (
    "environment",
    "owner",
    "cost-center",
    "data-classification",
    "project",
    "stack",
    "managed-by",
)
SANDBOX_TAG_KEYS = ("created-at", "expires-at")

# Set only with `pulumi config set --secret`: never parsed, never echoed in a message.
SECRET_KEYS = ("kubeconfig", "oauthClientSecret")
