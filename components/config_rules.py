"""Cross-field rules of the stack config: combinations that are each valid alone but unsafe,
or that AWS, EKS or the chart would refuse at deploy time. Each problem names the file, key,
value and fix (see components/config.py for the model and the one-line format)."""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from pydantic.alias_generators import to_camel

from components.config import (
    _MISSING,
    ACCOUNT_ID_LEN,
    CONTROL_PLANE_LOGS,
    DIGEST_RE,
    DNS_LABEL_RE,
    KUBERNETES_VERSIONS,
    MANDATORY_TAG_KEYS,
    MIN_DAYS_BEFORE_IA,
    NAME_RE,
    PROJECT,
    REPOSITORY_RE,
    ROLE_ARN_RE,
    SANDBOX_TAG_KEYS,
    Problem,
    Source,
    StackConfig,
)

# S3 bucket naming rules (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html):
# reserved prefixes, and suffixes kept for access point aliases, Object Lambda, Multi-Region Access
# Points, directory and table buckets. Bucket names here end in the region, so only the prefix
# can hit these; `--` in a name is where the suffixes start.
S3_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
# AWS allows 50 tags per resource (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html);
# the platform sets up to 11 of its own (the mandatory tags, a sandbox's two expiry tags, `zone` or
# `purpose`, and `Name`).
MAX_TAGS = 50
MAX_USER_TAGS = MAX_TAGS - len(MANDATORY_TAG_KEYS) - len(SANDBOX_TAG_KEYS) - 2


