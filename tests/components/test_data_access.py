"""DataAccess: every environment's workload role and its own workspace, in consumer stacks."""

from __future__ import annotations

import pytest

from dataops.plan import Plan
from tests.conftest import CONFIGS, CONSUMERS, LAKE_OWNER, policy
from tests.governance import BUCKET, kms_bucket_findings, logging_findings

WRITE_ACTIONS = {"s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"}


def grants(plan):
    """The workload role's inline policies, by name."""
    role = plan.named("access-role")
    return {
        rp.inputs["name"]: policy(rp)
        for rp in plan.of_type("aws:iam/rolePolicy:RolePolicy")
        if rp.inputs["role"] == role.inputs["name"]
    }


def object_statement(doc):
    return next(s for s in doc["Statement"] if s["Sid"] == "ObjectsScoped")


@pytest.mark.parametrize("stack", CONSUMERS)
def test_consumer_reads_the_owner_lake_and_writes_only_its_workspace(plans, stack):
    plan, prod = plans[stack], plans[LAKE_OWNER]
    lake = prod.outputs["lake"]
    by_name = grants(plan)
    reads = CONFIGS[stack].access.read
    assert set(by_name) == {*(f"read-{zone}" for zone in reads), "read-catalog", "workspace"}
    for zone in reads:
        statement = object_statement(by_name[f"read-{zone}"])
        assert statement["Resource"] == f"{lake['zones'][zone]['arn']}/*"
        assert not WRITE_ACTIONS & set(statement["Action"])
        assert by_name[f"read-{zone}"]["Statement"][-1]["Resource"] == lake["kmsKeyArn"]
    workspace = plan.outputs["access"]["workspaceBucket"]
    assert workspace == f"dataops-{stack}-workspace-111122223333-eu-west-1"
    ws = object_statement(by_name["workspace"])
    assert ws["Resource"] == f"arn:aws:s3:::{workspace}/*"
    assert {"s3:PutObject", "s3:DeleteObject"} <= set(ws["Action"])
    lake_arns = {z["arn"] for z in lake["zones"].values()}
    for name, doc in by_name.items():
        for s in doc["Statement"]:
            if WRITE_ACTIONS & set(s["Action"]) and name != "read-catalog":
                assert not any(s["Resource"].startswith(a) for a in lake_arns), (
                    f"{stack}: {name} writes to the lake"
                )


def catalog_resources(plan, owner) -> set[str]:
    """What the workload role may read of the Glue catalog."""
    (statement,) = grants(plan)["read-catalog"]["Statement"]
    assert statement["Action"] == ["glue:GetTable", "glue:GetTables", "glue:GetPartitions"]
    return set(statement["Resource"])


def expected_catalog(owner, zones) -> set[str]:
    """The catalog, the Glue databases of `zones` and the tables of the datasets declared there."""
    lake = owner.outputs["lake"]
    glue = "arn:aws:glue:eu-west-1:111122223333"
    databases = {z: lake["zones"][z]["glueDatabase"] for z in zones}
    return {
        f"{glue}:catalog",
        *(f"{glue}:database/{d}" for d in databases.values()),
        *(
            f"{glue}:table/{databases[d['zone']]}/{d['table']}"
            for d in lake["datasets"].values()
            if d["zone"] in databases
        ),
    }


@pytest.mark.parametrize("stack", [*CONSUMERS, LAKE_OWNER])
def test_the_catalog_grant_names_exactly_the_readable_zones_databases_and_tables(plans, stack):
    plan, owner = plans[stack], plans[LAKE_OWNER]
    zones = sorted({*CONFIGS[stack].access.read, *CONFIGS[stack].access.write})
    assert catalog_resources(plan, owner) == expected_catalog(owner, zones)
    assert any(":table/" in arn for arn in catalog_resources(plan, owner)), "the shipped lake declares tables"


def test_a_sandbox_reads_the_catalog_of_the_curated_zone_only(sandbox_plan, plans):
    owner = plans[LAKE_OWNER]
    resources = catalog_resources(sandbox_plan, owner)
    assert resources == expected_catalog(owner, ["curated"])
    # Half right is wrong: the analytics database without its table, or the reverse, would differ.
    analytics = expected_catalog(owner, ["analytics"]) - expected_catalog(owner, [])
    assert analytics and not analytics & resources


@pytest.mark.parametrize("stack", CONSUMERS)
def test_consumer_creates_no_lake_resources_and_reads_the_owner_through_a_stack_reference(plans, stack):
    plan = plans[stack]
    assert plan.of_type("dataops:index:DataLake") == []
    buckets = plan.of_type(BUCKET)
    assert [b.inputs["bucket"] for b in buckets] == [plan.outputs["access"]["workspaceBucket"]]
    ref = plan.named("lake-owner")
    assert ref.type == "pulumi:pulumi:StackReference"
    assert ref.inputs["name"] == f"organization/dataops-platform/{LAKE_OWNER}"


