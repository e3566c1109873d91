"""Sandboxes: the template renders a valid stack, the sandbox plan holds only what a sandbox
may own, and the reaper's selection and safety logic (against an in-memory backend) destroys
expired sandboxes only, refuses anything that reaches outside one (by kind, namespace, tags and
physical name, each of which must hold), and is safe to rerun; `destroy` of a name that does not
exist fails unless --missing-ok."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta

import pytest

from dataops import sandbox, sandbox_backend
from dataops.cli import main
from dataops.plan import ROOT, PlanError
from dataops.sandbox_backend import StateResource
from tests.conftest import SANDBOX_NOW
from tests.dataops.memory_backend import MemoryBackend, state_of, tagged

NOW = SANDBOX_NOW
SCHEME = sandbox.naming_scheme(ROOT)  # dataops-sandbox-<name>..., eu-west-1
AFTER_EXPIRY = NOW + timedelta(days=4)  # the fixture's sandbox lives 3 days


def renamed(state: list[StateResource], name: str, expires: str | None = None) -> list[StateResource]:
    """The fixture sandbox's state as another sandbox's (and optionally another expiry)."""
    text = json.dumps([r.__dict__ for r in state]).replace("sandbox-demo", name)
    if expires is not None:
        text = text.replace("2026-12-01T18:00:00Z", expires)
    return [StateResource(**r) for r in json.loads(text)]


@pytest.fixture
def demo(sandbox_plan) -> list[StateResource]:
    return state_of(sandbox_plan)


# -- create ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "owner", "ttl", "message"),
    [
        ("Alice", "a@example.com", "3d", "sandbox name 'Alice'"),
        ("-x", "a@example.com", "3d", "sandbox name '-x'"),
        ("a" * 17, "a@example.com", "3d", "1 to 16 lowercase letters"),
        ("ok", "", "3d", "--owner: required"),
        ("ok", "   ", "3d", "--owner: required"),
        ("ok", "a@example.com", "3 days", "--ttl '3 days': not a duration"),
        ("ok", "a@example.com", "0d", "not a duration"),
        ("ok", "a@example.com", "3w", "504 hours is longer than the template's maxTtlHours (336)"),
    ],
)
def test_bad_create_input_is_one_line_and_creates_nothing(name, owner, ttl, message):
    backend = MemoryBackend()
    with pytest.raises(PlanError) as info:
        sandbox.create(backend, sandbox.render(ROOT, name, owner, ttl, NOW), preview=False)
    assert len(info.value.lines) == 1 and message in info.value.lines[0]
    assert backend.calls == [] and backend.stacks_ == {}


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("87600h", 87600),
        ("3650d", 87600),
        ("0521w", 87528),
        ("87601h", None),
        ("3651d", None),
        ("99999999999d", None),
        ("9" * 5000 + "d", None),  # more digits than int() reads
    ],
)
def test_a_duration_is_at_most_ten_years(text, hours):
    if hours is not None:
        assert sandbox.parse_ttl(text, flag="--older-than") == timedelta(hours=hours)
        return
    with pytest.raises(PlanError) as info:
        sandbox.parse_ttl(text, flag="--older-than")
    assert info.value.lines == [
        f"--older-than {text}: longer than ten years (87600 hours); fix: use a shorter duration, e.g. 30d"
    ]


def test_cli_huge_durations_are_one_line_exit_2():
    for args in (
        ("reap", "--older-than", "99999999999d"),
        ("create", "demo", "--owner", "a@example.com", "--ttl", "99999999999w"),
    ):
        result = dataops("sandbox", *args)
        assert result.returncode == 2 and "longer than ten years" in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_render_fills_in_owner_and_lifetime():
    rendered = sandbox.render(ROOT, "sandbox-bob", "bob@example.com", "8h", NOW)
    assert rendered.stack == "sandbox-bob"
    assert rendered.config["dataops-platform:owner"] == "bob@example.com"
    box = json.loads(rendered.config["dataops-platform:sandbox"])
    assert box["createdAt"] == "2026-11-28T18:00:00Z" and box["expiresAt"] == "2026-11-29T02:00:00Z"
    assert all(isinstance(v, str) for v in rendered.config.values())  # as the CLI stores config
    default = sandbox.render(ROOT, "bob", "bob@example.com", None, NOW)
    assert json.loads(default.config["dataops-platform:sandbox"])["expiresAt"] == "2026-12-01T18:00:00Z"


def test_create_deploys_once_and_refuses_an_existing_name(demo):
    backend = MemoryBackend(program=lambda _stack, _config: demo)
    rendered = sandbox.render(ROOT, "demo", "alice@example.com", "3d", NOW)
    assert sandbox.create(backend, rendered, preview=True).startswith("sandbox-demo: previewed")
    assert backend.stacks_ == {}  # a preview leaves no stack behind
    assert "created" in sandbox.create(backend, rendered, preview=False)
    assert backend.stacks_["sandbox-demo"].config == rendered.config
    calls = list(backend.calls)
    with pytest.raises(PlanError, match="sandbox sandbox-demo already exists"):
        sandbox.create(backend, rendered, preview=False)
    assert backend.calls == calls  # nothing was attempted


def test_a_template_that_breaks_the_rules_is_refused(tmp_path):
    root = tmp_path / "root"
    shutil.copytree(
        ROOT, root, ignore=shutil.ignore_patterns(".venv", ".git", "node_modules", ".dataops-cache")
    )
    template = root / "sandboxes" / "template.yaml"
    template.write_text(template.read_text().replace("deletionProtection: false", "deletionProtection: true"))
    with pytest.raises(PlanError) as info:
        sandbox.render(root, "demo", "alice@example.com", "3d", NOW)
    assert any("nothing in a sandbox is protected" in line for line in info.value.lines)
    assert all("sandboxes/template.yaml" in line for line in info.value.lines)


# -- the sandbox plan -----------------------------------------------------------------------------


def test_sandbox_plan_creates_no_cluster_no_lake_and_protects_nothing(sandbox_plan):
    types = {r.type for r in sandbox_plan.resources}
    for forbidden in ("aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup", "aws:ec2/vpc:Vpc",
                      "aws:ec2/natGateway:NatGateway", "aws:glue/catalogDatabase:CatalogDatabase",
                      "kubernetes:helm.sh/v3:Release", "aws:ecr/repository:Repository"):  # fmt: skip
        assert forbidden not in types
    buckets = sandbox_plan.of_type("aws:s3/bucket:Bucket")
    assert [b.name for b in buckets] == ["access-workspace-bucket"]  # only its scratch bucket
    assert buckets[0].inputs["forceDestroy"] is True
    assert not [r.urn for r in sandbox_plan.resources if r.protect or r.retainOnDelete]
    refs = {r.name: r.inputs["name"] for r in sandbox_plan.of_type("pulumi:pulumi:StackReference")}
    assert refs == {
        "lake-owner": "organization/dataops-platform/prod",
        "sandbox-host": "organization/dataops-platform/dev",
    }


def test_every_sandbox_resource_carries_owner_and_lifetime(sandbox_plan):
    tagged_types = {"aws:s3/bucket:Bucket", "aws:iam/role:Role", "aws:kms/key:Key"}
    for r in sandbox_plan.resources:
        if r.type in tagged_types:
            assert {"owner", "created-at", "expires-at"} <= set(r.inputs["tags"]), r.urn
            assert r.inputs["tags"]["expires-at"] == "2026-12-01T18:00:00Z"
        if r.type.startswith("kubernetes:") and r.type != "kubernetes:core/v1:Secret":
            notes = r.inputs["metadata"].get("annotations", {})
            assert notes.get("dataops.io/owner") == "alice@example.com", r.urn
            assert notes.get("dataops.io/expires-at") == "2026-12-01T18:00:00Z", r.urn
    assert sandbox_plan.outputs["sandbox"]["expiresAt"] == "2026-12-01T18:00:00Z"


def test_sandbox_reads_curated_only_and_writes_only_its_scratch(sandbox_plan):
    policies = {
        r.inputs["name"]: json.loads(r.inputs["policy"])
        for r in sandbox_plan.of_type("aws:iam/rolePolicy:RolePolicy")
    }
    # read-catalog: the curated zone's Glue entries (tests/components/test_data_access.py)
    assert set(policies) == {"read-curated", "read-catalog", "workspace"}
    writes = [
        res
        for s in policies["read-curated"]["Statement"]
        for res in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
        if any(
            a.startswith("s3:Put") or a.startswith("s3:Delete")
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        )
    ]
    assert writes == []
    k8s = [
        r
        for r in sandbox_plan.resources
        if r.type.startswith("kubernetes:") and r.type != "kubernetes:core/v1:Namespace"
    ]
    assert k8s and {r.inputs["metadata"]["namespace"] for r in k8s} == {"sandbox-demo"}


def test_the_sandbox_plan_passes_its_own_destroy_check(demo):
    targets = [r.urn for r in demo if not r.external]
    assert sandbox.check_destroyable("sandbox-demo", demo, targets, SCHEME) == []
    # Every managed type of the plan is one the check knows as a sandbox's own.
    assert not any(
        "is not part of any sandbox" in x
        for x in sandbox.check_destroyable("sandbox-demo", demo, targets, SCHEME)
    )


def _with(demo: list[StateResource], resource: StateResource) -> tuple[list[StateResource], list[str]]:
    """The sandbox's state plus `resource`, which the destroy preview says it would delete."""
    state = [*demo, resource]
    return state, [*(r.urn for r in demo if not r.external), resource.urn]


