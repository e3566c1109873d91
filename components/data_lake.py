"""GovernedDataLake: the one data lake every environment shares, owned by exactly one stack.

Zone buckets (raw, curated, analytics, ...) encrypted with one customer-managed key, a
separate access-log bucket, a Glue database per zone, a Glue table and a Glue Data Quality
ruleset per declared dataset (`lake.datasets`), and the lake's outputs that consumer stacks read
through a StackReference.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import DatasetConfig, ObjectLockConfig, StackConfig, ZoneConfig
from components.dqdl import dqdl, rules_of
from components.governed_bucket import GovernedBucket, GovernedBucketArgs, Lifecycle
from components.lake_access import LakeRef

TYPE = "dataops:index:DataLake"
ACCESS_LOGS = "access-logs"
# Parquet through the Hive Parquet SerDe, as Athena and Glue read it (Athena, "Parquet SerDe",
# https://docs.aws.amazon.com/athena/latest/ug/parquet-serde.html).
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"


@dataclass
class GovernedDataLakeArgs:
    zones: dict[str, ZoneConfig]
    """Zone name -> lifecycle and classification."""
    tags: dict[str, str]
    """Mandatory tags; each zone adds its own data-classification."""
    name_prefix: str
    """The platform's name prefix: log delivery is accepted from any bucket starting with it."""
    physical_prefix: str
    """`<namePrefix>-<stack>`: every bucket name of this lake starts with it."""
    region: str
    protect: bool
    """protect + retainOnDelete on every resource of the lake."""
    access_log_retention_days: int
    kms_deletion_window_days: int
    object_lock: ObjectLockConfig | None = None
    datasets: list[DatasetConfig] | None = None
    """Each gets a Glue table in its zone's database and a Data Quality ruleset."""
    default_classification: str = "confidential"
    """A dataset's classification when neither it nor its zone sets one (the stack's)."""
    unsupported: dict[str, str] | None = None
    """Governance features the storage endpoint cannot honour -> why (local stack only); each is
    skipped with a warning, never silently."""

    @staticmethod
    def from_config(cfg: StackConfig, unsupported: dict[str, str] | None = None) -> GovernedDataLakeArgs:
        return GovernedDataLakeArgs(
            zones=cfg.zones,
            tags=cfg.mandatory_tags(),
            name_prefix=cfg.name_prefix,
            physical_prefix=cfg.physical_name(),
            region=cfg.region,
            protect=cfg.protected,
            object_lock=cfg.lake.object_lock,
            access_log_retention_days=cfg.lake.access_log_retention_days,
            kms_deletion_window_days=cfg.lake.kms_deletion_window_days,
            datasets=cfg.datasets,
            default_classification=cfg.data_classification,
            unsupported=unsupported,
        )


