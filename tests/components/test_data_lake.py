"""GovernedDataLake under the mock runtime: the 'everything on' owner config and the shipped prod."""

from __future__ import annotations

import json

import pytest

from dataops.plan import Plan
from tests.conftest import CONFIGS, policy
from tests.governance import (
    BUCKET,
    LIFECYCLE,
    OBJECT_LOCK,
    SSE,
    invariant_findings,
    kms_bucket_findings,
    logging_findings,
    one,
    tag_findings,
    untagged,
)

LAKE = "dataops:index:DataLake"


def lake_parts(plan: Plan):
    lake = plan.of_type(LAKE)
    assert len(lake) == 1, f"{plan.stack}: expected one DataLake component"
    buckets = {
        r.name.removeprefix("lake-").removesuffix("-bucket"): r
        for r in plan.of_type(BUCKET)
        if r.name.startswith("lake-")
    }
    key = plan.named("lake-key")
    return lake[0], buckets, key


def key_arn(plan: Plan) -> str:
    return plan.outputs["lake"]["kmsKeyArn"]


def test_component_conventions(everything):
    lake, _, _ = lake_parts(everything)
    assert lake.parent.endswith("pulumi:pulumi:Stack::dataops-platform-prod")
    children = everything.descendants(lake.urn)
    assert len(children) > 40
    for child in children:
        assert child.urn.split("::")[2].split("$")[0].startswith("dataops:index:"), child.urn


def test_zone_buckets_and_log_bucket_with_derived_names(everything):
    _, buckets, _ = lake_parts(everything)
    assert set(buckets) == {"landing", "raw", "curated", "analytics", "access-logs"}
    for zone, bucket in buckets.items():
        assert bucket.inputs["bucket"] == f"acme-data-prod-{zone}-111122223333-eu-west-1", bucket.urn


@pytest.mark.parametrize("zone", ["landing", "raw", "curated", "analytics"])
def test_zone_bucket_governance(everything, zone):
    _, buckets, _ = lake_parts(everything)
    bucket = buckets[zone]
    assert kms_bucket_findings(everything, bucket, key_arn(everything)) == []
    assert logging_findings(everything, bucket, buckets["access-logs"], f"{zone}/") == []


def test_log_bucket_is_governed_and_uses_sse_s3_so_s3_can_deliver(everything):
    _, buckets, _ = lake_parts(everything)
    logs = buckets["access-logs"]
    assert invariant_findings(everything, logs) == []
    default = one(everything, logs, SSE).inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert default == {"sseAlgorithm": "AES256"}
    # The only deny on the log bucket is the TLS one: nothing else may block log delivery.
    denies = [
        s["Sid"]
        for s in policy(one(everything, logs, "aws:s3/bucketPolicy:BucketPolicy"))["Statement"]
        if s["Effect"] == "Deny"
    ]
    assert denies == ["DenyInsecureTransport"]
    rules = one(everything, logs, LIFECYCLE).inputs["rules"]
    assert rules[0]["expiration"] == {"days": 400}


