"""`python -m dataops sandbox create|list|reap|destroy`: throw-away environments, and a teardown
an ops team can run unattended.

A sandbox is the stack `sandbox-<name>`, made from `sandboxes/template.yaml`. Before anything is
destroyed, `check_destroyable` must find that the stack is a sandbox, that nothing in it is
protected, and that every resource the destroy would delete belongs to this sandbox alone: its
namespace on the host cluster and the objects in it, and its own role, key and scratch bucket.
Those must carry the sandbox's tags *and* the physical names (and ARNs) `create` gives them
(`Scheme`): tags are only what the state says, so a resource tagged as the sandbox's but named
like the lake's is refused all the same. A refusal names each offending resource and why, and
leaves the whole sandbox as it is; the reaper goes on with the next sandbox, which it checks on
its own. `reap` is a dry run unless `--yes`, continues past a sandbox that fails, and can be run
again at any time. `destroy` of a sandbox that does not exist fails unless `missing_ok`.
"""

# size: the destroy guard (`check_destroyable`) must see exactly the names and tags `render`
# and `create` give a sandbox (`Scheme`, `Names`); kept in one module so the two cannot drift.

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from components.config import SandboxConfig, parse_time
from dataops.plan_types import PlanError
from dataops.sandbox_backend import Backend, BackendError, StateResource
from dataops.stack_files import parse_yaml

PREFIX = "sandbox-"
NAME_RE = re.compile(r"^[a-z]([a-z0-9-]*[a-z0-9])?$")
MAX_NAME = 16  # stack names are at most 24 characters (they become part of bucket names)
EMPTY_GRACE = timedelta(hours=1)
TTL_RE = re.compile(r"^(\d+)([hdw])$")
TTL_HOURS = {"h": 1, "d": 24, "w": 168}
# Far beyond any sandbox's life, and far below where timedelta and datetime arithmetic overflow.
MAX_DURATION_HOURS = 10 * 365 * 24
PROJECT_NS = "dataops-platform"
TEMPLATE = Path("sandboxes") / "template.yaml"

# What a sandbox is made of (see tests/dataops/test_sandbox.py, which checks the sandbox plan
# against it). Anything else in a sandbox's state stops its destruction.
# Only the kinds a sandbox makes, and only inside its namespace: a cluster-scoped kind, or an
# object an `up` took over by name, is never the sandbox's to delete.
NAMESPACED_KINDS = {
    "kubernetes:apps/v1:Deployment",
    "kubernetes:core/v1:Secret",
    "kubernetes:core/v1:Service",
    "kubernetes:core/v1:ServiceAccount",
    "kubernetes:core/v1:LimitRange",
    "kubernetes:core/v1:ResourceQuota",
    "kubernetes:networking.k8s.io/v1:NetworkPolicy",
}
BUCKET = "aws:s3/bucket:Bucket"
ROLE = "aws:iam/role:Role"
KEY = "aws:kms/key:Key"
OWN_BY_TAGS = {BUCKET, ROLE, KEY}
BUCKET_SETTINGS = "aws:s3/"
HARMLESS = ("pulumi:providers:", "random:index/")


def stack_name(name: str) -> str:
    return name if name.startswith(PREFIX) else PREFIX + name


def check_name(name: str) -> str:
    """The stack name for `name`; PlanError when it is not usable as a stack and DNS label."""
    short = name.removeprefix(PREFIX)
    if not NAME_RE.match(short) or len(short) > MAX_NAME:
        raise PlanError(
            [
                f"sandbox name {name!r}: use 1 to {MAX_NAME} lowercase letters, digits and hyphens, "
                "starting with a letter and not ending with a hyphen (it names a stack, a namespace "
                "and buckets)"
            ]
        )
    return PREFIX + short


