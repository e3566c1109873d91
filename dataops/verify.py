# size: one small function per bucket property, listed by `checks_for` and specified by the
# docstring below; each is a few lines and none is shared elsewhere.
"""`python -m dataops verify --stack S`: check the buckets a deployed stack has, through the S3 API.

Reads the stack's outputs (`pulumi stack output --json`, or `--outputs FILE`) and checks every
bucket the platform created for it, against what the program declares
(components/governed_bucket.py, data_lake.py, data_access.py):

- the lake's owner (a `lake` output): every zone bucket — default encryption with the lake key
  and a bucket key, the public-access block, ACLs disabled, versioning, access logging into the
  lake's log bucket under `<zone>/`, the multipart-abort lifecycle rule, object lock with the
  stack's default retention where `lake.objectLock` is set, and a bucket policy that refuses
  plain HTTP and uploads asking for another encryption or key (or SSE-KMS without naming the
  key) while letting plain uploads through — and the access-log bucket: SSE-S3 (S3 delivers
  server access logs only into SSE-S3 buckets), the same block, ownership, versioning and
  lifecycle, and a policy that refuses plain HTTP and lets the S3 logging service deliver the
  zones' logs from this account only;
- the lake's declared datasets (`lake.datasets`): each has its Glue table with the declared
  columns, partition keys, Parquet SerDe and location, and its Data Quality ruleset on that table
  with the declared DQDL (dataops/verify_catalog.py);
- a stack with a workspace (`access.workspaceBucket`: consumers such as dev, and sandboxes): its
  workspace bucket, checked like a zone but with the stack's own workspace key, logging into
  the lake's log bucket under `workspace/<stack>/`.

Policies are judged on the document S3 returns (dataops/iam_eval.py). A bucket that does not
exist is one FAIL line naming it. With `--probe` the KMS buckets also get real uploads: asking
for SSE-S3 or another key must be refused, and one without encryption headers must succeed and
be stored SSE-KMS with the bucket's key (the probes write under `_dataops-verify/`). Honours
AWS_ENDPOINT_URL (or --endpoint-url), so it checks the `local` stack's endpoint too.
One line per check, each naming its bucket; exit 1 on any FAIL, 2 on bad input (malformed
outputs included: one line naming the output and the value).
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.config import REGION_RE
from dataops import verify_catalog
from dataops.iam_eval import Request, allowed_by, denied_by

PROBE_PREFIX = "_dataops-verify/"
ENC = "s3:x-amz-server-side-encryption"
KEY = "s3:x-amz-server-side-encryption-aws-kms-key-id"
LOG_DELIVERY = "logging.s3.amazonaws.com"
# Where a workspace's access logs go in the lake's log bucket (components/data_access.py; not
# imported, because that module loads the Pulumi SDK).
WORKSPACE_LOG_PREFIX = "workspace/{stack}/"
# S3's bucket naming rules (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html):
# no slash, no leading dot, nothing a path could be built from.
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
KEY_ARN_RE = re.compile(r"^arn:(aws[a-z-]*):kms:([a-z0-9-]+):(\d{12}):key/[A-Za-z0-9-]+$")
ZONE_RE = re.compile(r"^[a-z][a-z0-9-]*$")
LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")
OTHER_ACCOUNT = "999999999999"


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


@dataclass(frozen=True)
class Bucket:
    """One bucket the stack created, and what it must have."""

    name: str
    region: str
    key_arn: str | None
    """SSE-KMS with this key; None: SSE-S3 (the access-log bucket)."""
    key_label: str
    """How the checks name that key ("lake key", "workspace key")."""
    logs_to: tuple[str, str] | None
    """(log bucket, prefix) its server access logs go to; None for the log bucket itself."""
    object_lock: tuple[str, int] | None = None
    """(mode, days) of the default retention, where the stack sets object lock."""
    log_sources: tuple[tuple[str, str], ...] = ()
    """The log bucket: the (bucket, prefix) pairs whose access logs its policy must accept."""
    partition: str = "aws"
    account: str = ""


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


# -- what the outputs say the stack has ---------------------------------------------------------


class _Outputs:
    """Reads the stack outputs; anything missing or malformed is one VerifyError naming the
    output and the value."""

    def __init__(self, source: str):
        self.source = source

    def bad(self, where: str, value: Any, expected: str) -> VerifyError:
        shown = json.dumps(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        return VerifyError(
            f"{self.source}: `{where}` is {shown}, not {expected}; pass the unedited output of "
            "`pulumi stack output --json`, from a deploy of the current program"
        )

    def field(self, doc: dict[str, Any], key: str, where: str) -> Any:
        if key not in doc:
            raise VerifyError(
                f"{self.source}: the `{where}` output lacks {key}; redeploy the stack so its "
                "outputs are current"
            )
        return doc[key]

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.bad(where, value, "an object")
        return value

    def bucket(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not BUCKET_RE.match(value) or ".." in value:
            raise self.bad(where, value, "an S3 bucket name")
        return value

    def key_arn(self, value: Any, where: str) -> tuple[str, str, str, str]:
        """The ARN and its partition, region and account."""
        match = KEY_ARN_RE.match(value) if isinstance(value, str) else None
        if match is None or not REGION_RE.match(match.group(2)):
            raise self.bad(where, value, "a KMS key ARN")
        return value, match.group(1), match.group(2), match.group(3)

    def object_lock(self, value: Any, where: str) -> tuple[str, int] | None:
        if value is None:
            return None
        lock = self.mapping(value, where)
        mode, days = lock.get("mode"), lock.get("retentionDays")
        if mode not in LOCK_MODES or isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise self.bad(where, value, "null or {mode: GOVERNANCE|COMPLIANCE, retentionDays: N}")
        return mode, days


def buckets_from_outputs(outputs: dict[str, Any], stack: str, source: str) -> list[Bucket]:
    """Every bucket the stack's outputs say it created, with what each must have."""
    read = _Outputs(source)
    found: list[Bucket] = []
    if outputs.get("lake") is not None:
        found += _lake_buckets(read, read.mapping(outputs["lake"], "lake"))
    if outputs.get("access") is not None:
        found += _workspace_bucket(read, read.mapping(outputs["access"], "access"), stack)
    if not found:
        raise VerifyError(
            f"{source}: no `lake` output and no workspace in the `access` output, so nothing to "
            "verify; verify the stack that owns the lake (lake.role: owner) or one with a workspace"
        )
    return found


