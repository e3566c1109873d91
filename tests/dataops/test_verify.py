"""`python -m dataops verify` against a real moto server on 127.0.0.1: a compliant lake (zones and
access-log bucket, with and without object lock) and a compliant workspace pass every check; each
broken property gives exactly its FAIL line(s), naming the bucket; a missing bucket is one FAIL
line naming it; malformed outputs give one error line."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest

from components.data_lake import log_delivery_statements
from components.governed_bucket import bucket_policy
from dataops.cli import main
from dataops.plan import ROOT

REGION = "eu-west-1"
ZONES = ("raw", "curated")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1, so the endpoint speaks TLS like S3 and the lake's TLS-only
    policy lets the real requests through."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@contextlib.contextmanager
def moto_server(*tls: str) -> Iterator[int]:
    """A real moto server on 127.0.0.1 (HTTPS with `-c CERT -k KEY` as `tls`), stopped after; its port."""
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port), *tls],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("moto server did not start")
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    cert, key = self_signed(tmp_path_factory.mktemp("tls"))
    with moto_server("-c", str(cert), "-k", str(key)) as port:
        yield f"https://127.0.0.1:{port}", str(cert)


@pytest.fixture
def aws_env(endpoint, monkeypatch):
    url, ca_bundle = endpoint
    env = {
        "AWS_ENDPOINT_URL": url,
        "AWS_CA_BUNDLE": ca_bundle,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


ACCOUNT = "123456789012"  # moto's
LOCK = {"mode": "GOVERNANCE", "retentionDays": 30}  # what prod sets


def governed(
    s3, bucket: str, key_arn: str | None, log_to: tuple[str, str] | None, lock=None, extra=()
) -> None:
    """A bucket set up the way components/governed_bucket.GovernedBucket declares it, through the
    S3 API: SSE-KMS with `key_arn` (SSE-S3 when None), logging to `log_to` (bucket, prefix), object
    lock with the default retention `lock` (as in the `lake.objectLock` output)."""
    location = {"CreateBucketConfiguration": {"LocationConstraint": REGION}}
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=lock is not None, **location)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    default = (
        {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn} if key_arn else {"SSEAlgorithm": "AES256"}
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": key_arn is not None}
            ]
        },
    )
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    if log_to is not None:
        s3.put_bucket_logging(
            Bucket=bucket,
            BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": log_to[0], "TargetPrefix": log_to[1]}},
        )
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "governed-lifecycle",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
                }
            ]
        },
    )
    if lock is not None:
        s3.put_object_lock_configuration(
            Bucket=bucket,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": lock["mode"], "Days": lock["retentionDays"]}},
            },
        )
    policy = bucket_policy(f"arn:aws:s3:::{bucket}", key_arn, list(extra))
    # moto 5.2 checks log delivery by reading statements in order and fails on a string
    # Principal ("*") before it reaches the delivery grant; AWS reads them as a set.
    policy["Statement"].reverse()
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


def make_lake(name: str, object_lock: dict | None = None, unlocked: tuple[str, ...] = ()) -> dict:
    """A lake as the GovernedDataLake component declares it (zones in `unlocked` without object
    lock), and the `lake` output its stack would have."""
    s3 = boto3.client("s3", region_name=REGION)
    kms = boto3.client("kms", region_name=REGION)
    key_arn = kms.create_key(Description=f"{name} lake")["KeyMetadata"]["Arn"]
    log_bucket = f"{name}-access-logs"
    governed(s3, log_bucket, None, None, extra=log_delivery_statements("aws", log_bucket, ACCOUNT, name))
    zones = {}
    for zone in ZONES:
        bucket = f"{name}-{zone}"
        governed(s3, bucket, key_arn, (log_bucket, f"{zone}/"), None if zone in unlocked else object_lock)
        zones[zone] = {"bucket": bucket, "arn": f"arn:aws:s3:::{bucket}"}
    lake = {
        "zones": zones,
        "kmsKeyArn": key_arn,
        "accessLogBucket": log_bucket,
        "region": REGION,
        "objectLock": object_lock,
    }
    return {
        "lake": lake,
        "access": {"workspaceBucket": None, "workspaceKeyArn": None, "accessLogBucket": None},
    }


def make_workspace(lake: dict, stack: str) -> dict:
    """A consumer stack's workspace as DataAccess declares it, logging into `lake`'s log bucket,
    and the outputs its stack would have."""
    s3 = boto3.client("s3", region_name=REGION)
    key_arn = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
    log_bucket = lake["lake"]["accessLogBucket"]
    bucket = f"{log_bucket.removesuffix('-access-logs')}-{stack}-workspace"
    governed(s3, bucket, key_arn, (log_bucket, f"workspace/{stack}/"))
    access = {
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/{stack}-data-access",
        "roleName": f"{stack}-data-access",
        "workspaceBucket": bucket,
        "workspaceKeyArn": key_arn,
        "accessLogBucket": log_bucket,
    }
    return {"access": access, "environment": "dev"}


def run_verify(
    tmp_path: Path, outputs, env: dict, *extra: str, stack: str = "prod"
) -> subprocess.CompletedProcess:
    path = tmp_path / "outputs.json"
    path.write_text(outputs if isinstance(outputs, str) else json.dumps(outputs))
    return subprocess.run(
        [sys.executable, "-m", "dataops", "verify", "--stack", stack, "--outputs", str(path), *extra],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def verify_here(capsys, tmp_path: Path, outputs, stack: str = "prod") -> SimpleNamespace:
    """`verify` run in this process (no interpreter start per case), with what a run reports."""
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    code = main(["verify", "--stack", stack, "--outputs", str(path)])
    captured = capsys.readouterr()
    return SimpleNamespace(returncode=code, stdout=captured.out, stderr=captured.err)


def lines(result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith(("PASS", "FAIL"))]


def failures(result) -> list[str]:
    return [line for line in lines(result) if line.startswith("FAIL")]


ZONE_CHECKS = 10
LOG_BUCKET_CHECKS = 7  # SSE-S3, the block, ownership, versioning, lifecycle, TLS, log delivery
WORKSPACE_CHECKS = 10


def test_compliant_lake_passes_every_check(tmp_path, aws_env):
    result = run_verify(tmp_path, make_lake("good"), aws_env)
    assert result.returncode == 0, result.stdout + result.stderr
    checks = lines(result)
    assert len(checks) == 2 * ZONE_CHECKS + LOG_BUCKET_CHECKS
    assert all(line.startswith("PASS") for line in checks), checks
    assert (
        "PASS good-access-logs: default encryption is SSE-S3, the only kind S3 log delivery accepts" in checks
    )
    assert not [line for line in checks if "object lock" in line]  # the stack sets none
    assert f"prod: {2 * ZONE_CHECKS + LOG_BUCKET_CHECKS} passed, 0 failed" in result.stdout


def policy_with(s3, bucket: str, key_arn: str, keep) -> None:
    """Put the governed bucket policy with only the statements whose Sid `keep` accepts."""
    statements = [
        s for s in bucket_policy(f"arn:aws:s3:::{bucket}", key_arn, [])["Statement"] if keep(s["Sid"])
    ]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))


def breakers(key_arn: str):
    s3 = boto3.client("s3", region_name=REGION)
    other_key = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
    return {
        "default encryption is SSE-KMS with the lake key": lambda b: s3.put_bucket_encryption(
            Bucket=b,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": other_key,
                        },
                        "BucketKeyEnabled": True,
                    }
                ]
            },
        ),
        "bucket key is on": lambda b: s3.put_bucket_encryption(
            Bucket=b,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": key_arn,
                        },
                        "BucketKeyEnabled": False,
                    }
                ]
            },
        ),
        "all four public-access-block flags are on": lambda b: s3.put_public_access_block(
            Bucket=b,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": False,
                "RestrictPublicBuckets": True,
            },
        ),
        "ACLs are disabled (BucketOwnerEnforced)": lambda b: s3.put_bucket_ownership_controls(
            Bucket=b, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
        ),
        "versioning is enabled": lambda b: s3.put_bucket_versioning(
            Bucket=b, VersioningConfiguration={"Status": "Suspended"}
        ),
        "server access logs go to the lake's log bucket": lambda b: s3.put_bucket_logging(
            Bucket=b, BucketLoggingStatus={}
        ),
        "a lifecycle rule aborts incomplete multipart uploads": lambda b: s3.delete_bucket_lifecycle(
            Bucket=b
        ),
        "the bucket policy refuses plain HTTP": lambda b: s3.put_bucket_policy(
            Bucket=b,
            Policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": bucket_policy(f"arn:aws:s3:::{b}", key_arn, [])["Statement"][1:],
                }
            ),
        ),
        "the bucket policy refuses uploads asking for another encryption or key, not plain ones": lambda b: (
            policy_with(s3, b, key_arn, lambda sid: sid in ("DenyInsecureTransport", "DenyKmsWithoutLakeKey"))
        ),
        "the bucket policy refuses SSE-KMS uploads that do not name the lake key": lambda b: policy_with(
            s3, b, key_arn, lambda sid: sid != "DenyKmsWithoutLakeKey"
        ),
    }


def test_each_broken_property_fails_its_check(tmp_path, aws_env, capsys):
    checks = list(breakers("placeholder"))
    for i, check in enumerate(checks):
        clean = make_lake(f"broken{i}")
        bucket = clean["lake"]["zones"]["raw"]["bucket"]
        breakers(clean["lake"]["kmsKeyArn"])[check](bucket)
        result = verify_here(capsys, tmp_path, clean)
        assert result.returncode == 1, check
        failed = [line for line in lines(result) if line.startswith("FAIL")]
        assert any(f"FAIL {bucket}: {check}" in line for line in failed), (check, failed)
        unrelated = [line for line in failed if check not in line]
        assert unrelated == [], (check, unrelated)


def log_breakers(log_bucket: str) -> dict[str, tuple]:
    """Ways the access-log bucket can be wrong -> (how, the checks that must fail, a detail)."""
    s3 = boto3.client("s3", region_name=REGION)
    arn = f"arn:aws:s3:::{log_bucket}"
    prefix = log_bucket.removesuffix("-access-logs")
    delivery = log_delivery_statements("aws", log_bucket, ACCOUNT, prefix)
    any_account = [{**delivery[0], "Condition": {"ArnLike": delivery[0]["Condition"]["ArnLike"]}}]
    deny_puts = {"Sid": "DenyPuts", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
                 "Resource": f"{arn}/*"}  # fmt: skip
    encryption = "default encryption is SSE-S3, the only kind S3 log delivery accepts"
    http = "the bucket policy refuses plain HTTP"
    logs = "the bucket policy lets S3 deliver the zones' access logs, from this account only"

    def policy(statements):
        return lambda: s3.put_bucket_policy(
            Bucket=log_bucket, Policy=json.dumps(bucket_policy(arn, None, statements))
        )

    return {
        "no policy": (lambda: s3.delete_bucket_policy(Bucket=log_bucket), {http, logs}, "NoSuchBucketPolicy"),
        "no public-access block": (
            lambda: s3.delete_public_access_block(Bucket=log_bucket),
            {"all four public-access-block flags are on"},
            "NoSuchPublicAccessBlockConfiguration",
        ),
        "no encryption": (
            lambda: s3.delete_bucket_encryption(Bucket=log_bucket),
            {encryption},
            "ServerSideEncryptionConfigurationNotFoundError",
        ),
        "SSE-KMS": (
            lambda: s3.put_bucket_encryption(
                Bucket=log_bucket,
                ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
                },
            ),
            {encryption},
            "default encryption is aws:kms",
        ),
        "no delivery grant": (
            policy([]),
            {logs},
            f"does not let logging.s3.amazonaws.com deliver the logs of {prefix}-curated",
        ),
        "delivery from any account": (
            policy(any_account),
            {logs},
            "accepts log delivery from other accounts",
        ),
        "a deny that blocks delivery": (policy([*delivery, deny_puts]), {logs}, "denies the log delivery"),
    }


LOG_CASES = (
    "no policy",
    "no public-access block",
    "no encryption",
    "SSE-KMS",
    "no delivery grant",
    "delivery from any account",
    "a deny that blocks delivery",
)


@pytest.mark.parametrize("case", LOG_CASES)
def test_a_broken_access_log_bucket_fails_exactly_its_checks(tmp_path, aws_env, capsys, case):
    lake = make_lake(f"logs{LOG_CASES.index(case)}")
    log_bucket = lake["lake"]["accessLogBucket"]
    breaker, expected, detail = log_breakers(log_bucket)[case]
    breaker()
    result = verify_here(capsys, tmp_path, lake)
    assert result.returncode == 1, result.stdout + result.stderr
    failed = failures(result)
    assert len(failed) == len(expected), failed
    assert all(any(line.startswith(f"FAIL {log_bucket}: {check} (") for line in failed) for check in expected)
    assert all(detail in line for line in failed), failed


def test_object_lock_is_checked_on_every_zone_where_the_stack_sets_it(tmp_path, aws_env, capsys):
    check = "object lock is on, GOVERNANCE for 30 days by default"
    locked = make_lake("locked", object_lock=LOCK)
    result = verify_here(capsys, tmp_path, locked)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [line for line in lines(result) if check in line] == [
        f"PASS locked-{zone}: {check}" for zone in sorted(ZONES)
    ]
    assert len(lines(result)) == 2 * (ZONE_CHECKS + 1) + LOG_BUCKET_CHECKS

    result = verify_here(capsys, tmp_path, make_lake("halflocked", object_lock=LOCK, unlocked=("raw",)))
    assert result.returncode == 1
    assert failures(result) == [f"FAIL halflocked-raw: {check} (object lock is off)"]

    weak = make_lake("weaklock", object_lock={"mode": "COMPLIANCE", "retentionDays": 1})
    weak["lake"]["objectLock"] = LOCK  # what the stack sets, not what the buckets have
    result = verify_here(capsys, tmp_path, weak)
    assert failures(result) == [
        f"FAIL weaklock-{zone}: {check} (COMPLIANCE for 1 days, not GOVERNANCE for 30 days)"
        for zone in sorted(ZONES)
    ]


@pytest.mark.parametrize("stack", ["dev", "sandbox-demo"])
def test_compliant_workspace_passes_every_check(tmp_path, aws_env, capsys, stack):
    name = f"ws{stack.replace('-', '')}"
    outputs = make_workspace(make_lake(name), stack)
    result = verify_here(capsys, tmp_path, outputs, stack=stack)
    assert result.returncode == 0, result.stdout + result.stderr
    bucket = outputs["access"]["workspaceBucket"]
    checks = lines(result)
    assert len(checks) == WORKSPACE_CHECKS and all(line.startswith(f"PASS {bucket}: ") for line in checks)
    assert f"PASS {bucket}: default encryption is SSE-KMS with the workspace key" in checks


def test_a_workspace_with_the_wrong_key_or_log_prefix_fails(tmp_path, aws_env, capsys):
    lake = make_lake("wsbroken")
    outputs = make_workspace(lake, "dev")
    bucket = outputs["access"]["workspaceBucket"]
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": lake["lake"]["kmsKeyArn"],
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    result = verify_here(capsys, tmp_path, outputs, stack="dev")
    assert failures(result) == [
        f"FAIL {bucket}: default encryption is SSE-KMS with the workspace key "
        f"(default key is {lake['lake']['kmsKeyArn']}, not the workspace key)"
    ]
    # The same workspace verified as another stack's: its logs are under dev's prefix.
    result = verify_here(capsys, tmp_path, outputs, stack="test")
    log_bucket = lake["lake"]["accessLogBucket"]
    assert (
        f"FAIL {bucket}: server access logs go to the lake's log bucket "
        f"(logs go to {log_bucket}/workspace/dev/, not {log_bucket}/workspace/test/)"
    ) in failures(result)


def test_a_missing_bucket_is_one_fail_line_naming_it(tmp_path, aws_env, capsys):
    lake = make_lake("gone")
    boto3.client("s3", region_name=REGION).delete_bucket(Bucket="gone-raw")
    result = verify_here(capsys, tmp_path, lake)
    assert result.returncode == 1, result.stderr
    assert failures(result) == ["FAIL gone-raw: the bucket exists and answers (no such bucket)"]
    assert len(lines(result)) == ZONE_CHECKS + LOG_BUCKET_CHECKS + 1
    # The first bucket too: a FAIL naming it, not an error about "the first bucket".
    outputs = make_workspace(make_lake("gonews"), "dev")
    outputs["access"]["workspaceBucket"] = "gonews-dev-workspace-never-made"
    result = verify_here(capsys, tmp_path, outputs, stack="dev")
    assert result.returncode == 1, result.stderr
    assert lines(result) == [
        "FAIL gonews-dev-workspace-never-made: the bucket exists and answers (no such bucket)"
    ]


def _lake(**changes) -> dict:
    """Well-formed owner outputs with `changes` applied to the `lake` output."""
    lake = {
        "zones": {"raw": {"bucket": "ok-raw"}},
        "kmsKeyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "accessLogBucket": "ok-access-logs",
        "region": REGION,
        "objectLock": None,
    }
    return {"lake": {**lake, **changes}}


def _access(**changes) -> dict:
    access = {
        "workspaceBucket": "ok-dev-workspace",
        "workspaceKeyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "accessLogBucket": "ok-access-logs",
    }
    return {"access": {k: v for k, v in {**access, **changes}.items() if v != "<absent>"}}


@pytest.mark.parametrize(
    ("outputs", "expected"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "expected a JSON object"),
        ({"environment": "prod"}, "no `lake` output and no workspace"),
        ({"access": {"workspaceBucket": None}}, "nothing to verify"),
        ({"lake": {"zones": {}}}, "`lake.zones` is {}, not a map of zone buckets"),
        (_lake(zones={}), "`lake.zones` is {}, not a map of zone buckets"),
        (_lake(zones=[]), "`lake.zones` is [], not an object"),
        (_lake(zones={"raw": None}), "`lake.zones.raw` is null, not an object"),
        (_lake(zones={"raw": {}}), "the `lake.zones.raw` output lacks bucket"),
        (_lake(zones={"Raw/..": {"bucket": "ok-raw"}}), 'is "Raw/..", not a zone name'),
        (_lake(zones={"raw": {"bucket": None}}), "`lake.zones.raw.bucket` is null, not an S3 bucket name"),
        (_lake(zones={"raw": {"bucket": ""}}), '`lake.zones.raw.bucket` is "", not an S3 bucket name'),
        (_lake(zones={"raw": {"bucket": "../x"}}), '`lake.zones.raw.bucket` is "../x", not an S3 bucket'),
        (_lake(zones={"raw": {"bucket": "a/b"}}), '`lake.zones.raw.bucket` is "a/b", not an S3 bucket'),
        (_lake(zones={"raw": {"bucket": "a..b"}}), '`lake.zones.raw.bucket` is "a..b", not an S3 bucket'),
        (_lake(accessLogBucket="x" * 200), '`lake.accessLogBucket` is "xxxx'),
        (_lake(kmsKeyArn=42), "`lake.kmsKeyArn` is 42, not a KMS key ARN"),
        (_lake(kmsKeyArn="alias/lake"), '`lake.kmsKeyArn` is "alias/lake", not a KMS key ARN'),
        (_lake(region="Europe"), '`lake.region` is "Europe", not an AWS region'),
        (_lake(objectLock={"mode": "STRICT", "retentionDays": 30}), "`lake.objectLock` is"),
        (_lake(objectLock={"mode": "GOVERNANCE", "retentionDays": True}), "`lake.objectLock` is"),
        ({"lake": {k: v for k, v in _lake()["lake"].items() if k != "objectLock"}}, "lacks objectLock"),
        ({"lake": "prod"}, '`lake` is "prod", not an object'),
        ({"access": "dev"}, '`access` is "dev", not an object'),
        (_access(workspaceBucket="<absent>"), "the `access` output lacks workspaceBucket"),
        (_access(workspaceBucket="../x"), '`access.workspaceBucket` is "../x"'),
        (_access(workspaceKeyArn=None), "`access.workspaceKeyArn` is null, not a KMS key ARN"),
        (_access(workspaceKeyArn=["arn"]), '`access.workspaceKeyArn` is ["arn"], not a KMS key ARN'),
        (_access(accessLogBucket="<absent>"), "the `access` output lacks accessLogBucket"),
    ],
)
def test_garbled_outputs_are_one_error_line(tmp_path, aws_env, capsys, outputs, expected):
    path = tmp_path / "outputs.json"
    path.write_text(outputs if isinstance(outputs, str) else json.dumps(outputs))
    code = main(["verify", "--stack", "dev", "--outputs", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and len(err.splitlines()) == 1, err
    assert expected in err and len(err) < 400, err


@pytest.mark.parametrize("outputs", [_lake(zones={}), _lake(zones={"raw": {"bucket": "../x"}})])
def test_garbled_outputs_through_the_command_line(tmp_path, aws_env, outputs):
    result = run_verify(tmp_path, outputs, aws_env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1


def test_an_unreadable_first_bucket_is_an_error_and_a_later_one_a_fail_both_naming_it(
    aws_env, tmp_path, monkeypatch
):
    """Access denied on the first bucket means the wrong account or region: one error line (exit 2).
    On a later bucket it is that bucket's failure."""
    from botocore.stub import Stubber

    from dataops import verify

    client = verify.s3_client(REGION, None)
    monkeypatch.setattr(verify, "s3_client", lambda _region, _url: client)
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(_access()))
    with Stubber(client) as stub:
        stub.add_client_error("head_bucket", "403", "Forbidden", 403)
        with pytest.raises(
            verify.VerifyError, match=r"^ok-dev-workspace is not reachable \(403: Forbidden\)"
        ):
            verify.run_verify("dev", outputs, None, False)
    with Stubber(client) as stub:
        stub.add_client_error("head_bucket", "403", "Forbidden", 403)
        checks = verify.verify(verify.buckets_from_outputs(_access(), "dev", "test"), {REGION: client})
    assert [str(c) for c in checks] == [
        "FAIL ok-dev-workspace: the bucket exists and answers (403: Forbidden)"
    ]


