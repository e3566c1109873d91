"""GovernedBucket: one S3 bucket with the platform's security invariants always on.

Encryption, TLS-only access, the public-access block, no-ACL ownership, versioning and
lifecycle are not options: every bucket the platform creates gets them. Only genuine choices
(which key, lifecycle ages, object lock, where access logs go) are arguments.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.config import ObjectLockConfig, TransitionConfig

TYPE = "dataops:index:GovernedBucket"


# Buckets whose lifecycle is not configured (access logs, workspaces): unfinished multipart
# uploads are aborted after this many days. Zone buckets take theirs from the config.
UNFINISHED_UPLOAD_DAYS = 7


@dataclass
class Lifecycle:
    noncurrent_version_expiration_days: int
    abort_incomplete_multipart_days: int = UNFINISHED_UPLOAD_DAYS
    transitions: list[TransitionConfig] = field(default_factory=list)
    expire_objects_after_days: int | None = None


@dataclass
class GovernedBucketArgs:
    bucket_name: pulumi.Input[str]
    """Physical bucket name (globally unique)."""
    tags: dict[str, str]
    """Tags for the bucket (mandatory tags included by the caller)."""
    kms_key_arn: pulumi.Input[str] | None
    """Customer-managed key for SSE-KMS; None only for the access-log bucket (see GovernedDataLake)."""
    access_log_bucket: pulumi.Input[str] | None
    """Bucket receiving this bucket's server access logs; None only for the log bucket itself."""
    lifecycle: Lifecycle
    access_log_prefix: str = ""
    object_lock: ObjectLockConfig | None = None
    protect: bool = False
    """protect + retainOnDelete on every child: the data outlives the stack."""
    force_destroy: bool = False
    """Sandbox scratch storage only: `pulumi destroy` deletes the objects too."""
    extra_policy_statements: pulumi.Input[list[dict[str, Any]]] | None = None
    """Extra bucket-policy statements (e.g. log delivery into the access-log bucket)."""
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    skip: frozenset[str] = frozenset()
    """Governance features the storage endpoint cannot honour (local stack only): any of
    "access-logging", "lifecycle", "bucket-policy". The caller warns about each one."""