def parse_ttl(text: str, max_hours: int | None = None, flag: str = "--ttl") -> timedelta:
    match = TTL_RE.match(text.strip())
    count = match.group(1).lstrip("0") if match else ""
    if not count:
        raise PlanError(
            [f"{flag} {text!r}: not a duration; fix: write a whole number and h, d or w, e.g. 8h or 3d"]
        )
    # The digits are counted before int() reads them: it refuses more than 4300 of them.
    if (
        len(count) > len(str(MAX_DURATION_HOURS))
        or (hours := int(count) * TTL_HOURS[match.group(2)]) > MAX_DURATION_HOURS
    ):
        raise PlanError(
            [
                f"{flag} {text}: longer than ten years ({MAX_DURATION_HOURS} hours); "
                "fix: use a shorter duration, e.g. 30d"
            ]
        )
    if max_hours is not None and hours > max_hours:
        raise PlanError(
            [
                f"{flag} {text}: {hours} hours is longer than the template's maxTtlHours ({max_hours}); "
                "fix: use a shorter lifetime"
            ]
        )
    return timedelta(hours=hours)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# -- create -------------------------------------------------------------------------------------


def load_template(root: Path) -> dict[str, Any]:
    path = root / TEMPLATE
    try:
        doc = parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PlanError([f"{TEMPLATE}: cannot read the sandbox template ({exc})"]) from None
    config = (doc or {}).get("config")
    if not isinstance(config, dict):
        raise PlanError([f"{TEMPLATE}: no `config:` mapping; fix: restore the template"])
    return config


@dataclass
class Rendered:
    stack: str
    document: dict[str, Any]
    """The stack file this sandbox would have (`{"config": {...}}`)."""
    config: dict[str, str]
    """The same config as the Pulumi CLI stores it (objects as JSON text)."""
    expires_at: str
    name_prefix: str
    region: str


def render(root: Path, name: str, owner: str, ttl: str | None, now: datetime) -> Rendered:
    """The new sandbox's config from the template, checked by the same loading and validation
    as `pulumi up` and the offline plan use; PlanError lists every problem."""
    from dataops import stack_files
    from dataops.plan import load_config

    stack = check_name(name)
    if not owner.strip():
        raise PlanError(
            ["--owner: required; fix: name the person or team responsible, e.g. --owner alice@example.com"]
        )
    config = load_template(root)
    box = dict(config.get(f"{PROJECT_NS}:sandbox") or {})
    defaults = SandboxConfig.model_fields  # the template may leave them to the model
    max_hours = int(box.get("maxTtlHours", defaults["max_ttl_hours"].default))
    default_hours = int(box.get("defaultTtlHours", defaults["default_ttl_hours"].default))
    lifetime = parse_ttl(ttl, max_hours) if ttl else timedelta(hours=default_hours)
    box |= {"createdAt": iso(now), "expiresAt": iso(now + lifetime)}
    document = {"config": {**config, f"{PROJECT_NS}:owner": owner.strip(), f"{PROJECT_NS}:sandbox": box}}
    with tempfile.TemporaryDirectory(prefix="dataops-sandbox-") as tmp:
        path = Path(tmp) / f"Pulumi.{stack}.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        try:
            cfg = load_config(stack, root, path)[1]
        except PlanError as exc:
            raise PlanError(
                [line.replace(path.name, f"{TEMPLATE} (as {stack})", 1) for line in exc.lines]
            ) from None
    flat = {k: stack_files.to_cli_string(v) for k, v in document["config"].items()}
    return Rendered(stack, document, flat, box["expiresAt"], cfg.name_prefix, cfg.region)