def _find(demo, type_):
    return next(r for r in demo if r.type == type_)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        # Another stack's bucket (the lake), by its tags.
        (lambda d: tagged(replace(_find(d, "aws:s3/bucket:Bucket"), urn="urn:x::lake"), stack="prod", environment="prod"),
         "tagged stack='prod'"),
        # A setting on a bucket the sandbox does not own.
        (lambda d: replace(_find(d, "aws:s3/bucketPolicy:BucketPolicy"), urn="urn:x::pol",
                           inputs={"bucket": "dataops-prod-curated-111122223333-eu-west-1"}), "is not the sandbox's"),
        # A Kubernetes object in the hub's namespace, and a second namespace.
        (lambda d: replace(_find(d, "kubernetes:core/v1:Service"), urn="urn:x::svc",
                           inputs={"metadata": {"name": "proxy-public", "namespace": "jupyterhub"}}), "in namespace 'jupyterhub'"),
        (lambda d: replace(_find(d, "kubernetes:core/v1:Namespace"), urn="urn:x::ns",
                           inputs={"metadata": {"name": "data-science"}}), "namespace 'data-science' is not the sandbox's"),
        # A policy on dev's role, and a pod identity for another namespace.
        (lambda d: replace(_find(d, "aws:iam/rolePolicy:RolePolicy"), urn="urn:x::rp",
                           inputs={"role": "dataops-dev-data-access"}), "role 'dataops-dev-data-access'"),
        (lambda d: replace(_find(d, "aws:eks/podIdentityAssociation:PodIdentityAssociation"), urn="urn:x::pia",
                           inputs={"namespace": "jupyterhub", "roleArn": "arn:aws:iam::1:role/x"}), "associates namespace"),
        # Something no sandbox has: a cluster.
        (lambda d: StateResource("urn:x::eks", "aws:eks/cluster:Cluster", inputs={"name": "dataops-dev"}),
         "is not part of any sandbox"),
        # Protection anywhere, and a read resource in the destroy set.
        (lambda d: replace(_find(d, "kubernetes:core/v1:Secret"), urn="urn:x::s", protect=True), "is protected"),
        (lambda d: replace(_find(d, "pulumi:pulumi:StackReference"), urn="urn:x::ref"), "read resource"),
    ],
)  # fmt: skip
def test_destroy_check_refuses_anything_outside_the_sandbox(demo, change, reason):
    state, targets = _with(demo, change(demo))
    reasons = sandbox.check_destroyable("sandbox-demo", state, targets, SCHEME)
    assert len(reasons) == 1 and reason in reasons[0], reasons


