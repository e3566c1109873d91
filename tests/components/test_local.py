"""The Docker-only `local` stack: the same lake code path on a local endpoint, the same image,
loopback-only ports, and every governance feature the endpoint cannot honour skipped aloud."""

from __future__ import annotations

import json

from components.container_image import context_digest
from components.local_endpoint import MOTO_IMAGE, UNSUPPORTED
from tests.conftest import LAKE_OWNER
from tests.governance import BUCKET, OWNERSHIP, PAB, SSE, VERSIONING, one

CONTAINER = "docker:index/container:Container"


def test_no_aws_account_level_resources_and_every_aws_resource_uses_the_local_endpoint(plans):
    plan = plans["local"]
    (provider,) = plan.of_type("pulumi:providers:aws")
    aws_resources = [r for r in plan.resources if r.type.startswith("aws:")]
    assert len(aws_resources) > 20
    for r in aws_resources:
        assert r.provider.startswith(provider.urn + "::"), f"{r.urn} would reach a real AWS account"
        assert not r.type.startswith(("aws:iam/", "aws:eks/", "aws:ec2/", "aws:ecr/")), r.urn
    endpoints = (
        json.loads(provider.inputs["endpoints"])
        if isinstance(provider.inputs["endpoints"], str)
        else provider.inputs["endpoints"]
    )
    assert set(endpoints[0].values()) == {"http://127.0.0.1:4566"}
    for flag in ("skipCredentialsValidation", "skipRequestingAccountId", "skipMetadataApiCheck"):
        assert str(provider.inputs[flag]).lower() == "true", flag
    assert plan.of_type("pulumi:providers:kubernetes") == []


def test_containers_bind_only_to_loopback(plans):
    containers = plans["local"].of_type(CONTAINER)
    assert len(containers) == 2
    for c in containers:
        assert c.inputs["ports"], c.urn
        for port in c.inputs["ports"]:
            assert port["ip"] == "127.0.0.1", c.urn
        assert c.inputs["capabilities"] == {"drops": ["ALL"]}
        assert "no-new-privileges:true" in c.inputs["securityOpts"]


def test_local_lake_has_the_cloud_layout(plans):
    """The same zones as the cloud lake's owner: a zone added there is added here too."""
    local, owner = plans["local"].outputs["lake"], plans[LAKE_OWNER].outputs["lake"]
    assert set(local["zones"]) == set(owner["zones"])
    for zone, spec in local["zones"].items():
        assert spec["bucket"] == f"dataops-local-{zone}-123456789012-eu-west-1"
        assert spec["glueDatabase"] == owner["zones"][zone]["glueDatabase"].replace(
            f"_{LAKE_OWNER}_", "_local_"
        )


def test_invariants_the_endpoint_honours_are_still_declared(plans):
    plan = plans["local"]
    buckets = [b for b in plan.of_type(BUCKET) if b.inputs["tags"].get("zone")]
    assert len(buckets) == len(plan.outputs["lake"]["zones"])
    for bucket in buckets:
        assert one(plan, bucket, PAB).inputs["blockPublicPolicy"] is True
        assert one(plan, bucket, OWNERSHIP).inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"
        assert one(plan, bucket, VERSIONING).inputs["versioningConfiguration"]["status"] == "Enabled"
        rule = one(plan, bucket, SSE).inputs["rules"][0]["applyServerSideEncryptionByDefault"]
        assert rule["sseAlgorithm"] == "aws:kms"


def test_unsupported_features_are_skipped_with_a_warning_each(plans):
    plan = plans["local"]
    assert sorted(plan.warnings) == sorted(
        f"governance feature skipped on this endpoint: {feature} ({why})"
        for feature, why in UNSUPPORTED.items()
    )
    for type_ in (
        "bucketLogging:BucketLogging",
        "bucketPolicy:BucketPolicy",
        "bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    ):
        assert plan.of_type(f"aws:s3/{type_}") == []
    assert plan.of_type("aws:iam/role:Role") == []


def test_notebook_runs_the_same_image_with_the_lake_in_its_environment(plans):
    plan = plans["local"]
    (image,) = plan.of_type("docker:index/image:Image")
    assert image.inputs["build"]["context"] == "images/notebook"
    assert image.inputs["build"]["dockerfile"] == "images/notebook/Dockerfile"
    assert image.inputs["skipPush"] is True
    assert image.inputs["imageName"] == f"dataops-notebook:{context_digest()[:16]}"
    (dev_build,) = plans["dev"].of_type("docker:index/image:Image")
    assert dev_build.inputs["imageName"].endswith(image.inputs["imageName"].split(":")[1])  # same content tag
    notebook = plan.named("notebook-container")
    env = dict(e.split("=", 1) for e in notebook.inputs["envs"])
    assert env["AWS_ENDPOINT_URL"] == "http://lake-endpoint:5000"
    assert env["DATAOPS_LAKE_CURATED_BUCKET"] == plan.outputs["lake"]["zones"]["curated"]["bucket"]
    assert "JUPYTER_TOKEN" not in env
    assert notebook.inputs["uploads"][0]["content"] == "[secret]"
    assert plan.outputs["notebookUrl"] == "[secret]"


def test_endpoint_is_pinned_and_data_survives_destroy_by_default(plans, plan_with):
    plan = plans["local"]
    (remote,) = plan.of_type("docker:index/remoteImage:RemoteImage")
    assert remote.inputs["name"] == MOTO_IMAGE and "@sha256:" in MOTO_IMAGE
    volumes = plan.of_type("docker:index/volume:Volume")
    assert {v.inputs["name"] for v in volumes} == {"dataops-local-lake", "dataops-local-home"}
    assert all(v.retainOnDelete for v in volumes)
    removable = plan_with(
        "local",
        """
        config:
          dataops-platform:environment: local
          dataops-platform:deletionProtection: false
          dataops-platform:lake: {role: owner}
          dataops-platform:local: {removeDataOnDestroy: true, notebookPort: 8899}
    """,
    )
    assert not any(v.retainOnDelete for v in removable.of_type("docker:index/volume:Volume"))
    notebook = removable.named("notebook-container")
    assert notebook.inputs["ports"] == [{"internal": 8888, "external": 8899, "ip": "127.0.0.1"}]