def _lake_buckets(read: _Outputs, lake: dict[str, Any]) -> list[Bucket]:
    zones = read.mapping(read.field(lake, "zones", "lake"), "lake.zones")
    if not zones:
        raise read.bad("lake.zones", zones, "a map of zone buckets")
    names = {}
    for zone, spec in zones.items():
        if not ZONE_RE.match(zone):
            raise read.bad("lake.zones", zone, "a zone name")
        spec = read.mapping(spec, f"lake.zones.{zone}")
        names[zone] = read.bucket(
            read.field(spec, "bucket", f"lake.zones.{zone}"), f"lake.zones.{zone}.bucket"
        )
    key_arn, partition, _, account = read.key_arn(read.field(lake, "kmsKeyArn", "lake"), "lake.kmsKeyArn")
    log_bucket = read.bucket(read.field(lake, "accessLogBucket", "lake"), "lake.accessLogBucket")
    region = read.field(lake, "region", "lake")
    if not isinstance(region, str) or not REGION_RE.match(region):
        raise read.bad("lake.region", region, "an AWS region")
    lock = read.object_lock(read.field(lake, "objectLock", "lake"), "lake.objectLock")
    zone_buckets = [
        Bucket(name, region, key_arn, "lake key", (log_bucket, f"{zone}/"), lock)
        for zone, name in sorted(names.items())
    ]
    logs = Bucket(
        log_bucket,
        region,
        None,
        "",
        None,
        log_sources=tuple((name, f"{zone}/") for zone, name in sorted(names.items())),
        partition=partition,
        account=account,
    )
    return [*zone_buckets, logs]


def _workspace_bucket(read: _Outputs, access: dict[str, Any], stack: str) -> list[Bucket]:
    value = read.field(access, "workspaceBucket", "access")
    if value is None:  # workspace.enabled: false
        return []
    name = read.bucket(value, "access.workspaceBucket")
    key_arn, _, region, _ = read.key_arn(
        read.field(access, "workspaceKeyArn", "access"), "access.workspaceKeyArn"
    )
    log_bucket = read.bucket(read.field(access, "accessLogBucket", "access"), "access.accessLogBucket")
    return [
        Bucket(name, region, key_arn, "workspace key", (log_bucket, WORKSPACE_LOG_PREFIX.format(stack=stack)))
    ]