def test_destroy_check_refuses_stacks_that_are_not_sandboxes(plans, demo):
    dev = state_of(plans["dev"])
    assert sandbox.check_destroyable("dev", dev, [r.urn for r in dev], SCHEME) == [
        "dev is not a sandbox stack (sandbox-<name>)"
    ]
    # Named like a sandbox, but holding dev's resources: none is marked as this sandbox's.
    reasons = sandbox.check_destroyable("sandbox-dev", dev, [r.urn for r in dev if not r.external], SCHEME)
    assert reasons and "none is marked as this sandbox's" in reasons[0]
    assert sandbox.check_destroyable(
        "sandbox-demo", demo, ["urn:pulumi:prod::dataops-platform::x"], SCHEME
    ) == ["urn:pulumi:prod::dataops-platform::x would be deleted but is not in sandbox-demo's state"]


LAKE_BUCKET = "dataops-prod-curated-111122223333-eu-west-1"
DEV_ROLE = "dataops-dev-data-access"
OWN = {"stack": "sandbox-demo", "environment": "sandbox"}


def test_the_naming_scheme_is_the_templates_and_the_plan_records_what_it_checks(demo):
    assert (SCHEME.name_prefix, SCHEME.region) == ("dataops", "eu-west-1")
    names = SCHEME.names("sandbox-demo")
    bucket, role, key = (_find(demo, t) for t in (sandbox.BUCKET, sandbox.ROLE, sandbox.KEY))
    # The checkpoint records what was made, so the checks read names and ARNs from both sides.
    assert (
        bucket.inputs["bucket"]
        == bucket.outputs["bucket"]
        == "dataops-sandbox-demo-workspace-111122223333-eu-west-1"
    )
    assert names.bucket_ok(bucket.inputs["bucket"]) and names.bucket_arn_ok(bucket.outputs["arn"])
    assert role.outputs["name"] == names.role and names.role_arn_ok(role.outputs["arn"])
    assert key.inputs["description"] == names.key_description and names.key_arn_ok(key.outputs["arn"])


