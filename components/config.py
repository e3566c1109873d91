"""The stack configuration model: every setting the program reads, with its safe default.

A stack file (`Pulumi.<stack>.yaml`) sets only what differs for its environment; shared values
live in `Pulumi.yaml`. Validation happens in two passes, both before any resource is declared:
the shape (unknown keys, types, ranges) here, and then the cross-field rules that refuse unsafe
combinations (components/config_rules.py). Every problem becomes one line naming the file, the
key, the bad value and the fix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, ValidationError
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


class _Strict(BaseModel):
    """Nested sections: camelCase keys as in every Pulumi config file, no unknown keys, no coercion."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=False, extra="forbid", strict=True, frozen=True
    )


class Transition(_Strict):
    days: int = Field(ge=0, le=36500, description="Age in days at which objects move to `storageClass`.")
    storage_class: StorageClass = Field(description="Target S3 storage class.")


class Zone(_Strict):
    data_classification: Classification | None = Field(
        default=None, description="Overrides the stack's classification for this zone's data."
    )
    transitions: list[Transition] = Field(
        default_factory=list, description="Storage-class transitions of current object versions, by age."
    )
    noncurrent_version_expiration_days: int = Field(
        default=90, ge=1, le=36500, description="Days a replaced or deleted object version is kept."
    )
    abort_incomplete_multipart_days: int = Field(
        default=7, ge=1, le=365, description="Days after which unfinished multipart uploads are aborted."
    )


class ObjectLock(_Strict):
    mode: Literal["GOVERNANCE", "COMPLIANCE"] = Field(description="S3 Object Lock retention mode.")
    retention_days: int = Field(ge=1, le=36500, description="Default retention of every new object version.")


class Lake(_Strict):
    role: Literal["owner", "consumer"] = Field(
        default="consumer", description="`owner` creates the lake; `consumer` reads the owner stack's lake."
    )
    owner_stack: str | None = Field(
        default=None, description="Consumers: the stack that owns the lake (`prod` or `org/project/prod`)."
    )
    zones: dict[str, Zone] | None = Field(
        default=None,
        description="Owner: the zone buckets and their lifecycle (default raw, curated, analytics).",
    )
    object_lock: ObjectLock | None = Field(
        default=None, description="Owner: S3 Object Lock default retention on every zone bucket."
    )
    access_log_retention_days: int = Field(
        default=365, ge=1, le=3650, description="Owner: days server access logs are kept."
    )
    kms_deletion_window_days: int = Field(
        default=30, ge=7, le=30, description="Owner: waiting period before a scheduled key deletion."
    )


class Access(_Strict):
    read: list[str] = Field(
        default_factory=lambda: ["curated", "analytics"],
        description="Lake zones this environment's workload role reads.",
    )
    write: list[str] = Field(
        default_factory=list, description="Lake zones the workload role writes (lake owner only)."
    )
    trusted_principals: list[str] = Field(
        default_factory=list,
        description="IAM role ARNs allowed to assume the workload role (default: this account).",
    )