# -- the checks ---------------------------------------------------------------------------------


class _Reads:
    """The S3 client for the checks: each `get_*` answer is fetched once, however many checks
    read it (the encryption and the policy each serve several)."""

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
                try:
                    self._answers[key] = attribute(**kwargs)
                except self._s3.exceptions.ClientError as exc:
                    self._answers[key] = exc
            answer = self._answers[key]
            if isinstance(answer, Exception):
                raise answer
            return answer

        return cached


def verify(buckets: list[Bucket], clients: dict[str, Any], *, write_probe: bool = False) -> list[Check]:
    """Every check of every bucket; `clients`: an S3 client per region."""
    checks: list[Check] = []
    reads = {region: _Reads(s3) for region, s3 in clients.items()}
    for bucket in buckets:
        s3 = clients[bucket.region]
        missing = _missing(s3, bucket.name)
        if missing:
            # One line, not a failure per property of a bucket that is not there.
            checks.append(Check(bucket.name, "the bucket exists and answers", False, missing))
            continue
        for name, fn in checks_for(bucket):
            try:
                ok, detail = fn(reads[bucket.region], bucket)
            except s3.exceptions.ClientError as exc:
                ok, detail = False, _error_code(exc)
            checks.append(Check(bucket.name, name, ok, detail))
        if write_probe and bucket.key_arn is not None:
            checks += _probes(s3, bucket)
    return checks


def _error_code(exc: Any) -> str:
    error = getattr(exc, "response", {}).get("Error", {})
    return f"{error.get('Code', 'error')}: {error.get('Message', '')}".strip()


def _not_found(exc: Any) -> bool:
    return getattr(exc, "response", {}).get("Error", {}).get("Code") in ("404", "NoSuchBucket")


def _missing(s3: Any, bucket: str) -> str:
    """Why the bucket cannot be checked (it does not exist, or answers with an error), or ""."""
    try:
        s3.head_bucket(Bucket=bucket)
    except s3.exceptions.ClientError as exc:
        return "no such bucket" if _not_found(exc) else _error_code(exc)
    return ""


def _default_encryption(s3: Any, bucket: Bucket) -> dict[str, Any]:
    return s3.get_bucket_encryption(Bucket=bucket.name)["ServerSideEncryptionConfiguration"]["Rules"][0]


def _encryption(s3: Any, bucket: Bucket) -> tuple[bool, str]:
    default = _default_encryption(s3, bucket).get("ApplyServerSideEncryptionByDefault", {})
    if default.get("SSEAlgorithm") != "aws:kms":
        return False, f"default encryption is {default.get('SSEAlgorithm')}, not aws:kms"
    if default.get("KMSMasterKeyID") != bucket.key_arn:
        return False, f"default key is {default.get('KMSMasterKeyID')}, not the {bucket.key_label}"
    return True, ""


def _sse_s3(s3: Any, bucket: Bucket) -> tuple[bool, str]:
    algorithm = (
        _default_encryption(s3, bucket).get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm")
    )
    if algorithm != "AES256":
        return False, f"default encryption is {algorithm}; S3 delivers access logs only into SSE-S3 buckets"
    return True, ""


def _bucket_key(s3: Any, bucket: Bucket) -> tuple[bool, str]:
    rule = _default_encryption(s3, bucket)
    return (True, "") if rule.get("BucketKeyEnabled") is True else (False, "bucket key is off")


def _public_access_block(s3: Any, bucket: Bucket) -> tuple[bool, str]:
    config = s3.get_public_access_block(Bucket=bucket.name)["PublicAccessBlockConfiguration"]
    off = [
        k
        for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
        if config.get(k) is not True
    ]
    return (not off, f"off: {', '.join(off)}" if off else "")


def _ownership(s3: Any, bucket: Bucket) -> tuple[bool, str]:
    rules = s3.get_bucket_ownership_controls(Bucket=bucket.name)["OwnershipControls"]["Rules"]
    value = rules[0].get("ObjectOwnership") if rules else None
    return (value == "BucketOwnerEnforced", "" if value == "BucketOwnerEnforced" else f"ownership is {value}")