def rule_problems(cfg: StackConfig, source: Source) -> list[Problem]:
    """Cross-field rules: combinations that are each valid alone but unsafe together."""
    out: list[Problem] = []

    def add(key: str, value: Any, message: str, fix: str) -> None:
        full = f"{PROJECT}:{key}"
        out.append(Problem(source.file_of(full.split(".")[0]), full, value, message, fix))

    env, stack = cfg.environment, cfg.stack

    if env == "prod" and not cfg.deletion_protection:
        add(
            "deletionProtection",
            False,
            "prod must protect its data and keys",
            "set dataops-platform:deletionProtection to true",
        )

    if env == "sandbox" and not stack.startswith("sandbox-"):
        add(
            "environment",
            env,
            f"stack '{stack}' is not named sandbox-<name>",
            "name sandbox stacks sandbox-<name>, or choose another environment",
        )
    if stack.startswith("sandbox-") and env != "sandbox":
        add("environment", env, f"stack '{stack}' is named like a sandbox", "set environment to sandbox")

    lake = cfg.lake
    if lake.role == "owner":
        if env == "sandbox":
            add(
                "lake.role",
                "owner",
                "a sandbox never owns the lake",
                "set lake.role to consumer and lake.ownerStack to the owner stack",
            )
        if lake.owner_stack is not None:
            add(
                "lake.ownerStack",
                lake.owner_stack,
                "only consumers name an owner stack",
                "remove lake.ownerStack, or set lake.role to consumer",
            )
        for zone in cfg.zones:
            if not NAME_RE.match(zone) or len(zone) > 16:
                add(
                    f"lake.zones.{zone}",
                    zone,
                    "zone names become bucket names",
                    "use 2-16 lowercase letters, digits and hyphens, starting with a letter",
                )
        if lake.zones is not None and not lake.zones:
            add("lake.zones", {}, "an owner lake needs at least one zone", "list zones such as raw, curated")
        if lake.object_lock is not None and not cfg.deletion_protection:
            add(
                "lake.objectLock",
                lake.object_lock.model_dump(by_alias=True),
                "object-lock retention on a stack that allows teardown would block its destroy",
                "set deletionProtection to true, or remove lake.objectLock",
            )
    else:
        if not lake.owner_stack:
            add(
                "lake.ownerStack",
                _MISSING,
                "a consumer must name the stack that owns the lake",
                "set lake.ownerStack, e.g. prod",
            )
        elif lake.owner_stack.split("/")[-1] == stack:
            add(
                "lake.ownerStack",
                lake.owner_stack,
                "a stack cannot consume its own lake",
                "set lake.role to owner, or name another stack",
            )
        owner_only = {"zones": lake.zones, "objectLock": lake.object_lock}
        for key, value in owner_only.items():
            if value is not None:
                add(
                    f"lake.{key}",
                    "(set)",
                    "only the owner stack configures the lake's buckets",
                    f"move lake.{key} to the owner stack's file",
                )
        if cfg.access.write:
            add(
                "access.write",
                list(cfg.access.write),
                "consumers never write into the shared lake; experiments go to their workspace",
                "remove access.write (the workspace bucket is writable)",
            )

    known_zones = set(cfg.zones)
    for kind in ("read", "write"):
        for zone in getattr(cfg.access, kind):
            if zone not in known_zones:
                add(
                    f"access.{kind}",
                    zone,
                    "not a zone of the lake",
                    f"use one of {', '.join(sorted(known_zones))}"
                    if known_zones
                    else "give the lake a zone first",
                )
    for arn in cfg.access.trusted_principals:
        if not ROLE_ARN_RE.match(arn):
            add(
                "access.trustedPrincipals",
                arn,
                "not an IAM role ARN",
                "use arn:aws:iam::<12-digit account>:role/<name>",
            )

    ws = cfg.workspace
    if ws.force_destroy and env != "sandbox":
        add(
            "workspace.forceDestroy",
            True,
            "only sandbox scratch storage may be force-destroyed",
            "remove workspace.forceDestroy (or use a sandbox-<name> stack)",
        )
    if ws.force_destroy and cfg.deletion_protection:
        add(
            "workspace.forceDestroy",
            True,
            "contradicts deletionProtection: true",
            "set deletionProtection to false for this sandbox, or remove workspace.forceDestroy",
        )

    for name, zone in cfg.zones.items():
        previous = -1
        for i, t in enumerate(zone.transitions):
            key = f"lake.zones.{name}.transitions[{i}].days"
            if t.days <= previous:
                add(
                    key,
                    t.days,
                    "transitions must be in increasing order of days",
                    "sort the transitions by days, each later than the one before",
                )
            if t.storage_class in ("STANDARD_IA", "ONEZONE_IA") and t.days < MIN_DAYS_BEFORE_IA:
                add(
                    key,
                    t.days,
                    f"S3 moves objects to {t.storage_class} only after {MIN_DAYS_BEFORE_IA} days",
                    f"use {MIN_DAYS_BEFORE_IA} or more",
                )
            previous = t.days

    if not NAME_RE.match(cfg.name_prefix):
        add(
            "namePrefix",
            cfg.name_prefix,
            "names must be valid S3 bucket names",
            "use lowercase letters, digits and hyphens, starting with a letter",
        )
    elif "--" in cfg.name_prefix or cfg.name_prefix.startswith(S3_RESERVED_PREFIXES):
        add(
            "namePrefix",
            cfg.name_prefix,
            f"S3 reserves bucket names starting with {', '.join(S3_RESERVED_PREFIXES)} and names with '--' "
            "for its own features",
            "choose another prefix, e.g. dataops",
        )
    if not NAME_RE.match(stack) or len(stack) > 24:
        out.append(
            Problem(
                source.stack_file,
                "(stack name)",
                stack,
                "stack names become part of bucket names",
                "use at most 24 lowercase letters, digits and hyphens",
            )
        )
    # S3 bucket names are at most 63 characters: prefix-stack-zone-account-region.
    longest = max([*cfg.zones, "workspace", "access-logs"], key=len)
    length = len(cfg.physical_name(longest)) + 1 + ACCOUNT_ID_LEN + 1 + len(cfg.region)
    if length > 63:
        add(
            "namePrefix",
            cfg.name_prefix,
            f"bucket names would be {length} characters, S3 allows 63",
            f"shorten namePrefix, the stack name or the zone '{longest}' by {length - 63}",
        )

    reserved = {*MANDATORY_TAG_KEYS, *SANDBOX_TAG_KEYS}
    if len(cfg.tags) > MAX_USER_TAGS:
        add(
            "tags",
            f"({len(cfg.tags)} tags)",
            f"AWS allows {MAX_TAGS} tags on a resource and the platform sets up to "
            f"{MAX_TAGS - MAX_USER_TAGS} of its own",
            f"keep at most {MAX_USER_TAGS} tags here",
        )
    for key, value in cfg.tags.items():
        if key in reserved or key.lower().startswith("aws:"):
            add(
                f"tags.{key}",
                value,
                "this tag is set by the platform and cannot be overridden",
                "remove it from tags (set owner, costCenter or dataClassification instead)",
            )
        elif len(key) > 128 or len(value) > 256:
            add(
                f"tags.{key}", value, "AWS allows keys of 128 and values of 256 characters", "shorten the tag"
            )
    _local_rules(cfg, add)
    _notebook_rules(cfg, add)
    _cluster_rules(cfg, add)
    _image_rules(cfg, add)
    _sandbox_rules(cfg, add)
    return out


