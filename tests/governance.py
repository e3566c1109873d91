"""What a governed bucket must have, checked on a recorded plan (shared by several test files).

Each check returns a list of findings naming the bucket's URN, so a failing test says which
bucket lacks which property.
"""

from __future__ import annotations

import json

from components.config import MANDATORY_TAG_KEYS
from dataops.iam_eval import Request, allowed_by, denied_by
from dataops.plan_types import Plan, PlannedResource

S3 = "aws:s3/"
PAB = S3 + "bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNERSHIP = S3 + "bucketOwnershipControls:BucketOwnershipControls"
SSE = S3 + "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = S3 + "bucketVersioning:BucketVersioning"
LOGGING = S3 + "bucketLogging:BucketLogging"
LIFECYCLE = S3 + "bucketLifecycleConfiguration:BucketLifecycleConfiguration"
OBJECT_LOCK = S3 + "bucketObjectLockConfiguration:BucketObjectLockConfiguration"
POLICY = S3 + "bucketPolicy:BucketPolicy"
BUCKET = S3 + "bucket:Bucket"


def one(plan: Plan, bucket: PlannedResource, type_: str) -> PlannedResource:
    found = plan.attached_to(bucket, type_)
    assert len(found) == 1, f"{bucket.urn}: expected one {type_}, found {len(found)}"
    return found[0]


def bucket_arn(bucket: PlannedResource) -> str:
    return f"arn:aws:s3:::{bucket.inputs['bucket']}"


def invariant_findings(plan: Plan, bucket: PlannedResource) -> list[str]:
    """Properties every governed bucket has, whatever it holds."""
    out = []
    pab = one(plan, bucket, PAB).inputs
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        if pab.get(flag) is not True:
            out.append(f"{bucket.urn}: public-access block {flag} is not on")
    if one(plan, bucket, OWNERSHIP).inputs["rule"]["objectOwnership"] != "BucketOwnerEnforced":
        out.append(f"{bucket.urn}: ACLs are not disabled (ownership is not BucketOwnerEnforced)")
    if one(plan, bucket, VERSIONING).inputs["versioningConfiguration"]["status"] != "Enabled":
        out.append(f"{bucket.urn}: versioning is not enabled")
    rules = one(plan, bucket, LIFECYCLE).inputs["rules"]
    if not any(r.get("abortIncompleteMultipartUpload", {}).get("daysAfterInitiation") for r in rules):
        out.append(f"{bucket.urn}: no lifecycle rule aborts incomplete multipart uploads")
    if not any(r.get("noncurrentVersionExpiration", {}).get("noncurrentDays") for r in rules):
        out.append(f"{bucket.urn}: no lifecycle rule expires noncurrent versions")
    document = json.loads(one(plan, bucket, POLICY).inputs["policy"])
    plain_http = Request("s3:GetObject", bucket_arn(bucket) + "/x", context={"aws:SecureTransport": "false"})
    if not denied_by(document, plain_http):
        out.append(f"{bucket.urn}: bucket policy does not deny requests without TLS")
    missing = [k for k in MANDATORY_TAG_KEYS if k not in (bucket.inputs.get("tags") or {})]
    if missing:
        out.append(f"{bucket.urn}: missing tags {missing}")
    return out