def _own_copy(demo, type_, urn, *, tags=OWN, inputs=None, outputs=None):
    """Another resource of `type_` in the sandbox's state: tagged `tags`, with `inputs` and
    `outputs` changed from the sandbox's own."""
    r = _find(demo, type_)
    return replace(
        r,
        urn=urn,
        inputs={**r.inputs, "tags": {**r.inputs["tags"], **tags}, **(inputs or {})},
        outputs={**r.outputs, **(outputs or {})},
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        # Right tags, a name that is not the sandbox's: the lake's, another sandbox's, none at all.
        (lambda d: _own_copy(d, sandbox.BUCKET, "urn:x::b", inputs={"bucket": LAKE_BUCKET}, outputs={"bucket": LAKE_BUCKET}),
         f"bucket '{LAKE_BUCKET}' is not the sandbox's (dataops-sandbox-demo-workspace-<account>-eu-west-1)"),
        (lambda d: _own_copy(d, sandbox.BUCKET, "urn:x::b", inputs={"bucket": "dataops-sandbox-demo-x-workspace-111122223333-eu-west-1"}),
         "bucket 'dataops-sandbox-demo-x-workspace-111122223333-eu-west-1' is not the sandbox's"),
        (lambda d: _own_copy(d, sandbox.BUCKET, "urn:x::b", inputs={"bucket": None}), "bucket (none) is not the sandbox's"),
        # Declared with the sandbox's name, but the state says it is another bucket (an import).
        (lambda d: _own_copy(d, sandbox.BUCKET, "urn:x::b", outputs={"bucket": LAKE_BUCKET}),
         f"bucket '{LAKE_BUCKET}' is not the sandbox's"),
        (lambda d: _own_copy(d, sandbox.BUCKET, "urn:x::b", outputs={"arn": f"arn:aws:s3:::{LAKE_BUCKET}"}),
         f"ARN 'arn:aws:s3:::{LAKE_BUCKET}' is not the sandbox's"),
        # Dev's role; the sandbox's role name under another path; a key that is the lake's.
        (lambda d: _own_copy(d, sandbox.ROLE, "urn:x::r", inputs={"name": DEV_ROLE}),
         f"name '{DEV_ROLE}' is not the sandbox's (dataops-sandbox-demo-data-access)"),
        (lambda d: _own_copy(d, sandbox.ROLE, "urn:x::r", outputs={"arn": "arn:aws:iam::111122223333:role/x/dataops-sandbox-demo-data-access"}),
         "ARN 'arn:aws:iam::111122223333:role/x/dataops-sandbox-demo-data-access' is not the sandbox's"),
        (lambda d: _own_copy(d, sandbox.KEY, "urn:x::k", inputs={"description": "dataops-prod data lake"}),
         "description 'dataops-prod data lake' is not the sandbox's (dataops-sandbox-demo workspace)"),
        (lambda d: _own_copy(d, sandbox.KEY, "urn:x::k", outputs={"arn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab"}),
         "ARN 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab' is not the sandbox's"),
        # The sandbox's name, but tagged as another stack's.
        (lambda d: _own_copy(d, sandbox.BUCKET, "urn:x::b", tags={"stack": "prod"}), "tagged stack='prod', environment='sandbox', not stack=sandbox-demo, environment=sandbox"),
        (lambda d: _own_copy(d, sandbox.KEY, "urn:x::k", tags={"environment": "dev"}), "tagged stack='sandbox-demo', environment='dev', not stack=sandbox-demo"),
        # Both wrong: one line saying both.
        (lambda d: _own_copy(d, sandbox.ROLE, "urn:x::r", tags={"stack": "dev"}, inputs={"name": DEV_ROLE}),
         f"tagged stack='dev', environment='sandbox', not stack=sandbox-demo, environment=sandbox; name '{DEV_ROLE}' is not the sandbox's"),
        # A pod identity for the sandbox's namespace, but a role of that name under another path.
        (lambda d: replace(_find(d, "aws:eks/podIdentityAssociation:PodIdentityAssociation"), urn="urn:x::pia",
                           inputs={"namespace": "sandbox-demo",
                                   "roleArn": "arn:aws:iam::111122223333:role/x/dataops-sandbox-demo-data-access"}),
         "associates namespace 'sandbox-demo' with role 'arn:aws:iam::111122223333:role/x/dataops-sandbox-demo-data-access'"),
    ],
)  # fmt: skip
def test_tags_and_names_must_both_be_the_sandboxs(demo, change, reason):
    resource = change(demo)
    state, targets = _with(demo, resource)
    reasons = sandbox.check_destroyable("sandbox-demo", state, targets, SCHEME)
    assert len(reasons) == 1 and reasons[0].startswith(f"{resource.urn}: {reason}"), reasons


