"""DataAccess: an environment's way into the lake, and its own writable workspace.

Every stack gets one workload role. It reads the lake zones its config lists (the owner may
also write), and it writes only to this stack's workspace bucket, which has its own key, so
experiments never land in curated data and destroying the stack can never touch the lake.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import StackConfig, WorkspaceConfig
from components.data_lake import key_policy
from components.governed_bucket import GovernedBucket, GovernedBucketArgs, Lifecycle
from components.lake_access import BucketRef, LakeRef, attach_grant
from components.workload_identity import WorkloadIdentity, trust_policy

TYPE = "dataops:index:DataAccess"
WORKSPACE = "workspace"
WORKSPACE_VARIABLE = "DATAOPS_WORKSPACE_BUCKET"


@dataclass
class DataAccessArgs:
    lake: LakeRef
    """The lake this environment reads (its own, or the owner stack's)."""
    read: list[str]
    write: list[str]
    trusted_principals: list[str]
    """Role ARNs that may also assume the workload role."""
    identity: WorkloadIdentity
    """How the cluster's pods assume the role (without a cluster: principals of this account)."""
    workspace: WorkspaceConfig
    physical_prefix: str
    stack: str
    tags: dict[str, str]
    protect: bool

    @staticmethod
    def from_config(cfg: StackConfig, lake: LakeRef, identity: WorkloadIdentity) -> DataAccessArgs:
        return DataAccessArgs(
            lake=lake,
            read=cfg.access.read,
            write=cfg.access.write,
            trusted_principals=cfg.access.trusted_principals,
            identity=identity,
            workspace=cfg.workspace,
            physical_prefix=cfg.physical_name(),
            stack=cfg.stack,
            tags=cfg.mandatory_tags(),
            protect=cfg.protected,
        )


class DataAccess(pulumi.ComponentResource):
    role: aws.iam.Role
    """The environment's workload role (later bound to Kubernetes service accounts)."""
    workspace: GovernedBucket | None = None
    """This stack's writable bucket, when enabled."""
    workspace_key: aws.kms.Key | None = None
    """The key encrypting the workspace (the stack's own, not the lake's)."""

    def __init__(self, name: str, args: DataAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        self._lake, self._read, self._write = args.lake, list(args.read), list(args.write)
        protect = args.protect
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        partition = aws.get_partition_output(opts=invoke).partition
        region = args.lake.region

        identity = args.identity
        trust = pulumi.Output.all(partition, account, identity.cluster_arn).apply(
            lambda v: json.dumps(
                trust_policy(
                    identity.mode,
                    v[0],
                    v[1],
                    cluster_arn=v[2],
                    oidc_provider_arn=identity.oidc_provider_arn,
                    namespaces=identity.namespaces,
                    trusted_principals=list(args.trusted_principals),
                )
            )
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            name=f"{args.physical_prefix}-data-access",
            description=f"Workload access to the data lake from {args.stack}",
            assume_role_policy=trust,
            max_session_duration=3600,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

        for zone in args.write:
            args.lake.grant_write(self.role, zone, parent=self)
        for zone in args.read:
            if zone not in args.write:
                args.lake.grant_read(self.role, zone, parent=self)
        if args.read or args.write:
            # The catalog entries of the same zones: their tables' schemas and partitions.
            args.lake.grant_catalog_read(
                self.role, sorted({*args.read, *args.write}), partition, account, parent=self
            )

        if args.workspace.enabled:
            child = pulumi.ResourceOptions(parent=self, protect=protect, retain_on_delete=protect)
            self.workspace_key = aws.kms.Key(
                f"{name}-{WORKSPACE}-key",
                description=f"{args.physical_prefix} workspace",
                enable_key_rotation=True,
                deletion_window_in_days=7 if args.workspace.force_destroy else 30,
                policy=pulumi.Output.all(partition, account).apply(
                    lambda v: json.dumps(key_policy(v[0], v[1]))
                ),
                tags=args.tags,
                opts=child,
            )
            self.workspace = GovernedBucket(
                f"{name}-{WORKSPACE}",
                GovernedBucketArgs(
                    bucket_name=pulumi.Output.concat(
                        args.physical_prefix, "-", WORKSPACE, "-", account, "-", region
                    ),
                    tags={**args.tags, "zone": WORKSPACE},
                    kms_key_arn=self.workspace_key.arn,
                    access_log_bucket=args.lake.access_log_bucket,
                    access_log_prefix=f"{WORKSPACE}/{args.stack}/",
                    lifecycle=Lifecycle(
                        noncurrent_version_expiration_days=7,
                        expire_objects_after_days=args.workspace.expire_objects_after_days,
                    ),
                    protect=protect,
                    force_destroy=args.workspace.force_destroy,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            attach_grant(
                self.role,
                WORKSPACE,
                BucketRef(self.workspace.bucket_name, self.workspace.arn),
                self.workspace_key.arn,
                region,
                write=True,
                delete=True,
                parent=self,
            )

        self.register_outputs(
            {
                "roleArn": self.role.arn,
                "workspaceBucket": self.workspace.bucket_name if self.workspace else None,
            }
        )

    def environment(self) -> pulumi.Output[dict[str, str]]:
        """What workloads using this role read to find their data: the lake zones the role may
        read, and the workspace it writes to (`DATAOPS_WORKSPACE_BUCKET`)."""
        workspace = self.workspace.bucket_name if self.workspace else None
        return pulumi.Output.all(
            self._lake.environment(sorted({*self._read, *self._write})), workspace
        ).apply(lambda v: {**v[0], **({WORKSPACE_VARIABLE: v[1]} if v[1] else {})})

    def exported(self) -> pulumi.Output[dict]:
        """The `access` stack output. The workspace's key and the bucket its access logs go to are
        what `verify` checks the workspace against (null without a workspace)."""
        return pulumi.Output.all(
            roleArn=self.role.arn,
            roleName=self.role.name,
            workspaceBucket=self.workspace.bucket_name if self.workspace else None,
            workspaceKeyArn=self.workspace_key.arn if self.workspace_key else None,
            accessLogBucket=self._lake.access_log_bucket if self.workspace else None,
        )
