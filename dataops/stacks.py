"""Rules across the shipped stacks: one lake owner among the cloud stacks, consumers that point
at it and read only zones it has."""

from __future__ import annotations

from pathlib import Path

from components.config import StackConfig
from dataops import stack_files
from dataops.plan import PlanError, load_config


def load_all(root: Path) -> tuple[dict[str, StackConfig], list[str]]:
    configs: dict[str, StackConfig] = {}
    problems: list[str] = []
    for stack in stack_files.known_stacks(root):
        try:
            configs[stack] = load_config(stack, root)[1]
        except PlanError as exc:
            problems += exc.lines
    return configs, problems


def check_all(root: Path) -> list[str]:
    configs, problems = load_all(root)
    cloud = {s: c for s, c in configs.items() if c.environment != "local"}
    owners = sorted(s for s, c in cloud.items() if c.owns_cloud_lake)
    if len(owners) != 1 and not problems:
        problems.append(
            f"Pulumi.*.yaml: dataops-platform:lake.role: {len(owners)} cloud stacks own the lake "
            f"({', '.join(owners) or 'none'}); fix: exactly one stack sets lake.role: owner"
        )
    for stack, cfg in sorted(cloud.items()):
        if cfg.lake.role != "consumer":
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
    return problems
