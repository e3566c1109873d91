"""The cluster's sections of the config: the network, node groups, an existing cluster, the
in-VPC CI runner and its roles, and the team namespaces."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from components.config.base import CONTROL_PLANE_LOGS, _Strict, per_environment

# The retention periods CloudWatch Logs accepts (PutRetentionPolicy, `retentionInDays`:
# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html).
RetentionDays = Literal[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653
]


SUBNET_ID = r"^subnet-[0-9a-f]{8}([0-9a-f]{9})?$"


class ExistingNetworkConfig(_Strict):
    vpc_id: str = Field(pattern=r"^vpc-[0-9a-f]{8}([0-9a-f]{9})?$", description="The VPC (vpc-...).")
    private_subnet_ids: list[Annotated[str, Field(pattern=SUBNET_ID)]] = Field(
        min_length=2,
        max_length=3,
        description="Node subnets, one per AZ, routed to the internet through the VPC's own NAT.",
    )
    public_subnet_ids: list[Annotated[str, Field(pattern=SUBNET_ID)]] = Field(
        default_factory=list,
        description="Subnets for an internet-facing hub load balancer, one per AZ (else unused).",
    )


class NetworkConfig(_Strict):
    existing: ExistingNetworkConfig | None = Field(
        default=None,
        description="Run the cluster in subnets of an existing VPC instead of creating one (the other "
        "network keys then do not apply).",
    )
    vpc_cidr: str = Field(default="10.40.0.0/16", description="VPC address range (private, /16 to /20).")
    availability_zones: int = Field(
        default=2,
        ge=2,
        le=3,
        description="AZs the subnets span.",
        json_schema_extra=per_environment("prod: 3"),
    )
    nat_gateways: Literal["single", "perAz"] = Field(
        default="single",
        description="One shared NAT gateway, or one per AZ.",
        json_schema_extra=per_environment("prod: perAz"),
    )
    service_cidr: str | None = Field(
        default=None, description="Kubernetes service range (private, not overlapping the VPC)."
    )
    interface_endpoints: bool = Field(
        default=False,
        description="Private endpoints for ECR, STS, EKS Pod Identity and EC2 (`estimate` shows both sides).",
    )


class NodeGroupConfig(_Strict):
    instance_types: list[str] = Field(description="EC2 instance types of the group.")
    min_size: int = Field(ge=0, le=200, description="Fewest nodes (0 lets the group scale to zero).")
    desired_size: int = Field(ge=0, le=200, description="Nodes at creation.")
    max_size: int = Field(ge=1, le=200, description="Most nodes.")
    capacity_type: Literal["ON_DEMAND", "SPOT"] = Field(default="ON_DEMAND", description="On-demand or spot.")
    disk_size_gib: int = Field(default=50, ge=20, le=2000, description="Root volume size (encrypted gp3).")


class ExistingClusterConfig(_Strict):
    context: str | None = Field(
        default=None, description="kubeconfig context to use (from the user's KUBECONFIG)."
    )
    oidc_provider_arn: str | None = Field(
        default=None, description="The cluster's IAM OIDC provider, for IRSA workload identity."
    )
    storage_class: str = Field(default="gp3", description="The cluster's encrypted StorageClass to use.")


class RunnerConfig(_Strict):
    enabled: bool = Field(
        default=True,
        description="eks clusters: create the in-VPC GitHub Actions runner (CodeBuild) for the private API.",
    )
    compute_type: Literal["BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE"] = Field(
        default="BUILD_GENERAL1_MEDIUM",
        description="CodeBuild compute type of the runner (medium: 4 vCPU, 7 GB).",
    )
    allowed_actor_ids: list[int] = Field(
        default_factory=list,
        description="GitHub user ids whose runs may use the runner (`gh api users/<login> --jq .id`).",
    )


class CiConfig(_Strict):
    repository: str | None = Field(
        default=None, description="GitHub repository (owner/name) whose workflows deploy the platform."
    )
    connection_arn: str | None = Field(
        default=None,
        description="CodeConnections connection to GitHub (authorised once in the console) the runner uses.",
    )
    deploy_role: str | None = Field(
        default=None,
        description="Role ARN the deploy workflow assumes: cluster-admin access to each cluster.",
    )
    preview_role: str | None = Field(
        default=None,
        description="Role ARN pull-request previews assume: read-only (view) access to each cluster.",
    )
    sandbox_role: str | None = Field(
        default=None,
        description="Role ARN the sandbox workflow assumes: `sandbox-*` namespaces of host clusters only.",
    )
    runner: RunnerConfig = Field(
        default_factory=RunnerConfig, description="The stack's in-VPC GitHub Actions runner."
    )

    def access_roles(self) -> dict[str, str]:
        """Config key -> role ARN of the workflow roles that are set."""
        roles = {"ci.deployRole": self.deploy_role, "ci.previewRole": self.preview_role}
        roles["ci.sandboxRole"] = self.sandbox_role
        return {k: v for k, v in roles.items() if v}


class ClusterConfig(_Strict):
    mode: Literal["eks", "existing"] = Field(
        default="eks", description="`eks` creates the cluster; `existing` adopts one the organisation runs."
    )
    kubernetes_version: str = Field(default="1.35", description="Kubernetes minor version of the cluster.")
    admin_roles: list[str] = Field(
        default_factory=list,
        description="IAM role ARNs (with their path) given cluster-admin access entries; each must exist.",
    )
    public_access_cidrs: list[str] = Field(
        default_factory=list,
        description="CIDRs that may reach the API endpoint from the internet; empty: private only.",
        json_schema_extra=per_environment("prod: empty"),
    )
    private_access_cidrs: list[str] = Field(
        default_factory=list,
        description="Private ranges (VPN, peering) admitted to the private endpoint on 443.",
        json_schema_extra=per_environment("prod: empty (only its runner reaches it)"),
    )
    host_sandboxes: bool | None = Field(
        default=None,
        description="Let `sandbox-*` stacks use this cluster (eks clusters only).",
        json_schema_extra=per_environment("default: true in dev, false elsewhere; prod: never"),
    )
    log_types: list[Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]] = Field(
        default_factory=lambda: list(CONTROL_PLANE_LOGS),
        description="Control-plane log types.",
        json_schema_extra=per_environment("prod: all five"),
    )
    log_retention_days: RetentionDays | None = Field(
        default=None,
        description="Days the control-plane and CI-runner logs are kept (a CloudWatch retention value).",
        json_schema_extra=per_environment("default: 365 in prod, 90 elsewhere"),
    )
    network: NetworkConfig = Field(default_factory=NetworkConfig, description="The cluster's VPC.")
    system_nodes: NodeGroupConfig = Field(
        default_factory=lambda: NodeGroupConfig.model_validate(
            {"instanceTypes": ["m6i.large"], "minSize": 1, "desiredSize": 2, "maxSize": 3}
        ),
        description="Node group for cluster add-ons and the hub.",
    )
    notebook_nodes: NodeGroupConfig = Field(
        default_factory=lambda: NodeGroupConfig.model_validate(
            {"instanceTypes": ["r6i.xlarge"], "minSize": 0, "desiredSize": 0, "maxSize": 5}
        ),
        description="Node groups for user notebook pods, one per AZ (sizes per AZ; tainted for them only).",
    )
    gpu_nodes: NodeGroupConfig = Field(
        default_factory=lambda: NodeGroupConfig.model_validate(
            {"instanceTypes": ["g5.xlarge"], "minSize": 0, "desiredSize": 0, "maxSize": 2}
        ),
        description="GPU node groups for GPU profiles, one per AZ (only where notebooks.gpu is on).",
    )
    existing: ExistingClusterConfig | None = Field(
        default=None, description="`existing` mode: how to reach it."
    )


class QuotaConfig(_Strict):
    cpu: str = Field(default="32", description="Total CPU requests of the namespace.")
    memory: str = Field(default="128Gi", description="Total memory requests of the namespace.")
    pods: int = Field(default=50, ge=1, le=5000, description="Most pods in the namespace.")
    storage: str = Field(default="500Gi", description="Total persistent-volume requests.")
    default_cpu: str = Field(default="500m", description="CPU request of a container that sets none.")
    default_memory: str = Field(default="1Gi", description="Memory request of a container that sets none.")


class TeamConfig(_Strict):
    name: str = Field(description="Team name: its namespace is `<name>`.")
    quota: QuotaConfig = Field(
        default_factory=QuotaConfig, description="ResourceQuota and LimitRange defaults."
    )
