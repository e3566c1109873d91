"""ContainerImage: dev builds into its own hardened ECR repository; test and prod only reference
the promoted digest. The output is always an immutable `registry/repo@sha256:...`."""

from __future__ import annotations

import json
import re

from components.container_image import context_digest
from tests.conftest import CLOUD_STACKS


def image_args(plan) -> dict:
    (image,) = plan.of_type("docker:index/image:Image")
    return image.inputs["build"]["args"]


REF = re.compile(r"^[a-z0-9.-]+/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$")


def test_dev_builds_and_pushes_to_a_hardened_repository(plans):
    plan = plans["dev"]
    (repo,) = plan.of_type("aws:ecr/repository:Repository")
    assert repo.inputs["name"] == "dataops-notebook"
    assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
    assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    (encryption,) = repo.inputs["encryptionConfigurations"]
    assert encryption["encryptionType"] == "KMS" and encryption["kmsKey"].startswith("arn:aws:kms:")
    assert repo.inputs["forceDelete"] is False
    (lifecycle,) = plan.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")
    promoted, builds = json.loads(lifecycle.inputs["policy"])["rules"]
    assert promoted["rulePriority"] < builds["rulePriority"]
    assert promoted["selection"]["tagPrefixList"] == ["promoted-"]
    assert (
        builds["selection"]["countType"] == "imageCountMoreThan" and builds["selection"]["countNumber"] == 30
    )
    assert image_args(plan)["REVISION"] == f"context-{context_digest()[:16]}"  # content-derived: no tag clash
    (image,) = plan.of_type("docker:index/image:Image")
    assert image.inputs["build"]["context"] == "images/notebook"
    assert image.inputs["build"]["dockerfile"] == "images/notebook/Dockerfile"
    assert image.inputs["build"]["platform"] == "linux/amd64"
    assert image.inputs["imageName"].endswith(f":{context_digest()[:16]}")
    assert image.inputs["registry"]["password"] == "[secret]"


def test_output_is_an_immutable_reference_in_every_cloud_stack(plans, everything):
    for plan in [*(plans[s] for s in CLOUD_STACKS), everything]:
        assert REF.match(plan.outputs["image"]["ref"]), plan.stack


def test_test_and_prod_reference_the_promoted_digest_and_build_nothing(plans):
    refs = set()
    for stack in ("test", "prod"):
        plan = plans[stack]
        assert plan.of_type("docker:index/image:Image") == []
        assert plan.of_type("aws:ecr/repository:Repository") == []
        refs.add(plan.outputs["image"]["ref"])
    (ref,) = refs  # one digest for both: promotion, not rebuild
    assert ref.startswith("111122223333.dkr.ecr.eu-west-1.amazonaws.com/dataops-notebook@sha256:")


def test_promoted_digest_from_another_registry(everything):
    assert everything.outputs["image"]["ref"] == (
        "registry.example.com/data/notebook@sha256:0b5a2c1e7f9d0b3a6c8e1f4d7b0a3c6e9f2d5b8a1c4e7f0a4f1d2b7c9a0e6f3d"
    )


def test_context_digest_changes_with_the_lock(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "requirements.lock").write_text("a==1\n")
    before = context_digest(tmp_path)
    (tmp_path / "requirements.lock").write_text("a==2\n")
    assert context_digest(tmp_path) != before
