"""Each shipped stack file, evaluated offline, carries every governance property of the lake."""

from __future__ import annotations

import pytest

from dataops.plan import Plan, load_config
from tests.conftest import CLOUD_STACKS, CONFIGS, CONSUMERS, LAKE_OWNER, ZONES, policy
from tests.governance import (
    BUCKET,
    OBJECT_LOCK,
    kms_bucket_findings,
    logging_findings,
    tag_findings,
    untagged,
)


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
    owner = plans[LAKE_OWNER]
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


def test_the_owner_has_a_bucket_per_zone_protected_with_object_lock(plans):
    plan = plans[LAKE_OWNER]
    zones = [b for b in plan.of_type(BUCKET) if b.inputs["tags"].get("zone") in ZONES]
    assert len(zones) == len(ZONES)
    assert len(plan.of_type(OBJECT_LOCK)) == (len(ZONES) if CONFIGS[LAKE_OWNER].lake.object_lock else 0)
    (lake,) = plan.of_type("dataops:index:DataLake")
    for r in [lake, *plan.descendants(lake.urn)]:
        assert r.protect and r.retainOnDelete, r.urn
    assert not any(r.inputs.get("forceDestroy") for r in plan.resources)


@pytest.mark.parametrize("stack", [s for s in CONSUMERS if not CONFIGS[s].deletion_protection])
def test_unprotected_consumers_can_be_torn_down(plans, stack):
    plan = plans[stack]
    assert plan.of_type("dataops:index:DataLake") == []
    assert not any(r.protect for r in plan.resources)
    assert not any(r.inputs.get("forceDestroy") for r in plan.resources)
