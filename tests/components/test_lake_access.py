"""Grants: scoped to exact bucket/prefix ARNs and the lake key used through S3; linted by parliament."""

from __future__ import annotations

import json

import parliament
import pytest

from components.lake_access import KMS_READ_ACTIONS, catalog_document, grant_document

BUCKET = "arn:aws:s3:::dataops-prod-curated-111122223333-eu-west-1"
KEY = "arn:aws:kms:eu-west-1:111122223333:key/aeaa6392-41b2-4b1a-5222-c858f69a2e4c"
SEVERE = {"MEDIUM", "HIGH", "CRITICAL"}


def parliament_findings(document: dict) -> list[str]:
    analysed = parliament.analyze_policy_string(json.dumps(document))
    out = []
    for finding in analysed.findings:
        parliament.enhance_finding(finding)
        if finding.severity in SEVERE:
            out.append(f"{finding.issue} ({finding.severity}): {finding.detail}")
    return out


def actions(document: dict) -> list[str]:
    return [
        a
        for s in document["Statement"]
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    ]


def test_read_grant_is_read_only_and_scoped():
    doc = grant_document(BUCKET, KEY, "eu-west-1", "", write=False)
    assert set(actions(doc)) == {"s3:ListBucket", "s3:GetBucketLocation", "s3:GetObject", *KMS_READ_ACTIONS}
    resources = {s["Sid"]: s["Resource"] for s in doc["Statement"]}
    assert resources == {
        "ListScoped": BUCKET,
        "BucketScoped": BUCKET,
        "ObjectsScoped": f"{BUCKET}/*",
        "LakeKeyThroughS3": KEY,
    }
    kms = doc["Statement"][-1]
    assert kms["Condition"] == {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}


def test_prefix_grant_limits_listing_and_objects():
    doc = grant_document(BUCKET, KEY, "eu-west-1", "team-a/", write=True)
    listing, bucket, objects, _ = doc["Statement"]
    assert "Condition" not in bucket
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["team-a/*"]}}
    assert objects["Resource"] == f"{BUCKET}/team-a/*"


def test_write_grant_adds_put_and_multipart_but_never_delete():
    doc = grant_document(BUCKET, KEY, "eu-west-1", "", write=True)
    assert {"s3:PutObject", "s3:AbortMultipartUpload", "kms:GenerateDataKey", "kms:Decrypt"} <= set(
        actions(doc)
    )
    assert "s3:DeleteObject" not in actions(doc)
    assert "s3:DeleteObject" in actions(grant_document(BUCKET, KEY, "eu-west-1", "", write=True, delete=True))


@pytest.mark.parametrize("write", [False, True])
def test_grant_documents_pass_parliament(write):
    assert parliament_findings(grant_document(BUCKET, KEY, "eu-west-1", "p/", write=write)) == []


def test_parliament_check_can_fail():
    bad = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"{BUCKET}/*"}],
    }
    assert parliament_findings(bad) != []


# -- the catalog grant ------------------------------------------------------------------------------

GLUE = "arn:aws:glue:eu-west-1:111122223333"
LAKE_ZONES = {z: {"glueDatabase": f"dataops_prod_{z}"} for z in ("raw", "curated", "analytics")}
LAKE_DATASETS = {
    "sales_orders": {"zone": "curated", "table": "sales_orders"},
    "daily_revenue": {"zone": "analytics", "table": "daily_revenue"},
}


def catalog_resources(readable: list[str], datasets: dict = LAKE_DATASETS, lint: bool = True) -> set[str]:
    document = catalog_document("aws", "111122223333", "eu-west-1", LAKE_ZONES, datasets, readable)
    if lint:
        assert parliament_findings(document) == []
    (statement,) = document["Statement"]
    assert statement["Action"] == ["glue:GetTable", "glue:GetTables", "glue:GetPartitions"]
    return set(statement["Resource"])


def test_the_catalog_grant_names_the_readable_zones_tables_only():
    assert catalog_resources(["curated"]) == {
        f"{GLUE}:catalog",
        f"{GLUE}:database/dataops_prod_curated",
        f"{GLUE}:table/dataops_prod_curated/sales_orders",
    }
    both = catalog_resources(["curated", "analytics"])
    assert f"{GLUE}:table/dataops_prod_analytics/daily_revenue" in both
    assert not [arn for arn in both if "raw" in arn or arn.endswith("*")]


def test_a_readable_zone_without_datasets_gets_its_database_and_no_table():
    resources = catalog_resources(["raw", "curated"])
    assert f"{GLUE}:database/dataops_prod_raw" in resources
    assert not [arn for arn in resources if arn.startswith(f"{GLUE}:table/dataops_prod_raw")]


def test_without_any_declared_table_the_grant_names_the_zones_databases_tables():
    # A statement for these actions names tables; before any dataset is declared, the tables of
    # the readable zones' databases, and of no other database.
    assert catalog_resources(["curated"], {}) == {
        f"{GLUE}:catalog",
        f"{GLUE}:database/dataops_prod_curated",
        f"{GLUE}:table/dataops_prod_curated/*",
    }


def test_a_zone_the_lake_does_not_have_grants_no_database_or_table():
    # Unreachable from a valid stack (access.read names the lake's zones); still nothing leaks.
    assert catalog_resources(["gold"], LAKE_DATASETS, lint=False) == {f"{GLUE}:catalog"}