def _versioning(s3: Any, bucket: Bucket) -> tuple[bool, str]:
    status = s3.get_bucket_versioning(Bucket=bucket.name).get("Status")
    return (status == "Enabled", "" if status == "Enabled" else f"versioning is {status or 'never enabled'}")


def _logging(s3: Any, bucket: Bucket) -> tuple[bool, str]:
    assert bucket.logs_to is not None  # only buckets that log get this check
    target, prefix = bucket.logs_to
    enabled = s3.get_bucket_logging(Bucket=bucket.name).get("LoggingEnabled")
    if not enabled:
        return False, "server access logging is off"
    if (enabled.get("TargetBucket"), enabled.get("TargetPrefix")) != (target, prefix):
        return (
            False,
            f"logs go to {enabled.get('TargetBucket')}/{enabled.get('TargetPrefix')}, not {target}/{prefix}",
        )
    return True, ""


def _lifecycle(s3: Any, bucket: Bucket) -> tuple[bool, str]:
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket.name)["Rules"]
    ok = any(
        r.get("Status") == "Enabled"
        and r.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation")
        for r in rules
    )
    return ok, "" if ok else "no enabled rule aborts incomplete multipart uploads"


def _object_lock(s3: Any, bucket: Bucket) -> tuple[bool, str]:
    assert bucket.object_lock is not None  # only where the stack sets object lock
    try:
        config = s3.get_object_lock_configuration(Bucket=bucket.name)["ObjectLockConfiguration"]
    except s3.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ObjectLockConfigurationNotFoundError":
            return False, "object lock is off"
        raise
    if config.get("ObjectLockEnabled") != "Enabled":
        return False, "object lock is off"
    retention = config.get("Rule", {}).get("DefaultRetention", {})
    mode, days = bucket.object_lock
    if (retention.get("Mode"), retention.get("Days")) != (mode, days):
        found = (
            f"{retention.get('Mode')} for {retention['Days']} days"
            if "Days" in retention
            else f"{retention.get('Mode')} for {retention['Years']} years"
            if "Years" in retention
            else "no default retention"
        )
        return False, f"{found}, not {mode} for {days} days"
    return True, ""


def _policy(s3: Any, bucket: Bucket) -> dict[str, Any]:
    return json.loads(s3.get_bucket_policy(Bucket=bucket.name)["Policy"])


def _refuses_plain_http(s3: Any, bucket: Bucket) -> tuple[bool, str]:
    request = Request(
        "s3:GetObject", f"arn:aws:s3:::{bucket.name}/any", context={"aws:SecureTransport": "false"}
    )
    return (True, "") if denied_by(_policy(s3, bucket), request) else (False, "the policy allows plain HTTP")


def _other_key(key_arn: str) -> str:
    return key_arn.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"


def _refuses_other_encryption(s3: Any, bucket: Bucket) -> tuple[bool, str]:
    assert bucket.key_arn is not None  # KMS buckets only
    doc = _policy(s3, bucket)
    obj = f"arn:aws:s3:::{bucket.name}/any"
    tls = {"aws:SecureTransport": "true"}
    if not denied_by(doc, Request("s3:PutObject", obj, context={**tls, ENC: "AES256"})):
        return False, "the policy allows uploads asking for SSE-S3"
    other = {**tls, ENC: "aws:kms", KEY: _other_key(bucket.key_arn)}
    if not denied_by(doc, Request("s3:PutObject", obj, context=other)):
        return False, "the policy allows uploads asking for another KMS key"
    if denied_by(doc, Request("s3:PutObject", obj, context=tls)):
        return False, "the policy refuses uploads that send no encryption header"
    return True, ""


def _refuses_kms_without_key(s3: Any, bucket: Bucket) -> tuple[bool, str]:
    # SSE-KMS without a key id is stored under the AWS managed key aws/s3, not the bucket's key
    # (see components/governed_bucket.bucket_policy).
    request = Request(
        "s3:PutObject",
        f"arn:aws:s3:::{bucket.name}/any",
        context={"aws:SecureTransport": "true", ENC: "aws:kms"},
    )
    if denied_by(_policy(s3, bucket), request):
        return True, ""
    return False, "the policy allows SSE-KMS uploads that would use the AWS managed key aws/s3"


