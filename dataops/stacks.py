"""Rules across the shipped stacks: one lake owner among the cloud stacks, consumers that point
at it and read only zones it has, VPC ranges that do not overlap, and a sandbox host that may
host sandboxes. A stack whose own file is broken is reported once: the rules that need it are
not run, so its problems are not repeated as follow-on errors in every stack that refers to it."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from components.config import StackConfig
from dataops import stack_files
from dataops.plan import load_config
from dataops.plan_types import PlanError


def load_all(root: Path) -> tuple[dict[str, StackConfig], list[str], set[str]]:
    """(configs that validate, problems of those that do not, names of those that do not)."""
    configs: dict[str, StackConfig] = {}
    problems: list[str] = []
    broken: set[str] = set()
    for stack in stack_files.known_stacks(root):
        try:
            configs[stack] = load_config(stack, root)[1]
        except PlanError as exc:
            problems += exc.lines
            broken.add(stack)
    return configs, problems, broken


def check_all(root: Path) -> list[str]:
    configs, problems, broken = load_all(root)
    cloud = {s: c for s, c in configs.items() if c.environment != "local"}
    owners = sorted(s for s, c in cloud.items() if c.owns_cloud_lake)
    if len(owners) > 1 or (not owners and not broken):
        problems.append(
            f"Pulumi.*.yaml: dataops-platform:lake.role: {len(owners)} cloud stacks own the lake "
            f"({', '.join(owners) or 'none'}); fix: exactly one stack sets lake.role: owner "
            "(a stack file copied from the owner's must become a consumer)"
        )
    for stack, cfg in sorted(cloud.items()):
        if cfg.lake.role != "consumer" or cfg.owner_stack in broken:
            continue
        owner = cfg.owner_stack
        owner_cfg = configs.get(owner)
        where = f"Pulumi.{stack}.yaml: dataops-platform:lake.ownerStack = {owner!r}"
        if owner_cfg is None or not owner_cfg.owns_cloud_lake:
            problems.append(
                f"{where}: that stack does not own the lake; fix: name the owner ({', '.join(owners)})"
            )
            continue
        for zone in cfg.access.read:
            if zone not in owner_cfg.zones:
                problems.append(
                    f"Pulumi.{stack}.yaml: dataops-platform:access.read = {zone!r}: the lake of "
                    f"{owner} has no such zone; fix: use one of {', '.join(owner_cfg.zones)}"
                )
    problems += _network_overlaps(cloud)
    problems += _sandbox_host(root, configs, broken)
    return problems


def _network_overlaps(cloud: dict[str, StackConfig]) -> list[str]:
    """Two clusters' VPCs (or one's service range and another's VPC) must not overlap: peering,
    a transit gateway or a VPN that joins them later cannot route overlapping ranges."""
    ranges = []
    for stack, cfg in sorted(cloud.items()):
        if cfg.cluster.mode != "eks" or cfg.cluster.network.existing is not None:
            continue  # an existing VPC's range is its owner's to plan
        network = cfg.cluster.network
        ranges.append((stack, "cluster.network.vpcCidr", ipaddress.ip_network(network.vpc_cidr)))
        if network.service_cidr:
            ranges.append((stack, "cluster.network.serviceCidr", ipaddress.ip_network(network.service_cidr)))
    out = []
    for i, (stack, key, net) in enumerate(ranges):
        for other, other_key, other_net in ranges[:i]:
            if other == stack or ("serviceCidr" in key and "serviceCidr" in other_key):
                continue  # a stack's own ranges are checked with the stack; service ranges are per cluster
            if net.overlaps(other_net):
                out.append(
                    f"Pulumi.{stack}.yaml: dataops-platform:{key} = {str(net)!r}: overlaps {other}'s "
                    f"{other_key.rsplit('.', 1)[-1]} {other_net}; fix: give each stack its own range "
                    "(e.g. 10.40.0.0/16, 10.41.0.0/16, 10.42.0.0/16)"
                )
    return out


def _sandbox_host(root: Path, configs: dict[str, StackConfig], broken: set[str]) -> list[str]:
    """The sandbox template's host stack exists and lets sandboxes use its cluster."""
    from dataops.sandbox import TEMPLATE, load_template

    try:
        host = str(((load_template(root).get("dataops-platform:sandbox") or {}).get("hostStack")) or "")
    except PlanError as exc:
        return exc.lines
    short = host.split("/")[-1]
    if short in broken:
        return []
    cfg = configs.get(short)
    where = f"{TEMPLATE}: dataops-platform:sandbox.hostStack = {host!r}"
    if cfg is None:
        return [f"{where}: not a stack of this project; fix: name one of {', '.join(sorted(configs))}"]
    if not cfg.hosts_sandboxes:
        return [
            f"{where}: stack {short} does not host sandboxes; fix: host them on dev "
            f"(or set cluster.hostSandboxes: true in Pulumi.{short}.yaml, never prod)"
        ]
    return []