def test_a_second_resource_with_the_sandboxs_tags_and_names_passes(demo):
    copies = [_own_copy(demo, t, f"urn:x::{t}") for t in (sandbox.BUCKET, sandbox.ROLE, sandbox.KEY)]
    state = [*demo, *copies]
    assert (
        sandbox.check_destroyable("sandbox-demo", state, [r.urn for r in state if not r.external], SCHEME)
        == []
    )


def test_a_changed_naming_scheme_refuses_sandboxes_made_before(demo):
    # A template whose prefix changed since the sandbox was made: its names are not the new ones.
    reasons = sandbox.check_destroyable(
        "sandbox-demo", demo, [r.urn for r in demo if not r.external], sandbox.Scheme("acme", "eu-west-1")
    )
    refused = {reason.split(": ", 1)[0].rsplit("::", 1)[-1] for reason in reasons}
    assert {"access-workspace-bucket", "access-role", "access-workspace-key"} <= refused


# -- list, reap and destroy ---------------------------------------------------------------------


@pytest.fixture
def backend(demo, plans) -> MemoryBackend:
    b = MemoryBackend()
    b.add("sandbox-old", renamed(demo, "sandbox-old"))  # expires 2026-12-01
    b.add("sandbox-new", renamed(demo, "sandbox-new", expires="2027-01-01T00:00:00Z"))
    b.add("dev", state_of(plans["dev"]))  # never a candidate
    return b


def test_list_shows_every_sandbox(backend, demo):
    backend.add("sandbox-busy", renamed(demo, "sandbox-busy"), updating=True)
    items = sandbox.sandboxes(backend)
    assert [s.stack for s in items] == ["sandbox-busy", "sandbox-new", "sandbox-old"]
    old = items[2]
    assert (old.owner, old.created_at, old.state) == ("alice@example.com", "2026-11-28T18:00:00Z", "ok")
    assert old.resources == len(sandbox._managed(demo)) == 32  # not the stack, providers or reads
    text = sandbox.render_list(items, AFTER_EXPIRY, as_json=False)
    assert "sandbox-old" in text and "(expired)" in text and "4d0h" in text and "updating" in text
    doc = json.loads(sandbox.render_list(items, AFTER_EXPIRY, as_json=True))
    assert [d["expired"] for d in doc] == [True, False, True] and doc[2]["ageHours"] == 96.0


def test_reap_is_a_dry_run_unless_told(backend):
    before = {k: list(v.resources) for k, v in backend.stacks_.items()}
    outcomes = sandbox.reap(backend, AFTER_EXPIRY, act=False, scheme=SCHEME)
    assert {(o.stack, o.result) for o in outcomes} == {
        ("sandbox-old", "would-destroy"),
        ("sandbox-new", "kept"),
    }
    assert {k: v.resources for k, v in backend.stacks_.items()} == before
    assert not [c for c in backend.calls if c[0] in ("destroy", "remove")]


def test_reap_destroys_expired_sandboxes_only_and_a_second_run_does_nothing(backend):
    outcomes = sandbox.reap(backend, AFTER_EXPIRY, act=True, scheme=SCHEME)
    assert [(o.stack, o.result) for o in outcomes] == [("sandbox-old", "destroyed"), ("sandbox-new", "kept")]
    assert set(backend.stacks_) == {"sandbox-new", "dev"}
    assert not [c for c in backend.calls if c[1] == "dev"]  # never even read
    again = sandbox.reap(backend, AFTER_EXPIRY, act=True, scheme=SCHEME)
    assert [(o.stack, o.result) for o in again] == [("sandbox-new", "kept")]
    assert "1 kept" in sandbox.render_outcomes(again, "text", act=True)


def test_reap_continues_past_a_failing_sandbox_and_retries_it_later(backend, demo):
    backend.add("sandbox-also", renamed(demo, "sandbox-also"))
    backend.failures[("sandbox-also", "destroy")] = "timeout deleting the bucket"
    outcomes = sandbox.reap(backend, AFTER_EXPIRY, act=True, scheme=SCHEME)
    results = {o.stack: (o.result, o.detail) for o in outcomes}
    assert results["sandbox-also"] == ("failed", "stack sandbox-also: timeout deleting the bucket")
    assert results["sandbox-old"][0] == "destroyed"  # after the failure, in name order
    del backend.failures[("sandbox-also", "destroy")]
    assert [
        o.result
        for o in sandbox.reap(backend, AFTER_EXPIRY, act=True, scheme=SCHEME)
        if o.stack == "sandbox-also"
    ] == ["destroyed"]


