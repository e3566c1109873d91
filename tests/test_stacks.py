"""Each shipped stack file, evaluated offline, carries every governance property of the lake."""

from __future__ import annotations

import pytest

from dataops.plan import Plan, load_config
from tests.conftest import CLOUD_STACKS, SHIPPED, policy
from tests.governance import (
    BUCKET,
    OBJECT_LOCK,
    kms_bucket_findings,
    logging_findings,
    tag_findings,
    untagged,
)


def test_the_shipped_stacks_are_the_documented_ones():
    assert SHIPPED == ["dev", "local", "prod", "test"]


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_stack_evaluates_to_a_real_plan(plans, stack):
    plan = plans[stack]
    assert len(plan.of_type(BUCKET)) >= 1, f"{stack}: no bucket at all"
    assert plan.of_type("aws:iam/role:Role"), f"{stack}: no workload role"
    assert plan.outputs["environment"] == load_config(stack)[1].environment
    # the only note: the OAuth client secret is set per deployment, not in the repository
    assert [w for w in plan.warnings if ":oauthClientSecret is not set" not in w] == []


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_every_bucket_of_the_stack_is_governed(plans, stack):
    plan = plans[stack]
    owner = plans["prod"]
    log_bucket = next(b for b in owner.of_type(BUCKET) if b.name == "lake-access-logs-bucket")
    # a consumer's buckets log into the owner's log bucket: check them against both plans
    with_owner = Plan(
        plan.project, plan.stack, plan.resources + ([] if plan is owner else owner.resources), plan.outputs
    )
    grants = {rp.inputs["name"]: rp for rp in plan.of_type("aws:iam/rolePolicy:RolePolicy")}
    for bucket in plan.of_type(BUCKET):
        if bucket.name == "lake-access-logs-bucket":
            continue
        zone = bucket.inputs["tags"]["zone"]
        if zone == "workspace":
            key = policy(grants["workspace"])["Statement"][-1]["Resource"]
            prefix = f"workspace/{stack}/"
        else:
            key = plan.outputs["lake"]["kmsKeyArn"]
            prefix = f"{zone}/"
        assert kms_bucket_findings(plan, bucket, key) == []
        assert logging_findings(with_owner, bucket, log_bucket, prefix) == []
    assert tag_findings(plan) == []
    assert untagged(plan) == []


def test_prod_owns_the_lake_protected_with_object_lock(plans):
    plan = plans["prod"]
    zones = [
        b for b in plan.of_type(BUCKET) if b.inputs["tags"].get("zone") in ("raw", "curated", "analytics")
    ]
    assert len(zones) == 3
    assert len(plan.of_type(OBJECT_LOCK)) == 3
    (lake,) = plan.of_type("dataops:index:DataLake")
    for r in [lake, *plan.descendants(lake.urn)]:
        assert r.protect and r.retainOnDelete, r.urn
    assert not any(r.inputs.get("forceDestroy") for r in plan.resources)


@pytest.mark.parametrize("stack", ["dev", "test"])
def test_non_prod_stacks_consume_and_can_be_torn_down(plans, stack):
    plan = plans[stack]
    assert plan.of_type("dataops:index:DataLake") == []
    assert not any(r.protect for r in plan.resources)
    assert not any(r.inputs.get("forceDestroy") for r in plan.resources)