# Kubernetes quantities (https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/):
# validated here, converted by `dataops.estimate` with the same patterns.
CPU_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
MEMORY_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")
_MEMORY_FACTOR = {  # to GiB
    None: 2**-30, "Ki": 2**-20, "Mi": 2**-10, "Gi": 1.0, "Ti": 2**10, "Pi": 2**20, "Ei": 2**30,
    "k": 1e3 / 2**30, "M": 1e6 / 2**30, "G": 1e9 / 2**30,
    "T": 1e12 / 2**30, "P": 1e15 / 2**30, "E": 1e18 / 2**30,
}  # fmt: skip


def cpu_cores(value: str) -> float | None:
    """A Kubernetes CPU quantity (`500m`, `2`) in cores; None if it is not one."""
    match = CPU_QUANTITY.match(value.strip())
    return None if not match else float(match.group(1)) * (1e-3 if match.group(2) else 1.0)


def memory_gib(value: str) -> float | None:
    """A Kubernetes memory quantity (`4Gi`, `512M`, `1073741824`) in GiB; None if it is not one."""
    match = MEMORY_QUANTITY.match(value.strip())
    return None if not match else float(match.group(1)) * _MEMORY_FACTOR[match.group(2)]


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time with its UTC offset (`2026-11-28T18:00:00Z`); None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


# A sandbox's notebook server: enough to explore, small enough that one cannot crowd out the
# host's notebook nodes (an r6i.xlarge has 4 cores and 32 GiB).
SANDBOX_CPU = (0.25, 4.0)
SANDBOX_MEMORY_GIB = (0.5, 16.0)


def _sandbox_rules(cfg: StackConfig, add: Any) -> None:
    """A sandbox is throw-away: nothing protected, scratch storage only, read-only on curated data,
    nothing of its own on the host's cluster but its namespace, and a recorded lifetime."""
    box = cfg.sandbox
    if cfg.environment != "sandbox":
        if box is not None:
            add("sandbox", "...", "only sandbox stacks have a sandbox section", "remove it")
        return
    if box is None:
        add(
            "sandbox",
            _MISSING,
            "a sandbox records its host stack and lifetime",
            "create it with `python -m dataops sandbox create`",
        )
        return
    if cfg.deletion_protection:
        add(
            "deletionProtection", True, "nothing in a sandbox is protected", "set deletionProtection to false"
        )
    if set(cfg.access.read) - {"curated"}:
        add(
            "access.read",
            cfg.access.read,
            "sandboxes read the curated zone only",
            "set access.read to [curated]",
        )
    if not (cfg.workspace.enabled and cfg.workspace.force_destroy):
        add(
            "workspace.forceDestroy",
            cfg.workspace.force_destroy,
            "a sandbox's scratch workspace must be removable with the sandbox",
            "set workspace.enabled and workspace.forceDestroy to true",
        )
    for section, why in (
        ("cluster", "a sandbox uses its host stack's cluster"),
        ("image", "a sandbox runs its host stack's image"),
    ):
        if section in cfg.model_fields_set:
            add(section, "...", why, f"remove {section} from the sandbox's stack file")
    if cfg.teams:
        add("teams", [t.name for t in cfg.teams], "a sandbox gets only its own namespace", "set teams to []")
    if cfg.notebooks.enabled:
        add(
            "notebooks.enabled",
            True,
            "the hub belongs to the host stack; a sandbox runs its own server",
            "set notebooks.enabled to false",
        )
    cores, gib = cpu_cores(box.notebook_cpu), memory_gib(box.notebook_memory)
    if cores is None:
        add(
            "sandbox.notebookCpu", box.notebook_cpu, "not a Kubernetes CPU quantity", 'write e.g. "1" or 500m'
        )
    elif not SANDBOX_CPU[0] <= cores <= SANDBOX_CPU[1]:
        add(
            "sandbox.notebookCpu",
            box.notebook_cpu,
            f"a sandbox's server gets {SANDBOX_CPU[0]:g} to {SANDBOX_CPU[1]:g} cores",
            "use e.g. 1 or 2 (larger work belongs in dev)",
        )
    if gib is None:
        add(
            "sandbox.notebookMemory",
            box.notebook_memory,
            "not a Kubernetes memory quantity",
            "write e.g. 4Gi",
        )
    elif not SANDBOX_MEMORY_GIB[0] <= gib <= SANDBOX_MEMORY_GIB[1]:
        add(
            "sandbox.notebookMemory",
            box.notebook_memory,
            f"a sandbox's server gets {SANDBOX_MEMORY_GIB[0]:g}Gi to {SANDBOX_MEMORY_GIB[1]:g}Gi",
            "use e.g. 4Gi (larger work belongs in dev)",
        )
    host = box.host_stack.split("/")[-1]
    if not NAME_RE.match(host) or host.startswith("sandbox-"):
        add(
            "sandbox.hostStack",
            box.host_stack,
            "not a stack that runs a cluster",
            "name the stack whose cluster sandboxes share, e.g. dev",
        )
    elif host == "prod":
        add(
            "sandbox.hostStack",
            box.host_stack,
            "throw-away sandboxes never run on prod's cluster",
            "host sandboxes on dev",
        )
    times = {}
    for key, value in (("createdAt", box.created_at), ("expiresAt", box.expires_at)):
        times[key] = parse_time(value) if value else None
        if times[key] is None:
            add(
                f"sandbox.{key}",
                value if value else _MISSING,
                "not a time with its UTC offset",
                "write it like 2026-11-28T18:00:00Z (sandbox create does)",
            )
    if box.default_ttl_hours > box.max_ttl_hours:
        add(
            "sandbox.defaultTtlHours",
            box.default_ttl_hours,
            f"longer than maxTtlHours ({box.max_ttl_hours})",
            "lower it",
        )
    created, expires = times["createdAt"], times["expiresAt"]
    if created and expires:
        hours = (expires - created).total_seconds() / 3600
        if hours <= 0:
            add("sandbox.expiresAt", box.expires_at, "expires before it was created", "use a later expiresAt")
        elif hours > box.max_ttl_hours:
            add(
                "sandbox.expiresAt",
                box.expires_at,
                f"a lifetime of {hours:.0f} hours exceeds maxTtlHours ({box.max_ttl_hours})",
                "use an earlier expiresAt",
            )


