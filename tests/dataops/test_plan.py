"""The offline plan engine: format, determinism, stack references, secrets, failure modes."""

from __future__ import annotations

import json

import pytest

from dataops import plan as plan_module
from dataops.engine import _normalise
from dataops.plan import ROOT, PlanError, build_plan

FIELDS = {"urn", "type", "name", "parent", "inputs", "dependencies", "protect", "retainOnDelete", "provider"}


def test_plan_document_has_the_documented_shape(plans):
    doc = plans["prod"].to_dict()
    assert set(doc) == {"project", "stack", "resources", "outputs"}
    assert doc["project"] == "dataops-platform" and doc["stack"] == "prod"
    assert len(doc["resources"]) > 40
    for r in doc["resources"]:
        assert set(r) == FIELDS, r["urn"]
        assert r["urn"] == "urn:pulumi:prod::dataops-platform::" + r["urn"].split("::", 2)[2]
    json.dumps(doc)  # serialisable as is


def test_every_parent_and_dependency_is_in_the_plan(plans):
    for plan in plans.values():
        urns = {r.urn for r in plan.resources}
        for r in plan.resources:
            assert r.parent == "" or r.parent in urns, r.urn
            assert set(r.dependencies) <= urns, r.urn


def test_same_inputs_give_the_same_plan():
    plan_module._CACHE.clear()
    first = json.dumps(build_plan("dev").to_dict())
    plan_module._CACHE.clear()
    second = json.dumps(build_plan("dev").to_dict())
    assert first == second


def test_consumer_stack_reference_resolves_to_the_owner_offline_outputs(plans):
    ref = plans["dev"].named("lake-owner")
    assert ref.inputs["name"] == "organization/dataops-platform/prod"
    bucket = plans["prod"].outputs["lake"]["zones"]["curated"]["arn"]
    assert any(bucket in rp.inputs["policy"] for rp in plans["dev"].of_type("aws:iam/rolePolicy:RolePolicy"))


def test_secrets_and_unknowns_are_shown_as_placeholders():
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "hunter2"}
    assert _normalise({"a": secret, "b": [1.0, 2.5], "c": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"}) == {
        "a": "[secret]",
        "b": [1, 2.5],
        "c": "[unknown]",
    }


def test_secret_config_is_marked_secret_and_never_printed(tmp_path):
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(
        (ROOT / "Pulumi.dev.yaml").read_text() + "  dataops-platform:tags:\n    secure: v1:ciphertext\n"
    )
    from dataops.stack_files import load

    files = load(ROOT, "dev", path)
    assert "dataops-platform:tags" in files.secret_keys
    assert "ciphertext" not in json.dumps(files.raw)


def test_owner_that_is_not_a_stack_of_this_project(tmp_path):
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(
        "config:\n  dataops-platform:environment: dev\n"
        "  dataops-platform:lake: {role: consumer, ownerStack: acme/other-project/prod}\n"
        "  dataops-platform:cluster: {adminRoles: [platform-admin]}\n"
        "  dataops-platform:notebooks: {enabled: false}\n"
    )
    with pytest.raises(PlanError) as info:
        build_plan("dev", ROOT, path)
    assert "not a stack of this project" in info.value.lines[0]


def test_program_errors_from_stack_outputs_are_user_errors(tmp_path, monkeypatch):
    """A consumer reading a zone its owner lacks fails in the program with a one-line RunError."""
    prod = tmp_path / "Pulumi.prod.yaml"
    dev = tmp_path / "Pulumi.dev.yaml"
    prod.write_text((ROOT / "Pulumi.prod.yaml").read_text())
    dev.write_text((ROOT / "Pulumi.dev.yaml").read_text() + "  dataops-platform:access: {read: [raw]}\n")
    # The offline plan resolves the owner from the repository's prod stack, whose lake has 'raw';
    # make the owner lack it by planning against a copy of the project with a smaller lake.
    for name in ("Pulumi.yaml", "__main__.py"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    prod.write_text(
        "config:\n  dataops-platform:environment: dev\n"
        "  dataops-platform:deletionProtection: false\n"
        "  dataops-platform:lake: {role: owner, zones: {curated: {}}}\n"
        "  dataops-platform:access: {read: [curated]}\n"
        "  dataops-platform:cluster: {adminRoles: [platform-admin]}\n"
        "  dataops-platform:notebooks: {enabled: false}\n"
    )
    monkeypatch.syspath_prepend(str(ROOT))
    with pytest.raises(PlanError) as info:
        build_plan("dev", tmp_path)
    assert "the lake has no zone 'raw'" in info.value.lines[0]


def test_owner_stack_must_own_a_cloud_lake(tmp_path):
    for owner in ("test", "local"):
        path = tmp_path / "Pulumi.dev.yaml"
        path.write_text(
            (ROOT / "Pulumi.dev.yaml").read_text().replace("ownerStack: prod", f"ownerStack: {owner}")
        )
        with pytest.raises(PlanError) as info:
            build_plan("dev", ROOT, path)
        assert f"stack {owner} does not own a cloud lake" in info.value.lines[0]