@pytest.mark.parametrize("stack", CONSUMERS)
def test_workspace_is_governed_with_its_own_key_and_logs_to_the_lake_log_bucket(plans, stack):
    plan, prod = plans[stack], plans[LAKE_OWNER]
    bucket = plan.of_type(BUCKET)[0]
    key = plan.named("access-workspace-key")
    assert key.inputs["enableKeyRotation"] is True
    workspace_key_arn = grants(plan)["workspace"]["Statement"][-1]["Resource"]
    assert workspace_key_arn != prod.outputs["lake"]["kmsKeyArn"]
    assert kms_bucket_findings(plan, bucket, workspace_key_arn) == []
    log_bucket = next(b for b in prod.of_type(BUCKET) if b.name == "lake-access-logs-bucket")
    # What `verify` checks the workspace against.
    access = plan.outputs["access"]
    assert access["workspaceKeyArn"] == workspace_key_arn
    assert access["accessLogBucket"] == log_bucket.inputs["bucket"]
    # the log bucket lives in the owner's plan; check its policy accepts this workspace's logs
    merged = Plan(
        plan.project, plan.stack, plan.resources + prod.descendants(log_bucket.parent), plan.outputs
    )
    assert logging_findings(merged, bucket, log_bucket, f"workspace/{stack}/") == []


@pytest.mark.parametrize("stack", [s for s in CONSUMERS if CONFIGS[s].workspace.expire_objects_after_days])
def test_workspace_objects_expire_where_the_stack_says(plans, stack):
    bucket = plans[stack].of_type(BUCKET)[0]
    rule = plans[stack].attached_to(
        bucket, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    )[0]
    assert rule.inputs["rules"][0]["expiration"] == {
        "days": CONFIGS[stack].workspace.expire_objects_after_days
    }


@pytest.mark.parametrize("stack", CONSUMERS)
def test_teardown_of_a_consumer_cannot_touch_the_lake(plans, stack):
    plan = plans[stack]
    assert not any(r.protect or r.retainOnDelete for r in plan.resources)
    lake = plans[LAKE_OWNER].outputs["lake"]
    lake_buckets = {z["bucket"] for z in lake["zones"].values()} | {lake["accessLogBucket"]}
    for r in plan.resources:
        # the only reference to a lake bucket a consumer may own is its logging target
        if r.type == "aws:s3/bucketLogging:BucketLogging":
            assert r.inputs["bucket"] not in lake_buckets
            continue
        assert r.inputs.get("bucket") not in lake_buckets, r.urn
        assert r.inputs.get("forceDestroy") in (None, False), r.urn


def test_workload_role_is_assumed_by_the_clusters_pods_only(plans, everything):
    plan = plans["dev"]
    (trust,) = policy(plan.named("access-role"))["Statement"]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert trust["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    cluster_arn = "arn:aws:eks:eu-west-1:111122223333:cluster/dataops-dev"
    assert trust["Condition"] == {
        "StringEquals": {
            "aws:RequestTag/eks-cluster-arn": cluster_arn,
            "aws:RequestTag/kubernetes-namespace": ["data-science", "jupyterhub"],
            "aws:RequestTag/kubernetes-service-account": ["data-access"],
        }
    }
    statements = policy(everything.named("access-role"))["Statement"]
    assert statements[-1]["Principal"] == {"AWS": ["arn:aws:iam::111122223333:role/etl-runner"]}


def test_owner_role_writes_the_zones_its_config_lists(everything):
    by_name = grants(everything)
    assert set(by_name) == {
        "write-landing",
        "write-raw",
        "read-curated",
        "read-analytics",
        "read-catalog",
        "workspace",
    }


def test_sandbox_scratch_is_force_destroyable_only_with_both_opt_ins(sandbox_plan):
    plan = sandbox_plan  # the template's sandbox: forceDestroy and deletionProtection false
    bucket = plan.of_type(BUCKET)[0]
    assert bucket.inputs["forceDestroy"] is True
    assert not any(r.protect for r in plan.resources)
    assert plan.named("access-workspace-key").inputs["deletionWindowInDays"] == 7


def test_sandbox_scratch_is_governed_like_every_workspace(sandbox_plan):
    plan = sandbox_plan
    (bucket,) = plan.of_type(BUCKET)
    key_arn = grants(plan)["workspace"]["Statement"][-1]["Resource"]
    assert kms_bucket_findings(plan, bucket, key_arn) == []
    # A sandbox exports what `verify --stack sandbox-NAME` checks its scratch bucket against.
    access = plan.outputs["access"]
    assert (access["workspaceBucket"], access["workspaceKeyArn"]) == (bucket.inputs["bucket"], key_arn)
    assert access["accessLogBucket"] == "dataops-prod-access-logs-111122223333-eu-west-1"


def test_a_stack_without_a_workspace_exports_none_of_its_parts(plans):
    access = plans["prod"].outputs["access"]
    assert access["workspaceBucket"] is access["workspaceKeyArn"] is access["accessLogBucket"] is None
    assert access["roleName"] == "dataops-prod-data-access"