PRIVATE_RANGES = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def _network(value: str, key: str, add: Any) -> ipaddress.IPv4Network | None:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError:
        add(key, value, "not a CIDR block", "write it as a network address and prefix, e.g. 10.40.0.0/16")
        return None
    if not isinstance(net, ipaddress.IPv4Network):
        add(key, value, "IPv6 is not supported here", "use an IPv4 CIDR block")
        return None
    return net


def _local_rules(cfg: StackConfig, add: Any) -> None:
    if cfg.environment != "local":
        return
    if cfg.lake.role != "owner":
        add(
            "lake.role",
            cfg.lake.role,
            "the local stack owns its own lake on the local endpoint",
            "set lake.role to owner",
        )
    if cfg.image.digest is not None:
        add(
            "image.digest",
            cfg.image.digest,
            "the local stack builds the image from images/notebook",
            "remove image.digest",
        )
    if cfg.local.notebook_port == cfg.local.lake_port:
        add(
            "local.lakePort",
            cfg.local.lake_port,
            "the notebook already uses this port",
            "choose another port",
        )


QUANTITY_RE = re.compile(r"^\d+(\.\d+)?[KMGT]i?$")
CPU_RE = re.compile(r"^\d+(\.\d+)?m?$")
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
UNITS = {"K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def size_in_bytes(quantity: str) -> float:
    number = re.match(r"^\d+(\.\d+)?", quantity)
    assert number is not None  # callers check QUANTITY_RE first
    return float(number.group(0)) * UNITS[quantity[number.end() :]]


HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _notebook_rules(cfg: StackConfig, add: Any) -> None:
    if cfg.environment == "local" or not cfg.notebooks.enabled:
        return
    nb = cfg.notebooks
    if nb.authenticator == "dummy" and cfg.environment != "sandbox":
        add(
            "notebooks.authenticator",
            "dummy",
            f"anyone could log in to the {cfg.environment} hub",
            "use github or generic-oauth (dummy is for local and sandboxes only)",
        )
    if nb.authenticator in ("github", "generic-oauth"):
        if nb.oauth is None:
            add(
                "notebooks.oauth",
                _MISSING,
                f"{nb.authenticator} login needs the OAuth app",
                "set notebooks.oauth.clientId (and the secret oauthClientSecret)",
            )
        if cfg.oauth_client_secret is None:
            add(
                "oauthClientSecret",
                _MISSING,
                "the OAuth client secret is missing",
                "pulumi config set --secret oauthClientSecret <secret>",
            )
    if nb.oauth is not None and nb.authenticator == "generic-oauth":
        for key in ("authorize_url", "token_url", "userdata_url"):
            value = getattr(nb.oauth, key)
            if not value or not value.startswith("https://"):
                add(
                    f"notebooks.oauth.{to_camel(key)}",
                    value or _MISSING,
                    "the IdP endpoint must be an https URL",
                    "copy it from your IdP's OpenID configuration",
                )
    if nb.oauth is not None and nb.authenticator == "github" and not nb.oauth.allowed_organizations:
        add(
            "notebooks.oauth.allowedOrganizations",
            [],
            "every GitHub user could log in",
            "list the organisations (or org:team) whose members may use the hub",
        )
    if nb.hostname is not None and not HOSTNAME_RE.match(nb.hostname):
        add("notebooks.hostname", nb.hostname, "not a DNS hostname", "use e.g. notebooks.example.com")
    _hub_endpoint_rules(cfg, add)
    if nb.authenticator != "dummy" and nb.hostname is None:
        add(
            "notebooks.hostname",
            _MISSING,
            "OAuth needs the hub's public address for its callback",
            "set notebooks.hostname",
        )
    if not nb.profiles:
        add("notebooks.profiles", [], "users need at least one server size", "list at least one profile")
    names = [p.name for p in nb.profiles]
    for i, p in enumerate(nb.profiles):
        key = f"notebooks.profiles[{i}]"
        if not DNS_LABEL_RE.match(p.name) or names.count(p.name) > 1:
            add(f"{key}.name", p.name, "profile names must be unique DNS labels", "use e.g. small, large")
        if p.cpu_guarantee > p.cpu_limit:
            add(
                f"{key}.cpuGuarantee",
                p.cpu_guarantee,
                "the guarantee exceeds the limit",
                "make cpuGuarantee <= cpuLimit",
            )
        for field_name in ("mem_guarantee", "mem_limit"):
            if not QUANTITY_RE.match(getattr(p, field_name)):
                add(
                    f"{key}.{to_camel(field_name)}",
                    getattr(p, field_name),
                    "not a memory size",
                    "write it like 4G or 4Gi",
                )
        if all(QUANTITY_RE.match(v) for v in (p.mem_guarantee, p.mem_limit)) and size_in_bytes(
            p.mem_guarantee
        ) > size_in_bytes(p.mem_limit):
            add(
                f"{key}.memGuarantee",
                p.mem_guarantee,
                f"exceeds the limit {p.mem_limit}",
                "make memGuarantee <= memLimit",
            )
        if p.gpus and not nb.gpu:
            add(
                f"{key}.gpus",
                p.gpus,
                "GPU profiles are off for this stack",
                "set notebooks.gpu to true (and add a GPU node group), or remove gpus",
            )
    if sum(p.default for p in nb.profiles) > 1:
        add("notebooks.profiles", names, "more than one default profile", "mark one profile default")
    if not QUANTITY_RE.match(nb.home_size):
        add("notebooks.homeSize", nb.home_size, "not a storage size", "write it like 10Gi")


def _hub_endpoint_rules(cfg: StackConfig, add: Any) -> None:
    """The hub's HTTPS address: a hostname inside the configured public zone, and a load balancer
    that prod never opens to the whole internet."""
    nb = cfg.notebooks
    zone = (nb.hosted_zone or "").rstrip(".")
    if nb.hosted_zone is not None:
        if not HOSTNAME_RE.match(zone):
            add("notebooks.hostedZone", nb.hosted_zone, "not a DNS zone name", "use e.g. example.com")
        elif nb.hostname is None:
            add(
                "notebooks.hostname",
                _MISSING,
                "the hosted zone gets a record for the hub's hostname",
                f"set notebooks.hostname, e.g. notebooks.{zone}",
            )
        elif not nb.hostname.endswith(f".{zone}"):
            add(
                "notebooks.hostname",
                nb.hostname,
                f"not a name in the hosted zone {zone}",
                f"use a name under {zone}, or the zone that holds {nb.hostname}",
            )
    if nb.hosted_zone is not None and cfg.cluster.mode != "eks":
        add(
            "notebooks.hostedZone",
            nb.hosted_zone,
            "the hub's load balancer comes from the controller the platform installs on its own clusters",
            "remove it and expose the hub through the existing cluster's own ingress",
        )
    for cidr in nb.allowed_cidrs:
        _network(cidr, "notebooks.allowedCidrs", add)
    open_to_all = not nb.allowed_cidrs or any(c.endswith("/0") for c in nb.allowed_cidrs)
    if cfg.environment == "prod" and nb.scheme == "internet-facing" and open_to_all:
        add(
            "notebooks.allowedCidrs",
            nb.allowed_cidrs,
            "prod's hub would be open to the whole internet",
            "list your office or VPN ranges, or keep notebooks.scheme internal",
        )


def _cluster_rules(cfg: StackConfig, add: Any) -> None:
    c = cfg.cluster
    if cfg.environment in ("local", "sandbox"):  # no cluster of their own (sandboxes use the host's)
        return
    if c.kubernetes_version not in KUBERNETES_VERSIONS:
        add(
            "cluster.kubernetesVersion",
            c.kubernetes_version,
            "not a Kubernetes version EKS supports",
            f"use one of {', '.join(KUBERNETES_VERSIONS)}",
        )
    for team in cfg.teams:
        if not DNS_LABEL_RE.match(team.name) or team.name in ("default", "kube-system", cfg.hub_namespace):
            add(
                "teams",
                team.name,
                "team names become namespace names",
                "use a DNS label (lowercase letters, digits, hyphens) that is not a system namespace",
            )
    names = [t.name for t in cfg.teams]
    for name in sorted({n for n in names if names.count(n) > 1}):
        add("teams", name, "listed twice", "list each team once")
    if not DNS_LABEL_RE.match(cfg.hub_namespace) or cfg.hub_namespace in SYSTEM_NAMESPACES:
        add(
            "hubNamespace",
            cfg.hub_namespace,
            "not a DNS label, or a system namespace",
            "use lowercase letters, digits and hyphens, e.g. jupyterhub",
        )
    for i, team in enumerate(cfg.teams):
        q = team.quota
        for key in ("cpu", "default_cpu"):
            if not CPU_RE.match(getattr(q, key)):
                add(
                    f"teams[{i}].quota.{to_camel(key)}",
                    getattr(q, key),
                    "not a CPU quantity",
                    'write cores or millicores, e.g. "4" or "500m"',
                )
        for key in ("memory", "storage", "default_memory"):
            if not QUANTITY_RE.match(getattr(q, key)):
                add(
                    f"teams[{i}].quota.{to_camel(key)}", getattr(q, key), "not a size", 'write it like "64Gi"'
                )

    if c.mode == "existing":
        if cfg.kubeconfig is None and (c.existing is None or c.existing.context is None):
            add(
                "cluster.existing",
                _MISSING,
                "an existing cluster needs a way in",
                "set cluster.existing.context, or `pulumi config set --secret kubeconfig < file`",
            )
        if (
            c.existing is not None
            and c.existing.oidc_provider_arn is not None
            and not re.match(r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/.+$", c.existing.oidc_provider_arn)
        ):
            add(
                "cluster.existing.oidcProviderArn",
                c.existing.oidc_provider_arn,
                "not an IAM OIDC provider ARN",
                "copy it from `aws iam list-open-id-connect-providers`",
            )
        return
    if cfg.kubeconfig is not None or c.existing is not None:
        add(
            "cluster.mode",
            "eks",
            "kubeconfig / cluster.existing apply only to existing clusters",
            "set cluster.mode to existing, or remove them",
        )
    if not c.admin_roles:
        add(
            "cluster.adminRoles",
            [],
            "nobody could administer the cluster",
            "list at least one IAM role ARN for cluster-admin access",
        )
    for role in c.admin_roles:
        _role_arn(role, "cluster.adminRoles", add)
    _ci_rules(cfg, add)

    net = c.network
    vpc = _network(net.vpc_cidr, "cluster.network.vpcCidr", add)
    if vpc is not None:
        if not any(vpc.subnet_of(r) for r in PRIVATE_RANGES):
            add(
                "cluster.network.vpcCidr",
                net.vpc_cidr,
                "not a private (RFC 1918) range",
                "use a range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16",
            )
        if not 16 <= vpc.prefixlen <= 20:
            add(
                "cluster.network.vpcCidr",
                net.vpc_cidr,
                "the VPC must be between /16 and /20",
                "use a /16 to /20 range (subnets are carved from it per AZ)",
            )
    if net.service_cidr is not None:
        svc = _network(net.service_cidr, "cluster.network.serviceCidr", add)
        if svc is not None and not any(svc.subnet_of(r) for r in PRIVATE_RANGES):
            add(
                "cluster.network.serviceCidr",
                net.service_cidr,
                "not a private (RFC 1918) range",
                "use e.g. 172.20.0.0/16",
            )
        elif svc is not None and vpc is not None and svc.overlaps(vpc):
            add(
                "cluster.network.serviceCidr",
                net.service_cidr,
                f"overlaps the VPC range {vpc}",
                "choose a range outside the VPC, e.g. 172.20.0.0/16",
            )
    public: list[ipaddress.IPv4Network] = []
    for cidr in c.public_access_cidrs:
        block = _network(cidr, "cluster.publicAccessCidrs", add)
        if block is None:
            continue
        if block.prefixlen == 0:
            add(
                "cluster.publicAccessCidrs",
                cidr,
                "opens the API endpoint to the whole internet",
                "list your office or VPN ranges instead",
            )
        elif any(block.subnet_of(r) for r in PRIVATE_RANGES):
            add(
                "cluster.publicAccessCidrs",
                cidr,
                "a private range never reaches the public endpoint",
                "list public ranges; private clients use the private endpoint",
            )
        for other in public:
            if block.overlaps(other):
                add("cluster.publicAccessCidrs", cidr, f"overlaps {other}", "merge or remove one of them")
        public.append(block)

    for key, group in (
        ("systemNodes", c.system_nodes),
        ("notebookNodes", c.notebook_nodes),
        ("gpuNodes", c.gpu_nodes),
    ):
        if not group.min_size <= group.desired_size <= group.max_size:
            add(
                f"cluster.{key}",
                group.model_dump(by_alias=True, include={"min_size", "desired_size", "max_size"}),
                "sizes must satisfy minSize <= desiredSize <= maxSize",
                "adjust the three sizes",
            )
        if not group.instance_types:
            add(f"cluster.{key}.instanceTypes", [], "no instance type", "list at least one, e.g. m6i.large")
        known = known_instance_types()
        for instance_type in group.instance_types:
            if instance_type not in known:
                add(
                    f"cluster.{key}.instanceTypes",
                    instance_type,
                    f"not an instance type the platform knows ({', '.join(sorted(known))})",
                    "correct the spelling, or add it and its hourly price under ec2 in estimates/prices.yaml",
                )
    if c.system_nodes.min_size < 1:
        add(
            "cluster.systemNodes.minSize",
            c.system_nodes.min_size,
            "add-ons need at least one system node",
            "set minSize to 1 or more",
        )

    if cfg.environment == "prod":
        if c.public_access_cidrs:
            add(
                "cluster.publicAccessCidrs",
                c.public_access_cidrs,
                "prod's API endpoint is private only",
                "remove cluster.publicAccessCidrs (reach prod through the VPC or a bastion)",
            )
        if net.availability_zones != 3:
            add(
                "cluster.network.availabilityZones",
                net.availability_zones,
                "prod spans three AZs",
                "set it to 3",
            )
        if net.nat_gateways != "perAz":
            add(
                "cluster.network.natGateways",
                net.nat_gateways,
                "prod keeps egress up when one AZ fails",
                "set it to perAz",
            )
        if sorted(c.log_types) != sorted(CONTROL_PLANE_LOGS):
            add(
                "cluster.logTypes",
                c.log_types,
                "prod records every control-plane log type",
                "remove cluster.logTypes (the default is all of them)",
            )


CONNECTION_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}$"
)
REPOSITORY_SLUG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")


