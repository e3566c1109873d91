"""The workloads' sections of the config: the notebook image, the JupyterHub service and its
profiles, the Docker-only `local` stack, and sandboxes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from components.config.base import _Strict, per_environment


class ImageConfig(_Strict):
    digest: str | None = Field(
        default=None,
        description="Promoted image digest (sha256:...): reference it, build nothing.",
        json_schema_extra=per_environment("test, prod: required"),
    )
    repository: str | None = Field(
        default=None,
        description="Where a promoted digest lives: an ECR repository name here, or registry/repo.",
    )
    keep_last: int = Field(default=30, ge=1, le=1000, description="Images the ECR lifecycle policy keeps.")
    platform: Literal["linux/amd64", "linux/arm64"] = Field(
        default="linux/amd64", description="Platform the image is built for."
    )


class ProfileConfig(_Strict):
    name: str = Field(description="Profile name shown to users, e.g. small.")
    cpu_guarantee: float = Field(ge=0.1, le=128, description="CPU cores reserved for the server.")
    cpu_limit: float = Field(ge=0.1, le=128, description="CPU cores the server may burst to.")
    mem_guarantee: str = Field(description="Memory reserved, e.g. 4G.")
    mem_limit: str = Field(description="Memory limit, e.g. 8G.")
    gpus: int = Field(default=0, ge=0, le=8, description="NVIDIA GPUs (only where notebooks.gpu is on).")
    default: bool = Field(default=False, description="Preselected profile.")


def _default_profiles() -> list[ProfileConfig]:
    return [
        ProfileConfig.model_validate(
            {
                "name": "small",
                "cpuGuarantee": 0.5,
                "cpuLimit": 2,
                "memGuarantee": "2G",
                "memLimit": "4G",
                "default": True,
            }
        ),
        ProfileConfig.model_validate(
            {"name": "large", "cpuGuarantee": 2, "cpuLimit": 4, "memGuarantee": "12G", "memLimit": "16G"}
        ),
    ]


class OAuthConfig(_Strict):
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


# What a Dask cluster's scheduler gets (components/dask_gateway.py); the per-user caps must leave
# room for it beside the largest worker.
DASK_SCHEDULER_CORES = 1
DASK_SCHEDULER_MEMORY_GIB = 2


class DaskConfig(_Strict):
    enabled: bool = Field(
        default=True,
        description="Dask Gateway beside the hub: users start Dask clusters from their notebooks "
        "(cloud stacks; the local stack and sandboxes use a LocalCluster).",
    )
    worker_cores: float = Field(
        default=1, ge=0.25, le=64, description="Cores of a worker unless the user asks."
    )
    worker_cores_max: float = Field(
        default=4, ge=0.25, le=64, description="Most cores a user may give a worker."
    )
    worker_memory_gib: float = Field(
        default=4, ge=0.5, le=512, description="Memory of a worker (GiB) unless the user asks."
    )
    worker_memory_gib_max: float = Field(
        default=16, ge=0.5, le=512, description="Most memory a user may give a worker (GiB)."
    )
    max_clusters_per_user: int = Field(
        default=2, ge=1, le=20, description="Clusters one user may run at once."
    )
    max_cores_per_user: float = Field(
        default=16,
        ge=1,
        le=4096,
        description="Cores one user's clusters may use together, schedulers included (each cluster "
        "gets this divided by maxClustersPerUser).",
    )
    max_memory_gib_per_user: float = Field(
        default=64,
        ge=1,
        le=16384,
        description="Memory one user's clusters may use together (GiB), schedulers included.",
    )
    idle_timeout_minutes: int = Field(
        default=30, ge=5, le=1440, description="Shut a cluster down after this long without work."
    )


class NotebooksConfig(_Strict):
    enabled: bool = Field(default=True, description="Run the JupyterHub notebook service on the cluster.")
    authenticator: Literal["github", "generic-oauth", "dummy"] = Field(
        default="github",
        description="How users log in.",
        json_schema_extra=per_environment("dummy: sandboxes only"),
    )
    oauth: OAuthConfig | None = Field(
        default=None, description="OAuth app settings (github / generic-oauth)."
    )
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
        json_schema_extra=per_environment("prod, internet-facing: set, and not 0.0.0.0/0"),
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
    profiles: list[ProfileConfig] = Field(
        default_factory=_default_profiles, description="Server sizes users choose."
    )
    dask: DaskConfig = Field(
        default_factory=DaskConfig, description="Dask clusters on demand from the notebooks."
    )


class LocalConfig(_Strict):
    notebook_port: int = Field(default=8888, ge=1024, le=65535, description="JupyterLab port on 127.0.0.1.")
    lake_port: int = Field(
        default=4566, ge=1024, le=65535, description="Local S3 endpoint port on 127.0.0.1."
    )
    remove_data_on_destroy: bool = Field(
        default=False, description="Let `pulumi destroy` delete the local lake and home volumes too."
    )


class SandboxConfig(_Strict):
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