def create(backend: Backend, sandbox: Rendered, *, preview: bool) -> str:
    """Create the stack from a rendered template and deploy it (or only preview it). `render`
    has checked everything before this touches the backend, so bad input creates nothing."""
    try:
        if any(s.name == sandbox.stack for s in backend.stacks()):
            raise PlanError(
                [f"sandbox {sandbox.stack} already exists; fix: choose another name, or destroy it first"]
            )
    except BackendError as exc:
        raise PlanError([str(exc)]) from None
    try:
        backend.create(sandbox.stack, sandbox.config)  # removes the stack again if configuring fails
    except BackendError as exc:
        raise PlanError([str(exc)]) from None
    try:
        summary = backend.up(sandbox.stack, preview_only=preview)
    except BackendError as exc:
        if preview:
            _forget(backend, sandbox.stack)
        # A failed `up` keeps its stack: what it did create carries the expiry tags, so the
        # reaper (or `destroy`) removes it.
        raise PlanError([str(exc)]) from None
    if preview:
        _forget(backend, sandbox.stack)  # a preview leaves nothing behind
    verb = "previewed" if preview else "created"
    return f"{sandbox.stack}: {verb} ({summary}); expires {sandbox.expires_at}"


def _forget(backend: Backend, stack: str) -> None:
    """Remove a stack that holds nothing (best effort: the reaper removes empty sandboxes too)."""
    try:
        if any(info.name == stack for info in backend.stacks()) and not _managed(backend.state(stack)):
            backend.remove(stack)
    except BackendError:
        pass


# -- list ---------------------------------------------------------------------------------------


@dataclass
class Sandbox:
    stack: str
    owner: str | None
    created_at: str | None
    expires_at: str | None
    resources: int
    state: str
    """ok, empty, updating, or unreadable: <why>."""
    updated_at: datetime | None = None
    """When the backend last finished an update of the stack."""

    def expired(self, now: datetime) -> bool:
        expires = parse_time(self.expires_at)
        return expires is not None and expires <= now

    def age(self, now: datetime) -> timedelta | None:
        created = parse_time(self.created_at)
        return now - created if created else None


def _recorded(resources: list[StateResource]) -> dict[str, Any]:
    """Owner and lifetime from the `sandbox` stack output, else from any resource's tags (an
    `up` that failed half-way has resources but no outputs yet)."""
    for r in resources:
        if r.type == "pulumi:pulumi:Stack" and isinstance(r.outputs.get("sandbox"), dict):
            out = r.outputs["sandbox"]
            return {
                "owner": out.get("owner"),
                "created_at": out.get("createdAt"),
                "expires_at": out.get("expiresAt"),
            }
    for r in resources:
        tags = r.inputs.get("tags")
        if isinstance(tags, dict) and tags.get("expires-at"):
            return {
                "owner": tags.get("owner"),
                "created_at": tags.get("created-at"),
                "expires_at": tags.get("expires-at"),
            }
    return {"owner": None, "created_at": None, "expires_at": None}


def sandboxes(backend: Backend) -> list[Sandbox]:
    out = []
    for info in sorted(backend.stacks(), key=lambda s: s.name):
        if not info.name.startswith(PREFIX):
            continue
        try:
            resources = backend.state(info.name)
        except BackendError as exc:
            out.append(Sandbox(info.name, None, None, None, info.resource_count or 0, f"unreadable: {exc}"))
            continue
        managed = _managed(resources)
        state = "updating" if info.update_in_progress else ("ok" if managed else "empty")
        out.append(
            Sandbox(
                info.name,
                **_recorded(resources),
                resources=len(managed),
                state=state,
                updated_at=info.last_update,
            )
        )
    return out


def render_list(items: list[Sandbox], now: datetime, as_json: bool) -> str:
    if as_json:
        return json.dumps(
            [
                asdict(s)
                | {
                    "updated_at": iso(s.updated_at) if s.updated_at else None,
                    "expired": s.expired(now),
                    "ageHours": _hours(s.age(now)),
                }
                for s in items
            ],
            indent=2,
        )
    if not items:
        return "no sandboxes"
    rows = [("STACK", "OWNER", "AGE", "EXPIRES", "RESOURCES", "STATE")]
    for s in items:
        expires = s.expires_at or "unknown"
        rows.append(
            (
                s.stack,
                s.owner or "unknown",
                _duration(s.age(now)),
                f"{expires} (expired)" if s.expired(now) else expires,
                str(s.resources),
                s.state,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)


def _hours(delta: timedelta | None) -> float | None:
    return round(delta.total_seconds() / 3600, 1) if delta is not None else None


def _duration(delta: timedelta | None) -> str:
    if delta is None:
        return "unknown"
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24}d{hours % 24}h" if hours >= 24 else f"{hours}h"