class GovernedDataLake(pulumi.ComponentResource):
    key: aws.kms.Key
    """The customer-managed key encrypting every zone bucket."""
    zones: dict[str, GovernedBucket]
    """Zone name -> its governed bucket."""
    access_logs: GovernedBucket
    """Receives the server access logs of every bucket in the lake family."""
    catalogs: dict[str, aws.glue.CatalogDatabase]
    """Zone name -> its Glue database."""
    tables: dict[str, aws.glue.CatalogTable]
    """Dataset name -> its Glue table."""
    rulesets: dict[str, aws.glue.DataQualityRuleset]
    """Dataset name -> its Glue Data Quality ruleset."""
    ref: LakeRef
    """What grants and consumers need: buckets, key and log bucket."""

    def __init__(self, name: str, args: GovernedDataLakeArgs, opts: pulumi.ResourceOptions | None = None):
        # A protected component protects itself as well as every resource in it.
        protection = pulumi.ResourceOptions(protect=args.protect, retain_on_delete=args.protect)
        super().__init__(TYPE, name, None, pulumi.ResourceOptions.merge(opts, protection))
        self._object_lock = args.object_lock
        protect = args.protect
        child = pulumi.ResourceOptions(parent=self, protect=protect, retain_on_delete=protect)
        skip = frozenset(args.unsupported or {})
        for feature, why in sorted((args.unsupported or {}).items()):
            pulumi.log.warn(f"governance feature skipped on this endpoint: {feature} ({why})", resource=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        partition = aws.get_partition_output(opts=invoke).partition

        def bucket_name(role: str) -> pulumi.Output[str]:
            return pulumi.Output.concat(args.physical_prefix, "-", role, "-", account, "-", args.region)

        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"{args.physical_prefix} data lake",
            enable_key_rotation=True,
            deletion_window_in_days=args.kms_deletion_window_days,
            policy=pulumi.Output.all(partition, account).apply(lambda v: json.dumps(key_policy(v[0], v[1]))),
            tags=args.tags,
            opts=child,
        )
        aws.kms.Alias(
            f"{name}-key-alias",
            name=f"alias/{args.physical_prefix}-lake",
            target_key_id=self.key.key_id,
            opts=child,
        )

        # S3 delivers server access logs only to buckets encrypted with SSE-S3, not SSE-KMS
        # (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html),
        # and with ACLs disabled the log service writes only what this bucket policy allows.
        # No encryption-header deny here: it could block delivery.
        log_tags = {**args.tags, "data-classification": "internal", "purpose": ACCESS_LOGS}
        self.access_logs = GovernedBucket(
            f"{name}-{ACCESS_LOGS}",
            GovernedBucketArgs(
                bucket_name=bucket_name(ACCESS_LOGS),
                tags=log_tags,
                kms_key_arn=None,
                access_log_bucket=None,
                lifecycle=Lifecycle(
                    expire_objects_after_days=args.access_log_retention_days,
                    noncurrent_version_expiration_days=1,
                ),
                protect=protect,
                skip=skip,
                extra_policy_statements=pulumi.Output.all(partition, bucket_name(ACCESS_LOGS), account).apply(
                    lambda v: log_delivery_statements(v[0], v[1], v[2], args.name_prefix)
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.zones = {}
        self.catalogs = {}
        for zone, spec in args.zones.items():
            tags = {**args.tags, "zone": zone}
            if spec.data_classification:
                tags["data-classification"] = spec.data_classification
            bucket = GovernedBucket(
                f"{name}-{zone}",
                GovernedBucketArgs(
                    bucket_name=bucket_name(zone),
                    tags=tags,
                    kms_key_arn=self.key.arn,
                    access_log_bucket=self.access_logs.bucket_name,
                    access_log_prefix=f"{zone}/",
                    lifecycle=Lifecycle(
                        transitions=spec.transitions,
                        noncurrent_version_expiration_days=spec.noncurrent_version_expiration_days,
                        abort_incomplete_multipart_days=spec.abort_incomplete_multipart_days,
                    ),
                    object_lock=args.object_lock,
                    protect=protect,
                    # Logging starts only once the log bucket accepts deliveries.
                    depends_on=[self.access_logs.policy] if self.access_logs.policy else [],
                    skip=skip,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.zones[zone] = bucket
            self.catalogs[zone] = aws.glue.CatalogDatabase(
                f"{name}-{zone}-catalog",
                name=f"{args.physical_prefix}_{zone}".replace("-", "_"),
                description=f"Tables of the {zone} zone",
                location_uri=bucket.bucket_name.apply(lambda b: f"s3://{b}/"),
                tags=tags,
                opts=child,
            )

        self.tables, self.rulesets = {}, {}
        for dataset in args.datasets or []:
            self._dataset(name, dataset, args, child)

        self.ref = LakeRef(
            zones={
                z: {"bucket": b.bucket_name, "arn": b.arn, "glueDatabase": self.catalogs[z].name}
                for z, b in self.zones.items()
            },
            datasets={
                d.name: {
                    "zone": d.zone,
                    "prefix": d.prefix,
                    "table": self.tables[d.name].name,
                    "ruleset": self.rulesets[d.name].name,
                    "dqdl": dqdl(rules_of(d)),
                    "columns": [[c.name, c.type] for c in d.columns],
                    "partitionKeys": [[k.name, k.type] for k in d.partition_keys],
                }
                for d in args.datasets or []
            },
            kms_key_arn=self.key.arn,
            access_log_bucket=self.access_logs.bucket_name,
            region=args.region,
        )
        self.register_outputs(
            {
                "zones": self.ref.zones,
                "kmsKeyArn": self.key.arn,
                "accessLogBucket": self.access_logs.bucket_name,
            }
        )

    def _dataset(
        self, name: str, dataset: DatasetConfig, args: GovernedDataLakeArgs, child: pulumi.ResourceOptions
    ) -> None:
        """The dataset's Glue table (schema, Parquet SerDe, partition keys, location) in its zone's
        database, and its Data Quality ruleset, whose DQDL comes from the declared rules."""
        zone = args.zones[dataset.zone]
        classification = dataset.classification or zone.data_classification or args.default_classification
        database = self.catalogs[dataset.zone]
        location = self.zones[dataset.zone].bucket_name.apply(lambda b: f"s3://{b}/{dataset.prefix}")
        table = aws.glue.CatalogTable(
            f"{name}-{dataset.name}-table",
            name=dataset.name,
            database_name=database.name,
            description=dataset.description or None,
            owner=dataset.owner,
            table_type="EXTERNAL_TABLE",
            # Glue's `classification` parameter names the format; the data's is its own key.
            parameters={"classification": "parquet", "data-classification": classification},
            partition_keys=[
                aws.glue.CatalogTablePartitionKeyArgs(name=k.name, type=k.type, comment=k.description or None)
                for k in dataset.partition_keys
            ],
            storage_descriptor=aws.glue.CatalogTableStorageDescriptorArgs(
                location=location,
                input_format=PARQUET_INPUT,
                output_format=PARQUET_OUTPUT,
                ser_de_info=aws.glue.CatalogTableStorageDescriptorSerDeInfoArgs(
                    serialization_library=PARQUET_SERDE
                ),
                columns=[
                    aws.glue.CatalogTableStorageDescriptorColumnArgs(
                        name=c.name, type=c.type, comment=c.description or None
                    )
                    for c in dataset.columns
                ],
            ),
            opts=child,
        )
        ruleset = aws.glue.DataQualityRuleset(
            f"{name}-{dataset.name}-quality",
            name=f"{args.physical_prefix}-{dataset.name}",
            description=f"Quality rules of {dataset.name} (lake.datasets in the stack file)",
            ruleset=dqdl(rules_of(dataset)),
            target_table=aws.glue.DataQualityRulesetTargetTableArgs(
                database_name=database.name, table_name=table.name
            ),
            tags={
                **args.tags,
                "zone": dataset.zone,
                "dataset": dataset.name,
                "owner": dataset.owner,
                "data-classification": classification,
            },
            opts=child,
        )
        self.tables[dataset.name], self.rulesets[dataset.name] = table, ruleset

    def exported(self) -> pulumi.Output[dict]:
        """The `lake` stack output consumer stacks read (see LakeRef.from_stack_output). `objectLock`
        (null when not configured) is for `verify`, which checks every zone bucket against it."""
        lock = self._object_lock
        object_lock = {"mode": lock.mode, "retentionDays": lock.retention_days} if lock else None
        return pulumi.Output.all(
            zones=self.ref.zones,
            datasets=self.ref.datasets,
            kmsKeyArn=self.key.arn,
            accessLogBucket=self.access_logs.bucket_name,
        ).apply(lambda v: {**v, "region": self.ref.region, "objectLock": object_lock})

    def grant_read(
        self, role: aws.iam.Role, zone: str, prefix: str = "", *, parent: pulumi.Resource
    ) -> aws.iam.RolePolicy:
        return self.ref.grant_read(role, zone, prefix, parent=parent)

    def grant_write(
        self, role: aws.iam.Role, zone: str, prefix: str = "", *, parent: pulumi.Resource
    ) -> aws.iam.RolePolicy:
        return self.ref.grant_write(role, zone, prefix, parent=parent)


def key_policy(partition: str, account_id: str) -> dict:
    """The account administers the key; use is granted by identity policies (see lake_access),
    which the account-root statement makes effective. No principal outside the account."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministersKeyThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


def log_delivery_statements(partition: str, log_bucket: str, account_id: str, name_prefix: str) -> list[dict]:
    """Let the S3 logging service deliver logs of this account's platform buckets, and nothing else."""
    return [
        {
            "Sid": "S3ServerAccessLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"arn:{partition}:s3:::{log_bucket}/*",
            "Condition": {
                "ArnLike": {"aws:SourceArn": f"arn:{partition}:s3:::{name_prefix}-*"},
                "StringEquals": {"aws:SourceAccount": account_id},
            },
        }
    ]