class Workspace(_Strict):
    enabled: bool = Field(default=True, description="Create this stack's own writable workspace bucket.")
    expire_objects_after_days: int | None = Field(
        default=None, ge=1, le=3650, description="Delete workspace objects after this many days."
    )
    force_destroy: bool = Field(
        default=False, description="Sandboxes only: let `pulumi destroy` empty the workspace bucket."
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


class Network(_Strict):
    vpc_cidr: str = Field(default="10.40.0.0/16", description="VPC address range (private, /16 to /20).")
    availability_zones: int = Field(default=2, ge=2, le=3, description="AZs the subnets span (prod: 3).")
    nat_gateways: Literal["single", "perAz"] = Field(
        default="single", description="One shared NAT gateway, or one per AZ (prod)."
    )
    service_cidr: str | None = Field(
        default=None, description="Kubernetes service range (private, not overlapping the VPC)."
    )
    interface_endpoints: bool = Field(
        default=False,
        description="Private endpoints for ECR, STS, EKS Pod Identity and EC2 (`estimate` shows both sides).",
    )


class NodeGroup(_Strict):
    instance_types: list[str] = Field(description="EC2 instance types of the group.")
    min_size: int = Field(ge=0, le=200, description="Fewest nodes (0 lets the group scale to zero).")
    desired_size: int = Field(ge=0, le=200, description="Nodes at creation.")
    max_size: int = Field(ge=1, le=200, description="Most nodes.")
    capacity_type: Literal["ON_DEMAND", "SPOT"] = Field(default="ON_DEMAND", description="On-demand or spot.")
    disk_size_gib: int = Field(default=50, ge=20, le=2000, description="Root volume size (encrypted gp3).")


class ExistingCluster(_Strict):
    context: str | None = Field(
        default=None, description="kubeconfig context to use (from the user's KUBECONFIG)."
    )
    oidc_provider_arn: str | None = Field(
        default=None, description="The cluster's IAM OIDC provider, for IRSA workload identity."
    )
    storage_class: str = Field(default="gp3", description="The cluster's encrypted StorageClass to use.")


class Runner(_Strict):
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


class Ci(_Strict):
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
    runner: Runner = Field(default_factory=Runner, description="The stack's in-VPC GitHub Actions runner.")

    def access_roles(self) -> dict[str, str]:
        """Config key -> role ARN of the workflow roles that are set."""
        roles = {"ci.deployRole": self.deploy_role, "ci.previewRole": self.preview_role}
        roles["ci.sandboxRole"] = self.sandbox_role
        return {k: v for k, v in roles.items() if v}


class Cluster(_Strict):
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
    )
    private_access_cidrs: list[str] = Field(
        default_factory=list,
        description="Private ranges (VPN, peering) admitted to the private endpoint on 443 (not prod).",
    )
    host_sandboxes: bool | None = Field(
        default=None,
        description="Let `sandbox-*` stacks use this cluster (default: dev only; never prod).",
    )
    log_types: list[Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]] = Field(
        default_factory=lambda: list(CONTROL_PLANE_LOGS), description="Control-plane log types (prod: all)."
    )
    network: Network = Field(default_factory=Network, description="The cluster's VPC.")
    system_nodes: NodeGroup = Field(
        default_factory=lambda: NodeGroup.model_validate(
            {"instanceTypes": ["m6i.large"], "minSize": 1, "desiredSize": 2, "maxSize": 3}
        ),
        description="Node group for cluster add-ons and the hub.",
    )
    notebook_nodes: NodeGroup = Field(
        default_factory=lambda: NodeGroup.model_validate(
            {"instanceTypes": ["r6i.xlarge"], "minSize": 0, "desiredSize": 0, "maxSize": 5}
        ),
        description="Node groups for user notebook pods, one per AZ (sizes per AZ; tainted for them only).",
    )
    gpu_nodes: NodeGroup = Field(
        default_factory=lambda: NodeGroup.model_validate(
            {"instanceTypes": ["g5.xlarge"], "minSize": 0, "desiredSize": 0, "maxSize": 2}
        ),
        description="GPU node groups for GPU profiles, one per AZ (only where notebooks.gpu is on).",
    )
    existing: ExistingCluster | None = Field(default=None, description="`existing` mode: how to reach it.")


class Quota(_Strict):
    cpu: str = Field(default="32", description="Total CPU requests of the namespace.")
    memory: str = Field(default="128Gi", description="Total memory requests of the namespace.")
    pods: int = Field(default=50, ge=1, le=5000, description="Most pods in the namespace.")
    storage: str = Field(default="500Gi", description="Total persistent-volume requests.")
    default_cpu: str = Field(default="500m", description="CPU request of a container that sets none.")
    default_memory: str = Field(default="1Gi", description="Memory request of a container that sets none.")


class Team(_Strict):
    name: str = Field(description="Team name: its namespace is `<name>`.")
    quota: Quota = Field(default_factory=Quota, description="ResourceQuota and LimitRange defaults.")