class GovernedBucket(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    """The bucket itself."""
    policy: aws.s3.BucketPolicy | None = None
    """Its bucket policy (TLS only, and for KMS buckets: no other encryption or key)."""
    arn: pulumi.Output[str]
    """The bucket ARN."""
    bucket_name: pulumi.Output[str]
    """The physical bucket name."""

    def __init__(self, name: str, args: GovernedBucketArgs, opts: pulumi.ResourceOptions | None = None):
        # A protected component protects itself as well as every resource in it.
        protection = pulumi.ResourceOptions(protect=args.protect, retain_on_delete=args.protect)
        super().__init__(TYPE, name, None, pulumi.ResourceOptions.merge(opts, protection))
        child = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect)

        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=args.bucket_name,
            force_destroy=args.force_destroy,
            object_lock_enabled=True if args.object_lock else None,
            tags=args.tags,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=args.depends_on)),
        )
        bucket_id = self.bucket.id

        # Public-access block and ownership come before the policy: with ACLs disabled the
        # policy is the only way in, and S3 rejects public policies once the block is on.
        pab = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket_id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child,
        )
        if args.kms_key_arn is not None:
            default = {"sse_algorithm": "aws:kms", "kms_master_key_id": args.kms_key_arn}
        else:
            default = {"sse_algorithm": "AES256"}
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket_id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": default,
                    # Bucket keys cut KMS requests (and their cost) by orders of magnitude.
                    "bucket_key_enabled": args.kms_key_arn is not None,
                    "blocked_encryption_types": ["SSE-C"],
                }
            ],
            opts=child,
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket_id,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        if args.access_log_bucket is not None and "access-logging" not in args.skip:
            aws.s3.BucketLogging(
                f"{name}-access-logging",
                bucket=bucket_id,
                target_bucket=args.access_log_bucket,
                target_prefix=args.access_log_prefix,
                # Date-partitioned keys let Athena prune log scans by day.
                target_object_key_format={"partitioned_prefix": {"partition_date_source": "EventTime"}},
                opts=child,
            )
        if "lifecycle" not in args.skip:
            self._lifecycle(
                name,
                bucket_id,
                args.lifecycle,
                pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[versioning])),
            )
        if args.object_lock is not None:
            aws.s3.BucketObjectLockConfiguration(
                f"{name}-object-lock",
                bucket=bucket_id,
                rule={
                    "default_retention": {
                        "mode": args.object_lock.mode,
                        "days": args.object_lock.retention_days,
                    }
                },
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[versioning])),
            )

        if "bucket-policy" not in args.skip:
            document = pulumi.Output.all(
                self.bucket.arn, args.kms_key_arn, args.extra_policy_statements or []
            ).apply(lambda v: json.dumps(bucket_policy(v[0], v[1], v[2])))
            self.policy = aws.s3.BucketPolicy(
                f"{name}-policy",
                bucket=bucket_id,
                policy=document,
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[pab])),
            )

        self.arn = self.bucket.arn
        self.bucket_name = self.bucket.bucket
        self.register_outputs({"arn": self.arn, "bucketName": self.bucket_name})

    @staticmethod
    def _lifecycle(
        name: str, bucket_id: pulumi.Input[str], lc: Lifecycle, opts: pulumi.ResourceOptions
    ) -> None:
        rule: dict[str, Any] = {
            "id": "governed-lifecycle",
            "status": "Enabled",
            "filter": {"prefix": ""},  # the whole bucket
            "abort_incomplete_multipart_upload": {
                "days_after_initiation": lc.abort_incomplete_multipart_days
            },
            "noncurrent_version_expiration": {"noncurrent_days": lc.noncurrent_version_expiration_days},
        }
        if lc.transitions:
            rule["transitions"] = [{"days": t.days, "storage_class": t.storage_class} for t in lc.transitions]
        if lc.expire_objects_after_days is not None:
            rule["expiration"] = {"days": lc.expire_objects_after_days}
        aws.s3.BucketLifecycleConfiguration(f"{name}-lifecycle", bucket=bucket_id, rules=[rule], opts=opts)


def bucket_policy(bucket_arn: str, kms_key_arn: str | None, extra: list[dict[str, Any]]) -> dict[str, Any]:
    """The bucket policy document: deny plain HTTP always; for KMS buckets, deny uploads that
    *ask for* another encryption or another key, or SSE-KMS without naming the key.

    Uploads that send no encryption headers are not denied: the bucket's default encryption
    applies the lake key, so pandas, s3fs or the AWS CLI need no extra arguments. That is why
    each deny pairs `Null: false` (the header is present) with the mismatch test; a plain
    `StringNotEquals` would also match requests without the header.

    An upload that sends `x-amz-server-side-encryption: aws:kms` but no key id is stored under
    the AWS managed key `aws/s3`, not the bucket's default key ("If you specify
    x-amz-server-side-encryption:aws:kms, but don't provide
    x-amz-server-side-encryption-aws-kms-key-id, Amazon S3 uses the AWS managed key (aws/s3)",
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html), so that request is
    refused too. The key-id condition key holds the key ARN
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/specifying-kms-encryption.html).
    """
    objects = f"{bucket_arn}/*"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, objects],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]
    if kms_key_arn is not None:
        statements += [
            {
                "Sid": "DenyOtherEncryption",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": objects,
                "Condition": {
                    "Null": {"s3:x-amz-server-side-encryption": "false"},
                    "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
                },
            },
            {
                "Sid": "DenyOtherKmsKey",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": objects,
                "Condition": {
                    "Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"},
                    "StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": kms_key_arn},
                },
            },
            {
                "Sid": "DenyKmsWithoutLakeKey",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": objects,
                "Condition": {
                    "StringEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
                    "Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "true"},
                },
            },
        ]
    return {"Version": "2012-10-17", "Statement": statements + list(extra)}