def _accepts_log_delivery(s3: Any, bucket: Bucket) -> tuple[bool, str]:
    """The S3 logging service may write each source's logs, from this account, and nothing denies
    it; from another account it may not (components/data_lake.log_delivery_statements)."""
    doc = _policy(s3, bucket)
    for source, prefix in bucket.log_sources:
        delivery = Request(
            "s3:PutObject",
            f"arn:{bucket.partition}:s3:::{bucket.name}/{prefix}2026/01/01/log",
            principal="",
            principal_service=LOG_DELIVERY,
            context={
                "aws:SecureTransport": "true",
                "aws:SourceArn": f"arn:{bucket.partition}:s3:::{source}",
                "aws:SourceAccount": bucket.account,
            },
        )
        if not allowed_by(doc, delivery):
            return False, f"the policy does not let {LOG_DELIVERY} deliver the logs of {source}"
        if denied := denied_by(doc, delivery):
            return False, f"the policy denies the log delivery of {source} ({', '.join(denied)})"
        elsewhere = Request(
            delivery.action,
            delivery.resource,
            principal="",
            principal_service=LOG_DELIVERY,
            context={**delivery.context, "aws:SourceAccount": OTHER_ACCOUNT},
        )
        if allowed_by(doc, elsewhere):
            return False, "the policy accepts log delivery from other accounts"
    return True, ""


def checks_for(bucket: Bucket) -> list[tuple[str, Callable[[Any, Bucket], tuple[bool, str]]]]:
    """The named checks this bucket gets, in the order they are reported."""
    key = bucket.key_label
    if bucket.key_arn is None:  # the access-log bucket
        checks = [("default encryption is SSE-S3, the only kind S3 log delivery accepts", _sse_s3)]
    else:
        checks = [
            (f"default encryption is SSE-KMS with the {key}", _encryption),
            ("bucket key is on", _bucket_key),
        ]
    checks += [
        ("all four public-access-block flags are on", _public_access_block),
        ("ACLs are disabled (BucketOwnerEnforced)", _ownership),
        ("versioning is enabled", _versioning),
    ]
    if bucket.logs_to is not None:
        checks.append(("server access logs go to the lake's log bucket", _logging))
    checks.append(("a lifecycle rule aborts incomplete multipart uploads", _lifecycle))
    if bucket.object_lock is not None:
        mode, days = bucket.object_lock
        checks.append((f"object lock is on, {mode} for {days} days by default", _object_lock))
    checks.append(("the bucket policy refuses plain HTTP", _refuses_plain_http))
    if bucket.key_arn is not None:
        checks += [
            (
                "the bucket policy refuses uploads asking for another encryption or key, not plain ones",
                _refuses_other_encryption,
            ),
            (
                f"the bucket policy refuses SSE-KMS uploads that do not name the {key}",
                _refuses_kms_without_key,
            ),
        ]
    if bucket.log_sources:
        checks.append(
            (
                "the bucket policy lets S3 deliver the zones' access logs, from this account only",
                _accepts_log_delivery,
            )
        )
    return checks


