"""The stack configuration: every setting the program reads, its safe default, and the checks
that refuse unsafe or impossible combinations with one line per problem.

A stack file (`Pulumi.<stack>.yaml`) sets only what differs for its environment; shared values
live in `Pulumi.yaml`. Where things are:
- base.py       names, patterns and tags every part shares
- lake.py (and datasets.py), cluster.py, workloads.py   the sections (`…Config` models),
                each setting with its default and description; stack.py: StackConfig, which
                joins them and holds what depends on the environment
- errors.py     a problem's one-line form, and pydantic's errors phrased for a person
- loading.py    `validate` (offline tooling) and `load_stack_config` (a program run)
- rules/        the cross-field rules, one module per part of the platform
- units.py      Kubernetes quantities and times
Generated reference: docs/configuration.md (`python -m dataops docs`).
"""

from components.config.base import (
    ACCOUNT_ID_LEN,
    CONTROL_PLANE_LOGS,
    DEFAULT_ZONES,
    DIGEST_RE,
    DNS_LABEL_RE,
    INTERFACE_SERVICES,
    KUBERNETES_VERSIONS,
    MANDATORY_TAG_KEYS,
    NAME_RE,
    PRIVATE_CIDRS,
    PROJECT,
    REGION_RE,
    ROLE_ARN_RE,
    SANDBOX_TAG_KEYS,
    SECRET_KEYS,
)
from components.config.cluster import (
    CiConfig,
    ClusterConfig,
    ExistingClusterConfig,
    ExistingNetworkConfig,
    NetworkConfig,
    NodeGroupConfig,
    QuotaConfig,
    RunnerConfig,
    TeamConfig,
)
from components.config.datasets import ColumnConfig, DatasetConfig, PartitionKeyConfig, RuleConfig
from components.config.errors import MISSING, ConfigError, Problem, Source
from components.config.lake import (
    AccessConfig,
    LakeConfig,
    ObjectLockConfig,
    TransitionConfig,
    WorkspaceConfig,
    ZoneConfig,
)
from components.config.loading import OFFLINE_SECRET_PLACEHOLDER, load_stack_config, validate
from components.config.stack import StackConfig
from components.config.units import cpu_cores, memory_gib, parse_time
from components.config.workloads import (
    DaskConfig,
    ImageConfig,
    LocalConfig,
    NotebooksConfig,
    OAuthConfig,
    ProfileConfig,
    SandboxConfig,
)

__all__ = [
    "ACCOUNT_ID_LEN",
    "CONTROL_PLANE_LOGS",
    "DEFAULT_ZONES",
    "DIGEST_RE",
    "DNS_LABEL_RE",
    "INTERFACE_SERVICES",
    "KUBERNETES_VERSIONS",
    "MANDATORY_TAG_KEYS",
    "MISSING",
    "NAME_RE",
    "OFFLINE_SECRET_PLACEHOLDER",
    "PRIVATE_CIDRS",
    "PROJECT",
    "REGION_RE",
    "ROLE_ARN_RE",
    "SANDBOX_TAG_KEYS",
    "SECRET_KEYS",
    "AccessConfig",
    "CiConfig",
    "ClusterConfig",
    "ColumnConfig",
    "ConfigError",
    "DaskConfig",
    "DatasetConfig",
    "ExistingClusterConfig",
    "ExistingNetworkConfig",
    "ImageConfig",
    "LakeConfig",
    "LocalConfig",
    "NetworkConfig",
    "NodeGroupConfig",
    "NotebooksConfig",
    "OAuthConfig",
    "ObjectLockConfig",
    "PartitionKeyConfig",
    "Problem",
    "ProfileConfig",
    "QuotaConfig",
    "RuleConfig",
    "RunnerConfig",
    "SandboxConfig",
    "Source",
    "StackConfig",
    "TeamConfig",
    "TransitionConfig",
    "WorkspaceConfig",
    "ZoneConfig",
    "cpu_cores",
    "load_stack_config",
    "memory_gib",
    "parse_time",
    "validate",
]