class Image(_Strict):
    digest: str | None = Field(
        default=None, description="Promoted image digest (sha256:...): reference it, build nothing."
    )
    repository: str | None = Field(
        default=None,
        description="Where a promoted digest lives: an ECR repository name here, or registry/repo.",
    )
    keep_last: int = Field(default=30, ge=1, le=1000, description="Images the ECR lifecycle policy keeps.")
    platform: Literal["linux/amd64", "linux/arm64"] = Field(
        default="linux/amd64", description="Platform the image is built for."
    )


class Profile(_Strict):
    name: str = Field(description="Profile name shown to users, e.g. small.")
    cpu_guarantee: float = Field(ge=0.1, le=128, description="CPU cores reserved for the server.")
    cpu_limit: float = Field(ge=0.1, le=128, description="CPU cores the server may burst to.")
    mem_guarantee: str = Field(description="Memory reserved, e.g. 4G.")
    mem_limit: str = Field(description="Memory limit, e.g. 8G.")
    gpus: int = Field(default=0, ge=0, le=8, description="NVIDIA GPUs (only where notebooks.gpu is on).")
    default: bool = Field(default=False, description="Preselected profile.")


def _default_profiles() -> list[Profile]:
    return [
        Profile.model_validate(
            {
                "name": "small",
                "cpuGuarantee": 0.5,
                "cpuLimit": 2,
                "memGuarantee": "2G",
                "memLimit": "4G",
                "default": True,
            }
        ),
        Profile.model_validate(
            {"name": "large", "cpuGuarantee": 2, "cpuLimit": 4, "memGuarantee": "12G", "memLimit": "16G"}
        ),
    ]


class OAuth(_Strict):
    client_id: str = Field(description="OAuth app client id (the secret is `oauthClientSecret`).")
    allowed_organizations: list[str] = Field(
        default_factory=list, description="github: organisations (or org:team) whose members may log in."
    )
    authorize_url: str | None = Field(default=None, description="generic-oauth: the IdP's authorize URL.")
    token_url: str | None = Field(default=None, description="generic-oauth: the IdP's token URL.")
    userdata_url: str | None = Field(default=None, description="generic-oauth: the IdP's userinfo URL.")
    allowed_groups: list[str] = Field(
        default_factory=list, description="generic-oauth: groups (from the `groups` claim) that may log in."
    )


class Notebooks(_Strict):
    enabled: bool = Field(default=True, description="Run the JupyterHub notebook service on the cluster.")
    authenticator: Literal["github", "generic-oauth", "dummy"] = Field(
        default="github", description="How users log in (dummy only in local and sandboxes)."
    )
    oauth: OAuth | None = Field(default=None, description="OAuth app settings (github / generic-oauth).")
    hostname: str | None = Field(
        default=None, description="The hub's DNS name (the OAuth callback is https://<hostname>/...)."
    )
    hosted_zone: str | None = Field(
        default=None,
        description="Public Route 53 zone of the hostname: certificate, load balancer, DNS record "
        "(unset: port-forward).",
    )
    scheme: Literal["internal", "internet-facing"] = Field(
        default="internal",
        description="The hub's load balancer: for the VPC and joined networks, or the internet.",
    )
    allowed_cidrs: list[str] = Field(
        default_factory=list,
        description="Source ranges the hub's load balancer admits (empty: any that reaches it).",
    )
    placeholders: int = Field(
        default=0,
        ge=0,
        le=100,
        description="Warm capacity: placeholder pods sized like the default server (0: scale to zero).",
    )
    idle_timeout_minutes: int = Field(default=60, ge=5, le=1440, description="Stop servers idle this long.")
    home_size: str = Field(default="10Gi", description="Persistent home volume per user.")
    gpu: bool = Field(default=False, description="Allow GPU profiles (needs a GPU node group).")
    profiles: list[Profile] = Field(
        default_factory=_default_profiles, description="Server sizes users choose."
    )


