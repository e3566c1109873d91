"""The teardown decisions of `dataops.sandbox`, each condition on its own: a resource is the
sandbox's only when every condition of a check holds, so each check is tried with all of its
conditions right (accepted) and with each one wrong while the others are right (refused).

These tests build no plan: the sandbox's state here is a small hand-written one with the names
`create` gives (tests/dataops/test_sandbox.py checks the real sandbox plan against the same
checks), so the file runs in well under a second and is what the mutation run
(docs/testing-mutation.md) executes for every mutant of the teardown code.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from dataops import sandbox
from dataops.plan_types import PlanError
from dataops.sandbox_backend import AutomationBackend, BackendError, StateResource
from tests.dataops.memory_backend import MemoryBackend

STACK = "sandbox-demo"
SCHEME = sandbox.Scheme("dataops", "eu-west-1")  # the template's (test_sandbox.py checks it)
NAMES = SCHEME.names(STACK)
ACCOUNT = "111122223333"
BUCKET = f"dataops-sandbox-demo-workspace-{ACCOUNT}-eu-west-1"
ROLE = "dataops-sandbox-demo-data-access"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
KEY_ARN = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
DEV_ROLE = "dataops-dev-data-access"
DEV_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{DEV_ROLE}"
LAKE_BUCKET = f"dataops-prod-curated-{ACCOUNT}-eu-west-1"
OWN = {"stack": STACK, "environment": "sandbox"}
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
EXPIRED = "2026-12-01T18:00:00Z"
LATER = "2027-01-01T00:00:00Z"


def urn(type_: str, name: str, stack: str = STACK) -> str:
    return f"urn:pulumi:{stack}::dataops-platform::{type_}::{name}"


def state(stack: str = STACK, expires: str = EXPIRED) -> list[StateResource]:
    """What `create` leaves for `stack`, one resource of each kind the checks judge differently."""
    physical = f"dataops-{stack}"
    bucket = f"{physical}-workspace-{ACCOUNT}-eu-west-1"
    role = f"{physical}-data-access"
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/{role}"
    tags = {"stack": stack, "environment": "sandbox", "owner": "alice@example.com",
            "created-at": "2026-11-28T18:00:00Z", "expires-at": expires}  # fmt: skip
    box = {"owner": "alice@example.com", "createdAt": "2026-11-28T18:00:00Z", "expiresAt": expires}
    return [
        StateResource(urn("pulumi:pulumi:Stack", f"dataops-platform-{stack}", stack), "pulumi:pulumi:Stack",
                      custom=False, outputs={"environment": "sandbox", "sandbox": box}),
        StateResource(urn("pulumi:providers:aws", "default", stack), "pulumi:providers:aws"),
        StateResource(urn("pulumi:pulumi:StackReference", "host", stack), "pulumi:pulumi:StackReference",
                      external=True, inputs={"name": "organization/dataops-platform/dev"}),
        StateResource(urn(sandbox.BUCKET, "workspace", stack), sandbox.BUCKET,
                      inputs={"bucket": bucket, "tags": tags},
                      outputs={"bucket": bucket, "arn": f"arn:aws:s3:::{bucket}"}),
        StateResource(urn("aws:s3/bucketPolicy:BucketPolicy", "workspace", stack),
                      "aws:s3/bucketPolicy:BucketPolicy", inputs={"bucket": bucket}),
        StateResource(urn(sandbox.ROLE, "role", stack), sandbox.ROLE, inputs={"name": role, "tags": tags},
                      outputs={"name": role, "arn": role_arn}),
        StateResource(urn("aws:iam/rolePolicy:RolePolicy", "workspace", stack),
                      "aws:iam/rolePolicy:RolePolicy", inputs={"role": role}),
        StateResource(urn(sandbox.KEY, "key", stack), sandbox.KEY,
                      inputs={"description": f"{physical} workspace", "tags": tags},
                      outputs={"arn": KEY_ARN}),  # no description output: a key's is not recorded
        StateResource(urn("aws:eks/podIdentityAssociation:PodIdentityAssociation", "pia", stack),
                      "aws:eks/podIdentityAssociation:PodIdentityAssociation",
                      inputs={"namespace": stack, "roleArn": role_arn, "serviceAccount": "notebook"}),
        StateResource(urn("kubernetes:core/v1:Namespace", "ns", stack), "kubernetes:core/v1:Namespace",
                      inputs={"metadata": {"name": stack}}),
        StateResource(urn("kubernetes:core/v1:Service", "svc", stack), "kubernetes:core/v1:Service",
                      inputs={"metadata": {"name": "notebook", "namespace": stack}}),
        StateResource(urn("random:index/randomPassword:RandomPassword", "token", stack),
                      "random:index/randomPassword:RandomPassword"),
        StateResource(urn("dataops:sandbox:Workspace", "access", stack), "dataops:sandbox:Workspace",
                      custom=False),
    ]  # fmt: skip


DEMO = state()


def find(resources: list[StateResource], type_: str) -> StateResource:
    return next(r for r in resources if r.type == type_)


def swapped(old: StateResource, new: StateResource, resources: list[StateResource] = DEMO) -> list:
    return [new if r is old else r for r in resources]


def check(resources: list[StateResource], targets: list[str] | None = None) -> list[str]:
    """check_destroyable on `resources`, with the destroy preview listing what they manage."""
    if targets is None:
        targets = [r.urn for r in resources if not r.external and r.type != "pulumi:pulumi:Stack"]
    return sandbox.check_destroyable(STACK, resources, targets, SCHEME)


def with_tags(r: StateResource, **tags: str) -> StateResource:
    return replace(r, inputs={**r.inputs, "tags": {**r.inputs["tags"], **tags}})


def test_the_hand_written_sandbox_passes_the_check():
    # The base every refusal below changes in one place: with nothing changed, nothing is refused.
    assert check(DEMO) == []


# -- ownership by tags: both `stack` and `environment` ------------------------------------------


BUCKET_URN = urn(sandbox.BUCKET, "workspace")


def test_own_tags_both_right_is_accepted():
    bucket = find(DEMO, sandbox.BUCKET)
    assert sandbox._own_tags(bucket, STACK) is True
    assert check(swapped(bucket, with_tags(bucket, **OWN))) == []


def test_own_tags_right_stack_but_environment_prod_is_refused():
    bucket = find(DEMO, sandbox.BUCKET)
    prod = with_tags(bucket, environment="prod")
    assert sandbox._own_tags(prod, STACK) is False
    assert check(swapped(bucket, prod)) == [
        f"{BUCKET_URN}: tagged stack='sandbox-demo', environment='prod', not stack=sandbox-demo, environment=sandbox",
        # The bucket is not the sandbox's, so neither is the policy on it.
        f"{urn('aws:s3/bucketPolicy:BucketPolicy', 'workspace')}: bucket '{BUCKET}' is not the sandbox's",
    ]


def test_own_tags_other_sandboxs_stack_with_environment_sandbox_is_refused():
    bucket = find(DEMO, sandbox.BUCKET)
    other = with_tags(bucket, stack="sandbox-other")
    assert sandbox._own_tags(other, STACK) is False
    assert check(swapped(bucket, other))[0] == (
        f"{BUCKET_URN}: tagged stack='sandbox-other', environment='sandbox', "
        "not stack=sandbox-demo, environment=sandbox"
    )


def test_own_tags_both_wrong_is_refused():
    bucket = find(DEMO, sandbox.BUCKET)
    lake = with_tags(bucket, stack="prod", environment="prod")
    assert sandbox._own_tags(lake, STACK) is False
    assert check(swapped(bucket, lake))[0].startswith(
        f"{BUCKET_URN}: tagged stack='prod', environment='prod'"
    )


@pytest.mark.parametrize("tags", [None, "stack=sandbox-demo", ["sandbox-demo"]])
def test_missing_or_malformed_tags_are_not_the_sandboxs(tags):
    bucket = find(DEMO, sandbox.BUCKET)
    untagged = replace(bucket, inputs={**bucket.inputs, "tags": tags})
    assert sandbox._tags(untagged) == {} and sandbox._own_tags(untagged, STACK) is False
    assert check(swapped(bucket, untagged))[0] == (
        f"{BUCKET_URN}: tagged stack=None, environment=None, not stack=sandbox-demo, environment=sandbox"
    )


@pytest.mark.parametrize(
    ("tags", "root_environment", "refused"),
    [
        ({"environment": "prod"}, None, True),  # right stack, wrong environment, no root output
        ({"stack": "dev"}, None, True),  # right environment, another stack
        ({"stack": "dev"}, "dev", True),  # a root output that is not a sandbox's
        ({"stack": "dev"}, "sandbox", False),  # the root says sandbox: the per-resource checks decide
        ({}, None, False),  # marked: nothing to add
    ],
)
def test_a_state_with_no_marked_resource_is_refused_as_a_whole(tags, root_environment, refused):
    root = find(DEMO, "pulumi:pulumi:Stack")
    outputs = {} if root_environment is None else {"environment": root_environment}
    resources = [
        replace(root, outputs=outputs) if r is root else with_tags(r, **tags) if "tags" in r.inputs else r
        for r in DEMO
    ]
    marker = (
        f"{STACK} has resources but none is marked as this sandbox's (environment=sandbox, stack={STACK})"
    )
    assert (marker in check(resources)) is refused


def test_an_empty_state_or_one_without_a_root_is_judged_by_its_resources():
    # Nothing managed: nothing to mark. No root at all and nothing marked: refused.
    assert check([find(DEMO, "pulumi:pulumi:Stack")]) == []
    assert check([]) == []
    ns = find(DEMO, "kubernetes:core/v1:Namespace")
    assert check([ns]) == [
        f"{STACK} has resources but none is marked as this sandbox's (environment=sandbox, stack={STACK})"
    ]


# -- the sandbox's own buckets and roles: tags and names ------------------------------------------


def test_bucket_settings_on_a_half_matching_bucket_are_refused():
    # The lake's bucket with the sandbox's tags: refused by name, so a setting on it is refused too.
    bucket = find(DEMO, sandbox.BUCKET)
    lake = replace(bucket, inputs={**bucket.inputs, "bucket": LAKE_BUCKET},
                   outputs={**bucket.outputs, "bucket": LAKE_BUCKET, "arn": f"arn:aws:s3:::{LAKE_BUCKET}"})  # fmt: skip
    policy = find(DEMO, "aws:s3/bucketPolicy:BucketPolicy")
    on_lake = replace(policy, inputs={"bucket": LAKE_BUCKET})
    assert check(swapped(policy, on_lake, swapped(bucket, lake))) == [
        f"{BUCKET_URN}: bucket '{LAKE_BUCKET}' is not the sandbox's "
        "(dataops-sandbox-demo-workspace-<account>-eu-west-1)",
        f"{policy.urn}: bucket '{LAKE_BUCKET}' is not the sandbox's",
    ]


def test_role_policy_and_pod_identity_on_a_half_matching_role_are_refused():
    # The sandbox's role by name, but tagged as another stack's: not in the set of own roles.
    role = find(DEMO, sandbox.ROLE)
    foreign = with_tags(role, stack="dev", environment="dev")
    reasons = check(swapped(role, foreign))
    assert reasons == [
        f"{role.urn}: tagged stack='dev', environment='dev', not stack=sandbox-demo, environment=sandbox",
        f"{urn('aws:iam/rolePolicy:RolePolicy', 'workspace')}: role '{ROLE}' is not the sandbox's",
        f"{urn('aws:eks/podIdentityAssociation:PodIdentityAssociation', 'pia')}: associates namespace "
        f"'sandbox-demo' with role '{ROLE_ARN}', not sandbox-demo with {ROLE}",
    ]


def test_a_key_is_never_an_own_bucket_or_role():
    # A key named and tagged as the sandbox's is its own, but is neither a bucket nor a role: a
    # setting naming the key's description as its bucket is refused.
    policy = find(DEMO, "aws:s3/bucketPolicy:BucketPolicy")
    odd = replace(policy, inputs={"bucket": "dataops-sandbox-demo workspace"})
    assert check(swapped(policy, odd)) == [
        f"{policy.urn}: bucket 'dataops-sandbox-demo workspace' is not the sandbox's"
    ]


@pytest.mark.parametrize(
    ("bucket", "shown"),
    [(LAKE_BUCKET, f"'{LAKE_BUCKET}'"), (None, "(none)"), ({"ciphertext": "x"}, "(not text)")],
)
def test_a_bucket_setting_needs_the_name_of_an_own_bucket(bucket, shown):
    policy = find(DEMO, "aws:s3/bucketPolicy:BucketPolicy")
    assert check(swapped(policy, replace(policy, inputs={"bucket": bucket}))) == [
        f"{policy.urn}: bucket {shown} is not the sandbox's"
    ]


@pytest.mark.parametrize(
    ("role", "shown"), [(DEV_ROLE, f"'{DEV_ROLE}'"), (None, "(none)"), (["x"], "(not text)")]
)
def test_a_role_policy_needs_the_name_of_an_own_role(role, shown):
    policy = find(DEMO, "aws:iam/rolePolicy:RolePolicy")
    assert check(swapped(policy, replace(policy, inputs={"role": role}))) == [
        f"{policy.urn}: role {shown} is not the sandbox's"
    ]


# -- Pod Identity: the sandbox's namespace and the sandbox's role --------------------------------

PIA = find(DEMO, "aws:eks/podIdentityAssociation:PodIdentityAssociation")


@pytest.mark.parametrize(
    ("namespace", "arn", "shown"),
    [
        (STACK, DEV_ROLE_ARN, f"'{DEV_ROLE_ARN}'"),  # the sandbox's namespace, dev's role
        ("jupyterhub", ROLE_ARN, f"'{ROLE_ARN}'"),  # the sandbox's role, the hub's namespace
        ("sandbox-other", ROLE_ARN, f"'{ROLE_ARN}'"),  # the sandbox's role, another sandbox's namespace
        ("jupyterhub", DEV_ROLE_ARN, f"'{DEV_ROLE_ARN}'"),  # both wrong
        (STACK, None, "(none)"),  # no role at all
        (STACK, {"ciphertext": "x"}, "(not text)"),
        (None, ROLE_ARN, f"'{ROLE_ARN}'"),
    ],
)
def test_pod_identity_needs_both_the_sandboxs_namespace_and_role(namespace, arn, shown):
    pia = replace(PIA, inputs={**PIA.inputs, "namespace": namespace, "roleArn": arn})
    assert check(swapped(PIA, pia)) == [
        f"{PIA.urn}: associates namespace {namespace!r} with role {shown}, not sandbox-demo with {ROLE}"
    ]


def test_pod_identity_both_right_is_accepted_only_while_the_role_is_the_sandboxs():
    assert sandbox._foreign(PIA, NAMES, set(), {ROLE}) is None
    # The right ARN, but the state holds no role of the sandbox's own: refused.
    assert sandbox._foreign(PIA, NAMES, set(), {DEV_ROLE}) == (
        f"associates namespace 'sandbox-demo' with role '{ROLE_ARN}', not sandbox-demo with {ROLE}"
    )


# -- names, ARNs and the other kinds -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        (BUCKET, True),
        ("dataops-sandbox-demo-workspace-12345678901-eu-west-1", False),  # an 11-digit account
        (f"dataops-sandbox-demo-workspace-{ACCOUNT}-eu-west-2", False),  # another region
        (f"dataops-sandbox-demo-workspace-{ACCOUNT}-eu-west-1-x", False),  # a longer name
        (f"x-dataops-sandbox-demo-workspace-{ACCOUNT}-eu-west-1", False),
        (f"dataops-sandbox-demoxworkspace-{ACCOUNT}-eu-west-1", False),
    ],
)
def test_bucket_names(name, ok):
    assert NAMES.bucket_ok(name) is ok
    assert NAMES.bucket_arn_ok(f"arn:aws:s3:::{name}") is ok


def test_bucket_role_and_key_arns():
    assert NAMES.bucket_arn_ok(f"arn:aws-cn:s3:::{BUCKET}") is True
    assert NAMES.bucket_arn_ok(f"arn:aws:s3::{BUCKET}") is False
    assert NAMES.bucket_arn_ok(BUCKET) is False
    assert NAMES.role_arn_ok(ROLE_ARN) is True
    assert NAMES.role_arn_ok(DEV_ROLE_ARN) is False
    assert NAMES.role_arn_ok(f"arn:aws:iam::{ACCOUNT}:role/path/{ROLE}") is False
    assert NAMES.role_arn_ok(f"arn:aws:iam::{ACCOUNT}:role/{ROLE}x") is False
    assert NAMES.key_arn_ok(KEY_ARN) is True
    assert NAMES.key_arn_ok(KEY_ARN.replace("eu-west-1", "us-east-1")) is False
    assert NAMES.key_arn_ok(KEY_ARN + "/x") is False
    assert (NAMES.stack, NAMES.physical, NAMES.region) == (STACK, "dataops-sandbox-demo", "eu-west-1")
    assert (NAMES.role, NAMES.key_description) == (ROLE, "dataops-sandbox-demo workspace")
    assert NAMES.bucket_shape == "dataops-sandbox-demo-workspace-<account>-eu-west-1"


@pytest.mark.parametrize(
    ("type_", "inputs", "outputs", "reason"),
    [
        # The declared name, then the name the state says was made, then the ARN.
        (sandbox.BUCKET, {"bucket": LAKE_BUCKET}, {},
         f"bucket '{LAKE_BUCKET}' is not the sandbox's (dataops-sandbox-demo-workspace-<account>-eu-west-1)"),
        (sandbox.BUCKET, {}, {"bucket": LAKE_BUCKET}, f"bucket '{LAKE_BUCKET}' is not the sandbox's"),
        (sandbox.BUCKET, {}, {"arn": f"arn:aws:s3:::{LAKE_BUCKET}"}, f"ARN 'arn:aws:s3:::{LAKE_BUCKET}' is not the sandbox's"),
        (sandbox.BUCKET, {}, {"arn": 7}, "ARN (not text) is not the sandbox's"),
        (sandbox.ROLE, {"name": DEV_ROLE}, {}, f"name '{DEV_ROLE}' is not the sandbox's ({ROLE})"),
        (sandbox.ROLE, {}, {"name": None}, f"name (none) is not the sandbox's ({ROLE})"),
        (sandbox.ROLE, {}, {"arn": DEV_ROLE_ARN}, f"ARN '{DEV_ROLE_ARN}' is not the sandbox's"),
        (sandbox.KEY, {"description": "dataops-prod lake"}, {},
         "description 'dataops-prod lake' is not the sandbox's (dataops-sandbox-demo workspace)"),
        (sandbox.KEY, {}, {"description": "dataops-prod lake"}, "description 'dataops-prod lake' is not the sandbox's"),
        (sandbox.KEY, {}, {"arn": KEY_ARN.replace("eu-west-1", "us-east-1")}, "ARN 'arn:aws:kms:us-east-1:"),
    ],
)  # fmt: skip
def test_own_tags_with_a_name_or_arn_that_is_not_the_sandboxs_are_refused(type_, inputs, outputs, reason):
    r = find(DEMO, type_)
    changed = replace(r, inputs={**r.inputs, **inputs}, outputs={**r.outputs, **outputs})
    reasons = [x for x in check(swapped(r, changed)) if x.startswith(r.urn)]
    assert len(reasons) == 1 and reasons[0].startswith(f"{r.urn}: {reason}"), reasons


def test_wrong_tags_and_a_wrong_name_are_both_reported():
    role = find(DEMO, sandbox.ROLE)
    both = with_tags(replace(role, inputs={**role.inputs, "name": DEV_ROLE}), stack="dev")
    assert sandbox._not_own(both, NAMES) == (
        "tagged stack='dev', environment='sandbox', not stack=sandbox-demo, environment=sandbox; "
        f"name '{DEV_ROLE}' is not the sandbox's ({ROLE})"
    )
    assert sandbox._not_own(role, NAMES) is None


def test_an_arn_is_optional_but_a_name_is_not():
    key = find(DEMO, sandbox.KEY)
    assert sandbox._misnamed(replace(key, outputs={}), "description", lambda d: d == NAMES.key_description,
                             NAMES.key_description, NAMES.key_arn_ok) is None  # fmt: skip
    unnamed = replace(key, inputs={"tags": OWN})
    assert sandbox._not_own(unnamed, NAMES) == (
        "description (none) is not the sandbox's (dataops-sandbox-demo workspace)"
    )


KINDS = sorted(sandbox.NAMESPACED_KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_every_namespaced_kind_is_the_sandboxs_only_in_its_namespace(kind):
    inside = StateResource(urn(kind, "x"), kind, inputs={"metadata": {"name": "x", "namespace": STACK}})
    assert check([*DEMO, inside]) == []
    outside = replace(inside, inputs={"metadata": {"name": "x", "namespace": "jupyterhub"}})
    assert check([*DEMO, outside]) == [
        f"{inside.urn}: in namespace 'jupyterhub', not the sandbox's (sandbox-demo)"
    ]


@pytest.mark.parametrize(
    ("metadata", "reason"),
    [
        ({"name": "data-science"}, "namespace 'data-science' is not the sandbox's (sandbox-demo)"),
        ("sandbox-demo", "namespace None is not the sandbox's (sandbox-demo)"),  # not a mapping
        (None, "namespace None is not the sandbox's (sandbox-demo)"),
    ],
)
def test_only_the_sandboxs_own_namespace(metadata, reason):
    ns = find(DEMO, "kubernetes:core/v1:Namespace")
    assert check(swapped(ns, replace(ns, inputs={"metadata": metadata}))) == [f"{ns.urn}: {reason}"]


def test_harmless_component_and_unknown_resources():
    component = find(DEMO, "dataops:sandbox:Workspace")
    assert sandbox._foreign(component, NAMES, set(), set()) is None
    assert (
        sandbox._foreign(find(DEMO, "random:index/randomPassword:RandomPassword"), NAMES, set(), set())
        is None
    )
    provider = find(DEMO, "pulumi:providers:aws")
    assert sandbox._foreign(provider, NAMES, set(), set()) is None
    # The same type as a custom resource is something no sandbox makes.
    custom = replace(component, custom=True)
    assert check(swapped(component, custom)) == [
        f"{custom.urn}: a dataops:sandbox:Workspace is not part of any sandbox"
    ]
    # A read resource is never the sandbox's to delete, whatever its type.
    read = replace(find(DEMO, sandbox.BUCKET), external=True)
    assert sandbox._foreign(read, NAMES, {BUCKET}, set()) == (
        "a read resource (it belongs to another stack) would be deleted"
    )


def test_protected_and_half_done_resources_are_refused():
    ns = find(DEMO, "kubernetes:core/v1:Namespace")
    assert check(swapped(ns, replace(ns, protect=True))) == [f"{ns.urn} is protected"]
    assert check(swapped(ns, replace(ns, pending="deleting"))) == [
        f"{ns.urn}: an interrupted update left it deleting; fix: `pulumi refresh --stack sandbox-demo`"
    ]


def test_what_the_destroy_preview_lists_must_be_managed_state():
    ref = find(DEMO, "pulumi:pulumi:StackReference")
    ghost = "urn:pulumi:prod::dataops-platform::aws:s3/bucket:Bucket::lake"
    targets = [BUCKET_URN, ghost, ghost, ref.urn]  # a repeated URN is reported once
    assert check(DEMO, targets) == [
        f"{ghost} would be deleted but is not in sandbox-demo's state",
        f"{ref.urn}: a read resource (it belongs to another stack) would be deleted",
    ]


@pytest.mark.parametrize("stack", ["dev", "demo", "sandbox-Demo", "sandbox-demo-", "sandbox-"])
def test_a_stack_that_is_not_a_sandbox_is_refused(stack):
    # No prefix, or the prefix with a name that is not a sandbox name (each condition on its own).
    assert sandbox.check_destroyable(stack, DEMO, [], SCHEME) == [
        f"{stack} is not a sandbox stack (sandbox-<name>)"
    ]


def test_managed_is_what_a_destroy_deletes():
    assert [r.type for r in sandbox._managed(DEMO)] == [
        r.type
        for r in DEMO
        if r.type not in ("pulumi:pulumi:Stack", "pulumi:providers:aws", "pulumi:pulumi:StackReference")
    ]


# -- removing a stack: never while it holds resources -------------------------------------------


class RecordingWorkspace:
    def __init__(self):
        self.removed: list[tuple[str, bool]] = []

    def remove_stack(self, stack: str, force: bool = False) -> None:
        self.removed.append((stack, force))


def test_the_real_backend_removes_with_force_so_callers_must_check_first():
    # `AutomationBackend.remove` forces (its root and providers would stop a plain `stack rm`),
    # and a forced removal forgets whatever resources are left, leaving them in the cloud. The
    # in-memory backend does the same, so a caller that skips its own check is caught below.
    real = object.__new__(AutomationBackend)
    real._workspace = RecordingWorkspace()
    real._auto = type("auto", (), {"StackAlreadyExistsError": type("E", (Exception,), {})})
    real.remove(STACK)
    assert real._workspace.removed == [(STACK, True)]
    memory = MemoryBackend()
    memory.add(STACK, DEMO)
    memory.remove(STACK)
    assert STACK not in memory.stacks_ and memory.orphaned == [r for r in sandbox._managed(DEMO) if r.custom]


def test_forget_removes_only_an_empty_stack():
    backend = MemoryBackend()
    backend.add(STACK, DEMO)
    backend.add("sandbox-empty", [find(DEMO, "pulumi:pulumi:Stack"), find(DEMO, "pulumi:providers:aws")])
    sandbox._forget(backend, STACK)
    sandbox._forget(backend, "sandbox-empty")
    sandbox._forget(backend, "sandbox-absent")
    assert set(backend.stacks_) == {STACK} and backend.orphaned == []
    assert ("remove", "sandbox-empty") in backend.calls
    assert ("remove", STACK) not in backend.calls and ("remove", "sandbox-absent") not in backend.calls
    backend.add("sandbox-empty", [])
    backend.failures[("sandbox-empty", "state")] = "unreadable"
    backend.calls = []
    sandbox._forget(backend, "sandbox-empty")  # best effort: the error is swallowed, nothing removed
    assert "sandbox-empty" in backend.stacks_ and backend.calls == [("state", "sandbox-empty")]


def test_a_preview_that_fails_removes_its_stack_and_a_failed_up_keeps_it():
    def fail(stack, _config):
        raise BackendError(f"stack {stack}: boom")

    rendered = sandbox.Rendered(STACK, {}, {"k": "v"}, EXPIRED, "dataops", "eu-west-1")
    backend = MemoryBackend(program=fail)
    with pytest.raises(PlanError, match="boom"):
        sandbox.create(backend, rendered, preview=True)
    assert STACK not in backend.stacks_
    with pytest.raises(PlanError, match="boom"):
        sandbox.create(backend, rendered, preview=False)
    assert STACK in backend.stacks_  # what the up made carries expiry tags: the reaper removes it


def test_destroy_never_removes_a_stack_that_still_holds_resources():
    late = replace(find(DEMO, sandbox.BUCKET), urn=BUCKET_URN + "-late")
    backend = MemoryBackend()
    backend.add(STACK, DEMO)
    backend.added_during_destroy = [late] * 4  # an `up` elsewhere, between the check and the destroy
    outcome = sandbox.destroy_one(backend, STACK, act=True, scheme=SCHEME)
    assert outcome == sandbox.Outcome(
        STACK,
        "failed",
        f"4 resources remain after the destroy (added meanwhile?): {late.urn}, {late.urn}, {late.urn}; "
        "the stack was kept",
    )
    assert ("remove", STACK) not in backend.calls and backend.orphaned == []


# -- destroy_one ----------------------------------------------------------------------------------


def test_destroy_deletes_exactly_the_checked_resources_then_removes_the_stack():
    backend = MemoryBackend()
    backend.add(STACK, [*DEMO, find(DEMO, "kubernetes:core/v1:Namespace")])  # a repeated entry
    dry = sandbox.destroy_one(backend, STACK, act=False, scheme=SCHEME)
    assert (dry.result, dry.detail) == ("would-destroy", "11 resources; run again with --yes to destroy")
    assert not [c for c in backend.calls if c[0] in ("destroy", "remove")]
    done = sandbox.destroy_one(backend, STACK, act=True, scheme=SCHEME)
    assert (done.result, done.detail) == ("destroyed", "11 resources deleted, stack removed")
    # Its provider too (the engine requires a component's children), each URN once; never the
    # stack itself or a read resource.
    assert backend.destroyed == [
        r.urn for r in DEMO if r.type not in ("pulumi:pulumi:Stack", "pulumi:pulumi:StackReference")
    ]
    assert STACK not in backend.stacks_ and backend.orphaned == []


def test_an_empty_sandbox_is_only_removed():
    backend = MemoryBackend()
    backend.add(STACK, [find(DEMO, "pulumi:pulumi:Stack")])
    outcome = sandbox.destroy_one(backend, STACK, act=True, scheme=SCHEME)
    assert (outcome.result, outcome.detail) == ("destroyed", "0 resources deleted, stack removed")
    assert [c[0] for c in backend.calls] == ["state", "destroy_targets", "state", "remove"]


def test_a_refused_sandbox_reports_every_reason_and_is_left_whole():
    ns = find(DEMO, "kubernetes:core/v1:Namespace")
    backend = MemoryBackend()
    backend.add(STACK, swapped(ns, replace(ns, protect=True, inputs={"metadata": {"name": "x"}})))
    outcome = sandbox.destroy_one(backend, STACK, act=True, scheme=SCHEME)
    assert (outcome.result, outcome.detail) == (
        "refused",
        f"{ns.urn} is protected; {ns.urn}: namespace 'x' is not the sandbox's (sandbox-demo)",
    )
    assert [c[0] for c in backend.calls] == ["state", "destroy_targets"]


@pytest.mark.parametrize("operation", ["state", "destroy_targets", "destroy", "remove"])
def test_a_backend_failure_fails_the_sandbox(operation):
    backend = MemoryBackend()
    backend.add(STACK, DEMO)
    backend.failures[(STACK, operation)] = "backend unavailable"
    outcome = sandbox.destroy_one(backend, STACK, act=True, scheme=SCHEME)
    assert outcome == sandbox.Outcome(STACK, "failed", "stack sandbox-demo: backend unavailable")
    assert STACK in backend.stacks_


class Unlisted(MemoryBackend):
    def stacks(self):
        raise BackendError("listing stacks: backend unavailable")


def test_a_failure_to_list_fails_the_sandbox_and_the_reap():
    outcome = sandbox.destroy_one(Unlisted(), STACK, act=True, scheme=SCHEME)
    assert (outcome.result, outcome.detail) == ("failed", "listing stacks: backend unavailable")
    with pytest.raises(PlanError) as info:
        sandbox.reap(Unlisted(), NOW, act=True, scheme=SCHEME)
    assert info.value.lines == ["listing stacks: backend unavailable"]


# -- choosing what to reap: expiry, filters and update times ------------------------------------


def box(stack: str, state: str = "ok", *, expires: str | None = EXPIRED, owner: str = "alice@example.com",
        created: str | None = "2026-11-28T18:00:00Z", updated: datetime | None = None) -> sandbox.Sandbox:  # fmt: skip
    return sandbox.Sandbox(stack, owner, created, expires, 1, state, updated)


def chosen_and_kept(items, **filters):
    chosen, kept = sandbox.select(items, NOW, **filters)
    return [s.stack for s in chosen], [(o.stack, o.result, o.detail) for o in kept]


@pytest.mark.parametrize(
    ("updated", "reaped"),
    [
        (NOW - timedelta(hours=2), True),
        (NOW - timedelta(hours=1), True),  # exactly the grace period
        (NOW - timedelta(minutes=59), False),
        (datetime(2026, 12, 5, 10, 0), True),  # naive: read as UTC, two hours ago
        (datetime(2026, 12, 5, 11, 30), False),  # naive, half an hour ago
        (None, False),  # never updated
    ],
)
def test_an_empty_sandbox_is_reaped_an_hour_after_its_last_update(updated, reaped):
    chosen, kept = chosen_and_kept([box("sandbox-blank", "empty", expires=None, updated=updated)])
    if reaped:
        assert (chosen, kept) == (["sandbox-blank"], [])
    else:
        assert (chosen, kept) == (
            [],
            [("sandbox-blank", "kept", "holds nothing, updated less than an hour ago (or never)")],
        )


def test_naive_and_missing_update_times_do_not_abort_a_reap():
    # Update times as a backend may report them: naive, aware, or none. The run reports on every
    # sandbox and removes the empty ones that are old enough.
    backend = MemoryBackend()
    root = find(DEMO, "pulumi:pulumi:Stack")
    backend.add("sandbox-naive", [root], updated=datetime(2026, 12, 5, 9, 0))
    backend.add("sandbox-never", [root], updated=None)
    backend.add("sandbox-young", [root], updated=datetime(2026, 12, 5, 11, 45))
    backend.add(STACK, DEMO, updated=datetime(2026, 12, 1, 9, 0))
    outcomes = [(o.stack, o.result) for o in sandbox.reap(backend, NOW, act=True, scheme=SCHEME)]
    assert outcomes == [
        ("sandbox-demo", "destroyed"),
        ("sandbox-naive", "destroyed"),
        ("sandbox-never", "kept"),
        ("sandbox-young", "kept"),
    ]
    assert set(backend.stacks_) == {"sandbox-never", "sandbox-young"}


def test_select_keeps_what_is_not_expired_busy_or_readable():
    items = [
        box("sandbox-a"),
        box("sandbox-busy", "updating"),
        box("sandbox-broken", "unreadable: stack sandbox-broken: boom"),
        box("sandbox-forever", expires=None),
        box("sandbox-later", expires=LATER),
        box("sandbox-now", expires=sandbox.iso(NOW)),  # expires this very moment: expired
    ]
    assert chosen_and_kept(items) == (
        ["sandbox-a", "sandbox-now"],
        [
            ("sandbox-busy", "kept", "an update is in progress"),
            ("sandbox-broken", "failed", "unreadable: stack sandbox-broken: boom"),
            ("sandbox-forever", "kept", "no expiry recorded; destroy it by name if it should go"),
            ("sandbox-later", "kept", f"expires {LATER}"),
        ],
    )


def test_select_filters_by_owner_and_age():
    items = [box("sandbox-a"), box("sandbox-b", owner="bob@example.com"), box("sandbox-c", created=None)]
    assert chosen_and_kept(items, owner="bob@example.com") == (["sandbox-b"], [])
    # sandbox-a is 6d18h old: exactly that age is old enough, a minute more is not.
    age = NOW - datetime(2026, 11, 28, 18, 0, tzinfo=UTC)
    assert chosen_and_kept(items, older_than=age)[0] == ["sandbox-a", "sandbox-b"]
    assert chosen_and_kept(items, older_than=age + timedelta(minutes=1)) == (
        [],
        [
            ("sandbox-a", "kept", "expired, but younger than 6d18h"),
            ("sandbox-b", "kept", "expired, but younger than 6d18h"),
            ("sandbox-c", "kept", "expired, but younger than 6d18h"),  # age unknown: kept
        ],
    )


def test_an_unexpected_error_fails_one_sandbox_and_the_reap_goes_on(monkeypatch):
    backend = MemoryBackend()
    backend.add("sandbox-a", state("sandbox-a"))
    backend.add("sandbox-b", state("sandbox-b"))
    real = sandbox.destroy_one

    def flaky(b, stack, *, act, scheme):
        if stack == "sandbox-a":
            raise KeyError("x")
        return real(b, stack, act=act, scheme=scheme)

    monkeypatch.setattr(sandbox, "destroy_one", flaky)
    outcomes = [(o.stack, o.result, o.detail) for o in sandbox.reap(backend, NOW, act=True, scheme=SCHEME)]
    assert outcomes == [
        ("sandbox-a", "failed", "unexpected error: KeyError: 'x'"),
        ("sandbox-b", "destroyed", "10 resources deleted, stack removed"),
    ]


# -- what the reaper reads: owner, lifetime and state of each sandbox ------------------------------


def test_a_missing_sandbox_is_absent_by_default_and_a_failure_when_it_must_exist():
    backend = MemoryBackend()
    assert sandbox.destroy_one(backend, "sandbox-olt", act=True, scheme=SCHEME) == sandbox.Outcome(
        "sandbox-olt", "absent", "no such sandbox (already removed?)"
    )
    assert sandbox.destroy_one(
        backend, "sandbox-olt", act=True, scheme=SCHEME, missing_ok=False
    ) == sandbox.Outcome(
        "sandbox-olt",
        "failed",
        "no such sandbox; fix: check the name with `sandbox list`, or pass --missing-ok "
        "when it may be gone already",
    )
    assert backend.calls == []


def test_every_outcome_names_its_sandbox():
    backend = MemoryBackend()
    backend.add(STACK, DEMO)
    backend.add("sandbox-locked", [replace(r, protect=True) for r in state("sandbox-locked")])
    backend.add("sandbox-broken", state("sandbox-broken"))
    backend.failures[("sandbox-broken", "destroy_targets")] = "boom"
    assert [(o.stack, o.result) for o in sandbox.reap(backend, NOW, act=False, scheme=SCHEME)] == [
        ("sandbox-broken", "failed"),
        ("sandbox-demo", "would-destroy"),
        ("sandbox-locked", "refused"),
    ]


def test_reap_applies_the_owner_and_age_filters():
    backend = MemoryBackend()
    backend.add(STACK, DEMO)
    backend.add("sandbox-bob", state("sandbox-bob"))
    # sandbox-bob's owner from its root output; everything else of it as sandbox-demo's.
    root = find(backend.stacks_["sandbox-bob"].resources, "pulumi:pulumi:Stack")
    box = {**root.outputs["sandbox"], "owner": "bob@example.com"}
    backend.stacks_["sandbox-bob"].resources[0] = replace(root, outputs={**root.outputs, "sandbox": box})
    by_owner = sandbox.reap(backend, NOW, act=False, scheme=SCHEME, owner="bob@example.com")
    assert [(o.stack, o.result) for o in by_owner] == [("sandbox-bob", "would-destroy")]
    young = sandbox.reap(backend, NOW, act=False, scheme=SCHEME, older_than=timedelta(days=7))
    assert [(o.stack, o.result) for o in young] == [("sandbox-bob", "kept"), ("sandbox-demo", "kept")]


def test_a_sandbox_that_is_busy_or_not_expired_is_never_reaped():
    # Both hold resources: a busy one is mid-update, a live one is not expired; neither is
    # "empty", which would make it a candidate an hour after its last update.
    backend = MemoryBackend()
    backend.add("sandbox-busy", state("sandbox-busy"), updating=True)
    backend.add("sandbox-live", state("sandbox-live", expires=LATER))
    outcomes = sandbox.reap(backend, NOW, act=True, scheme=SCHEME)
    assert [(o.stack, o.result, o.detail) for o in outcomes] == [
        ("sandbox-busy", "kept", "an update is in progress"),
        ("sandbox-live", "kept", f"expires {LATER}"),
    ]
    assert backend.destroyed == [] and set(backend.stacks_) == {"sandbox-busy", "sandbox-live"}


class Unreadable(MemoryBackend):
    """A backend that lists a stack it cannot read, with or without a resource count."""

    def stacks(self):
        from dataops.sandbox_backend import StackInfo

        return [
            *super().stacks(),
            StackInfo("sandbox-x", None),
            StackInfo("sandbox-y", 3),
            StackInfo("dev", 9),
        ]

    def state(self, stack):
        if stack in ("sandbox-x", "sandbox-y"):
            raise BackendError(f"stack {stack}: unreadable")
        return super().state(stack)


def test_list_reads_each_sandbox_and_skips_other_stacks():
    backend = Unreadable()
    backend.add(STACK, DEMO, updated=NOW)
    backend.add("sandbox-empty", [find(DEMO, "pulumi:pulumi:Stack")], updated=None)
    backend.add("sandbox-busy", state("sandbox-busy"), updating=True)
    assert sandbox.sandboxes(backend) == [
        sandbox.Sandbox("sandbox-busy", "alice@example.com", "2026-11-28T18:00:00Z", EXPIRED, 10, "updating",
                        updated_at=datetime(2026, 11, 1, tzinfo=UTC)),
        sandbox.Sandbox(STACK, "alice@example.com", "2026-11-28T18:00:00Z", EXPIRED, 10, "ok", updated_at=NOW),
        sandbox.Sandbox("sandbox-empty", "alice@example.com", "2026-11-28T18:00:00Z", EXPIRED, 0, "empty"),
        sandbox.Sandbox("sandbox-x", None, None, None, 0, "unreadable: stack sandbox-x: unreadable"),
        sandbox.Sandbox("sandbox-y", None, None, None, 3, "unreadable: stack sandbox-y: unreadable"),
    ]  # fmt: skip


def test_owner_and_lifetime_come_from_the_root_output_then_from_tags():
    root, bucket = find(DEMO, "pulumi:pulumi:Stack"), find(DEMO, sandbox.BUCKET)
    recorded = {"owner": "alice@example.com", "created_at": "2026-11-28T18:00:00Z", "expires_at": EXPIRED}
    assert sandbox._recorded(DEMO) == recorded
    # The output wins over the tags; a `sandbox` output on anything but the root is not read.
    tagged_bob = with_tags(bucket, owner="bob@example.com")
    assert sandbox._recorded([tagged_bob, root]) == recorded
    not_root = replace(find(DEMO, "pulumi:providers:aws"), outputs={"sandbox": {"owner": "eve"}})
    assert sandbox._recorded([not_root, tagged_bob])["owner"] == "bob@example.com"
    # An `up` that failed half-way: no output yet, or not a mapping; the first resource tagged
    # with an expiry tells.
    for partial in (replace(root, outputs={}), replace(root, outputs={"sandbox": "x"})):
        assert sandbox._recorded([partial, find(DEMO, "kubernetes:core/v1:Service"), bucket]) == recorded
    no_expiry = replace(bucket, inputs={"tags": {"owner": "eve", "expires-at": ""}})
    malformed = replace(bucket, inputs={"tags": "expires-at=soon"})
    assert sandbox._recorded([no_expiry, malformed, tagged_bob])["owner"] == "bob@example.com"
    assert sandbox._recorded([no_expiry]) == {"owner": None, "created_at": None, "expires_at": None}


@pytest.mark.parametrize(
    ("delta", "shown"),
    [
        (None, "unknown"),
        (timedelta(minutes=59), "0h"),
        (timedelta(hours=23, minutes=59), "23h"),
        (timedelta(hours=24), "1d0h"),
        (timedelta(hours=49, minutes=59), "2d1h"),
    ],
)
def test_durations_in_reasons(delta, shown):
    assert sandbox._duration(delta) == shown
