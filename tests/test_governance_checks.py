"""The governance checks used across the tests must catch what they look for: each is fed a plan
with exactly that property broken."""

from __future__ import annotations

import copy
import json

import pytest

from tests.governance import (
    BUCKET,
    LOGGING,
    OWNERSHIP,
    PAB,
    POLICY,
    SSE,
    VERSIONING,
    kms_bucket_findings,
    logging_findings,
    one,
    tag_findings,
)


def broken(everything, type_, mutate):
    plan = copy.deepcopy(everything)
    raw = next(r for r in plan.of_type(BUCKET) if r.name == "lake-raw-bucket")
    logs = next(r for r in plan.of_type(BUCKET) if r.name == "lake-access-logs-bucket")
    target = (
        raw
        if type_ == BUCKET
        else one(plan, logs if type_ == "log-policy" else raw, POLICY if type_ == "log-policy" else type_)
    )
    mutate(target.inputs)
    return plan, raw, logs


def edit_policy(fn):
    def mutate(inputs):
        doc = json.loads(inputs["policy"])
        fn(doc)
        inputs["policy"] = json.dumps(doc)

    return mutate


def drop_sid(sid):
    return edit_policy(
        lambda d: d.__setitem__("Statement", [s for s in d["Statement"] if s.get("Sid") != sid])
    )


def drop_null_condition(doc):
    for s in doc["Statement"]:
        s.get("Condition", {}).pop("Null", None)


CASES = {
    "public access block flag": (PAB, lambda i: i.__setitem__("restrictPublicBuckets", False)),
    "ownership": (OWNERSHIP, lambda i: i["rule"].__setitem__("objectOwnership", "ObjectWriter")),
    "versioning": (VERSIONING, lambda i: i["versioningConfiguration"].__setitem__("status", "Suspended")),
    "sse algorithm": (
        SSE,
        lambda i: i["rules"][0]["applyServerSideEncryptionByDefault"].__setitem__("sseAlgorithm", "AES256"),
    ),
    "bucket key": (SSE, lambda i: i["rules"][0].__setitem__("bucketKeyEnabled", False)),
    "tls deny": (POLICY, drop_sid("DenyInsecureTransport")),
    "other encryption deny": (POLICY, drop_sid("DenyOtherEncryption")),
    "other key deny": (POLICY, drop_sid("DenyOtherKmsKey")),
    "kms without key id deny": (POLICY, drop_sid("DenyKmsWithoutLakeKey")),
    "plain uploads blocked": (POLICY, edit_policy(drop_null_condition)),
    "tags": (BUCKET, lambda i: i["tags"].pop("cost-center")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bucket_check_reports_the_broken_property(everything, case):
    type_, mutate = CASES[case]
    plan, raw, _ = broken(everything, type_, mutate)
    findings = kms_bucket_findings(plan, raw, plan.outputs["lake"]["kmsKeyArn"])
    assert findings, f"breaking {case} went unnoticed"
    assert all(raw.urn in f or "bucket" in f for f in findings)


def test_logging_check_reports_a_delivery_the_log_policy_blocks(everything):
    def deny_all_puts(doc):
        doc["Statement"].append(
            {
                "Sid": "DenyUnencrypted",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": "*",
                "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}},
            }
        )

    plan, raw, logs = broken(everything, "log-policy", edit_policy(deny_all_puts))
    assert any("denies log delivery" in f for f in logging_findings(plan, raw, logs, "raw/"))


def test_logging_check_reports_a_wrong_target(everything):
    plan, raw, logs = broken(everything, LOGGING, lambda i: i.__setitem__("targetPrefix", "elsewhere/"))
    assert logging_findings(plan, raw, logs, "raw/")


def test_tag_check_reports_missing_tags(everything):
    plan = copy.deepcopy(everything)
    plan.named("lake-key").inputs["tags"].pop("owner")
    assert tag_findings(plan) == [f"{plan.named('lake-key').urn}: missing tags ['owner']"]