class Local(_Strict):
    notebook_port: int = Field(default=8888, ge=1024, le=65535, description="JupyterLab port on 127.0.0.1.")
    lake_port: int = Field(
        default=4566, ge=1024, le=65535, description="Local S3 endpoint port on 127.0.0.1."
    )
    remove_data_on_destroy: bool = Field(
        default=False, description="Let `pulumi destroy` delete the local lake and home volumes too."
    )


class Sandbox(_Strict):
    host_stack: str = Field(
        default="dev", description="The stack whose cluster and notebook image the sandbox uses."
    )
    created_at: str | None = Field(
        default=None, description="When `sandbox create` made it (UTC, ISO 8601); written by the tool."
    )
    expires_at: str | None = Field(
        default=None, description="After this the reaper destroys it (UTC, ISO 8601); written by the tool."
    )
    max_ttl_hours: int = Field(
        default=168, ge=1, le=2160, description="Longest lifetime `sandbox create` accepts."
    )
    default_ttl_hours: int = Field(
        default=72, ge=1, le=2160, description="Lifetime when `--ttl` is not given."
    )
    notebook_cpu: str = Field(
        default="1", description="CPU request and limit of the sandbox's notebook server."
    )
    notebook_memory: str = Field(
        default="4Gi", description="Memory request and limit of the notebook server."
    )


