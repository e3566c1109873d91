"""Rules of the notebook service: how users log in, the hub's address and load balancer, and
the server sizes they choose."""

from __future__ import annotations

import re

from pydantic.alias_generators import to_camel

from components.config.base import DNS_LABEL_RE
from components.config.errors import MISSING
from components.config.rules.common import Add, parse_cidr
from components.config.stack import StackConfig
from components.config.units import memory_gib

HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def notebook_rules(cfg: StackConfig, add: Add) -> None:
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
                MISSING,
                f"{nb.authenticator} login needs the OAuth app",
                "set notebooks.oauth.clientId (and the secret oauthClientSecret)",
            )
        if cfg.oauth_client_secret is None:
            add(
                "oauthClientSecret",
                MISSING,
                "the OAuth client secret is missing",
                "pulumi config set --secret oauthClientSecret <secret>",
            )
    if nb.oauth is not None and nb.authenticator == "generic-oauth":
        for key in ("authorize_url", "token_url", "userdata_url"):
            value = getattr(nb.oauth, key)
            if not value or not value.startswith("https://"):
                add(
                    f"notebooks.oauth.{to_camel(key)}",
                    value or MISSING,
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
    hub_endpoint_rules(cfg, add)
    if nb.authenticator != "dummy" and nb.hostname is None:
        add(
            "notebooks.hostname",
            MISSING,
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
            if memory_gib(getattr(p, field_name)) is None:
                add(
                    f"{key}.{to_camel(field_name)}",
                    getattr(p, field_name),
                    "not a memory size",
                    "write it like 4G or 4Gi",
                )
        guarantee, limit = memory_gib(p.mem_guarantee), memory_gib(p.mem_limit)
        if guarantee is not None and limit is not None and guarantee > limit:
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
    if memory_gib(nb.home_size) is None:
        add("notebooks.homeSize", nb.home_size, "not a storage size", "write it like 10Gi")


def hub_endpoint_rules(cfg: StackConfig, add: Add) -> None:
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
                MISSING,
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
        parse_cidr(cidr, "notebooks.allowedCidrs", add)
    open_to_all = not nb.allowed_cidrs or any(c.endswith("/0") for c in nb.allowed_cidrs)
    if cfg.environment == "prod" and nb.scheme == "internet-facing" and open_to_all:
        add(
            "notebooks.allowedCidrs",
            nb.allowed_cidrs,
            "prod's hub would be open to the whole internet",
            "list your office or VPN ranges, or keep notebooks.scheme internal",
        )
