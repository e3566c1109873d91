"""Least-privilege access to the lake: the action lists, and grants that read like sentences.

`LakeRef` is what a stack knows about the lake, whether it owns it (from the GovernedDataLake
component) or consumes it (from the owner stack's outputs through a StackReference). Its
`grant_read` / `grant_write` attach an inline identity policy to a role, scoped to exact
bucket and prefix ARNs and to the lake key, used only through S3.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

# Bucket-level actions apply to the bucket ARN, object-level ones to object ARNs.
LIST_ACTIONS = ("s3:ListBucket",)
READ_BUCKET_ACTIONS = ("s3:GetBucketLocation",)
READ_OBJECT_ACTIONS = ("s3:GetObject",)
WRITE_BUCKET_ACTIONS = ("s3:ListBucketMultipartUploads",)
WRITE_OBJECT_ACTIONS = ("s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts")
DELETE_OBJECT_ACTIONS = ("s3:DeleteObject",)
KMS_READ_ACTIONS = ("kms:Decrypt",)
# Reading a table's definition and partitions; Data Catalog calls need permission on the catalog,
# the database and the table ("Specifying AWS Glue resource ARNs",
# https://docs.aws.amazon.com/glue/latest/dg/glue-specifying-resource-arns.html).
CATALOG_READ_ACTIONS = ("glue:GetTable", "glue:GetTables", "glue:GetPartitions")
KMS_WRITE_ACTIONS = (
    "kms:GenerateDataKey",
    "kms:Decrypt",  # multipart uploads: S3 decrypts the data key of each part to complete the upload
)


def lake_variable(zone: str) -> str:
    """`DATAOPS_LAKE_<ZONE>_BUCKET`: the bucket of a lake zone, for notebook code."""
    return f"DATAOPS_LAKE_{zone.upper().replace('-', '_')}_BUCKET"


@dataclass(frozen=True)
class BucketRef:
    bucket: pulumi.Input[str]
    arn: pulumi.Input[str]


def grant_document(
    bucket_arn: str, key_arn: str, region: str, prefix: str, *, write: bool, delete: bool = False
) -> dict[str, Any]:
    """The identity policy for one grant (plain data, so it is testable and linted on its own)."""
    objects = f"{bucket_arn}/{prefix}*"
    list_statement: dict[str, Any] = {
        "Sid": "ListScoped",
        "Effect": "Allow",
        "Action": list(LIST_ACTIONS),
        "Resource": bucket_arn,
    }
    if prefix:
        list_statement["Condition"] = {"StringLike": {"s3:prefix": [f"{prefix}*"]}}
    # s3:prefix exists only for listing, so the other bucket-level actions get their own statement.
    bucket_statement = {
        "Sid": "BucketScoped",
        "Effect": "Allow",
        "Action": list(READ_BUCKET_ACTIONS + (WRITE_BUCKET_ACTIONS if write else ())),
        "Resource": bucket_arn,
    }
    object_actions = READ_OBJECT_ACTIONS + (WRITE_OBJECT_ACTIONS if write else ())
    object_actions += DELETE_OBJECT_ACTIONS if delete else ()
    return {
        "Version": "2012-10-17",
        "Statement": [
            list_statement,
            bucket_statement,
            {"Sid": "ObjectsScoped", "Effect": "Allow", "Action": list(object_actions), "Resource": objects},
            {
                "Sid": "LakeKeyThroughS3",
                "Effect": "Allow",
                "Action": list(dict.fromkeys(KMS_WRITE_ACTIONS if write else KMS_READ_ACTIONS)),
                "Resource": key_arn,
                # The key may only be used by S3 on the caller's behalf, never directly.
                "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
            },
        ],
    }


def catalog_document(
    partition: str,
    account: str,
    region: str,
    zones: dict[str, Any],
    datasets: dict[str, Any],
    readable: list[str],
) -> dict[str, Any]:
    """Read access to the catalog entries of the `readable` zones: their Glue databases and the
    tables of the datasets declared in them, and nothing else of the catalog. While the lake
    declares no dataset in those zones, the grant names their databases' tables (`table/<db>/*`):
    a statement needs a table to name for these actions, and the platform puts no other tables
    there."""
    glue = f"arn:{partition}:glue:{region}:{account}"
    databases = {zone: zones[zone]["glueDatabase"] for zone in sorted(readable) if zone in zones}
    tables = [
        f"{glue}:table/{databases[spec['zone']]}/{spec['table']}"
        for _, spec in sorted(datasets.items())
        if spec.get("zone") in databases
    ] or [f"{glue}:table/{name}/*" for name in databases.values()]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadableZonesCatalog",
                "Effect": "Allow",
                "Action": list(CATALOG_READ_ACTIONS),
                "Resource": [
                    f"{glue}:catalog",
                    *(f"{glue}:database/{name}" for name in databases.values()),
                    *tables,
                ],
            }
        ],
    }


class LakeRef:
    """The lake as a stack sees it: zone buckets, the key that encrypts them, the log bucket."""

    def __init__(
        self,
        zones: pulumi.Input[dict[str, Any]],
        kms_key_arn: pulumi.Input[str],
        access_log_bucket: pulumi.Input[str],
        region: str,
        datasets: pulumi.Input[dict[str, Any]] | None = None,
    ):
        self.zones = pulumi.Output.from_input(zones)
        self.datasets = pulumi.Output.from_input(datasets or {})
        """Dataset name -> its zone, Glue table, ruleset, DQDL and schema (components/data_lake.py)."""
        self.kms_key_arn = pulumi.Output.from_input(kms_key_arn)
        self.access_log_bucket = pulumi.Output.from_input(access_log_bucket)
        self.region = region

    @staticmethod
    def from_stack_output(lake: pulumi.Output[Any], owner_stack: str, region: str) -> LakeRef:
        """Read the owner stack's `lake` output; a missing or malformed output is a clear error."""

        def need(value: Any, key: str) -> Any:
            if not isinstance(value, dict) or key not in value:
                raise pulumi.RunError(
                    f"stack '{owner_stack}' exports no lake.{key}: deploy the lake owner stack first "
                    f"(pulumi up --stack {owner_stack.split('/')[-1]})"
                )
            return value[key]

        return LakeRef(
            zones=lake.apply(lambda v: need(v, "zones")),
            kms_key_arn=lake.apply(lambda v: need(v, "kmsKeyArn")),
            access_log_bucket=lake.apply(lambda v: need(v, "accessLogBucket")),
            region=region,
            # An owner deployed before datasets existed exports none.
            datasets=lake.apply(lambda v: (v.get("datasets") or {}) if isinstance(v, dict) else {}),
        )

    def environment(self, zones: list[str] | None = None) -> pulumi.Output[dict[str, str]]:
        """The variables notebook code reads to find the lake — the same names in every stack, so
        code written against the local stack runs unchanged in the cloud. `zones`: only those
        (the ones the environment may read); None: all."""
        return self.zones.apply(
            lambda all_zones: {
                **{
                    lake_variable(zone): spec["bucket"]
                    for zone, spec in sorted(all_zones.items())
                    if zones is None or zone in zones
                },
                "AWS_DEFAULT_REGION": self.region,
                "AWS_REGION": self.region,
            }
        )

    def zone(self, zone: str, key: str = "access.read") -> pulumi.Output[dict[str, str]]:
        """The zone's bucket; a zone the lake lacks fails the run, naming the setting `key`
        that asked for it (a consumer's zones are the owner's, known only from its output)."""

        def pick(zones: dict[str, Any]) -> dict[str, str]:
            if zone not in zones:
                raise pulumi.RunError(
                    f"dataops-platform:{key} = {zone!r}: the lake has no such zone; "
                    f"fix: use one of {', '.join(sorted(zones))}, or add the zone to the owner stack"
                )
            return zones[zone]

        return self.zones.apply(pick)

    def grant_catalog_read(
        self,
        role: aws.iam.Role,
        zones: list[str],
        partition: pulumi.Input[str],
        account: pulumi.Input[str],
        *,
        parent: pulumi.Resource,
    ) -> aws.iam.RolePolicy:
        """Let `role` read the Glue entries (databases, declared tables, partitions) of `zones`."""
        document = pulumi.Output.all(partition, account, self.zones, self.datasets).apply(
            lambda v: json.dumps(catalog_document(v[0], v[1], self.region, v[2], v[3], zones))
        )
        return aws.iam.RolePolicy(
            f"{role.pulumi_resource_name}-read-catalog",
            role=role.id,
            name="read-catalog",
            policy=document,
            opts=pulumi.ResourceOptions(parent=parent),
        )

    def grant_read(
        self, role: aws.iam.Role, zone: str, prefix: str = "", *, parent: pulumi.Resource
    ) -> aws.iam.RolePolicy:
        """Let `role` list and read `zone` (under `prefix`), decrypting through S3 only."""
        return self._grant(role, zone, prefix, write=False, parent=parent)

    def grant_write(
        self, role: aws.iam.Role, zone: str, prefix: str = "", *, parent: pulumi.Resource
    ) -> aws.iam.RolePolicy:
        """Let `role` read and add objects in `zone` (under `prefix`); never delete them."""
        return self._grant(role, zone, prefix, write=True, parent=parent)

    def _grant(
        self, role: aws.iam.Role, zone: str, prefix: str, *, write: bool, parent: pulumi.Resource
    ) -> aws.iam.RolePolicy:
        target = self.zone(zone, "access.write" if write else "access.read")
        return attach_grant(
            role,
            f"{'write' if write else 'read'}-{zone}",
            BucketRef(target.apply(lambda z: z["bucket"]), target.apply(lambda z: z["arn"])),
            self.kms_key_arn,
            self.region,
            prefix,
            write=write,
            parent=parent,
        )


def attach_grant(
    role: aws.iam.Role,
    label: str,
    bucket: BucketRef,
    key_arn: pulumi.Input[str],
    region: str,
    prefix: str = "",
    *,
    write: bool,
    delete: bool = False,
    parent: pulumi.Resource,
) -> aws.iam.RolePolicy:
    """One inline policy on `role` named after what it grants (e.g. `read-curated`)."""
    document = pulumi.Output.all(bucket.arn, key_arn).apply(
        lambda v: json.dumps(grant_document(v[0], v[1], region, prefix, write=write, delete=delete))
    )
    return aws.iam.RolePolicy(
        f"{role.pulumi_resource_name}-{label}",
        role=role.id,
        name=label,
        policy=document,
        opts=pulumi.ResourceOptions(parent=parent),
    )