def test_a_half_finished_reap_finishes_on_the_next_run(backend):
    backend.failures[("sandbox-old", "remove")] = "backend unavailable"
    assert next(o.result for o in sandbox.reap(backend, AFTER_EXPIRY, act=True, scheme=SCHEME)) == "failed"
    assert sandbox._managed(backend.stacks_["sandbox-old"].resources) == []  # destroyed, stack kept
    del backend.failures[("sandbox-old", "remove")]
    # Nothing is left to delete, so the next run only removes the stack.
    again = sandbox.reap(backend, AFTER_EXPIRY, act=True, scheme=SCHEME)
    assert next((o.result, o.detail) for o in again) == ("destroyed", "0 resources deleted, stack removed")
    assert "sandbox-old" not in backend.stacks_
    assert (
        sandbox.destroy_one(backend, "sandbox-old", act=True, scheme=SCHEME).result == "absent"
    )  # and again


def test_only_checked_resources_are_destroyed_and_late_additions_keep_the_stack(backend, demo):
    late = StateResource("urn:pulumi:sandbox-old::p::aws:s3/bucket:Bucket::late", "aws:s3/bucket:Bucket",
                         inputs={"tags": {"stack": "sandbox-old", "environment": "sandbox"}})  # fmt: skip
    backend.added_during_destroy = [late]  # an `up` that ran between the check and the destroy
    outcome = sandbox.destroy_one(backend, "sandbox-old", act=True, scheme=SCHEME)
    assert (
        outcome.result == "failed" and "1 resources remain" in outcome.detail and late.urn in outcome.detail
    )
    assert late.urn not in backend.destroyed and "sandbox-old" in backend.stacks_
    checked = {
        r.urn for r in renamed(demo, "sandbox-old") if not r.external and r.type != "pulumi:pulumi:Stack"
    }
    assert set(backend.destroyed) == checked  # its provider too: the engine requires a component's children


def test_a_foreign_resource_in_the_state_is_refused_even_if_the_preview_omits_it(demo):
    foreign = tagged(replace(next(r for r in demo if r.type == "aws:s3/bucket:Bucket"), urn="urn:x::lake"),
                     stack="prod", environment="prod")  # fmt: skip
    state = [*demo, foreign]
    targets = [r.urn for r in demo if not r.external]  # the preview did not list it
    reasons = sandbox.check_destroyable("sandbox-demo", state, targets, SCHEME)
    assert len(reasons) == 1 and reasons[0].startswith("urn:x::lake: tagged stack='prod'")


def test_protected_or_foreign_sandboxes_are_refused_and_left_alone(backend, demo):
    locked = [
        replace(r, protect=True) if r.type == "aws:s3/bucket:Bucket" else r
        for r in renamed(demo, "sandbox-locked")
    ]
    backend.add("sandbox-locked", locked)
    outcome = next(
        o for o in sandbox.reap(backend, AFTER_EXPIRY, act=True, scheme=SCHEME) if o.stack == "sandbox-locked"
    )
    assert outcome.result == "refused" and "is protected" in outcome.detail
    assert backend.stacks_["sandbox-locked"].resources == locked
    assert sandbox.destroy_one(backend, "dev", act=True, scheme=SCHEME).result == "refused"
    assert backend.stacks_["dev"].resources


def _impostor(demo, expires: str | None = None) -> list[StateResource]:
    """sandbox-evil as its state could be after an import or a program bug: everything carries the
    sandbox's tags, but one bucket is the lake's and its role is dev's data-access role."""
    state = renamed(demo, "sandbox-evil", expires)
    lake = _find(state, sandbox.BUCKET)
    lake = replace(lake, urn=lake.urn + "-lake", inputs={**lake.inputs, "bucket": LAKE_BUCKET},
                   outputs={**lake.outputs, "bucket": LAKE_BUCKET, "arn": f"arn:aws:s3:::{LAKE_BUCKET}"})  # fmt: skip
    dev_role = {"name": DEV_ROLE, "arn": f"arn:aws:iam::111122223333:role/{DEV_ROLE}"}
    return [
        replace(r, inputs={**r.inputs, "name": DEV_ROLE}, outputs={**r.outputs, **dev_role})
        if r.type == sandbox.ROLE
        else r
        for r in [*state, lake]
    ]