class StackConfig(BaseModel):
    """Everything one stack of the program reads. Keys are `dataops-platform:<camelCaseName>`."""

    # Top-level values arrive from the Pulumi CLI as strings ("true", "30"), so this level
    # converts them; nested sections arrive as typed JSON and are checked strictly.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=False, extra="forbid", frozen=True)

    environment: Environment = Field(description="Which kind of environment this stack is.")
    owner: str = Field(min_length=1, max_length=128, description="The `owner` tag on every resource.")
    cost_center: str = Field(min_length=1, max_length=128, description="The `cost-center` tag.")
    name_prefix: str = Field(
        default="dataops", min_length=2, max_length=20, description="Prefix of every physical resource name."
    )
    data_classification: Classification = Field(
        default="confidential", description="The `data-classification` tag of this stack's data."
    )
    deletion_protection: bool = Field(
        default=True, description="Protect and retain this stack's stateful resources (required in prod)."
    )
    tags: dict[str, str] = Field(default_factory=dict, description="Extra tags on every resource.")
    lake: Lake = Field(default_factory=Lake, description="The governed data lake: owned or consumed.")
    access: Access = Field(default_factory=Access, description="The environment's workload role.")
    workspace: Workspace = Field(default_factory=Workspace, description="The environment's writable bucket.")
    cluster: Cluster = Field(
        default_factory=Cluster, description="The Kubernetes cluster: created or adopted."
    )
    kubeconfig: SecretStr | None = Field(
        default=None, description="`existing` clusters: kubeconfig, set with `pulumi config set --secret`."
    )
    teams: list[Team] = Field(
        default_factory=lambda: [Team(name="data-science")], description="Team namespaces on the cluster."
    )
    image: Image = Field(default_factory=Image, description="The notebook image: built here or promoted.")
    hub_namespace: str = Field(default="jupyterhub", description="Namespace of the notebook hub.")
    local: Local = Field(default_factory=Local, description="The Docker-only `local` stack.")
    notebooks: Notebooks = Field(default_factory=Notebooks, description="The JupyterHub notebook service.")
    oauth_client_secret: SecretStr | None = Field(
        default=None, description="OAuth client secret: `pulumi config set --secret oauthClientSecret ...`."
    )
    sandbox: Sandbox | None = Field(
        default=None, description="Sandbox stacks: host stack, lifetime and notebook size (see sandboxes/)."
    )
    ci: Ci = Field(
        default_factory=Ci, description="The CI that deploys the stacks: repository, runner, roles."
    )

    _project: str = PrivateAttr(default=PROJECT)
    _stack: str = PrivateAttr(default="")
    _region: str = PrivateAttr(default="")
    _notes: list[str] = PrivateAttr(default_factory=list)

    @property
    def project(self) -> str:
        return self._project

    @property
    def stack(self) -> str:
        return self._stack

    @property
    def region(self) -> str:
        return self._region

    @property
    def notes(self) -> list[str]:
        """Things the user should know that are not errors (e.g. offline placeholders)."""
        return list(self._notes)

    @property
    def zones(self) -> dict[str, Zone]:
        """The lake's zones as configured (owner) or as assumed by a consumer before it reads the owner."""
        if self.lake.zones is not None:
            return dict(self.lake.zones)
        return {name: Zone() for name in DEFAULT_ZONES}

    @property
    def protected(self) -> bool:
        return self.deletion_protection

    @property
    def hosts_sandboxes(self) -> bool:
        """Whether `sandbox-*` stacks may run on this stack's cluster: `cluster.hostSandboxes`,
        by default dev only (an eks cluster; prod is refused in validation)."""
        wanted = self.cluster.host_sandboxes
        if wanted is None:
            wanted = self.environment == "dev"
        return wanted and self.cluster.mode == "eks" and self.environment in ("dev", "test", "prod")

    @property
    def runs_runner(self) -> bool:
        """An eks cluster gets its in-VPC runner unless `ci.runner.enabled` is false."""
        return (
            self.environment in ("dev", "test", "prod")
            and self.cluster.mode == "eks"
            and self.ci.runner.enabled
        )

    def hub_team(self) -> Team:
        """The hub's namespace, set up like a team namespace (user servers run there)."""
        return Team.model_validate({"name": self.hub_namespace})

    def mandatory_tags(self) -> dict[str, str]:
        """Tags on every taggable resource; user tags cannot override them (checked in validation)."""
        return {
            **self.tags,
            "environment": self.environment,
            "owner": self.owner,
            "cost-center": self.cost_center,
            "data-classification": self.data_classification,
            "project": self.project,
            "stack": self.stack,
            "managed-by": "pulumi",
            **self.expiry_tags(),
        }

    def expiry_tags(self) -> dict[str, str]:
        """Sandboxes: when they were made and when the reaper may destroy them."""
        if self.sandbox is None or self.environment != "sandbox":
            return {}
        return {"created-at": self.sandbox.created_at or "", "expires-at": self.sandbox.expires_at or ""}

    def expiry_annotations(self) -> dict[str, str]:
        """The same for Kubernetes objects (label values cannot hold an e-mail address or a time)."""
        tags = self.expiry_tags()
        return {f"dataops.io/{k}": v for k, v in {"owner": self.owner, **tags}.items()} if tags else {}

    @property
    def host_stack(self) -> str:
        """Sandboxes: the short name of the stack whose cluster and image they use."""
        return self.sandbox.host_stack.split("/")[-1] if self.sandbox else ""

    def host_stack_name(self, organization: str) -> str:
        ref = self.sandbox.host_stack if self.sandbox else ""
        return ref if "/" in ref else f"{organization}/{self.project}/{ref}"

    @property
    def owns_cloud_lake(self) -> bool:
        """The lake every cloud stack consumes (the local stack's own lake does not count)."""
        return self.lake.role == "owner" and self.environment != "local"

    @property
    def owner_stack(self) -> str:
        """The short name of the stack that owns the lake this stack consumes."""
        return (self.lake.owner_stack or "").split("/")[-1]

    def owner_stack_name(self, organization: str) -> str:
        """The fully qualified name of the lake owner stack, as a StackReference expects it."""
        ref = self.lake.owner_stack or ""
        return ref if "/" in ref else f"{organization}/{self.project}/{ref}"

    def physical_name(self, *parts: str) -> str:
        """A name unique to this project and stack; S3 names also get account and region appended."""
        return "-".join((self.name_prefix, self.stack, *parts))


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


# --------------------------------------------------------------------------------------------
# Problems and their one-line rendering
# --------------------------------------------------------------------------------------------


MAX_SHOWN = 200  # characters of a bad value shown in its error line