# -- safety -------------------------------------------------------------------------------------

# The names `create` gives a sandbox's AWS resources, from `<namePrefix>-sandbox-<name>`
# (components/data_access.py: the role `<it>-data-access`, the key described `<it> workspace`, the
# bucket `<it>-workspace-<account>-<region>`). Written out here rather than imported, because that
# module loads the Pulumi SDK; test_the_sandbox_plan_passes_its_own_destroy_check fails if the two
# drift apart.
ROLE_SUFFIX = "-data-access"
KEY_DESCRIPTION = "{physical} workspace"
BUCKET_NAME = r"{physical}-workspace-\d{{12}}-{region}"
PARTITION = r"arn:aws[a-z-]*"


@dataclass(frozen=True)
class Scheme:
    """How `create` names every sandbox's resources: the template's name prefix and region (with
    Pulumi.yaml's defaults), the same for all sandboxes. Read from the template the reaper runs
    with, so a sandbox made before the template changed its prefix or region is refused, not
    guessed at."""

    name_prefix: str
    region: str

    def names(self, stack: str) -> Names:
        return Names(stack, f"{self.name_prefix}-{stack}", self.region)


@dataclass(frozen=True)
class Names:
    """The physical names one sandbox's resources may have. KMS key ids are generated, so a key is
    judged by the description `create` gives it (and an ARN in the sandbox's region); deleting a
    key only schedules its deletion, which can be cancelled during its waiting period (7 days for
    a sandbox's own key)."""

    stack: str
    physical: str
    """`<namePrefix>-sandbox-<name>`: every AWS name of the sandbox starts with it."""
    region: str

    @property
    def role(self) -> str:
        return self.physical + ROLE_SUFFIX

    @property
    def key_description(self) -> str:
        return KEY_DESCRIPTION.format(physical=self.physical)

    @property
    def bucket_shape(self) -> str:
        return f"{self.physical}-workspace-<account>-{self.region}"

    def bucket_ok(self, name: str) -> bool:
        pattern = BUCKET_NAME.format(physical=re.escape(self.physical), region=re.escape(self.region))
        return re.fullmatch(pattern, name) is not None

    def bucket_arn_ok(self, arn: str) -> bool:
        match = re.fullmatch(rf"{PARTITION}:s3:::(.+)", arn)
        return match is not None and self.bucket_ok(match.group(1))

    def role_arn_ok(self, arn: str) -> bool:
        # No path: a role of the same name under another path is another role.
        return re.fullmatch(rf"{PARTITION}:iam::\d{{12}}:role/{re.escape(self.role)}", arn) is not None

    def key_arn_ok(self, arn: str) -> bool:
        return (
            re.fullmatch(rf"{PARTITION}:kms:{re.escape(self.region)}:\d{{12}}:key/[0-9a-f-]+", arn)
            is not None
        )


def naming_scheme(root: Path) -> Scheme:
    """The naming scheme of sandboxes, from the template as `create` renders it (the reaper has no
    stack files); PlanError if the template is broken, because then nothing can be judged."""
    # Any valid name does: neither the prefix nor the region depends on it.
    rendered = render(root, "naming", "naming", None, datetime.now(UTC))
    return Scheme(rendered.name_prefix, rendered.region)


