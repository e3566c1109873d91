"""The stack configuration model: every setting the program reads, with its safe default.

A stack file (`Pulumi.<stack>.yaml`) sets only what differs for its environment; shared values
live in `Pulumi.yaml`. Validation happens in two passes, both before any resource is declared:
the shape (unknown keys, types, ranges) and then the cross-field rules that refuse unsafe
combinations. Every problem becomes one line naming the file, the key, the bad value and the fix.
"""

from __future__ import annotations

import ipaddress
import json
import re
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


class Network(_Strict):
    vpc_cidr: str = Field(default="10.40.0.0/16", description="VPC address range (private, /16 to /20).")
    availability_zones: int = Field(default=2, ge=2, le=3, description="AZs the subnets span (prod: 3).")
    nat_gateways: Literal["single", "perAz"] = Field(
        default="single", description="One shared NAT gateway, or one per AZ (prod)."
    )
    service_cidr: str | None = Field(
        default=None, description="Kubernetes service range (private, not overlapping the VPC)."
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


class Cluster(_Strict):
    mode: Literal["eks", "existing"] = Field(
        default="eks", description="`eks` creates the cluster; `existing` adopts one the organisation runs."
    )
    kubernetes_version: str = Field(default="1.35", description="Kubernetes minor version of the cluster.")
    admin_roles: list[str] = Field(
        default_factory=list, description="IAM roles (names or ARNs) given cluster-admin access entries."
    )
    public_access_cidrs: list[str] = Field(
        default_factory=list,
        description="CIDRs that may reach the API endpoint from the internet; empty: private only.",
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
        description="Node group for user notebook pods (tainted for them only).",
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
        default=None, description="Public hostname of the hub (enables the ingress)."
    )
    ingress_class: str = Field(default="alb", description="IngressClass serving the hostname.")
    tls_secret: str | None = Field(
        default=None, description="TLS certificate secret for the hostname (none: terminated by the class)."
    )
    expose_load_balancer: bool = Field(
        default=False, description="Expose the hub's proxy as a LoadBalancer service (not recommended)."
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
        }

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


# --------------------------------------------------------------------------------------------
# Problems and their one-line rendering
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    file: str
    key: str
    value: Any
    message: str
    fix: str

    def __str__(self) -> str:
        shown = "(not set)" if self.value is _MISSING else json.dumps(self.value, default=str)
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
        return "not a string", 'quote it, e.g. "1.30" (YAML reads 1.30 as a number)'
    if kind in ("string_too_short", "string_too_long"):
        return err["msg"].lower(), "shorten or lengthen the value accordingly"
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


def _rule_problems(cfg: StackConfig, source: Source) -> list[Problem]:
    """Cross-field rules: combinations that are each valid alone but unsafe together."""
    out: list[Problem] = []

    def add(key: str, value: Any, message: str, fix: str) -> None:
        full = f"{PROJECT}:{key}"
        out.append(Problem(source.file_of(full.split(".")[0]), full, value, message, fix))

    env, stack = cfg.environment, cfg.stack

    if env == "prod" and not cfg.deletion_protection:
        add(
            "deletionProtection",
            False,
            "prod must protect its data and keys",
            "set dataops-platform:deletionProtection to true",
        )

    if env == "sandbox" and not stack.startswith("sandbox-"):
        add(
            "environment",
            env,
            f"stack '{stack}' is not named sandbox-<name>",
            "name sandbox stacks sandbox-<name>, or choose another environment",
        )
    if stack.startswith("sandbox-") and env != "sandbox":
        add("environment", env, f"stack '{stack}' is named like a sandbox", "set environment to sandbox")

    lake = cfg.lake
    if lake.role == "owner":
        if env == "sandbox":
            add(
                "lake.role",
                "owner",
                "a sandbox never owns the lake",
                "set lake.role to consumer and lake.ownerStack to the owner stack",
            )
        if lake.owner_stack is not None:
            add(
                "lake.ownerStack",
                lake.owner_stack,
                "only consumers name an owner stack",
                "remove lake.ownerStack, or set lake.role to consumer",
            )
        for zone in cfg.zones:
            if not NAME_RE.match(zone) or len(zone) > 16:
                add(
                    f"lake.zones.{zone}",
                    zone,
                    "zone names become bucket names",
                    "use 2-16 lowercase letters, digits and hyphens, starting with a letter",
                )
        if lake.zones is not None and not lake.zones:
            add("lake.zones", {}, "an owner lake needs at least one zone", "list zones such as raw, curated")
        if lake.object_lock is not None and not cfg.deletion_protection:
            add(
                "lake.objectLock",
                lake.object_lock.model_dump(by_alias=True),
                "object-lock retention on a stack that allows teardown would block its destroy",
                "set deletionProtection to true, or remove lake.objectLock",
            )
    else:
        if not lake.owner_stack:
            add(
                "lake.ownerStack",
                _MISSING,
                "a consumer must name the stack that owns the lake",
                "set lake.ownerStack, e.g. prod",
            )
        elif lake.owner_stack.split("/")[-1] == stack:
            add(
                "lake.ownerStack",
                lake.owner_stack,
                "a stack cannot consume its own lake",
                "set lake.role to owner, or name another stack",
            )
        owner_only = {"zones": lake.zones, "objectLock": lake.object_lock}
        for key, value in owner_only.items():
            if value is not None:
                add(
                    f"lake.{key}",
                    "(set)",
                    "only the owner stack configures the lake's buckets",
                    f"move lake.{key} to the owner stack's file",
                )
        if cfg.access.write:
            add(
                "access.write",
                list(cfg.access.write),
                "consumers never write into the shared lake; experiments go to their workspace",
                "remove access.write (the workspace bucket is writable)",
            )

    known_zones = set(cfg.zones)
    for kind in ("read", "write"):
        for zone in getattr(cfg.access, kind):
            if zone not in known_zones:
                add(
                    f"access.{kind}",
                    zone,
                    "not a zone of the lake",
                    f"use one of {', '.join(sorted(known_zones))}",
                )
    for arn in cfg.access.trusted_principals:
        if not ROLE_ARN_RE.match(arn):
            add(
                "access.trustedPrincipals",
                arn,
                "not an IAM role ARN",
                "use arn:aws:iam::<12-digit account>:role/<name>",
            )

    ws = cfg.workspace
    if ws.force_destroy and env != "sandbox":
        add(
            "workspace.forceDestroy",
            True,
            "only sandbox scratch storage may be force-destroyed",
            "remove workspace.forceDestroy (or use a sandbox-<name> stack)",
        )
    if ws.force_destroy and cfg.deletion_protection:
        add(
            "workspace.forceDestroy",
            True,
            "contradicts deletionProtection: true",
            "set deletionProtection to false for this sandbox, or remove workspace.forceDestroy",
        )

    for name, zone in cfg.zones.items():
        previous = -1
        for i, t in enumerate(zone.transitions):
            key = f"lake.zones.{name}.transitions[{i}].days"
            if t.days <= previous:
                add(
                    key,
                    t.days,
                    "transitions must be in increasing order of days",
                    "sort the transitions by days, each later than the one before",
                )
            if t.storage_class in ("STANDARD_IA", "ONEZONE_IA") and t.days < MIN_DAYS_BEFORE_IA:
                add(
                    key,
                    t.days,
                    f"S3 moves objects to {t.storage_class} only after {MIN_DAYS_BEFORE_IA} days",
                    f"use {MIN_DAYS_BEFORE_IA} or more",
                )
            previous = t.days

    if not NAME_RE.match(cfg.name_prefix):
        add(
            "namePrefix",
            cfg.name_prefix,
            "names must be valid S3 bucket names",
            "use lowercase letters, digits and hyphens, starting with a letter",
        )
    if not NAME_RE.match(stack) or len(stack) > 24:
        out.append(
            Problem(
                source.stack_file,
                "(stack name)",
                stack,
                "stack names become part of bucket names",
                "use at most 24 lowercase letters, digits and hyphens",
            )
        )
    # S3 bucket names are at most 63 characters: prefix-stack-zone-account-region.
    longest = max([*cfg.zones, "workspace", "access-logs"], key=len)
    length = len(cfg.physical_name(longest)) + 1 + ACCOUNT_ID_LEN + 1 + len(cfg.region)
    if length > 63:
        add(
            "namePrefix",
            cfg.name_prefix,
            f"bucket names would be {length} characters, S3 allows 63",
            f"shorten namePrefix, the stack name or the zone '{longest}' by {length - 63}",
        )

    reserved = set(MANDATORY_TAG_KEYS)
    for key, value in cfg.tags.items():
        if key in reserved or key.lower().startswith("aws:"):
            add(
                f"tags.{key}",
                value,
                "this tag is set by the platform and cannot be overridden",
                "remove it from tags (set owner, costCenter or dataClassification instead)",
            )
        elif len(key) > 128 or len(value) > 256:
            add(
                f"tags.{key}", value, "AWS allows keys of 128 and values of 256 characters", "shorten the tag"
            )
    _local_rules(cfg, add)
    _notebook_rules(cfg, add)
    _cluster_rules(cfg, add)
    _image_rules(cfg, add)
    return out


PRIVATE_RANGES = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def _network(value: str, key: str, add: Any) -> ipaddress.IPv4Network | None:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError:
        add(key, value, "not a CIDR block", "write it as a network address and prefix, e.g. 10.40.0.0/16")
        return None
    if not isinstance(net, ipaddress.IPv4Network):
        add(key, value, "IPv6 is not supported here", "use an IPv4 CIDR block")
        return None
    return net


def _local_rules(cfg: StackConfig, add: Any) -> None:
    if cfg.environment != "local":
        return
    if cfg.lake.role != "owner":
        add(
            "lake.role",
            cfg.lake.role,
            "the local stack owns its own lake on the local endpoint",
            "set lake.role to owner",
        )
    if cfg.image.digest is not None:
        add(
            "image.digest",
            cfg.image.digest,
            "the local stack builds the image from images/notebook",
            "remove image.digest",
        )
    if cfg.local.notebook_port == cfg.local.lake_port:
        add(
            "local.lakePort",
            cfg.local.lake_port,
            "the notebook already uses this port",
            "choose another port",
        )


QUANTITY_RE = re.compile(r"^\d+(\.\d+)?[KMGT]i?$")
CPU_RE = re.compile(r"^\d+(\.\d+)?m?$")
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
UNITS = {"K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def size_in_bytes(quantity: str) -> float:
    number = re.match(r"^\d+(\.\d+)?", quantity)
    assert number is not None  # callers check QUANTITY_RE first
    return float(number.group(0)) * UNITS[quantity[number.end() :]]


HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _notebook_rules(cfg: StackConfig, add: Any) -> None:
    if cfg.environment == "local" or not cfg.notebooks.enabled:
        return
    nb = cfg.notebooks
    if nb.authenticator == "dummy" and cfg.environment != "sandbox":
        add(
            "notebooks.authenticator",
            "dummy",
            f"anyone could log in to the {cfg.environment} hub",
            "use github or generic-oauth (dummy is for local and sandboxes only)",
        )
    if nb.authenticator in ("github", "generic-oauth"):
        if nb.oauth is None:
            add(
                "notebooks.oauth",
                _MISSING,
                f"{nb.authenticator} login needs the OAuth app",
                "set notebooks.oauth.clientId (and the secret oauthClientSecret)",
            )
        if cfg.oauth_client_secret is None:
            add(
                "oauthClientSecret",
                _MISSING,
                "the OAuth client secret is missing",
                "pulumi config set --secret oauthClientSecret <secret>",
            )
    if nb.oauth is not None and nb.authenticator == "generic-oauth":
        for key in ("authorize_url", "token_url", "userdata_url"):
            value = getattr(nb.oauth, key)
            if not value or not value.startswith("https://"):
                add(
                    f"notebooks.oauth.{to_camel(key)}",
                    value or _MISSING,
                    "the IdP endpoint must be an https URL",
                    "copy it from your IdP's OpenID configuration",
                )
    if nb.oauth is not None and nb.authenticator == "github" and not nb.oauth.allowed_organizations:
        add(
            "notebooks.oauth.allowedOrganizations",
            [],
            "every GitHub user could log in",
            "list the organisations (or org:team) whose members may use the hub",
        )
    if nb.expose_load_balancer and cfg.environment == "prod":
        add(
            "notebooks.exposeLoadBalancer",
            True,
            "prod's hub is reached through its TLS ingress only",
            "remove notebooks.exposeLoadBalancer and set notebooks.hostname",
        )
    if nb.hostname is not None and not HOSTNAME_RE.match(nb.hostname):
        add("notebooks.hostname", nb.hostname, "not a DNS hostname", "use e.g. notebooks.example.com")
    if nb.authenticator != "dummy" and nb.hostname is None:
        add(
            "notebooks.hostname",
            _MISSING,
            "OAuth needs the hub's public address for its callback",
            "set notebooks.hostname",
        )
    if not nb.profiles:
        add("notebooks.profiles", [], "users need at least one server size", "list at least one profile")
    names = [p.name for p in nb.profiles]
    for i, p in enumerate(nb.profiles):
        key = f"notebooks.profiles[{i}]"
        if not DNS_LABEL_RE.match(p.name) or names.count(p.name) > 1:
            add(f"{key}.name", p.name, "profile names must be unique DNS labels", "use e.g. small, large")
        if p.cpu_guarantee > p.cpu_limit:
            add(
                f"{key}.cpuGuarantee",
                p.cpu_guarantee,
                "the guarantee exceeds the limit",
                "make cpuGuarantee <= cpuLimit",
            )
        for field_name in ("mem_guarantee", "mem_limit"):
            if not QUANTITY_RE.match(getattr(p, field_name)):
                add(
                    f"{key}.{to_camel(field_name)}",
                    getattr(p, field_name),
                    "not a memory size",
                    "write it like 4G or 4Gi",
                )
        if all(QUANTITY_RE.match(v) for v in (p.mem_guarantee, p.mem_limit)) and size_in_bytes(
            p.mem_guarantee
        ) > size_in_bytes(p.mem_limit):
            add(
                f"{key}.memGuarantee",
                p.mem_guarantee,
                f"exceeds the limit {p.mem_limit}",
                "make memGuarantee <= memLimit",
            )
        if p.gpus and not nb.gpu:
            add(
                f"{key}.gpus",
                p.gpus,
                "GPU profiles are off for this stack",
                "set notebooks.gpu to true (and add a GPU node group), or remove gpus",
            )
    if sum(p.default for p in nb.profiles) > 1:
        add("notebooks.profiles", names, "more than one default profile", "mark one profile default")
    if not QUANTITY_RE.match(nb.home_size):
        add("notebooks.homeSize", nb.home_size, "not a storage size", "write it like 10Gi")


def _cluster_rules(cfg: StackConfig, add: Any) -> None:
    c = cfg.cluster
    if cfg.environment == "local":
        return
    if c.kubernetes_version not in KUBERNETES_VERSIONS:
        add(
            "cluster.kubernetesVersion",
            c.kubernetes_version,
            "not a Kubernetes version EKS supports",
            f"use one of {', '.join(KUBERNETES_VERSIONS)}",
        )
    for team in cfg.teams:
        if not DNS_LABEL_RE.match(team.name) or team.name in ("default", "kube-system", cfg.hub_namespace):
            add(
                "teams",
                team.name,
                "team names become namespace names",
                "use a DNS label (lowercase letters, digits, hyphens) that is not a system namespace",
            )
    names = [t.name for t in cfg.teams]
    for name in sorted({n for n in names if names.count(n) > 1}):
        add("teams", name, "listed twice", "list each team once")
    if not DNS_LABEL_RE.match(cfg.hub_namespace) or cfg.hub_namespace in SYSTEM_NAMESPACES:
        add(
            "hubNamespace",
            cfg.hub_namespace,
            "not a DNS label, or a system namespace",
            "use lowercase letters, digits and hyphens, e.g. jupyterhub",
        )
    for i, team in enumerate(cfg.teams):
        q = team.quota
        for key in ("cpu", "default_cpu"):
            if not CPU_RE.match(getattr(q, key)):
                add(
                    f"teams[{i}].quota.{to_camel(key)}",
                    getattr(q, key),
                    "not a CPU quantity",
                    'write cores or millicores, e.g. "4" or "500m"',
                )
        for key in ("memory", "storage", "default_memory"):
            if not QUANTITY_RE.match(getattr(q, key)):
                add(
                    f"teams[{i}].quota.{to_camel(key)}", getattr(q, key), "not a size", 'write it like "64Gi"'
                )

    if c.mode == "existing":
        if cfg.kubeconfig is None and (c.existing is None or c.existing.context is None):
            add(
                "cluster.existing",
                _MISSING,
                "an existing cluster needs a way in",
                "set cluster.existing.context, or `pulumi config set --secret kubeconfig < file`",
            )
        if (
            c.existing is not None
            and c.existing.oidc_provider_arn is not None
            and not re.match(r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/.+$", c.existing.oidc_provider_arn)
        ):
            add(
                "cluster.existing.oidcProviderArn",
                c.existing.oidc_provider_arn,
                "not an IAM OIDC provider ARN",
                "copy it from `aws iam list-open-id-connect-providers`",
            )
        return
    if cfg.kubeconfig is not None or c.existing is not None:
        add(
            "cluster.mode",
            "eks",
            "kubeconfig / cluster.existing apply only to existing clusters",
            "set cluster.mode to existing, or remove them",
        )
    if not c.admin_roles:
        add(
            "cluster.adminRoles",
            [],
            "nobody could administer the cluster",
            "list at least one IAM role (name or ARN) for cluster-admin access",
        )
    for role in c.admin_roles:
        if not (re.match(r"^[\w+=,.@-]{1,64}$", role) or ROLE_ARN_RE.match(role)):
            add("cluster.adminRoles", role, "not an IAM role name or ARN", "use e.g. platform-admin")

    net = c.network
    vpc = _network(net.vpc_cidr, "cluster.network.vpcCidr", add)
    if vpc is not None:
        if not any(vpc.subnet_of(r) for r in PRIVATE_RANGES):
            add(
                "cluster.network.vpcCidr",
                net.vpc_cidr,
                "not a private (RFC 1918) range",
                "use a range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16",
            )
        if not 16 <= vpc.prefixlen <= 20:
            add(
                "cluster.network.vpcCidr",
                net.vpc_cidr,
                "the VPC must be between /16 and /20",
                "use a /16 to /20 range (subnets are carved from it per AZ)",
            )
    if net.service_cidr is not None:
        svc = _network(net.service_cidr, "cluster.network.serviceCidr", add)
        if svc is not None and not any(svc.subnet_of(r) for r in PRIVATE_RANGES):
            add(
                "cluster.network.serviceCidr",
                net.service_cidr,
                "not a private (RFC 1918) range",
                "use e.g. 172.20.0.0/16",
            )
        elif svc is not None and vpc is not None and svc.overlaps(vpc):
            add(
                "cluster.network.serviceCidr",
                net.service_cidr,
                f"overlaps the VPC range {vpc}",
                "choose a range outside the VPC, e.g. 172.20.0.0/16",
            )
    public: list[ipaddress.IPv4Network] = []
    for cidr in c.public_access_cidrs:
        block = _network(cidr, "cluster.publicAccessCidrs", add)
        if block is None:
            continue
        if block.prefixlen == 0:
            add(
                "cluster.publicAccessCidrs",
                cidr,
                "opens the API endpoint to the whole internet",
                "list your office or VPN ranges instead",
            )
        elif any(block.subnet_of(r) for r in PRIVATE_RANGES):
            add(
                "cluster.publicAccessCidrs",
                cidr,
                "a private range never reaches the public endpoint",
                "list public ranges; private clients use the private endpoint",
            )
        for other in public:
            if block.overlaps(other):
                add("cluster.publicAccessCidrs", cidr, f"overlaps {other}", "merge or remove one of them")
        public.append(block)

    for key, group in (("systemNodes", c.system_nodes), ("notebookNodes", c.notebook_nodes)):
        if not group.min_size <= group.desired_size <= group.max_size:
            add(
                f"cluster.{key}",
                group.model_dump(by_alias=True, include={"min_size", "desired_size", "max_size"}),
                "sizes must satisfy minSize <= desiredSize <= maxSize",
                "adjust the three sizes",
            )
        if not group.instance_types:
            add(f"cluster.{key}.instanceTypes", [], "no instance type", "list at least one, e.g. m6i.large")
    if c.system_nodes.min_size < 1:
        add(
            "cluster.systemNodes.minSize",
            c.system_nodes.min_size,
            "add-ons need at least one system node",
            "set minSize to 1 or more",
        )

    if cfg.environment == "prod":
        if c.public_access_cidrs:
            add(
                "cluster.publicAccessCidrs",
                c.public_access_cidrs,
                "prod's API endpoint is private only",
                "remove cluster.publicAccessCidrs (reach prod through the VPC or a bastion)",
            )
        if net.availability_zones != 3:
            add(
                "cluster.network.availabilityZones",
                net.availability_zones,
                "prod spans three AZs",
                "set it to 3",
            )
        if net.nat_gateways != "perAz":
            add(
                "cluster.network.natGateways",
                net.nat_gateways,
                "prod keeps egress up when one AZ fails",
                "set it to perAz",
            )
        if sorted(c.log_types) != sorted(CONTROL_PLANE_LOGS):
            add(
                "cluster.logTypes",
                c.log_types,
                "prod records every control-plane log type",
                "remove cluster.logTypes (the default is all of them)",
            )


def _image_rules(cfg: StackConfig, add: Any) -> None:
    img = cfg.image
    if img.digest is not None and not DIGEST_RE.match(img.digest):
        add(
            "image.digest",
            img.digest,
            "not an immutable digest (a tag such as 'latest' can change under you)",
            "use the sha256:<64 hex> digest printed by `pulumi stack output image --stack dev`",
        )
    if img.repository is not None:
        last = img.repository.rsplit("/", 1)[-1]
        if "@" in img.repository or ":" in last or not REPOSITORY_RE.match(img.repository):
            add(
                "image.repository",
                img.repository,
                "a repository without tag or digest is expected",
                "put the repository here (e.g. dataops-notebook) and the digest in image.digest",
            )
    if cfg.environment in ("test", "prod") and img.digest is None:
        add(
            "image.digest",
            _MISSING,
            f"{cfg.environment} runs only promoted images, never a fresh build",
            "set image.digest to the digest tested in the previous environment",
        )
    if img.digest is None and img.repository is not None:
        add(
            "image.repository",
            img.repository,
            "only applies to a promoted digest",
            "set image.digest, or remove image.repository to build the image in this stack",
        )


OFFLINE_SECRET_PLACEHOLDER = "offline-placeholder-secret"  # noqa: S105 - stands in for a value never read


def validate(
    raw: dict[str, Any], *, project: str, stack: str, source: Source, offline: bool = False
) -> StackConfig:
    """Validate raw Pulumi config (`{"ns:key": value}`, top-level values as the CLI passes them).

    Raises ConfigError listing every problem; returns the typed model otherwise. `offline` (the
    offline plan): secrets a stack needs but has not set yet get a placeholder and a note instead
    of an error, because they are set per deployment with `pulumi config set --secret`.
    """
    problems: list[Problem] = []
    ours: dict[str, Any] = {}
    for full_key, value in raw.items():
        ns, _, key = full_key.partition(":")
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
        and cfg.notebooks.authenticator != "dummy"
        and cfg.oauth_client_secret is None
    ):
        cfg = cfg.model_copy(update={"oauth_client_secret": SecretStr(OFFLINE_SECRET_PLACEHOLDER)})
        cfg._project, cfg._stack, cfg._region = project, stack, region
        cfg._notes = [
            f"{source.stack_file}: {project}:oauthClientSecret is not set; the offline plan uses a "
            "placeholder, `pulumi up` needs `pulumi config set --secret oauthClientSecret ...`"
        ]
    problems += _rule_problems(cfg, source)
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
        )
    except ConfigError as exc:
        raise pulumi.RunError(f"invalid configuration for stack '{stack}':\n{exc}") from None
