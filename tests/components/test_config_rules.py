"""Each cross-field config rule (components/config/rules/), one row per branch: a setting that
breaks the rule gives its one-line error, and the nearest setting that keeps it (often the
half-wrong one: one of the rule's two conditions met) gives none.

The rows edit a shipped stack's raw config (or a sandbox as `sandbox create` renders it) and run
the config validation alone: no program run, no plan, so the whole table takes well under a
second. A row's good case is asserted to leave no line with the rule's message, so a rule whose
report is deleted, or whose condition is widened or narrowed, fails a named row.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any, NamedTuple

import pytest

from components.config import ConfigError, Source, validate
from dataops import sandbox, stack_files
from dataops.plan import ROOT
from tests.components.config_lines import assert_lines
from tests.conftest import SANDBOX_NOW

PROJECT = "dataops-platform"
DROP = object()  # an edit that removes the key
FULL_ADMIN = (
    "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_5c1e"
)


@cache
def _base(stack: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    """(decoded config without the namespace, secret keys) of a shipped stack, or of `sandbox`
    as `sandbox create demo` renders it (the project's shared values from Pulumi.yaml)."""
    files = stack_files.load(ROOT, "dev" if stack == "sandbox" else stack)
    raw = {k: v for k, v in files.raw.items()}
    if stack == "sandbox":
        shared = {k: v for k, v in raw.items() if files.source.origins.get(k) == "Pulumi.yaml"}
        rendered = sandbox.render(ROOT, "demo", "alice@example.com", "3d", SANDBOX_NOW)
        raw = shared | rendered.document["config"]
    decoded = {k: json.loads(v) if isinstance(v, str) and v[:1] in "{[" else v for k, v in raw.items()}
    return decoded, tuple(files.secret_keys)


def _set(config: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = config
    for part in parents:
        node = node.setdefault(part, {})
    if value is DROP:
        node.pop(last, None)
    else:
        node[last] = value


def problems(
    stack: str,
    edits: dict[str, Any],
    name: str | None = None,
    offline: bool = True,
    origins: dict[str, str] | None = None,
) -> list[str]:
    """The one-line problems of `stack` with `edits` (dotted keys of the namespace) applied;
    `offline` as the offline plan validates (a placeholder for a secret not set yet)."""
    decoded, secret_keys = _base(stack)
    config = copy.deepcopy(decoded)
    for path, value in edits.items():
        _set(config, f"{PROJECT}:{path}" if ":" not in path else path, value)
    raw = {
        k: json.dumps(v) if isinstance(v, dict | list) else str(v).lower() if isinstance(v, bool) else str(v)
        for k, v in config.items()
    }
    stack_name = name or ("sandbox-demo" if stack == "sandbox" else stack)
    try:
        validate(
            raw,
            project=PROJECT,
            stack=stack_name,
            source=Source(f"Pulumi.{stack_name}.yaml", origins or {}),
            offline=offline,
            secret_keys=(*secret_keys, f"{PROJECT}:oauthClientSecret"),
        )
    except ConfigError as exc:
        return [str(p) for p in exc.problems]
    return []


def reported(lines: list[str], key: str, message: str) -> list[str]:
    prefix = key if key.startswith("(") else f"{PROJECT}:{key}"
    return [line for line in lines if f": {prefix} = " in line and message in line]


@pytest.mark.parametrize("stack", ["dev", "test", "prod", "local", "sandbox"])
def test_the_bases_the_rows_edit_are_valid(stack):
    """Every row's good case starts here: a base with a problem would hide a row's failure."""
    assert problems(stack, {}) == []


def _tags(n: int) -> dict[str, str]:
    return {f"t{i}": "v" for i in range(n)}


ORG_PROD = "example-org/dataops-platform/prod"
HOURS_72 = "2026-12-01T18:00:00Z"  # SANDBOX_NOW + 72 h
HTTPS = {
    "clientId": "hub",
    "authorizeUrl": "https://idp.example.com/authorize",
    "tokenUrl": "https://idp.example.com/token",
    "userdataUrl": "https://idp.example.com/userinfo",
}
PROFILE = {"name": "small", "cpuGuarantee": 1, "cpuLimit": 2, "memGuarantee": "4G", "memLimit": "8G"}


GPU_NODES = {"instanceTypes": ["g5.xlarge"], "minSize": 0, "desiredSize": 0, "maxSize": 2}


class Row(NamedTuple):
    stack: str  # the base: a shipped stack, or "sandbox"
    bad: dict[str, Any]  # edits that break the rule
    good: dict[str, Any]  # the nearest edits that keep it ({} is the base itself)
    key: str  # the key the error line names
    message: str  # a fragment of the rule's message
    bad_name: str | None = None  # the stack name, where the name is what is tested
    good_name: str | None = None


RULES: dict[str, Row] = {
    # -- environment and stack name (components/config/rules/__init__.py) -------------------
    "a sandbox environment needs a sandbox- stack name": Row(
        "sandbox", {}, {}, "environment", "is not named sandbox-<name>", "box", "sandbox-box"
    ),
    "a sandbox- stack name needs the sandbox environment": Row(
        "dev", {}, {}, "environment", "is named like a sandbox", "sandbox-dev", "dev-sandbox"
    ),
    "prod protects its data": Row(
        "prod", {"deletionProtection": False}, {}, "deletionProtection", "prod must protect"
    ),
    "a sandbox never owns the lake": Row(
        "sandbox", {"lake": {"role": "owner"}}, {}, "lake.role", "never owns the lake"
    ),
    "only a consumer names an owner stack": Row(
        "prod", {"lake.ownerStack": "test"}, {}, "lake.ownerStack", "only consumers name"
    ),
    "zone names must be lowercase": Row(
        "prod", {"lake.zones.Raw2": {}}, {"lake.zones.raw2": {}}, "lake.zones.Raw2", "become bucket names"
    ),
    "zone names have at most 16 characters": Row(
        "prod",
        {"lake.zones.abcdefghijklmnopq": {}},
        {"lake.zones.abcdefghijklmnop": {}},
        "lake.zones.abcdefghijklmnopq",
        "become bucket names",
    ),
    "an owner lake has a zone": Row(
        "local",
        {"lake.zones": {}},
        {"lake.zones": {"raw": {}}, "access.read": ["raw"], "access.write": ["raw"]},
        "lake.zones",
        "at least one zone",
    ),
    "a consumer names its owner": Row(
        "dev", {"lake.ownerStack": DROP}, {}, "lake.ownerStack", "must name the stack"
    ),
    "a consumer does not consume its own lake": Row(
        "dev",
        {"lake.ownerStack": "example-org/dataops-platform/dev"},
        {"lake.ownerStack": ORG_PROD},
        "lake.ownerStack",
        "cannot consume its own lake",
    ),
    "a consumer does not configure the owner's zones": Row(
        "dev", {"lake.zones": {"raw": {}}}, {}, "lake.zones", "only the owner stack configures"
    ),
    "an owner's workload reads its own zones": Row(
        "prod",
        {"access.read": ["raw", "gold"]},
        {"access.read": ["raw"]},
        "access.read",
        "not a zone of the lake",
    ),
    "a consumer never writes into the lake": Row(
        "dev", {"access.write": ["curated"]}, {"access.read": ["curated"]}, "access.write", "never write into"
    ),
    "a trusted principal is a role": Row(
        "dev",
        {"access.trustedPrincipals": ["arn:aws:iam::111122223333:root"]},
        {"access.trustedPrincipals": ["arn:aws:iam::111122223333:role/analyst"]},
        "access.trustedPrincipals",
        "not an IAM role ARN",
    ),
    "only a sandbox force-destroys its workspace": Row(
        "dev", {"workspace.forceDestroy": True}, {}, "workspace.forceDestroy", "only sandbox scratch storage"
    ),
    "force-destroy contradicts deletion protection": Row(
        "sandbox",
        {"deletionProtection": True},
        {},
        "workspace.forceDestroy",
        "contradicts deletionProtection",
    ),
    "object lock needs deletion protection": Row(
        "prod", {"deletionProtection": False}, {}, "lake.objectLock", "would block its destroy"
    ),
    "transitions are in increasing order": Row(
        "prod",
        {
            "lake.zones.raw.transitions": [
                {"days": 30, "storageClass": "STANDARD_IA"},
                {"days": 30, "storageClass": "GLACIER_IR"},
            ]
        },
        {
            "lake.zones.raw.transitions": [
                {"days": 30, "storageClass": "STANDARD_IA"},
                {"days": 31, "storageClass": "GLACIER_IR"},
            ]
        },
        "lake.zones.raw.transitions[1].days",
        "increasing order of days",
    ),
    # the 30-day minimum is S3's for the infrequent-access classes only
    "infrequent access starts after 30 days": Row(
        "prod",
        {"lake.zones.raw.transitions": [{"days": 29, "storageClass": "ONEZONE_IA"}]},
        {"lake.zones.raw.transitions": [{"days": 29, "storageClass": "GLACIER_IR"}]},
        "lake.zones.raw.transitions[0].days",
        "only after 30 days",
    ),
    "a name prefix is a bucket name": Row(
        "dev",
        {"namePrefix": "Data_ops"},
        {"namePrefix": "data-ops2"},
        "namePrefix",
        "must be valid S3 bucket names",
    ),
    "a name prefix avoids S3's reserved prefixes": Row(
        "dev", {"namePrefix": "sthree-x"}, {"namePrefix": "three-x"}, "namePrefix", "S3 reserves"
    ),
    "a name prefix has no double hyphen": Row(
        "dev", {"namePrefix": "data--ops"}, {"namePrefix": "data-ops"}, "namePrefix", "S3 reserves"
    ),
    "a stack name is lowercase": Row(
        "dev", {}, {}, "(stack name)", "become part of bucket names", "Dev", "dev2"
    ),
    # 24 characters pass this rule (their buckets are then too long, a separate rule)
    "a stack name has at most 24 characters": Row(
        # a shorter prefix keeps the good name's bucket names within S3's 63 characters
        "dev",
        {},
        {"namePrefix": "dp"},
        "(stack name)",
        "become part of bucket names",
        "d" * 25,
        "d" * 24,
    ),
    # dev's longest bucket is prefix-stack-workspace-<account>-<region>: 63 characters with a
    # 22-character stack name
    "a bucket name has at most 63 characters": Row(
        "dev", {}, {}, "namePrefix", "S3 allows 63", bad_name="d" * 23, good_name="d" * 22
    ),
    "at most 39 user tags": Row(
        "dev", {"tags": _tags(40)}, {"tags": _tags(39)}, "tags", "AWS allows 50 tags"
    ),
    "a platform tag cannot be overridden": Row(
        "dev", {"tags": {"owner": "x"}}, {"tags": {"owners": "x"}}, "tags.owner", "set by the platform"
    ),
    "a sandbox expiry tag cannot be overridden": Row(
        "dev", {"tags": {"expires-at": "x"}}, {}, "tags.expires-at", "set by the platform"
    ),
    "aws: tags are reserved": Row(
        "dev",
        {"tags": {"aws:team": "x"}},
        {"tags": {"team-aws:": "x"}},
        "tags.aws:team",
        "reserved for AWS",
    ),
    "aws: tags are reserved in any case": Row(
        "dev", {"tags": {"AWS:team": "x"}}, {}, "tags.AWS:team", "reserved for AWS"
    ),
    "a tag key has at most 128 characters": Row(
        "dev", {"tags": {"k" * 129: "v"}}, {"tags": {"k" * 128: "v"}}, "tags." + "k" * 129, "keys of 128"
    ),
    "a tag value has at most 256 characters": Row(
        "dev", {"tags": {"k": "v" * 257}}, {"tags": {"k": "v" * 256}}, "tags.k", "values of 256"
    ),
    # -- sandbox (components/config/rules/sandbox.py) ------------------------------------------
    "only a sandbox has a sandbox section": Row(
        "dev", {"sandbox": {}}, {}, "sandbox", "only sandbox stacks have a sandbox section"
    ),
    "a sandbox has its section": Row("sandbox", {"sandbox": DROP}, {}, "sandbox", "records its host stack"),
    "nothing in a sandbox is protected": Row(
        "sandbox", {"deletionProtection": True}, {}, "deletionProtection", "nothing in a sandbox is protected"
    ),
    "a sandbox reads the curated zone only": Row(
        "sandbox", {"access.read": ["curated", "raw"]}, {}, "access.read", "curated zone only"
    ),
    "a sandbox uses its host's cluster": Row(
        "sandbox", {"cluster": {}}, {}, "cluster", "uses its host stack's cluster"
    ),
    "a sandbox has no teams": Row(
        "sandbox", {"teams": [{"name": "data-science"}]}, {}, "teams", "only its own namespace"
    ),
    "a sandbox runs no hub": Row(
        "sandbox", {"notebooks.enabled": True}, {}, "notebooks.enabled", "the hub belongs to the host stack"
    ),
    "a sandbox's scratch workspace is enabled": Row(
        "sandbox", {"workspace.enabled": False}, {}, "workspace.forceDestroy", "removable with the sandbox"
    ),
    "a sandbox's scratch workspace is force-destroyed": Row(
        "sandbox",
        {"workspace.forceDestroy": False},
        {},
        "workspace.forceDestroy",
        "removable with the sandbox",
    ),
    "a sandbox runs its host's image": Row(
        "sandbox", {"image": {}}, {}, "image", "runs its host stack's image"
    ),
    "a sandbox's cpu is a quantity": Row(
        "sandbox",
        {"sandbox.notebookCpu": "lots"},
        {"sandbox.notebookCpu": "500m"},
        "sandbox.notebookCpu",
        "not a Kubernetes CPU quantity",
    ),
    "a sandbox gets at least a quarter core": Row(
        "sandbox",
        {"sandbox.notebookCpu": "200m"},
        {"sandbox.notebookCpu": "250m"},
        "sandbox.notebookCpu",
        "0.25 to 4 cores",
    ),
    "a sandbox gets at most four cores": Row(
        "sandbox",
        {"sandbox.notebookCpu": "4100m"},
        {"sandbox.notebookCpu": "4"},
        "sandbox.notebookCpu",
        "0.25 to 4 cores",
    ),
    "a sandbox's memory is a quantity": Row(
        "sandbox",
        {"sandbox.notebookMemory": "lots"},
        {"sandbox.notebookMemory": "512Mi"},
        "sandbox.notebookMemory",
        "not a Kubernetes memory quantity",
    ),
    "a sandbox gets at least half a GiB": Row(
        "sandbox",
        {"sandbox.notebookMemory": "511Mi"},
        {"sandbox.notebookMemory": "512Mi"},
        "sandbox.notebookMemory",
        "0.5Gi to 16Gi",
    ),
    "a sandbox gets at most 16 GiB": Row(
        "sandbox",
        {"sandbox.notebookMemory": "17Gi"},
        {"sandbox.notebookMemory": "16Gi"},
        "sandbox.notebookMemory",
        "0.5Gi to 16Gi",
    ),
    "a sandbox host is not itself a sandbox": Row(
        "sandbox",
        {"sandbox.hostStack": "sandbox-dev"},
        {"sandbox.hostStack": "dev-sandbox"},
        "sandbox.hostStack",
        "not a stack that runs a cluster",
    ),
    "a qualified sandbox host is not itself a sandbox": Row(
        "sandbox",
        {"sandbox.hostStack": "example-org/dataops-platform/sandbox-dev"},
        {"sandbox.hostStack": "example-org/dataops-platform/dev"},
        "sandbox.hostStack",
        "not a stack that runs a cluster",
    ),
    "a sandbox host is a stack name": Row(
        "sandbox", {"sandbox.hostStack": "Dev"}, {}, "sandbox.hostStack", "not a stack that runs a cluster"
    ),
    "a sandbox never runs on prod": Row(
        "sandbox",
        {"sandbox.hostStack": ORG_PROD},
        {"sandbox.hostStack": "prod2"},
        "sandbox.hostStack",
        "never run on prod's cluster",
    ),
    "a sandbox records when it expires": Row(
        "sandbox", {"sandbox.expiresAt": DROP}, {}, "sandbox.expiresAt", "not a time with its UTC offset"
    ),
    "a sandbox records when it was made": Row(
        "sandbox",
        {"sandbox.createdAt": "2026-11-28T18:00:00"},
        {"sandbox.createdAt": "2026-11-28T19:00:00+01:00"},
        "sandbox.createdAt",
        "not a time with its UTC offset",
    ),
    "the default lifetime is within the longest": Row(
        "sandbox",
        {"sandbox.defaultTtlHours": 337},
        {"sandbox.defaultTtlHours": 336},
        "sandbox.defaultTtlHours",
        "longer than maxTtlHours (336)",
    ),
    "a sandbox expires after it was made": Row(
        "sandbox",
        {"sandbox.expiresAt": "2026-11-28T18:00:00Z"},
        {"sandbox.expiresAt": "2026-11-28T18:01:00Z"},
        "sandbox.expiresAt",
        "expires before it was created",
    ),
    "a sandbox lives at most maxTtlHours": Row(
        "sandbox",
        # one second over the limit is over it
        {
            "sandbox.maxTtlHours": 72,
            "sandbox.defaultTtlHours": 72,
            "sandbox.expiresAt": "2026-12-01T18:00:01Z",
        },
        {"sandbox.maxTtlHours": 72, "sandbox.defaultTtlHours": 72, "sandbox.expiresAt": HOURS_72},
        "sandbox.expiresAt",
        "exceeds maxTtlHours (72)",
    ),
    # -- image and the local stack (components/config/rules/image.py) -------------------------
    "prod runs only a promoted digest": Row(
        "prod", {"image": {}}, {}, "image.digest", "runs only promoted images"
    ),
    # dev builds its own image (the base without image validates: test_the_bases_the_rows_edit_are_valid)
    "test runs only a promoted digest": Row(
        "test", {"image": {}}, {}, "image.digest", "runs only promoted images"
    ),
    "a repository has no tag": Row(
        "test",
        {"image.repository": "dataops-notebook:latest"},
        {"image.repository": "registry.example.com:5000/dataops-notebook"},
        "image.repository",
        "without tag or digest",
    ),
    "a repository has no digest": Row(
        "test",
        {"image.repository": "dataops-notebook@sha256"},
        {},
        "image.repository",
        "without tag or digest",
    ),
    "a repository is a repository name": Row(
        "test", {"image.repository": "Dataops Notebook"}, {}, "image.repository", "without tag or digest"
    ),
    "a repository goes with a digest": Row(
        "dev",
        {"image": {"repository": "dataops-notebook"}},
        {},
        "image.repository",
        "only applies to a promoted digest",
    ),
    "the local stack owns its lake": Row(
        "local",
        {"lake": {"role": "consumer", "ownerStack": "prod"}, "access": {}},
        {},
        "lake.role",
        "owns its own lake",
    ),
    "the local stack builds its image": Row(
        "local", {"image": {"digest": "sha256:" + "a" * 64}}, {}, "image.digest", "builds the image"
    ),
    "the local lake and notebook use two ports": Row(
        "local",
        {"local": {"notebookPort": 4566}},
        {"local": {"notebookPort": 4567}},
        "local.lakePort",
        "already uses this port",
    ),
    # -- notebooks (components/config/rules/notebooks.py) -------------------------------------
    "a cloud hub never lets anyone in": Row(
        "dev", {"notebooks.authenticator": "dummy"}, {}, "notebooks.authenticator", "anyone could log in"
    ),
    "github login needs its OAuth app": Row(
        "dev", {"notebooks.oauth": DROP}, {}, "notebooks.oauth", "login needs the OAuth app"
    ),
    "generic login needs its OAuth app": Row(
        "dev",
        {"notebooks.oauth": DROP, "notebooks.authenticator": "generic-oauth"},
        {},
        "notebooks.oauth",
        "login needs the OAuth app",
    ),
    "github login names the allowed organisations": Row(
        "dev",
        {"notebooks.oauth.allowedOrganizations": []},
        {},
        "notebooks.oauth.allowedOrganizations",
        "every GitHub user",
    ),
    # generic-oauth restricts by groups: no organisations is not the GitHub rule's case
    "generic login needs no organisations": Row(
        "dev",
        {"notebooks.oauth.allowedOrganizations": []},
        {"notebooks.authenticator": "generic-oauth", "notebooks.oauth": HTTPS},
        "notebooks.oauth.allowedOrganizations",
        "every GitHub user",
    ),
    "an authorize endpoint is https": Row(
        "dev",
        {
            "notebooks.authenticator": "generic-oauth",
            "notebooks.oauth": HTTPS | {"authorizeUrl": "http://idp.example.com/a"},
        },
        {"notebooks.authenticator": "generic-oauth", "notebooks.oauth": HTTPS},
        "notebooks.oauth.authorizeUrl",
        "must be an https URL",
    ),
    "a token endpoint is https": Row(
        "dev",
        {
            "notebooks.authenticator": "generic-oauth",
            "notebooks.oauth": HTTPS | {"tokenUrl": "http://idp.example.com/t"},
        },
        {"notebooks.authenticator": "generic-oauth", "notebooks.oauth": HTTPS},
        "notebooks.oauth.tokenUrl",
        "must be an https URL",
    ),
    "a userdata endpoint is set": Row(
        "dev",
        {"notebooks.authenticator": "generic-oauth", "notebooks.oauth": HTTPS | {"userdataUrl": None}},
        {"notebooks.authenticator": "generic-oauth", "notebooks.oauth": HTTPS},
        "notebooks.oauth.userdataUrl",
        "must be an https URL",
    ),
    # the endpoints belong to generic-oauth: GitHub's are built in
    "github login needs no endpoints": Row(
        "dev",
        {"notebooks.authenticator": "generic-oauth", "notebooks.oauth": {"clientId": "hub"}},
        {"notebooks.oauth.authorizeUrl": "http://ignored.example.com"},
        "notebooks.oauth.authorizeUrl",
        "must be an https URL",
    ),
    "a hostname is a DNS name": Row(
        "dev",
        {"notebooks.hostedZone": DROP, "notebooks.hostname": "Notebooks"},
        {"notebooks.hostedZone": DROP, "notebooks.hostname": "notebooks.example.net"},
        "notebooks.hostname",
        "not a DNS hostname",
    ),
    "OAuth needs the hub's address": Row(
        "dev",
        {"notebooks.hostedZone": DROP, "notebooks.hostname": DROP},
        {"notebooks.hostedZone": DROP},
        "notebooks.hostname",
        "OAuth needs the hub's public address",
    ),
    "a hosted zone needs the hub's hostname": Row(
        "dev", {"notebooks.hostname": DROP}, {}, "notebooks.hostname", "gets a record for the hub"
    ),
    "users have a server size": Row(
        "dev",
        {"notebooks.profiles": []},
        {"notebooks.profiles": [PROFILE]},
        "notebooks.profiles",
        "at least one server size",
    ),
    "profile names are unique": Row(
        "dev",
        {"notebooks.profiles": [PROFILE, PROFILE]},
        {"notebooks.profiles": [PROFILE, PROFILE | {"name": "big"}]},
        "notebooks.profiles[1].name",
        "must be unique DNS labels",
    ),
    "profile names are DNS labels": Row(
        "dev",
        {"notebooks.profiles": [PROFILE | {"name": "Small"}]},
        {},
        "notebooks.profiles[0].name",
        "must be unique DNS labels",
    ),
    "a cpu guarantee is within its limit": Row(
        "dev",
        {"notebooks.profiles": [PROFILE | {"cpuGuarantee": 2.5}]},
        {"notebooks.profiles": [PROFILE | {"cpuGuarantee": 2}]},
        "notebooks.profiles[0].cpuGuarantee",
        "the guarantee exceeds the limit",
    ),
    "a memory guarantee is a size": Row(
        "dev",
        {"notebooks.profiles": [PROFILE | {"memGuarantee": "lots"}]},
        {},
        "notebooks.profiles[0].memGuarantee",
        "not a memory size",
    ),
    "a memory limit is a size": Row(
        "dev",
        {"notebooks.profiles": [PROFILE | {"memLimit": "lots"}]},
        {},
        "notebooks.profiles[0].memLimit",
        "not a memory size",
    ),
    "a memory guarantee is within its limit": Row(
        "dev",
        {"notebooks.profiles": [PROFILE | {"memGuarantee": "9G"}]},
        {"notebooks.profiles": [PROFILE | {"memGuarantee": "8G"}]},
        "notebooks.profiles[0].memGuarantee",
        "exceeds the limit",
    ),
    "GPU profiles need GPUs on": Row(
        "dev",
        {"notebooks.profiles": [PROFILE | {"gpus": 1}]},
        {"notebooks.profiles": [PROFILE | {"gpus": 1}], "notebooks.gpu": True},
        "notebooks.profiles[0].gpus",
        "GPU profiles are off",
    ),
    "one default profile": Row(
        "dev",
        {"notebooks.profiles": [PROFILE | {"default": True}, PROFILE | {"name": "big", "default": True}]},
        {"notebooks.profiles": [PROFILE | {"default": True}, PROFILE | {"name": "big"}]},
        "notebooks.profiles",
        "more than one default",
    ),
    "a home size is a size": Row(
        "dev",
        {"notebooks.homeSize": "big"},
        {"notebooks.homeSize": "20Gi"},
        "notebooks.homeSize",
        "not a storage size",
    ),
    # an existing section without its context is no more a way in than no section
    "an existing cluster needs a way in": Row(
        "dev",
        {"cluster": {"mode": "existing", "existing": {}}},
        {"cluster": {"mode": "existing", "existing": {"context": "c"}}, "notebooks.hostedZone": DROP},
        "cluster.existing",
        "needs a way in",
    ),
    "a hosted zone needs the platform's load balancer controller": Row(
        "dev",
        {"cluster": {"mode": "existing", "existing": {"context": "c"}}},
        {"cluster": {"mode": "existing", "existing": {"context": "c"}}, "notebooks.hostedZone": DROP},
        "notebooks.hostedZone",
        "comes from the controller",
    ),
    # -- cluster (components/config/rules/cluster.py, ci.py) ----------------------------------
    "an admin role is a full ARN": Row(
        "dev",
        {"cluster.adminRoles": ["PlatformAdmin"]},
        {"cluster.adminRoles": [FULL_ADMIN]},
        "cluster.adminRoles",
        "a bare role name",
    ),
    "an admin is a role": Row(
        "dev",
        {"cluster.adminRoles": ["arn:aws:iam::111122223333:user/alice"]},
        {},
        "cluster.adminRoles",
        "not an IAM role ARN",
    ),
    "an admin role's account has 12 digits": Row(
        "dev",
        {"cluster.adminRoles": ["arn:aws:iam::11112222333:role/admin"]},
        {},
        "cluster.adminRoles",
        "not an IAM role ARN",
    ),
    "an eks cluster takes no kubeconfig settings": Row(
        "dev", {"cluster.existing": {"context": "c"}}, {}, "cluster.mode", "apply only to existing"
    ),
    "an existing cluster's OIDC provider is an ARN": Row(
        "dev",
        {"cluster": {"mode": "existing", "existing": {"context": "c", "oidcProviderArn": "oidc.eks/x"}}},
        {
            "cluster": {
                "mode": "existing",
                "existing": {
                    "context": "c",
                    "oidcProviderArn": "arn:aws:iam::111122223333:oidc-provider/oidc.eks/x",
                },
            },
            "notebooks.hostedZone": DROP,
        },
        "cluster.existing.oidcProviderArn",
        "not an IAM OIDC provider ARN",
    ),
    "a public endpoint is not open to everyone": Row(
        "dev",
        {"cluster.publicAccessCidrs": ["0.0.0.0/0"]},
        {"cluster.publicAccessCidrs": ["203.0.113.0/24"]},
        "cluster.publicAccessCidrs",
        "whole internet",
    ),
    "a public endpoint lists public ranges": Row(
        "dev",
        {"cluster.publicAccessCidrs": ["10.1.0.0/16"]},
        {"cluster.publicAccessCidrs": ["11.1.0.0/16"]},
        "cluster.publicAccessCidrs",
        "a private range never reaches",
    ),
    "public ranges do not overlap": Row(
        "dev",
        {"cluster.publicAccessCidrs": ["203.0.113.0/24", "203.0.113.128/25"]},
        {"cluster.publicAccessCidrs": ["203.0.113.0/25", "203.0.113.128/25"]},
        "cluster.publicAccessCidrs",
        "overlaps 203.0.113.0/24",
    ),
    "node group sizes are ordered": Row(
        "dev",
        {"cluster.systemNodes.desiredSize": 4},
        {"cluster.systemNodes.desiredSize": 3},
        "cluster.systemNodes",
        "minSize <= desiredSize <= maxSize",
    ),
    "a node group has an instance type": Row(
        "dev",
        {"cluster.systemNodes.instanceTypes": []},
        {"cluster.systemNodes.instanceTypes": ["m6i.large"]},
        "cluster.systemNodes.instanceTypes",
        "no instance type",
    ),
    "a node group's instance type is known": Row(
        "dev",
        {"cluster.systemNodes.instanceTypes": ["m6i.larg"]},
        {},
        "cluster.systemNodes.instanceTypes",
        "not an instance type the platform knows",
    ),
    "add-ons have a system node": Row(
        "dev",
        {"cluster.systemNodes.minSize": 0},
        {},
        "cluster.systemNodes.minSize",
        "at least one system node",
    ),
    "prod's endpoint is private only": Row(
        "prod",
        {"cluster.publicAccessCidrs": ["203.0.113.0/24"]},
        {},
        "cluster.publicAccessCidrs",
        "private only",
    ),
    "prod records every log type": Row(
        "prod",
        {"cluster.logTypes": ["api", "audit", "authenticator", "controllerManager"]},
        {"cluster.logTypes": ["scheduler", "api", "audit", "authenticator", "controllerManager"]},
        "cluster.logTypes",
        "every control-plane log type",
    ),
    "the runner admits listed actors only": Row(
        "dev",
        {"ci.runner.allowedActorIds": []},
        {"ci.runner.allowedActorIds": [1]},
        "ci.runner.allowedActorIds",
        "anyone who can open a pull request",
    ),
    # -- network (components/config/rules/network.py) -----------------------------------------
    "a VPC range is a CIDR block": Row(
        "dev", {"cluster.network.vpcCidr": "10.40.0.1/16"}, {}, "cluster.network.vpcCidr", "not a CIDR block"
    ),
    "a VPC range is IPv4": Row(
        "dev", {"cluster.network.vpcCidr": "fd00::/48"}, {}, "cluster.network.vpcCidr", "IPv6"
    ),
    "a VPC range is private": Row(
        "dev",
        {"cluster.network.vpcCidr": "11.40.0.0/16"},
        {"cluster.network.vpcCidr": "172.16.0.0/16"},
        "cluster.network.vpcCidr",
        "not a private",
    ),
    "a VPC range is at most a /16": Row(
        "dev",
        {"cluster.network.vpcCidr": "10.40.0.0/15"},
        {"cluster.network.vpcCidr": "10.40.0.0/16"},
        "cluster.network.vpcCidr",
        "between /16 and /20",
    ),
    "a VPC range is at least a /20": Row(
        "dev",
        {"cluster.network.vpcCidr": "10.40.0.0/21"},
        {"cluster.network.vpcCidr": "10.40.0.0/20"},
        "cluster.network.vpcCidr",
        "between /16 and /20",
    ),
    "prod spans three AZs": Row(
        "prod",
        {"cluster.network.availabilityZones": 2},
        {},
        "cluster.network.availabilityZones",
        "prod spans three AZs",
    ),
    "prod has a NAT gateway per AZ": Row(
        "prod",
        {"cluster.network.natGateways": "single"},
        {},
        "cluster.network.natGateways",
        "egress up when one AZ fails",
    ),
    "a service range is private": Row(
        "dev",
        {"cluster.network.serviceCidr": "100.64.0.0/16"},
        {"cluster.network.serviceCidr": "172.20.0.0/16"},
        "cluster.network.serviceCidr",
        "not a private",
    ),
    "a service range is outside the VPC": Row(
        "dev",
        {"cluster.network.serviceCidr": "10.40.128.0/20"},
        {"cluster.network.serviceCidr": "10.41.0.0/16"},
        "cluster.network.serviceCidr",
        "overlaps the VPC range",
    ),
    "a service range is a CIDR block": Row(
        "dev",
        {"cluster.network.serviceCidr": "172.20.0.1/16"},
        {"cluster.network.serviceCidr": "172.20.0.0/16"},
        "cluster.network.serviceCidr",
        "not a CIDR block",
    ),
    "a first transition may start on day 0": Row(
        "prod",
        {"lake.zones.raw.transitions": [{"days": 0, "storageClass": "STANDARD_IA"}]},
        {"lake.zones.raw.transitions": [{"days": 0, "storageClass": "GLACIER_IR"}]},
        "lake.zones.raw.transitions[0].days",
        "only after 30 days",
    ),
    "a team is not the default namespace": Row(
        "dev",
        {"teams": [{"name": "default"}]},
        {"teams": [{"name": "defaults"}]},
        "teams[0].name",
        "become namespace",
    ),
    "a notebook node group has an instance type": Row(
        "dev",
        {"cluster.notebookNodes": GPU_NODES | {"instanceTypes": []}},
        {"cluster.notebookNodes": GPU_NODES | {"instanceTypes": ["r6i.xlarge"]}},
        "cluster.notebookNodes.instanceTypes",
        "no instance type",
    ),
    "a VPC range is a CIDR block beside a service range": Row(
        "dev",
        {"cluster.network.vpcCidr": "10.40.0.1/16", "cluster.network.serviceCidr": "172.20.0.0/16"},
        {"cluster.network.vpcCidr": "10.40.0.0/16", "cluster.network.serviceCidr": "172.20.0.0/16"},
        "cluster.network.vpcCidr",
        "not a CIDR block",
    ),
    "a public range after a malformed one is judged too": Row(
        "dev",
        {"cluster.publicAccessCidrs": ["203.0.113.1/24", "0.0.0.0/0"]},
        {"cluster.publicAccessCidrs": ["203.0.113.0/24", "198.51.100.0/24"]},
        "cluster.publicAccessCidrs",
        "opens the API endpoint to the whole internet",
    ),
    # an owner's longest bucket is its access-log bucket: prefix-stack-access-logs-<account>-<region>
    "an owner's access-log bucket name has at most 63 characters": Row(
        "prod", {}, {}, "namePrefix", "the zone 'access-logs'", bad_name="p" * 21, good_name="p" * 20
    ),
    "a registry's port is not a tag": Row(
        "test",
        {"image.repository": "registry.example.com/dataops-notebook:5000"},
        {"image.repository": "registry.example.com:5000/dataops-notebook"},
        "image.repository",
        "without tag or digest",
    ),
    "a digest is a sha256 digest": Row(
        "test", {"image.digest": "latest"}, {}, "image.digest", "not an immutable digest"
    ),
    # -- CI and the API endpoint (components/config/rules/ci.py) -----------------------------
    "a CI repository is owner/name": Row(
        "dev",
        {"ci.repository": "dataops-platform"},
        {"ci.repository": "example-org/dataops-platform"},
        "ci.repository",
        "not a GitHub repository",
    ),
    "a connection is a CodeConnections ARN": Row(
        "dev",
        {"ci.connectionArn": "arn:aws:iam::111122223333:role/x"},
        {},
        "ci.connectionArn",
        "not a CodeConnections connection ARN",
    ),
    "the runner needs the repository": Row(
        "dev", {"ci.repository": DROP}, {}, "ci.repository", "needs the repository and its CodeConnections"
    ),
    "the runner needs the connection": Row(
        "dev",
        {"ci.connectionArn": DROP},
        {},
        "ci.connectionArn",
        "needs the repository and its CodeConnections",
    ),
    "without the runner a private range reaches the endpoint": Row(
        "dev",
        {"ci.runner.enabled": False},
        {"ci.runner.enabled": False, "cluster.privateAccessCidrs": ["10.8.0.0/16"]},
        "ci.runner.enabled",
        "nothing could reach",
    ),
    "without the runner a public range reaches the endpoint": Row(
        "dev",
        {"ci.runner.enabled": False},
        {"ci.runner.enabled": False, "cluster.publicAccessCidrs": ["203.0.113.0/24"]},
        "ci.runner.enabled",
        "nothing could reach",
    ),
    "private access ranges are private": Row(
        "dev",
        {"cluster.privateAccessCidrs": ["198.51.100.0/24"]},
        {"cluster.privateAccessCidrs": ["10.8.0.0/16"]},
        "cluster.privateAccessCidrs",
        "not a private (RFC 1918) range",
    ),
    "a private access range is a CIDR block": Row(
        "dev",
        {"cluster.privateAccessCidrs": ["10.8.0.1/16"]},
        {"cluster.privateAccessCidrs": ["10.8.0.0/16"]},
        "cluster.privateAccessCidrs",
        "not a CIDR block",
    ),
    "prod's endpoint admits its runner only": Row(
        "prod",
        {"cluster.privateAccessCidrs": ["10.8.0.0/16"]},
        {},
        "cluster.privateAccessCidrs",
        "admits its in-VPC runner only",
    ),
    "prod hosts no sandboxes": Row(
        "prod", {"cluster.hostSandboxes": True}, {}, "cluster.hostSandboxes", "never run on prod's cluster"
    ),
    # -- the cluster (components/config/rules/cluster.py) ------------------------------------
    "a Kubernetes version EKS supports": Row(
        "dev",
        {"cluster.kubernetesVersion": "1.20"},
        {},
        "cluster.kubernetesVersion",
        "not a Kubernetes version",
    ),
    "team names are DNS labels": Row(
        "dev",
        {"teams": [{"name": "Data_Science"}]},
        {"teams": [{"name": "data-science"}]},
        "teams[0].name",
        "become namespace names",
    ),
    "a team is not a system namespace": Row(
        "dev",
        {"teams": [{"name": "kube-system"}]},
        {"teams": [{"name": "kube-team"}]},
        "teams[0].name",
        "become namespace",
    ),
    "a team is not the hub's namespace": Row(
        "dev",
        {"teams": [{"name": "jupyterhub"}]},
        {"teams": [{"name": "hub"}]},
        "teams[0].name",
        "become namespace",
    ),
    "teams are listed once": Row(
        "dev",
        {"teams": [{"name": "a1"}, {"name": "a1"}]},
        {"teams": [{"name": "a1"}, {"name": "a2"}]},
        "teams",
        "listed twice",
    ),
    "the hub's namespace is a DNS label": Row(
        "dev", {"hubNamespace": "Hub"}, {"hubNamespace": "hub"}, "hubNamespace", "not a DNS label"
    ),
    "the hub's namespace is not a system one": Row(
        "dev",
        {"hubNamespace": "kube-system"},
        {"hubNamespace": "kube-hub"},
        "hubNamespace",
        "system namespace",
    ),
    "a team's CPU quota is a quantity": Row(
        "dev",
        {"teams": [{"name": "a1", "quota": {"cpu": "lots"}}]},
        {"teams": [{"name": "a1", "quota": {"cpu": "500m"}}]},
        "teams[0].quota.cpu",
        "not a CPU quantity",
    ),
    "a team's memory quota is a size": Row(
        "dev",
        {"teams": [{"name": "a1", "quota": {"memory": "lots"}}]},
        {"teams": [{"name": "a1", "quota": {"memory": "64Gi"}}]},
        "teams[0].quota.memory",
        "not a size",
    ),
    "someone administers the cluster": Row(
        "dev", {"cluster.adminRoles": []}, {}, "cluster.adminRoles", "nobody could administer"
    ),
    "a GPU node group has an instance type": Row(
        "dev",
        {"notebooks.gpu": True, "cluster.gpuNodes": GPU_NODES | {"instanceTypes": []}},
        {"notebooks.gpu": True, "cluster.gpuNodes": GPU_NODES},
        "cluster.gpuNodes.instanceTypes",
        "no instance type",
    ),
    # -- the hub's address (components/config/rules/notebooks.py) ----------------------------
    "a hosted zone is a DNS name": Row(
        "dev",
        {"notebooks.hostedZone": "example com"},
        {"notebooks.hostedZone": "example.com."},  # a trailing dot is the DNS root
        "notebooks.hostedZone",
        "not a DNS zone name",
    ),
    "the hub's hostname is in its hosted zone": Row(
        "dev",
        {"notebooks.hostname": "notebooks.example.org"},
        {"notebooks.hostedZone": "dev.example.com."},
        "notebooks.hostname",
        "under",
    ),
    "prod's internet-facing hub lists its ranges": Row(
        "prod",
        {"notebooks.scheme": "internet-facing", "notebooks.allowedCidrs": DROP},
        {"notebooks.scheme": "internet-facing", "notebooks.allowedCidrs": ["203.0.113.0/24"]},
        "notebooks.allowedCidrs",
        "open to the whole internet",
    ),
}


@pytest.mark.parametrize("case", sorted(RULES))
def test_a_config_rule_reports_the_bad_setting_and_not_the_nearest_good_one(case):
    stack, bad, good, key, message, bad_name, good_name = RULES[case]
    lines = problems(stack, bad, bad_name)
    assert reported(lines, key, message), f"{case}: no '{message}' for {key} in {lines}"
    assert_lines(f"rules: {case}", lines)  # every line in full, as config_lines.py keeps them
    assert problems(stack, good, good_name) == [], f"{case}: the good setting was refused"


def test_a_deployment_needs_the_oauth_client_secret():
    """The offline plan stands in for a secret not set yet; `pulumi up` needs the real one."""
    assert_lines("rules: a deployment needs the OAuth client secret", problems("dev", {}, offline=False))
    assert problems("dev", {"oauthClientSecret": "s3cr3t"}, offline=False) == []
    assert problems("dev", {}, offline=True) == []


def test_a_sandbox_hub_is_refused_for_being_a_hub_not_for_its_dummy_login():
    """The dummy login is for a sandbox's own server: it needs no OAuth app and no hostname, and
    is not refused in a sandbox; a hub is, as the host stack's."""
    dummy = {"notebooks.enabled": True, "notebooks.authenticator": "dummy"}
    lines = problems("sandbox", dummy | {"notebooks.oauth": DROP, "notebooks.hostname": DROP})
    assert_lines("rules: a sandbox's hub with the dummy login", lines)


def test_a_rules_line_names_the_file_that_set_its_key():
    """A section set in Pulumi.yaml (the project's shared values) is fixed there, not in the stack
    file: the line names the file its top-level key came from."""
    shared = {f"{PROJECT}:ci": "Pulumi.yaml"}
    assert problems("dev", {"ci.repository": "dataops-platform"}, origins=shared) == [
        f'Pulumi.yaml: {PROJECT}:ci.repository = "dataops-platform": not a GitHub repository; '
        "fix: write it as owner/name"
    ]


def test_a_missing_idp_endpoint_is_shown_as_not_set():
    oauth = HTTPS | {"userdataUrl": None}
    lines = problems("dev", {"notebooks.authenticator": "generic-oauth", "notebooks.oauth": oauth})
    assert reported(lines, "notebooks.oauth.userdataUrl", "(not set): the IdP endpoint must be an https URL")