def check_destroyable(
    stack: str, resources: list[StateResource], targets: list[str], scheme: Scheme
) -> list[str]:
    """Why `stack` must not be destroyed (empty: it may be). Every managed resource of the state
    (each entry, duplicates of one URN too), and every URN a destroy preview would delete
    (`targets`), must be this sandbox's own, by tags and by `scheme`'s names; nothing may be
    protected or left half-done."""
    if not stack.startswith(PREFIX) or not NAME_RE.match(stack):
        return [f"{stack} is not a sandbox stack (sandbox-<name>)"]
    names = scheme.names(stack)
    reasons = []
    managed = _managed(resources)
    marked = [r for r in managed if _own_tags(r, stack)]
    root = next((r for r in resources if r.type == "pulumi:pulumi:Stack"), None)
    if managed and not marked and not (root and root.outputs.get("environment") == "sandbox"):
        reasons.append(
            f"{stack} has resources but none is marked as this sandbox's (environment=sandbox, stack={stack})"
        )
    reasons += [f"{r.urn} is protected" for r in resources if r.protect]
    reasons += [
        f"{r.urn}: an interrupted update left it {r.pending}; fix: `pulumi refresh --stack {stack}`"
        for r in resources
        if r.pending
    ]
    # What a bucket setting, role policy or pod identity may be attached to: a bucket or role of
    # this state that is the sandbox's by tags and by name.
    own = [r for r in managed if r.type in OWN_BY_TAGS and _not_own(r, names) is None]
    buckets = {r.inputs["bucket"] for r in own if r.type == BUCKET}
    roles = {r.inputs["name"] for r in own if r.type == ROLE}
    for r in managed:
        if (why := _foreign(r, names, buckets, roles)) is not None:
            reasons.append(f"{r.urn}: {why}")
    by_urn = {r.urn: r for r in resources}
    for urn in dict.fromkeys(targets):
        r = by_urn.get(urn)
        if r is None:
            reasons.append(f"{urn} would be deleted but is not in {stack}'s state")
        elif r.external:
            reasons.append(f"{urn}: a read resource (it belongs to another stack) would be deleted")
    return reasons


def _tags(r: StateResource) -> dict[str, Any]:
    tags = r.inputs.get("tags")
    return tags if isinstance(tags, dict) else {}


def _own_tags(r: StateResource, stack: str) -> bool:
    return _tags(r).get("stack") == stack and _tags(r).get("environment") == "sandbox"


def _not_own(r: StateResource, names: Names) -> str | None:
    """Why a bucket, role or key is not the sandbox's: its tags, its names or its ARN (None: it
    is). Both must hold: tags say what the state claims, the name is what would be deleted."""
    tags = _tags(r)
    why = (
        []
        if _own_tags(r, names.stack)
        else [
            f"tagged stack={tags.get('stack')!r}, environment={tags.get('environment')!r}, "
            f"not stack={names.stack}, environment=sandbox"
        ]
    )
    if r.type == BUCKET:
        misnamed = _misnamed(r, "bucket", names.bucket_ok, names.bucket_shape, names.bucket_arn_ok)
    elif r.type == ROLE:
        misnamed = _misnamed(r, "name", lambda n: n == names.role, names.role, names.role_arn_ok)
    else:
        misnamed = _misnamed(
            r, "description", lambda d: d == names.key_description, names.key_description, names.key_arn_ok
        )
    why += [misnamed] if misnamed else []
    return "; ".join(why) or None


def _misnamed(
    r: StateResource, key: str, name_ok: Callable[[str], bool], expected: str, arn_ok: Callable[[str], bool]
) -> str | None:
    """Why the name the state records for `r` (as declared, and as created when recorded) or its
    ARN is not the sandbox's, or None."""
    recorded = [r.inputs.get(key), *([r.outputs[key]] if key in r.outputs else [])]
    for value in recorded:
        if not (isinstance(value, str) and name_ok(value)):
            return f"{key} {_shown(value)} is not the sandbox's ({expected})"
    arn = r.outputs.get("arn")
    if arn is not None and not (isinstance(arn, str) and arn_ok(arn)):
        return f"ARN {_shown(arn)} is not the sandbox's"
    return None


def _shown(value: Any) -> str:
    # A secret's ciphertext, or a structure, is neither a name nor worth printing.
    return repr(value) if isinstance(value, str) else "(none)" if value is None else "(not text)"


