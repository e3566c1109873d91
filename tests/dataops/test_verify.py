"""`python -m dataops verify` against a real moto server on 127.0.0.1: a compliant lake passes
every check; each broken property gives its FAIL line; bad input gives one error line."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from components.data_lake import log_delivery_statements
from components.governed_bucket import bucket_policy
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


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    cert, key = self_signed(tmp_path_factory.mktemp("tls"))
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "moto_server"),
            "-H",
            "127.0.0.1",
            "-p",
            str(port),
            "-c",
            str(cert),
            "-k",
            str(key),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        server.kill()
        pytest.fail("moto server did not start")
    yield f"https://127.0.0.1:{port}", str(cert)
    server.terminate()
    server.wait(timeout=10)


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


def make_lake(name: str) -> dict:
    """A lake set up the way the GovernedDataLake component declares it, through the S3 API."""
    s3 = boto3.client("s3", region_name=REGION)
    kms = boto3.client("kms", region_name=REGION)
    key_arn = kms.create_key(Description=f"{name} lake")["KeyMetadata"]["Arn"]
    log_bucket = f"{name}-access-logs"
    location = {"CreateBucketConfiguration": {"LocationConstraint": REGION}}
    s3.create_bucket(Bucket=log_bucket, **location)
    s3.put_bucket_ownership_controls(
        Bucket=log_bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    log_policy = bucket_policy(
        f"arn:aws:s3:::{log_bucket}", None, log_delivery_statements("aws", log_bucket, "123456789012", name)
    )
    # moto 5.2 checks log delivery by reading statements in order and fails on a string
    # Principal ("*") before it reaches the delivery grant; AWS reads them as a set.
    log_policy["Statement"].reverse()
    s3.put_bucket_policy(Bucket=log_bucket, Policy=json.dumps(log_policy))
    zones = {}
    for zone in ZONES:
        bucket = f"{name}-{zone}"
        s3.create_bucket(Bucket=bucket, **location)
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
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": key_arn,
                        },
                        "BucketKeyEnabled": True,
                    }
                ]
            },
        )
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_logging(
            Bucket=bucket,
            BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": log_bucket, "TargetPrefix": f"{zone}/"}},
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
        s3.put_bucket_policy(
            Bucket=bucket, Policy=json.dumps(bucket_policy(f"arn:aws:s3:::{bucket}", key_arn, []))
        )
        zones[zone] = {"bucket": bucket, "arn": f"arn:aws:s3:::{bucket}"}
    return {"lake": {"zones": zones, "kmsKeyArn": key_arn, "accessLogBucket": log_bucket, "region": REGION}}


def run_verify(tmp_path: Path, outputs, env: dict, *extra: str) -> subprocess.CompletedProcess:
    path = tmp_path / "outputs.json"
    path.write_text(outputs if isinstance(outputs, str) else json.dumps(outputs))
    return subprocess.run(
        [sys.executable, "-m", "dataops", "verify", "--stack", "prod", "--outputs", str(path), *extra],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def lines(result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith(("PASS", "FAIL"))]


def test_compliant_lake_passes_every_check(tmp_path, aws_env):
    result = run_verify(tmp_path, make_lake("good"), aws_env)
    assert result.returncode == 0, result.stdout + result.stderr
    checks = lines(result)
    assert len(checks) == 2 * 10
    assert all(line.startswith("PASS") for line in checks), checks
    assert "prod: 20 passed, 0 failed" in result.stdout


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


def test_each_broken_property_fails_its_check(tmp_path, aws_env):
    checks = list(breakers("placeholder"))
    for i, check in enumerate(checks):
        clean = make_lake(f"broken{i}")
        bucket = clean["lake"]["zones"]["raw"]["bucket"]
        breakers(clean["lake"]["kmsKeyArn"])[check](bucket)
        result = run_verify(tmp_path, clean, aws_env)
        assert result.returncode == 1, check
        failed = [line for line in lines(result) if line.startswith("FAIL")]
        assert any(f"FAIL {bucket}: {check}" in line for line in failed), (check, failed)
        unrelated = [line for line in failed if check not in line]
        assert unrelated == [], (check, unrelated)


@pytest.mark.parametrize(
    ("outputs", "expected"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "expected a JSON object"),
        ({"environment": "prod"}, "no `lake` output"),
        ({"lake": {"zones": {}}}, "lacks"),
    ],
)
def test_garbled_outputs(tmp_path, aws_env, outputs, expected):
    result = run_verify(tmp_path, outputs, aws_env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert (
        result.stderr.startswith("error: ")
        and expected in result.stderr
        and len(result.stderr.splitlines()) == 1
    )


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
    from dataops.verify import Lake, _probes, s3_client

    outputs = make_lake("probe")["lake"]
    s3 = s3_client(REGION, None)
    bucket = outputs["zones"]["raw"]["bucket"]
    s3.delete_bucket_policy(Bucket=bucket)
    lake = Lake({"raw": bucket}, outputs["kmsKeyArn"], outputs["accessLogBucket"], REGION)
    stored = _probes(s3, bucket, lake)[-1]
    assert stored.ok, stored
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    stored = _probes(s3, bucket, lake)[-1]
    assert not stored.ok and "AES256" in stored.detail
    assert [c.ok for c in _probes(s3, bucket, lake)[:3]] == [
        False,
        False,
        False,
    ]  # nothing refuses without a policy