def kms_bucket_findings(plan: Plan, bucket: PlannedResource, key_arn: str) -> list[str]:
    """A data bucket: SSE-KMS with `key_arn` and a bucket key; the policy refuses uploads that ask for
    another encryption or key but lets plain uploads through (default encryption applies)."""
    out = invariant_findings(plan, bucket)
    rule = one(plan, bucket, SSE).inputs["rules"][0]
    default = rule["applyServerSideEncryptionByDefault"]
    if default.get("sseAlgorithm") != "aws:kms" or default.get("kmsMasterKeyId") != key_arn:
        out.append(f"{bucket.urn}: default encryption is not SSE-KMS with {key_arn}")
    if rule.get("bucketKeyEnabled") is not True:
        out.append(f"{bucket.urn}: bucket key is not enabled")
    document = json.loads(one(plan, bucket, POLICY).inputs["policy"])
    obj = bucket_arn(bucket) + "/data/part-0.parquet"
    tls = {"aws:SecureTransport": "true"}

    def put(**headers: str) -> Request:
        return Request("s3:PutObject", obj, context={**tls, **headers})

    enc, key = "s3:x-amz-server-side-encryption", "s3:x-amz-server-side-encryption-aws-kms-key-id"
    if denied_by(document, put()):
        out.append(f"{bucket.urn}: a plain upload without encryption headers is denied")
    if denied_by(document, put(**{enc: "aws:kms", key: key_arn})):
        out.append(f"{bucket.urn}: an upload naming the lake key is denied")
    if not denied_by(document, put(**{enc: "AES256"})):
        out.append(f"{bucket.urn}: an upload asking for SSE-S3 is not denied")
    other_key = key_arn.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    if not denied_by(document, put(**{enc: "aws:kms", key: other_key})):
        out.append(f"{bucket.urn}: an upload asking for another KMS key is not denied")
    # aws:kms without a key id means the AWS managed key aws/s3, not the bucket default
    if not denied_by(document, put(**{enc: "aws:kms"})):
        out.append(f"{bucket.urn}: an upload asking for SSE-KMS without the lake key id is not denied")
    return out


def logging_findings(
    plan: Plan, bucket: PlannedResource, log_bucket: PlannedResource, prefix: str
) -> list[str]:
    """Server access logs of `bucket` go to `log_bucket` under `prefix`, and that bucket's policy
    lets the S3 logging service write them (nothing denies the delivery)."""
    out = []
    logging = one(plan, bucket, LOGGING).inputs
    if logging.get("targetBucket") != log_bucket.inputs["bucket"] or logging.get("targetPrefix") != prefix:
        out.append(
            f"{bucket.urn}: access logs go to {logging.get('targetBucket')}/{logging.get('targetPrefix')}"
        )
    document = json.loads(one(plan, log_bucket, POLICY).inputs["policy"])
    delivery = Request(
        "s3:PutObject",
        f"{bucket_arn(log_bucket)}/{prefix}2026/01/01/log",
        principal="",
        principal_service="logging.s3.amazonaws.com",
        context={
            "aws:SecureTransport": "true",
            "aws:SourceArn": bucket_arn(bucket),
            "aws:SourceAccount": "111122223333",
        },
    )
    if not allowed_by(document, delivery):
        out.append(f"{log_bucket.urn}: policy does not allow log delivery from {bucket.urn}")
    if denied_by(document, delivery):
        out.append(f"{log_bucket.urn}: policy denies log delivery from {bucket.urn}")
    elsewhere = Request(
        "s3:PutObject",
        delivery.resource,
        principal="",
        principal_service="logging.s3.amazonaws.com",
        context={**delivery.context, "aws:SourceAccount": "999999999999"},
    )
    if allowed_by(document, elsewhere):
        out.append(f"{log_bucket.urn}: policy accepts log delivery from other accounts")
    return out


def tag_findings(plan: Plan) -> list[str]:
    """Every resource that takes tags carries the mandatory ones."""
    out = []
    for r in plan.resources:
        if r.type.startswith("aws:") and "tags" in r.inputs:
            missing = [k for k in MANDATORY_TAG_KEYS if k not in r.inputs["tags"]]
            if missing:
                out.append(f"{r.urn}: missing tags {missing}")
    return out


TAGGABLE = {BUCKET, "aws:kms/key:Key", "aws:iam/role:Role", "aws:glue/catalogDatabase:CatalogDatabase"}


def untagged(plan: Plan) -> list[str]:
    return [r.urn for r in plan.resources if r.type in TAGGABLE and not r.inputs.get("tags")]