@dataclass(frozen=True)
class Problem:
    file: str
    key: str
    value: Any
    message: str
    fix: str

    def __str__(self) -> str:
        shown = "(not set)" if self.value is _MISSING else json.dumps(self.value, default=str)
        if len(shown) > MAX_SHOWN:  # one line stays one readable line, whatever was written
            shown = shown[: MAX_SHOWN - 20] + f"... ({len(shown):,} characters)"
        return f"{self.file}: {self.key} = {shown}: {self.message}; fix: {self.fix}"


class _Missing:
    def __repr__(self) -> str:
        return "(not set)"


_MISSING: Any = _Missing()


class ConfigError(Exception):
    """Raised with every problem found; `str()` is one line per problem."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Source:
    """Where the raw values came from, so messages name the file a user must edit."""

    stack_file: str
    origins: dict[str, str]  # full key ("dataops-platform:lake") -> file that set it

    def file_of(self, full_key: str) -> str:
        return self.origins.get(full_key, self.stack_file)


def _fix_for(err: dict[str, Any], model_fields: list[str]) -> tuple[str, str]:
    """(message, fix) for one pydantic error, phrased for a person editing YAML."""
    kind = err["type"]
    ctx = err.get("ctx", {})
    if kind == "missing":
        return "required and not set", "set it in the stack file or in Pulumi.yaml"
    if kind == "extra_forbidden":
        known = ", ".join(model_fields) or "(none)"
        return "unknown key", f"remove it or correct the spelling; known keys here: {known}"
    if kind == "literal_error":
        return "not an allowed value", f"use one of {ctx.get('expected', '')}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}[
            kind
        ]
        limit = next(iter(ctx.values()), "")
        return "out of range", f"use a value {bound} {limit}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "not a whole number", "write a whole number without quotes, e.g. 30"
    if kind in ("bool_type", "bool_parsing"):
        return "not true or false", "write true or false without quotes"
    if kind in ("string_type",):
        got = err.get("input")
        if isinstance(got, list | dict):
            return f"a {'list' if isinstance(got, list) else 'mapping'} where one text value belongs", (
                "write a single value"
            )
        if isinstance(got, bool | int | float):
            return "not a string", 'quote it, e.g. "1.30" (YAML reads 1.30 as a number)'
        return "not a string", "write it as text"
    if kind == "string_too_short":
        return err["msg"].lower(), f"write at least {ctx.get('min_length', 1)} characters"
    if kind == "string_too_long":
        return err["msg"].lower(), f"shorten it to at most {ctx.get('max_length')} characters"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "not a mapping", "write it as a YAML mapping of keys to values"
    if kind in ("tuple_type", "list_type"):
        return "not a list", "write it as a YAML list, e.g. [a, b]"
    return err["msg"], "see the key's description in components/config.py"


def _model_at(path: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class whose field list applies at `path` (for 'known keys' hints)."""
    model: Any = StackConfig
    for part in path:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = next((f for n, f in model.model_fields.items() if to_camel(n) == part), None)
        if field is None:
            # a dict key (zone name) or list index: descend into the value type
            continue
        model = _inner_model(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    args = getattr(annotation, "__args__", ())
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in args:
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


SECRET_KEYS = ("kubeconfig", "oauthClientSecret")


def _structure_problems(exc: ValidationError, source: Source) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        top = loc[0] if loc else ""
        full_key = f"{PROJECT}:{top}"
        rest = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc[1:])
        parent_model = _model_at(loc[:-1])
        fields = [to_camel(n) for n in parent_model.model_fields] if parent_model else []
        message, fix = _fix_for(err, fields)
        value = _MISSING if err["type"] == "missing" else err.get("input")
        if top in SECRET_KEYS and value is not _MISSING:
            value = "[secret]"
        problems.append(Problem(source.file_of(full_key), full_key + rest, value, message, fix))
    return problems


OFFLINE_SECRET_PLACEHOLDER = "offline-placeholder-secret"  # noqa: S105 - stands in for a value never read