def test_missing_outputs_file(aws_env):
    result = subprocess.run(
        [sys.executable, "-m", "dataops", "verify", "--stack", "prod", "--outputs", "/nonexistent"],
        cwd=ROOT,
        env={**os.environ, **aws_env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "cannot read" in result.stderr and "Traceback" not in result.stderr


def test_unreachable_endpoint(tmp_path, aws_env):
    outputs = make_lake("unreach")
    env = {**aws_env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}
    result = run_verify(tmp_path, outputs, env)
    assert result.returncode == 2 and "cannot reach the S3 endpoint" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_credentials(tmp_path, aws_env):
    outputs = make_lake("nocreds")
    env = {
        k: v
        for k, v in {**os.environ, **aws_env}.items()
        if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    }
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    result = subprocess.run(
        [sys.executable, "-m", "dataops", "verify", "--stack", "prod", "--outputs", str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (
        result.returncode == 2 and "no AWS credentials" in result.stderr and "Traceback" not in result.stderr
    )


def test_probe_uploads_for_real(aws_env):
    """The --probe path: a real upload without encryption headers is stored with the lake key.

    moto (5.2) evaluates bucket policies without request context (getmoto/moto#7837), so this
    lake's bucket carries no policy here; the refusal probes are only meaningful against S3.
    """
    from dataops.verify import _probes, buckets_from_outputs, s3_client

    outputs = make_lake("probe")
    s3 = s3_client(REGION, None)
    raw = next(b for b in buckets_from_outputs(outputs, "prod", "test") if b.name == "probe-raw")
    s3.delete_bucket_policy(Bucket=raw.name)
    stored = _probes(s3, raw)[-1]
    assert stored.ok, stored
    assert stored.name == "a plain upload succeeds and is stored SSE-KMS with the lake key"
    s3.put_bucket_encryption(
        Bucket=raw.name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    stored = _probes(s3, raw)[-1]
    assert not stored.ok and "AES256" in stored.detail
    assert [c.ok for c in _probes(s3, raw)[:3]] == [False, False, False]  # nothing refuses without a policy