def test_kms_key_rotates_and_is_administered_inside_the_account(everything):
    key = everything.named("lake-key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 7
    principals = {json.dumps(s["Principal"]) for s in policy(key)["Statement"]}
    assert principals == {json.dumps({"AWS": "arn:aws:iam::111122223333:root"})}
    alias = everything.named("lake-key-alias")
    assert alias.inputs["name"] == "alias/acme-data-prod-lake"


def test_lifecycle_from_config(everything):
    _, buckets, _ = lake_parts(everything)
    raw = one(everything, buckets["raw"], LIFECYCLE).inputs["rules"][0]
    assert raw["transitions"] == [
        {"days": 30, "storageClass": "STANDARD_IA"},
        {"days": 90, "storageClass": "GLACIER_IR"},
        {"days": 365, "storageClass": "DEEP_ARCHIVE"},
    ]
    assert raw["filter"] == {"prefix": ""}
    landing = one(everything, buckets["landing"], LIFECYCLE).inputs["rules"][0]
    assert landing["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 1}
    assert landing["noncurrentVersionExpiration"] == {"noncurrentDays": 3}
    assert "transitions" not in landing


def test_object_lock_from_config(everything):
    _, buckets, _ = lake_parts(everything)
    for zone in ("landing", "raw", "curated", "analytics"):
        bucket = buckets[zone]
        assert bucket.inputs["objectLockEnabled"] is True, bucket.urn
        lock = one(everything, bucket, OBJECT_LOCK)
        assert lock.inputs["rule"] == {"defaultRetention": {"mode": "COMPLIANCE", "days": 7}}
        versioning = everything.attached_to(bucket, "aws:s3/bucketVersioning:BucketVersioning")[0]
        assert versioning.urn in lock.dependencies, "object lock needs versioning first"
    assert "objectLockEnabled" not in buckets["access-logs"].inputs


def test_glue_database_per_zone(everything):
    dbs = {r.inputs["name"]: r for r in everything.of_type("aws:glue/catalogDatabase:CatalogDatabase")}
    assert set(dbs) == {f"acme_data_prod_{z}" for z in ("landing", "raw", "curated", "analytics")}
    assert (
        dbs["acme_data_prod_raw"].inputs["locationUri"] == "s3://acme-data-prod-raw-111122223333-eu-west-1/"
    )


def test_mandatory_tags_everywhere_and_zone_classification(everything):
    assert tag_findings(everything) == []
    assert untagged(everything) == []
    _, buckets, _ = lake_parts(everything)
    assert buckets["raw"].inputs["tags"]["data-classification"] == "restricted"
    assert buckets["curated"].inputs["tags"]["data-classification"] == "confidential"
    assert buckets["raw"].inputs["tags"]["team"] == "analytics"
    assert buckets["raw"].inputs["tags"]["zone"] == "raw"


def test_protected_lake_protects_and_retains_everything(everything):
    lake, _, _ = lake_parts(everything)
    for r in [lake, *everything.descendants(lake.urn)]:
        assert r.protect and r.retainOnDelete, f"{r.urn} is not protected and retained"
        assert r.inputs.get("forceDestroy") in (None, False), r.urn


def test_logging_waits_for_the_log_bucket_policy(everything):
    _, buckets, _ = lake_parts(everything)
    log_policy = everything.attached_to(buckets["access-logs"], "aws:s3/bucketPolicy:BucketPolicy")[0]
    assert log_policy.urn in buckets["raw"].dependencies


def test_lake_outputs_are_what_consumers_read(everything):
    lake = everything.outputs["lake"]
    assert set(lake) == {"zones", "datasets", "kmsKeyArn", "accessLogBucket", "region", "objectLock"}
    assert set(lake["zones"]["raw"]) == {"bucket", "arn", "glueDatabase"}
    assert lake["datasets"] == {}  # the fixture declares none
    assert lake["kmsKeyArn"].startswith("arn:aws:kms:eu-west-1:111122223333:key/")
    # What `verify` checks every zone bucket against, as the stack file sets it.
    assert lake["objectLock"] == {"mode": "COMPLIANCE", "retentionDays": 7}


def test_lake_output_says_when_there_is_no_object_lock(plans):
    """The output is the object lock each owner's stack file sets, or None where it sets none."""
    for stack, plan in plans.items():
        if plan.outputs.get("lake"):  # an owner (a consumer's `lake` output is empty)
            lock = CONFIGS[stack].lake.object_lock
            expected = lock and {"mode": lock.mode, "retentionDays": lock.retention_days}
            assert plan.outputs["lake"]["objectLock"] == expected, stack


def test_lake_output_names_each_declared_datasets_table_ruleset_and_schema(plans):
    """What `verify` checks each dataset against, and what the catalog grants name."""
    for stack, plan in plans.items():
        if not plan.outputs.get("lake"):
            continue
        declared = CONFIGS[stack].datasets
        datasets = plan.outputs["lake"]["datasets"]
        assert sorted(datasets) == sorted(d.name for d in declared), stack
        for d in declared:
            spec = datasets[d.name]
            assert (spec["zone"], spec["prefix"], spec["table"]) == (d.zone, d.prefix, d.name)
            assert spec["ruleset"] == f"{CONFIGS[stack].name_prefix}-{stack}-{d.name}"
            assert spec["columns"] == [[c.name, c.type] for c in d.columns]
            assert spec["partitionKeys"] == [[k.name, k.type] for k in d.partition_keys]


def test_unprotected_owner_is_not_protected(plan_with):
    # planned as the project's one owner stack (prod), with an environment that allows teardown
    plan = plan_with(
        "prod",
        """
        config:
          dataops-platform:environment: dev
          dataops-platform:deletionProtection: false
          dataops-platform:lake: {role: owner}
          dataops-platform:cluster: {adminRoles: ['arn:aws:iam::111122223333:role/break-glass']}
          dataops-platform:notebooks: {enabled: false}
    """,
    )
    lake, buckets, _ = lake_parts(plan)
    assert set(buckets) == {"raw", "curated", "analytics", "access-logs"}
    assert not any(r.protect or r.retainOnDelete for r in plan.descendants(lake.urn))
    assert plan.of_type(OBJECT_LOCK) == []