def validate(
    raw: dict[str, Any],
    *,
    project: str,
    stack: str,
    source: Source,
    offline: bool = False,
    secret_keys: Collection[str] = (),
) -> StackConfig:
    """Validate raw Pulumi config (`{"ns:key": value}`, top-level values as the CLI passes them).

    Raises ConfigError listing every problem; returns the typed model otherwise. `offline` (the
    offline plan): secrets a stack needs but has not set yet get a placeholder and a note instead
    of an error, because they are set per deployment with `pulumi config set --secret`.
    `secret_keys`: the full keys whose values were encrypted (`secure:`) in their file.
    """
    problems: list[Problem] = []
    ours: dict[str, Any] = {}
    for full_key, value in raw.items():
        ns, _, key = full_key.partition(":")
        if ns == project and key in SECRET_KEYS and full_key not in secret_keys:
            # The stack files are committed: a secret written there in plain text is in git.
            problems.append(
                Problem(
                    source.file_of(full_key),
                    full_key,
                    "[secret]",
                    "a secret written in plain text in a file that is committed to git",
                    f"remove it, run `pulumi config set --secret {key} <value> --stack {stack}`, "
                    "and rotate it (it is in the history)",
                )
            )
            continue
        if ns == project:
            # Secrets are passed as they are: never parsed, never echoed in a message.
            ours[key] = value if key in SECRET_KEYS else _decode(value)
        elif ns not in PROVIDER_NAMESPACES:
            problems.append(
                Problem(
                    source.file_of(full_key),
                    full_key,
                    _decode(value),
                    f"unknown namespace '{ns}'",
                    f"use {project}:<key> for platform settings, or a provider "
                    f"namespace ({', '.join(PROVIDER_NAMESPACES)})",
                )
            )

    region = str(raw.get("aws:region", ""))
    if not REGION_RE.match(region):
        problems.append(
            Problem(
                source.file_of("aws:region"),
                "aws:region",
                region or _MISSING,
                "not an AWS region",
                "set aws:region, e.g. eu-west-1 (Pulumi.yaml sets it for all stacks)",
            )
        )
    try:
        cfg = StackConfig.model_validate(ours)
    except ValidationError as exc:
        raise ConfigError(problems + _structure_problems(exc, source)) from None
    cfg._project, cfg._stack, cfg._region = project, stack, region
    if (
        offline
        and cfg.environment != "local"
        and cfg.notebooks.enabled
        and cfg.notebooks.authenticator != "dummy"
        and cfg.oauth_client_secret is None
    ):
        cfg = cfg.model_copy(update={"oauth_client_secret": SecretStr(OFFLINE_SECRET_PLACEHOLDER)})
        cfg._project, cfg._stack, cfg._region = project, stack, region
        cfg._notes = [
            f"{source.stack_file}: {project}:oauthClientSecret is not set; the offline plan uses a "
            "placeholder, `pulumi up` needs `pulumi config set --secret oauthClientSecret ...`"
        ]
    from components.config_rules import rule_problems  # the rules build on the models above

    problems += rule_problems(cfg, source)
    if problems:
        raise ConfigError(problems)
    return cfg


def _decode(value: Any) -> Any:
    """The CLI hands structured values to programs as JSON text; scalars stay as they are."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def load_stack_config() -> StackConfig:
    """Read and validate this stack's config inside a Pulumi program run.

    On bad config raises `pulumi.RunError`, which the CLI prints without a traceback.
    """
    import pulumi
    from pulumi.runtime import config as runtime_config

    # The SDK exposes single keys only; the full map is what the CLI handed the program
    # (including Pulumi.yaml defaults), which is what unknown-key detection needs.
    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    stack = pulumi.get_stack()
    try:
        return validate(
            raw,
            project=pulumi.get_project(),
            stack=stack,
            source=Source(stack_file=f"Pulumi.{stack}.yaml", origins={}),
            secret_keys=[k for k in raw if runtime_config.is_config_secret(k)],
        )
    except ConfigError as exc:
        raise pulumi.RunError(f"invalid configuration for stack '{stack}':\n{exc}") from None