def _role_arn(value: str, key: str, add: Any) -> None:
    """EKS access entries need the role's exact ARN, path included (IAM Identity Center roles
    live under /aws-reserved/sso.amazonaws.com/...): a name alone cannot be turned into it."""
    if ROLE_ARN_RE.match(value):
        return
    if re.match(r"^[\w+=,.@-]{1,64}$", value):
        add(
            key,
            value,
            "a bare role name; access entries need the role's full ARN, path included",
            f"use the output of `aws iam get-role --role-name {value} --query Role.Arn`",
        )
    else:
        add(key, value, "not an IAM role ARN", "use arn:aws:iam::<12-digit account>:role/<path/><name>")


def _ci_rules(cfg: StackConfig, add: Any) -> None:
    """eks clusters: how CI reaches the private API endpoint, and which roles it uses there."""
    c, ci = cfg.cluster, cfg.ci
    for key, arn in ci.access_roles().items():
        _role_arn(arn, key, add)
    if ci.repository is not None and not REPOSITORY_SLUG_RE.match(ci.repository):
        add("ci.repository", ci.repository, "not a GitHub repository", "write it as owner/name")
    if ci.connection_arn is not None and not CONNECTION_ARN_RE.match(ci.connection_arn):
        add(
            "ci.connectionArn",
            ci.connection_arn,
            "not a CodeConnections connection ARN",
            "copy it from `aws codeconnections list-connections`",
        )
    if cfg.runs_runner and not ci.runner.allowed_actor_ids:
        add(
            "ci.runner.allowedActorIds",
            [],
            "anyone who can open a pull request (a fork's author too) could run jobs inside the VPC",
            "list the GitHub user ids of the people whose runs may use it (`gh api users/<login> --jq .id`)",
        )
    if cfg.runs_runner:
        for key, value in (("ci.repository", ci.repository), ("ci.connectionArn", ci.connection_arn)):
            if value is None:
                add(
                    key,
                    _MISSING,
                    "the in-VPC runner needs the repository and its CodeConnections connection",
                    "set it in Pulumi.yaml (see the README's first deploy), or set ci.runner.enabled: false",
                )
    elif not c.public_access_cidrs and not c.private_access_cidrs:
        add(
            "ci.runner.enabled",
            False,
            "nothing could reach the cluster's private API endpoint to deploy to it",
            "keep the runner, or list cluster.privateAccessCidrs (your VPN) for dev and test",
        )
    for cidr in c.private_access_cidrs:
        block = _network(cidr, "cluster.privateAccessCidrs", add)
        if block is not None and not any(block.subnet_of(r) for r in PRIVATE_RANGES):
            add(
                "cluster.privateAccessCidrs",
                cidr,
                "not a private (RFC 1918) range",
                "list your VPN or peered ranges; public clients use cluster.publicAccessCidrs",
            )
    if cfg.environment == "prod" and c.private_access_cidrs:
        add(
            "cluster.privateAccessCidrs",
            c.private_access_cidrs,
            "prod's API endpoint admits its in-VPC runner only",
            "remove cluster.privateAccessCidrs (reach prod through the deploy workflow)",
        )
    if c.host_sandboxes and cfg.environment == "prod":
        add(
            "cluster.hostSandboxes",
            True,
            "throw-away sandboxes never run on prod's cluster",
            "remove cluster.hostSandboxes (dev hosts them)",
        )