def _foreign(r: StateResource, names: Names, buckets: set[str], roles: set[str]) -> str | None:
    """Why deleting `r` would reach outside the sandbox, or None."""
    stack = names.stack
    if r.external:
        return "a read resource (it belongs to another stack) would be deleted"
    if r.type.startswith(HARMLESS) or not r.custom:
        return None
    meta = r.inputs.get("metadata") if isinstance(r.inputs.get("metadata"), dict) else {}
    if r.type == "kubernetes:core/v1:Namespace":
        name = meta.get("name")
        return None if name == stack else f"namespace {name!r} is not the sandbox's ({stack})"
    if r.type in NAMESPACED_KINDS:
        namespace = meta.get("namespace")
        return None if namespace == stack else f"in namespace {namespace!r}, not the sandbox's ({stack})"
    if r.type in OWN_BY_TAGS:
        return _not_own(r, names)
    if r.type.startswith(BUCKET_SETTINGS):
        bucket = r.inputs.get("bucket")
        return (
            None
            if isinstance(bucket, str) and bucket in buckets
            else f"bucket {_shown(bucket)} is not the sandbox's"
        )
    if r.type == "aws:iam/rolePolicy:RolePolicy":
        role = r.inputs.get("role")
        return (
            None if isinstance(role, str) and role in roles else f"role {_shown(role)} is not the sandbox's"
        )
    if r.type == "aws:eks/podIdentityAssociation:PodIdentityAssociation":
        arn, namespace = r.inputs.get("roleArn"), r.inputs.get("namespace")
        if namespace == stack and isinstance(arn, str) and names.role_arn_ok(arn) and names.role in roles:
            return None
        return f"associates namespace {namespace!r} with role {_shown(arn)}, not {stack} with {names.role}"
    return f"a {r.type} is not part of any sandbox"


# -- destroy and reap ---------------------------------------------------------------------------


@dataclass
class Outcome:
    stack: str
    result: str
    """destroyed, would-destroy, refused, failed, kept, absent."""
    detail: str


def _managed(resources: list[StateResource]) -> list[StateResource]:
    """What a destroy deletes in the cloud: not the stack itself, its providers or read resources."""
    return [
        r
        for r in resources
        if r.type != "pulumi:pulumi:Stack" and not r.type.startswith("pulumi:providers:") and not r.external
    ]


def destroy_one(
    backend: Backend, stack: str, *, act: bool, scheme: Scheme, missing_ok: bool = True
) -> Outcome:
    """Check, then (with `act`) destroy exactly the checked resources and remove the stack once
    nothing managed is left. Safe to repeat: a sandbox whose resources are gone is only removed.
    A sandbox that does not exist is `absent` with `missing_ok`, else a failure: a mistyped name
    must not look like a successful teardown."""
    try:
        if not any(info.name == stack for info in backend.stacks()):
            if missing_ok:
                return Outcome(stack, "absent", "no such sandbox (already removed?)")
            return Outcome(
                stack,
                "failed",
                "no such sandbox; fix: check the name with `sandbox list`, or pass --missing-ok "
                "when it may be gone already",
            )
        resources = backend.state(stack)
        targets = backend.destroy_targets(stack)
        reasons = check_destroyable(stack, resources, targets, scheme)
    except BackendError as exc:
        return Outcome(stack, "failed", str(exc))
    if reasons:
        return Outcome(stack, "refused", "; ".join(reasons))
    count = len(_managed(resources))
    if not act:
        return Outcome(stack, "would-destroy", f"{count} resources; run again with --yes to destroy")
    try:
        if count:
            # Everything but the stack itself and read resources: the engine refuses a targeted
            # destroy that would leave a target's children (a component's provider) behind.
            doomed = [r.urn for r in resources if r.type != "pulumi:pulumi:Stack" and not r.external]
            backend.destroy(stack, list(dict.fromkeys(doomed)))
        left = _managed(backend.state(stack))
        if left:
            return Outcome(
                stack,
                "failed",
                f"{len(left)} resources remain after the destroy (added meanwhile?): "
                f"{', '.join(r.urn for r in left[:3])}; the stack was kept",
            )
        backend.remove(stack)
    except BackendError as exc:
        return Outcome(stack, "failed", str(exc))
    return Outcome(stack, "destroyed", f"{count} resources deleted, stack removed")