def test_reaper_and_destroy_refuse_a_sandbox_tagged_resource_named_like_the_lake_or_dev(backend, demo):
    evil = _impostor(demo)
    backend.add("sandbox-evil", evil)
    outcomes = {o.stack: o for o in sandbox.reap(backend, AFTER_EXPIRY, act=True, scheme=SCHEME)}
    refused = outcomes["sandbox-evil"]
    assert refused.result == "refused"
    assert f"::access-workspace-bucket-lake: bucket '{LAKE_BUCKET}' is not the sandbox's" in refused.detail
    assert f"::access-role: name '{DEV_ROLE}' is not the sandbox's" in refused.detail
    # Nothing of that sandbox was deleted; the reaper went on with the next one, checked on its own.
    assert backend.stacks_["sandbox-evil"].resources == evil
    assert not [urn for urn in backend.destroyed if "sandbox-evil" in urn]
    assert outcomes["sandbox-old"].result == "destroyed"
    line = next(x for x in sandbox.render_outcomes(list(outcomes.values()), "text", act=True).splitlines()
                if x.startswith("sandbox-evil"))  # fmt: skip
    assert line.startswith("sandbox-evil: refused: ") and LAKE_BUCKET in line and DEV_ROLE in line

    again = sandbox.destroy_one(backend, "sandbox-evil", act=True, scheme=SCHEME)
    assert (again.result, again.detail) == ("refused", refused.detail)
    assert backend.stacks_["sandbox-evil"].resources == evil
    assert ("destroy", "sandbox-evil") not in backend.calls


def test_destroying_a_sandbox_that_does_not_exist_fails_unless_missing_ok(backend):
    typo = sandbox.destroy_one(backend, "sandbox-olt", act=True, scheme=SCHEME, missing_ok=False)
    assert typo.result == "failed" and typo.detail.startswith("no such sandbox; fix: check the name")
    assert "--missing-ok" in typo.detail
    gone = sandbox.destroy_one(backend, "sandbox-olt", act=True, scheme=SCHEME, missing_ok=True)
    assert (gone.result, gone.detail) == ("absent", "no such sandbox (already removed?)")
    assert not [c for c in backend.calls if c[0] in ("destroy", "remove")]


def test_filters_and_unknown_or_busy_sandboxes(backend, demo):
    backend.add("sandbox-bob", [tagged(r, owner="bob@example.com") if "tags" in r.inputs else r
                                for r in renamed(demo, "sandbox-bob") if r.type != "pulumi:pulumi:Stack"])  # fmt: skip
    backend.add("sandbox-busy", renamed(demo, "sandbox-busy"), updating=True)
    backend.add("sandbox-blank", [])
    by_owner = sandbox.reap(backend, AFTER_EXPIRY, act=False, scheme=SCHEME, owner="bob@example.com")
    assert [(o.stack, o.result) for o in by_owner] == [("sandbox-bob", "would-destroy")]
    young = sandbox.reap(backend, AFTER_EXPIRY, act=False, scheme=SCHEME, older_than=timedelta(days=5))
    assert {o.result for o in young if o.stack in ("sandbox-old", "sandbox-bob")} == {"kept"}
    results = {
        o.stack: (o.result, o.detail) for o in sandbox.reap(backend, AFTER_EXPIRY, act=False, scheme=SCHEME)
    }
    assert results["sandbox-busy"] == ("kept", "an update is in progress")
    assert results["sandbox-blank"][0] == "would-destroy"  # holds nothing: removed on --yes


def test_markdown_summary_for_the_scheduled_reaper(backend):
    text = sandbox.render_outcomes(
        sandbox.reap(backend, AFTER_EXPIRY, act=False, scheme=SCHEME), "markdown", act=False
    )
    assert text.startswith("### Sandbox reaper (dry run: nothing was changed)")
    assert "| `sandbox-old` | would-destroy |" in text


# -- the command line ---------------------------------------------------------------------------


