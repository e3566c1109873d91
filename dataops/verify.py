"""`python -m dataops verify --stack S`: check the deployed data lake through the AWS API.

Reads the stack's `lake` output (from `pulumi stack output --json`, or `--outputs FILE`) and,
for every zone bucket, checks what AWS reports: default encryption with the lake key and a
bucket key, the public-access block, ACLs disabled, versioning, access logging into the lake's
log bucket, the multipart-abort lifecycle rule, and a bucket policy that refuses plain HTTP and
uploads asking for another encryption or key (or SSE-KMS without naming the lake key) while
letting plain uploads through — evaluated on
the policy S3 returns (dataops/iam_eval.py). With `--probe` it also tries it for real: uploads
asking for SSE-S3 or another key must be refused, and one without encryption headers must
succeed and be stored SSE-KMS with the lake key (the probes write under `_dataops-verify/`).
Honours AWS_ENDPOINT_URL (or --endpoint-url), so it checks the `local` stack's endpoint too.
One line per check; exit 1 on any FAIL, 2 on bad input.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dataops.iam_eval import Request, denied_by

PROBE_PREFIX = "_dataops-verify/"
ENC = "s3:x-amz-server-side-encryption"
KEY = "s3:x-amz-server-side-encryption-aws-kms-key-id"


class VerifyError(Exception):
    """Bad input or an unreachable API: one line, exit 2."""


@dataclass
class Check:
    bucket: str
    name: str
    ok: bool
    detail: str

    def __str__(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'} {self.bucket}: {self.name}" + (
            f" ({self.detail})" if self.detail else ""
        )


@dataclass
class Lake:
    zones: dict[str, str]  # zone -> bucket
    key_arn: str
    log_bucket: str
    region: str


def read_outputs(stack: str, outputs_file: Path | None) -> dict[str, Any]:
    if outputs_file is not None:
        try:
            text = outputs_file.read_text()
        except OSError as exc:
            raise VerifyError(
                f"{outputs_file}: cannot read ({exc.strerror}); pass the file written by "
                f"`pulumi stack output --json --stack {stack} > FILE`"
            ) from None
        source = str(outputs_file)
    else:
        if shutil.which("pulumi") is None:
            raise VerifyError(
                "the pulumi CLI is not installed; pass --outputs FILE written by "
                f"`pulumi stack output --json --stack {stack} > FILE` on a machine that has it"
            )
        result = subprocess.run(
            ["pulumi", "stack", "output", "--json", "--stack", stack],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            first = (result.stderr.strip().splitlines() or ["no output"])[0]
            raise VerifyError(f"`pulumi stack output --json --stack {stack}` failed: {first}")
        text, source = result.stdout, f"stack {stack}"
    try:
        outputs = json.loads(text)
    except json.JSONDecodeError as exc:
        raise VerifyError(
            f"{source}: not JSON ({exc.msg} at line {exc.lineno}); expected the output of "
            "`pulumi stack output --json`"
        ) from None
    if not isinstance(outputs, dict):
        raise VerifyError(f"{source}: expected a JSON object of stack outputs")
    return outputs


def lake_from_outputs(outputs: dict[str, Any], source: str) -> Lake:
    lake = outputs.get("lake")
    if not isinstance(lake, dict):
        raise VerifyError(
            f"{source}: no `lake` output; verify the stack that owns the lake (lake.role: owner)"
        )
    try:
        zones = {name: spec["bucket"] for name, spec in lake["zones"].items()}
        return Lake(zones, str(lake["kmsKeyArn"]), str(lake["accessLogBucket"]), str(lake["region"]))
    except (KeyError, TypeError, AttributeError) as exc:
        raise VerifyError(
            f"{source}: the `lake` output lacks {exc}; redeploy the owner stack so its outputs are current"
        ) from None


class _Reads:
    """The S3 client for the checks: each `get_*` answer is fetched once, however many checks
    read it (the encryption and the policy each serve two)."""

    def __init__(self, s3: Any):
        self._s3 = s3
        self._answers: dict[tuple[str, tuple[tuple[str, Any], ...]], Any] = {}

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._s3, name)
        if not name.startswith("get_"):
            return attribute

        def cached(**kwargs: Any) -> Any:
            key = (name, tuple(sorted(kwargs.items())))
            if key not in self._answers:
                self._answers[key] = attribute(**kwargs)
            return self._answers[key]

        return cached


def verify(lake: Lake, s3: Any, *, write_probe: bool = False) -> list[Check]:
    checks: list[Check] = []
    reads = _Reads(s3)
    for zone, bucket in sorted(lake.zones.items()):
        for name, fn in BUCKET_CHECKS:
            try:
                ok, detail = fn(reads, bucket, lake, zone)
            except s3.exceptions.ClientError as exc:
                ok, detail = False, _error_code(exc)
            checks.append(Check(bucket, name, ok, detail))
        if write_probe:
            checks += _probes(s3, bucket, lake)
    return checks


def _error_code(exc: Any) -> str:
    error = getattr(exc, "response", {}).get("Error", {})
    return f"{error.get('Code', 'error')}: {error.get('Message', '')}".strip()


def _encryption(s3: Any, bucket: str, lake: Lake, zone: str) -> tuple[bool, str]:
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    default = rule.get("ApplyServerSideEncryptionByDefault", {})
    if default.get("SSEAlgorithm") != "aws:kms":
        return False, f"default encryption is {default.get('SSEAlgorithm')}, not aws:kms"
    if default.get("KMSMasterKeyID") != lake.key_arn:
        return False, f"default key is {default.get('KMSMasterKeyID')}, not the lake key"
    return True, ""


def _bucket_key(s3: Any, bucket: str, lake: Lake, zone: str) -> tuple[bool, str]:
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    return (True, "") if rule.get("BucketKeyEnabled") is True else (False, "bucket key is off")


def _public_access_block(s3: Any, bucket: str, lake: Lake, zone: str) -> tuple[bool, str]:
    config = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    off = [
        k
        for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
        if config.get(k) is not True
    ]
    return (not off, f"off: {', '.join(off)}" if off else "")


def _ownership(s3: Any, bucket: str, lake: Lake, zone: str) -> tuple[bool, str]:
    rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    value = rules[0].get("ObjectOwnership") if rules else None
    return (value == "BucketOwnerEnforced", "" if value == "BucketOwnerEnforced" else f"ownership is {value}")


def _versioning(s3: Any, bucket: str, lake: Lake, zone: str) -> tuple[bool, str]:
    status = s3.get_bucket_versioning(Bucket=bucket).get("Status")
    return (status == "Enabled", "" if status == "Enabled" else f"versioning is {status or 'never enabled'}")


def _logging(s3: Any, bucket: str, lake: Lake, zone: str) -> tuple[bool, str]:
    enabled = s3.get_bucket_logging(Bucket=bucket).get("LoggingEnabled")
    if not enabled:
        return False, "server access logging is off"
    if enabled.get("TargetBucket") != lake.log_bucket:
        return False, f"logs go to {enabled.get('TargetBucket')}, not {lake.log_bucket}"
    return True, ""


def _lifecycle(s3: Any, bucket: str, lake: Lake, zone: str) -> tuple[bool, str]:
    try:
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    except s3.exceptions.ClientError as exc:
        return False, _error_code(exc)
    ok = any(
        r.get("Status") == "Enabled"
        and r.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation")
        for r in rules
    )
    return ok, "" if ok else "no enabled rule aborts incomplete multipart uploads"


def _policy(s3: Any, bucket: str) -> dict[str, Any]:
    return json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])


def _refuses_plain_http(s3: Any, bucket: str, lake: Lake, zone: str) -> tuple[bool, str]:
    request = Request("s3:GetObject", f"arn:aws:s3:::{bucket}/any", context={"aws:SecureTransport": "false"})
    return (True, "") if denied_by(_policy(s3, bucket), request) else (False, "the policy allows plain HTTP")


def _refuses_other_encryption(s3: Any, bucket: str, lake: Lake, zone: str) -> tuple[bool, str]:
    doc = _policy(s3, bucket)
    obj = f"arn:aws:s3:::{bucket}/any"
    tls = {"aws:SecureTransport": "true"}
    other_key = lake.key_arn.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    if not denied_by(doc, Request("s3:PutObject", obj, context={**tls, ENC: "AES256"})):
        return False, "the policy allows uploads asking for SSE-S3"
    if not denied_by(doc, Request("s3:PutObject", obj, context={**tls, ENC: "aws:kms", KEY: other_key})):
        return False, "the policy allows uploads asking for another KMS key"
    if denied_by(doc, Request("s3:PutObject", obj, context=tls)):
        return False, "the policy refuses uploads that send no encryption header"
    return True, ""


def _refuses_kms_without_key(s3: Any, bucket: str, lake: Lake, zone: str) -> tuple[bool, str]:
    # SSE-KMS without a key id is stored under the AWS managed key aws/s3, not the lake key
    # (see components/governed_bucket.bucket_policy).
    request = Request(
        "s3:PutObject",
        f"arn:aws:s3:::{bucket}/any",
        context={"aws:SecureTransport": "true", ENC: "aws:kms"},
    )
    if denied_by(_policy(s3, bucket), request):
        return True, ""
    return False, "the policy allows SSE-KMS uploads that would use the AWS managed key aws/s3"


def _probes(s3: Any, bucket: str, lake: Lake) -> list[Check]:
    """Real uploads: asking for SSE-S3 or another key must be refused by the bucket policy; an
    upload with no encryption header must succeed and be stored with the lake key."""
    other_key = lake.key_arn.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    out = []
    for name, extra in (
        ("an upload asking for SSE-S3 is refused", {"ServerSideEncryption": "AES256"}),
        (
            "an upload asking for another KMS key is refused",
            {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": other_key},
        ),
        ("an upload asking for SSE-KMS without a key id is refused", {"ServerSideEncryption": "aws:kms"}),
    ):
        key = f"{PROBE_PREFIX}{uuid.uuid4()}"
        try:
            put = s3.put_object(Bucket=bucket, Key=key, Body=b"dataops verify probe\n", **extra)
        except s3.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            ok = code == "AccessDenied"
            out.append(
                Check(bucket, name, ok, "" if ok else f"refused, but not by the bucket policy: {code}")
            )
            continue
        _remove(s3, bucket, key, put)
        out.append(Check(bucket, name, False, "the upload was accepted"))

    name = "a plain upload succeeds and is stored SSE-KMS with the lake key"
    key = f"{PROBE_PREFIX}{uuid.uuid4()}"
    try:
        put = s3.put_object(Bucket=bucket, Key=key, Body=b"dataops verify probe\n")
        head = s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError as exc:
        return [*out, Check(bucket, name, False, f"upload refused: {_error_code(exc)}")]
    _remove(s3, bucket, key, put)
    algorithm, used_key = head.get("ServerSideEncryption"), head.get("SSEKMSKeyId")
    if algorithm != "aws:kms" or used_key != lake.key_arn:
        return [*out, Check(bucket, name, False, f"stored with {algorithm} / {used_key}")]
    return [*out, Check(bucket, name, True, "")]


def _remove(s3: Any, bucket: str, key: str, put: dict[str, Any]) -> None:
    # Object lock may retain a probe; it lives under _dataops-verify/ and is a few bytes.
    with contextlib.suppress(s3.exceptions.ClientError):
        version = {"VersionId": put["VersionId"]} if put.get("VersionId") else {}
        s3.delete_object(Bucket=bucket, Key=key, **version)


BUCKET_CHECKS: list[tuple[str, Callable[[Any, str, Lake, str], tuple[bool, str]]]] = [
    ("default encryption is SSE-KMS with the lake key", _encryption),
    ("bucket key is on", _bucket_key),
    ("all four public-access-block flags are on", _public_access_block),
    ("ACLs are disabled (BucketOwnerEnforced)", _ownership),
    ("versioning is enabled", _versioning),
    ("server access logs go to the lake's log bucket", _logging),
    ("a lifecycle rule aborts incomplete multipart uploads", _lifecycle),
    ("the bucket policy refuses plain HTTP", _refuses_plain_http),
    (
        "the bucket policy refuses uploads asking for another encryption or key, not plain ones",
        _refuses_other_encryption,
    ),
    ("the bucket policy refuses SSE-KMS uploads that do not name the lake key", _refuses_kms_without_key),
]


def s3_client(region: str, endpoint_url: str | None) -> Any:
    import boto3
    from botocore.config import Config

    # Short timeouts and few retries: an unreachable endpoint is reported in seconds, not minutes.
    config = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2})
    return boto3.client("s3", region_name=region, endpoint_url=endpoint_url, config=config)


def run_verify(
    stack: str, outputs_file: Path | None, endpoint_url: str | None, write_probe: bool
) -> list[Check]:
    import botocore.exceptions as bce

    outputs = read_outputs(stack, outputs_file)
    lake = lake_from_outputs(outputs, str(outputs_file) if outputs_file else f"stack {stack}")
    s3 = s3_client(lake.region, endpoint_url)
    try:
        s3.head_bucket(Bucket=next(iter(lake.zones.values())))
        return verify(lake, s3, write_probe=write_probe)
    except bce.NoCredentialsError:
        raise VerifyError(
            "no AWS credentials found; set AWS_PROFILE (or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY) for the account that holds the lake"
        ) from None
    except (bce.EndpointConnectionError, bce.ConnectTimeoutError) as exc:
        raise VerifyError(
            f"cannot reach the S3 endpoint ({exc.kwargs.get('endpoint_url', exc)}); check the "
            "network, AWS_ENDPOINT_URL or --endpoint-url"
        ) from None
    except bce.ClientError as exc:
        raise VerifyError(
            f"the lake's first bucket is not reachable: {_error_code(exc)}; check the account "
            "and region of your credentials"
        ) from None
