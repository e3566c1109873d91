"""The cross-field rules of the stack config: combinations that are each valid alone but unsafe,
or that AWS, EKS or the charts would refuse at deploy time, one module per part of the
platform. `rule_problems` runs them all after the model has checked each value's shape.
Rules across stacks live in dataops/stacks.py, rules on the planned resources in
policies/rules.py (docs/recipes.md says which kind of rule goes where)."""

from __future__ import annotations

from typing import Any

from components.config.base import (
    ACCOUNT_ID_LEN,
    MANDATORY_TAG_KEYS,
    MIN_DAYS_BEFORE_IA,
    NAME_RE,
    PROJECT,
    ROLE_ARN_RE,
    SANDBOX_TAG_KEYS,
)
from components.config.errors import MISSING, Problem, Source
from components.config.rules.cluster import cluster_rules
from components.config.rules.dask import dask_rules
from components.config.rules.datasets import dataset_rules
from components.config.rules.image import image_rules, local_rules
from components.config.rules.notebooks import notebook_rules
from components.config.rules.sandbox import sandbox_rules
from components.config.stack import StackConfig

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
                MISSING,
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
        owner_only = {"zones": lake.zones, "objectLock": lake.object_lock, "datasets": lake.datasets}
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

    # A consumer's zones are the owner's: dataops/stacks.py checks them against the owner's file,
    # and the plan against the owner's `lake` output.
    known_zones = set(cfg.zones) if lake.role == "owner" else None
    for kind in ("read", "write"):
        for zone in getattr(cfg.access, kind):
            if known_zones is not None and zone not in known_zones:
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
    owned = [*cfg.zones, "access-logs"] if lake.role == "owner" else []
    longest = max([*owned, "workspace"], key=len)
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
        if key.lower().startswith("aws:"):
            # https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html: the prefix is AWS's
            add(f"tags.{key}", value, "the aws: prefix is reserved for AWS's own tags", "use another key")
        elif key in reserved:
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
    dataset_rules(cfg, add)
    local_rules(cfg, add)
    notebook_rules(cfg, add)
    dask_rules(cfg, add)
    cluster_rules(cfg, add)
    image_rules(cfg, add)
    sandbox_rules(cfg, add)
    return out