PRICES = Path(__file__).resolve().parent.parent / "estimates" / "prices.yaml"


@cache
def known_instance_types() -> frozenset[str]:
    """The EC2 instance types the price table lists: the maintained list of types a node group
    may use, so a typo fails here rather than in EKS, and every node is priced."""
    import yaml

    return frozenset((yaml.safe_load(PRICES.read_text(encoding="utf-8")) or {}).get("ec2") or {}) - {"source"}


def _image_rules(cfg: StackConfig, add: Any) -> None:
    img = cfg.image
    if img.digest is not None and not DIGEST_RE.match(img.digest):
        add(
            "image.digest",
            img.digest,
            "not an immutable digest (a tag such as 'latest' can change under you)",
            "use the sha256:<64 hex> digest printed by `pulumi stack output image --stack dev`",
        )
    if img.repository is not None:
        last = img.repository.rsplit("/", 1)[-1]
        if "@" in img.repository or ":" in last or not REPOSITORY_RE.match(img.repository):
            add(
                "image.repository",
                img.repository,
                "a repository without tag or digest is expected",
                "put the repository here (e.g. dataops-notebook) and the digest in image.digest",
            )
    if cfg.environment in ("test", "prod") and img.digest is None:
        add(
            "image.digest",
            _MISSING,
            f"{cfg.environment} runs only promoted images, never a fresh build",
            "set image.digest to the digest tested in the previous environment",
        )
    if img.digest is None and img.repository is not None:
        add(
            "image.repository",
            img.repository,
            "only applies to a promoted digest",
            "set image.digest, or remove image.repository to build the image in this stack",
        )