def dataops(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dataops", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create", "Bad_Name", "--owner", "a@example.com"), "sandbox name 'Bad_Name'"),
        (("create", "demo"), "--owner: required"),
        (
            ("create", "demo", "--owner", "a@example.com", "--ttl", "99d"),
            "longer than the template's maxTtlHours",
        ),
        (("reap", "--older-than", "soon"), "--older-than 'soon': not a duration"),
        (("destroy", "x_y"), "sandbox name 'x_y'"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(args, message):
    result = dataops("sandbox", *args)
    assert result.returncode == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


@pytest.fixture
def cli_backend(backend, monkeypatch) -> MemoryBackend:
    """The sandbox commands run in this process against the in-memory backend."""
    monkeypatch.setattr(sandbox_backend, "AutomationBackend", lambda _root, on_output=None: backend)
    return backend


@pytest.mark.parametrize(
    ("args", "code", "line"),
    [
        (("destroy", "olt", "--yes"), 1, "sandbox-olt: failed: no such sandbox; fix: check the name"),
        (("destroy", "olt", "--yes", "--missing-ok"), 0, "sandbox-olt: absent: no such sandbox"),
        (("destroy", "olt", "--missing-ok"), 0, "sandbox-olt: absent: no such sandbox"),
        (("destroy", "new", "--missing-ok"), 0, "sandbox-new: would-destroy: 32 resources"),
        (("destroy", "new", "--yes"), 0, "sandbox-new: destroyed: 32 resources deleted"),
    ],
)
def test_cli_destroy_exit_codes(cli_backend, capsys, args, code, line):
    assert main(["sandbox", *args]) == code
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith(line), out


def test_cli_reap_reports_the_impostor_and_exits_1(cli_backend, demo, capsys):
    cli_backend.add("sandbox-evil", _impostor(demo, expires="2020-01-01T00:00:00Z"))  # long expired
    assert main(["sandbox", "reap", "--yes"]) == 1
    out = capsys.readouterr().out
    assert "sandbox-evil: refused: " in out and LAKE_BUCKET in out and DEV_ROLE in out
    assert "sandbox-evil" in cli_backend.stacks_


@pytest.mark.skipif(shutil.which("pulumi") is not None, reason="a Pulumi CLI is installed here")
def test_cli_without_the_pulumi_cli_says_so():
    result = dataops("sandbox", "list")
    assert result.returncode == 2 and "the Pulumi CLI is not on PATH" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_sandbox_whose_first_up_failed_is_removed_once_it_is_an_hour_old(backend, demo):
    # What a failed first `up` leaves: the stack, its stack references and a provider, no outputs.
    leftovers = [
        replace(r, outputs={}) if r.type == "pulumi:pulumi:Stack" else r
        for r in renamed(demo, "sandbox-broken")
        if r.type in ("pulumi:pulumi:Stack", "pulumi:pulumi:StackReference")
        or r.type.startswith("pulumi:providers:")
    ]
    backend.add("sandbox-broken", leftovers, updated=AFTER_EXPIRY - timedelta(minutes=10))
    young = {o.stack: o for o in sandbox.reap(backend, AFTER_EXPIRY, act=True, scheme=SCHEME)}[
        "sandbox-broken"
    ]
    assert young.result == "kept" and "less than an hour" in young.detail
    backend.stacks_["sandbox-broken"].updated = AFTER_EXPIRY - timedelta(hours=2)
    old = {o.stack: o for o in sandbox.reap(backend, AFTER_EXPIRY, act=True, scheme=SCHEME)}["sandbox-broken"]
    assert old.result == "destroyed" and "sandbox-broken" not in backend.stacks_


def test_interrupted_operations_keep_the_sandbox(backend, demo):
    bucket = next(r for r in renamed(demo, "sandbox-old") if r.type == "aws:s3/bucket:Bucket")
    backend.stacks_["sandbox-old"].resources.append(
        replace(bucket, urn=bucket.urn + "-2", pending="creating")
    )
    outcome = sandbox.destroy_one(backend, "sandbox-old", act=True, scheme=SCHEME)
    assert outcome.result == "refused" and "an interrupted update left it creating" in outcome.detail
    assert backend.destroyed == []


def test_every_entry_is_checked_even_under_a_repeated_urn(demo):
    bucket = next(r for r in demo if r.type == "aws:s3/bucket:Bucket")
    copy = tagged(bucket, stack="prod", environment="prod")  # same URN, another stack's bucket
    reasons = sandbox.check_destroyable(
        "sandbox-demo", [*demo, copy], [r.urn for r in demo if not r.external], SCHEME
    )
    assert reasons == [
        f"{bucket.urn}: tagged stack='prod', environment='prod', not stack=sandbox-demo, environment=sandbox"
    ]


def test_cluster_scoped_kinds_and_secret_values_are_never_the_sandboxes(demo):
    role = StateResource("urn:x::cr", "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
                         inputs={"metadata": {"name": "x", "namespace": "sandbox-demo"}})  # fmt: skip
    secret_bucket = replace(
        next(r for r in demo if r.type == "aws:s3/bucketPolicy:BucketPolicy"),
        urn="urn:x::bp",
        inputs={"bucket": {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}},
    )
    reasons = sandbox.check_destroyable("sandbox-demo", [*demo, role, secret_bucket], [], SCHEME)
    assert len(reasons) == 2
    assert "ClusterRole is not part of any sandbox" in reasons[0] and "is not the sandbox's" in reasons[1]


def test_an_unexpected_error_fails_one_sandbox_not_the_run(backend, demo, monkeypatch):
    original = sandbox.destroy_one

    def flaky(b, stack, *, act, scheme):
        if stack == "sandbox-old":
            raise TypeError("boom")
        return original(b, stack, act=act, scheme=scheme)

    monkeypatch.setattr(sandbox, "destroy_one", flaky)
    backend.add("sandbox-also", renamed(demo, "sandbox-also"))
    results = {
        o.stack: (o.result, o.detail) for o in sandbox.reap(backend, AFTER_EXPIRY, act=True, scheme=SCHEME)
    }
    assert results["sandbox-old"] == ("failed", "unexpected error: TypeError: boom")
    assert results["sandbox-also"][0] == "destroyed"
