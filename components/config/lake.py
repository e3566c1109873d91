"""The lake's sections of the config: zones, their lifecycle, object lock, the declared datasets
(datasets.py), the environment's access to the lake and its own workspace."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from components.config.base import Classification, StorageClass, _Strict
from components.config.datasets import DatasetConfig


class TransitionConfig(_Strict):
    days: int = Field(ge=0, le=36500, description="Age in days at which objects move to `storageClass`.")
    storage_class: StorageClass = Field(description="Target S3 storage class.")


class ZoneConfig(_Strict):
    data_classification: Classification | None = Field(
        default=None, description="Overrides the stack's classification for this zone's data."
    )
    transitions: list[TransitionConfig] = Field(
        default_factory=list, description="Storage-class transitions of current object versions, by age."
    )
    noncurrent_version_expiration_days: int = Field(
        default=90, ge=1, le=36500, description="Days a replaced or deleted object version is kept."
    )
    abort_incomplete_multipart_days: int = Field(
        default=7, ge=1, le=365, description="Days after which unfinished multipart uploads are aborted."
    )


class ObjectLockConfig(_Strict):
    mode: Literal["GOVERNANCE", "COMPLIANCE"] = Field(description="S3 Object Lock retention mode.")
    retention_days: int = Field(ge=1, le=36500, description="Default retention of every new object version.")


class LakeConfig(_Strict):
    role: Literal["owner", "consumer"] = Field(
        default="consumer", description="`owner` creates the lake; `consumer` reads the owner stack's lake."
    )
    owner_stack: str | None = Field(
        default=None, description="Consumers: the stack that owns the lake (`prod` or `org/project/prod`)."
    )
    zones: dict[str, ZoneConfig] | None = Field(
        default=None,
        description="Owner: the zone buckets and their lifecycle (default raw, curated, analytics).",
    )
    object_lock: ObjectLockConfig | None = Field(
        default=None, description="Owner: S3 Object Lock default retention on every zone bucket."
    )
    access_log_retention_days: int = Field(
        default=365, ge=1, le=3650, description="Owner: days server access logs are kept."
    )
    kms_deletion_window_days: int = Field(
        default=30, ge=7, le=30, description="Owner: waiting period before a scheduled key deletion."
    )
    datasets: list[DatasetConfig] | None = Field(
        default=None,
        description="Owner: the declared datasets, each with a Glue table and a Data Quality ruleset.",
    )


class AccessConfig(_Strict):
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


class WorkspaceConfig(_Strict):
    enabled: bool = Field(default=True, description="Create this stack's own writable workspace bucket.")
    expire_objects_after_days: int | None = Field(
        default=None, ge=1, le=3650, description="Delete workspace objects after this many days."
    )
    force_destroy: bool = Field(
        default=False, description="Sandboxes only: let `pulumi destroy` empty the workspace bucket."
    )
