"""StackConfig: everything one stack of the program reads, with what depends on its environment."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr
from pydantic.alias_generators import to_camel

from components.config.base import DEFAULT_ZONES, PROJECT, Classification, Environment, per_environment
from components.config.cluster import CiConfig, ClusterConfig, TeamConfig
from components.config.datasets import DatasetConfig
from components.config.lake import AccessConfig, LakeConfig, WorkspaceConfig, ZoneConfig
from components.config.workloads import ImageConfig, LocalConfig, NotebooksConfig, SandboxConfig


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
        default=True,
        description="Protect and retain this stack's stateful resources.",
        json_schema_extra=per_environment("prod: true"),
    )
    tags: dict[str, str] = Field(default_factory=dict, description="Extra tags on every resource.")
    lake: LakeConfig = Field(
        default_factory=LakeConfig, description="The governed data lake: owned or consumed."
    )
    access: AccessConfig = Field(default_factory=AccessConfig, description="The environment's workload role.")
    workspace: WorkspaceConfig = Field(
        default_factory=WorkspaceConfig, description="The environment's writable bucket."
    )
    cluster: ClusterConfig = Field(
        default_factory=ClusterConfig, description="The Kubernetes cluster: created or adopted."
    )
    kubeconfig: SecretStr | None = Field(
        default=None, description="`existing` clusters: kubeconfig, set with `pulumi config set --secret`."
    )
    teams: list[TeamConfig] = Field(
        default_factory=lambda: [TeamConfig(name="data-science")],
        description="Team namespaces on the cluster.",
    )
    image: ImageConfig = Field(
        default_factory=ImageConfig, description="The notebook image: built here or promoted."
    )
    hub_namespace: str = Field(default="jupyterhub", description="Namespace of the notebook hub.")
    local: LocalConfig = Field(default_factory=LocalConfig, description="The Docker-only `local` stack.")
    notebooks: NotebooksConfig = Field(
        default_factory=NotebooksConfig, description="The JupyterHub notebook service."
    )
    oauth_client_secret: SecretStr | None = Field(
        default=None, description="OAuth client secret: `pulumi config set --secret oauthClientSecret ...`."
    )
    sandbox: SandboxConfig | None = Field(
        default=None, description="Sandbox stacks: host stack, lifetime and notebook size (see sandboxes/)."
    )
    ci: CiConfig = Field(
        default_factory=CiConfig, description="The CI that deploys the stacks: repository, runner, roles."
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
    def zones(self) -> dict[str, ZoneConfig]:
        """The owner's zones: as configured, or the default ones (a consumer reads the owner's)."""
        if self.lake.zones is not None:
            return dict(self.lake.zones)
        return {name: ZoneConfig() for name in DEFAULT_ZONES}

    @property
    def datasets(self) -> list[DatasetConfig]:
        """The datasets the lake owner declares (none on a consumer: it reads the owner's)."""
        return list(self.lake.datasets or []) if self.lake.role == "owner" else []

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
    def log_retention_days(self) -> int:
        """Days the cluster's and the runner's logs are kept: `cluster.logRetentionDays`, by
        default a year in prod (audit trail) and 90 days elsewhere."""
        configured = self.cluster.log_retention_days
        if configured is not None:
            return configured
        return 365 if self.environment == "prod" else 90

    @property
    def runs_dask_gateway(self) -> bool:
        """Cloud stacks with notebooks get Dask Gateway beside the hub unless turned off; the
        local stack and sandboxes start a LocalCluster in the notebook instead."""
        return (
            self.environment in ("dev", "test", "prod")
            and self.notebooks.enabled
            and self.notebooks.dask.enabled
        )

    @property
    def runs_runner(self) -> bool:
        """An eks cluster gets its in-VPC runner unless `ci.runner.enabled` is false."""
        return (
            self.environment in ("dev", "test", "prod")
            and self.cluster.mode == "eks"
            and self.ci.runner.enabled
        )

    def hub_team(self) -> TeamConfig:
        """The hub's namespace, set up like a team namespace (user servers run there)."""
        return TeamConfig.model_validate({"name": self.hub_namespace})

    def workload_teams(self) -> list[TeamConfig]:
        """The namespaces workloads run in: each team's, and the hub's where notebooks run."""
        return [*self.teams, *([self.hub_team()] if self.notebooks.enabled else [])]

    def workload_namespaces(self) -> list[str]:
        return [team.name for team in self.workload_teams()]

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