def _probes(s3: Any, bucket: Bucket) -> list[Check]:
    """Real uploads: asking for SSE-S3 or another key must be refused by the bucket policy; an
    upload with no encryption header must succeed and be stored with the bucket's key."""
    assert bucket.key_arn is not None  # KMS buckets only
    out = []
    for name, extra in (
        ("an upload asking for SSE-S3 is refused", {"ServerSideEncryption": "AES256"}),
        (
            "an upload asking for another KMS key is refused",
            {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": _other_key(bucket.key_arn)},
        ),
        ("an upload asking for SSE-KMS without a key id is refused", {"ServerSideEncryption": "aws:kms"}),
    ):
        key = f"{PROBE_PREFIX}{uuid.uuid4()}"
        try:
            put = s3.put_object(Bucket=bucket.name, Key=key, Body=b"dataops verify probe\n", **extra)
        except s3.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            ok = code == "AccessDenied"
            out.append(
                Check(bucket.name, name, ok, "" if ok else f"refused, but not by the bucket policy: {code}")
            )
            continue
        _remove(s3, bucket.name, key, put)
        out.append(Check(bucket.name, name, False, "the upload was accepted"))

    name = f"a plain upload succeeds and is stored SSE-KMS with the {bucket.key_label}"
    key = f"{PROBE_PREFIX}{uuid.uuid4()}"
    try:
        put = s3.put_object(Bucket=bucket.name, Key=key, Body=b"dataops verify probe\n")
        head = s3.head_object(Bucket=bucket.name, Key=key)
    except s3.exceptions.ClientError as exc:
        return [*out, Check(bucket.name, name, False, f"upload refused: {_error_code(exc)}")]
    _remove(s3, bucket.name, key, put)
    algorithm, used_key = head.get("ServerSideEncryption"), head.get("SSEKMSKeyId")
    if algorithm != "aws:kms" or used_key != bucket.key_arn:
        return [*out, Check(bucket.name, name, False, f"stored with {algorithm} / {used_key}")]
    return [*out, Check(bucket.name, name, True, "")]


def _remove(s3: Any, bucket: str, key: str, put: dict[str, Any]) -> None:
    # Object lock may retain a probe; it lives under _dataops-verify/ and is a few bytes.
    with contextlib.suppress(s3.exceptions.ClientError):
        version = {"VersionId": put["VersionId"]} if put.get("VersionId") else {}
        s3.delete_object(Bucket=bucket, Key=key, **version)


def _client(service: str, region: str, endpoint_url: str | None) -> Any:
    import boto3
    from botocore.config import Config

    # Short timeouts and few retries: an unreachable endpoint is reported in seconds, not minutes.
    config = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2})
    return boto3.client(service, region_name=region, endpoint_url=endpoint_url, config=config)


def s3_client(region: str, endpoint_url: str | None) -> Any:
    return _client("s3", region, endpoint_url)


def glue_catalog(region: str, endpoint_url: str | None) -> verify_catalog.Catalog:
    return verify_catalog.GlueCatalog(_client("glue", region, endpoint_url))


def run_verify(
    stack: str, outputs_file: Path | None, endpoint_url: str | None, write_probe: bool
) -> list[Check]:
    import botocore.exceptions as bce

    outputs = read_outputs(stack, outputs_file)
    buckets = buckets_from_outputs(outputs, stack, str(outputs_file) if outputs_file else f"stack {stack}")
    clients = {region: s3_client(region, endpoint_url) for region in sorted({b.region for b in buckets})}
    first = buckets[0]
    try:
        # Credentials, endpoint and account problems are one error line, not a FAIL per check; a
        # bucket that does not exist is a FAIL naming it.
        try:
            clients[first.region].head_bucket(Bucket=first.name)
        except bce.ClientError as exc:
            if not _not_found(exc):
                raise VerifyError(
                    f"{first.name} is not reachable ({_error_code(exc)}); check the account and "
                    "region of your credentials"
                ) from None
        checks = verify(buckets, clients, write_probe=write_probe)
        lake = outputs.get("lake")
        if isinstance(lake, dict):
            read = _Outputs(str(outputs_file) if outputs_file else f"stack {stack}")
            datasets = verify_catalog.declared(lake, read.bad)
            if datasets:
                catalog = glue_catalog(lake["region"], endpoint_url)
                try:
                    checks += [
                        Check(d.name, name, ok, detail)
                        for d in datasets
                        for name, ok, detail in verify_catalog.checks(d, catalog)
                    ]
                except bce.ClientError as exc:
                    raise VerifyError(
                        f"Glue refused to describe the lake's tables ({_error_code(exc)}); check that "
                        "your credentials may call glue:GetTable and glue:GetDataQualityRuleset"
                    ) from None
        return checks
    except bce.NoCredentialsError:
        raise VerifyError(
            "no AWS credentials found; set AWS_PROFILE (or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY) for the account that holds the stack's buckets"
        ) from None
    except (bce.EndpointConnectionError, bce.ConnectTimeoutError) as exc:
        raise VerifyError(
            f"cannot reach the S3 endpoint ({exc.kwargs.get('endpoint_url', exc)}); check the "
            "network, AWS_ENDPOINT_URL or --endpoint-url"
        ) from None