def select(
    items: list[Sandbox], now: datetime, *, older_than: timedelta | None = None, owner: str | None = None
) -> tuple[list[Sandbox], list[Outcome]]:
    """The expired sandboxes to reap (narrowed by the filters), and why each other one is kept."""
    chosen, kept = [], []
    for s in items:
        if owner is not None and s.owner != owner:
            continue
        age = s.age(now)
        if s.state == "updating":
            kept.append(Outcome(s.stack, "kept", "an update is in progress"))
        elif s.state.startswith("unreadable"):
            kept.append(Outcome(s.stack, "failed", s.state))
        elif s.state == "empty":
            # Nothing to delete (a create that failed, a destroy that finished): removed, but only
            # an hour after its last update, so a `create` that is just starting is left alone.
            updated = s.updated_at
            if updated is not None and updated.tzinfo is None:
                updated = updated.replace(tzinfo=UTC)
            if updated is not None and now - updated >= EMPTY_GRACE:
                chosen.append(s)
            else:
                kept.append(
                    Outcome(s.stack, "kept", "holds nothing, updated less than an hour ago (or never)")
                )
        elif s.expires_at is None:
            kept.append(Outcome(s.stack, "kept", "no expiry recorded; destroy it by name if it should go"))
        elif not s.expired(now):
            kept.append(Outcome(s.stack, "kept", f"expires {s.expires_at}"))
        elif older_than is not None and (age is None or age < older_than):
            kept.append(Outcome(s.stack, "kept", f"expired, but younger than {_duration(older_than)}"))
        else:
            chosen.append(s)
    return chosen, kept


def reap(
    backend: Backend,
    now: datetime,
    *,
    act: bool,
    scheme: Scheme,
    older_than: timedelta | None = None,
    owner: str | None = None,
) -> list[Outcome]:
    """Destroy (with `act`) the sandboxes `select` chooses. A refused sandbox is left whole and
    the run goes on: every sandbox is checked in full on its own, so stopping the run would only
    keep the other expired sandboxes (and their cost) alive, and protect nothing."""
    try:
        items = sandboxes(backend)
    except BackendError as exc:
        raise PlanError([str(exc)]) from None
    chosen, kept = select(items, now, older_than=older_than, owner=owner)
    return [*(_guarded(backend, s.stack, act, scheme) for s in chosen), *kept]


def _guarded(backend: Backend, stack: str, act: bool, scheme: Scheme) -> Outcome:
    """One sandbox's outcome; an unexpected error fails this sandbox, not the whole run."""
    try:
        return destroy_one(backend, stack, act=act, scheme=scheme)
    except Exception as exc:  # an unattended reaper continues with the next sandbox
        return Outcome(stack, "failed", f"unexpected error: {type(exc).__name__}: {exc}")


def render_outcomes(outcomes: list[Outcome], fmt: str, *, act: bool) -> str:
    if fmt == "json":
        return json.dumps([asdict(o) for o in outcomes], indent=2)
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.result] = counts.get(o.result, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no sandboxes"
    mode = "" if act else " (dry run: nothing was changed)"
    if fmt == "markdown":
        lines = [f"### Sandbox reaper{mode}", "", summary, ""]
        if outcomes:
            lines += ["| sandbox | result | detail |", "|---|---|---|"]
            lines += [f"| `{o.stack}` | {o.result} | {o.detail.replace('|', '/')} |" for o in outcomes]
        return "\n".join(lines)
    return "\n".join(
        [*(f"{o.stack}: {o.result}: {o.detail}" for o in outcomes), f"sandboxes: {summary}{mode}"]
    )
