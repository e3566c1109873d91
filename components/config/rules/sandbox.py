"""Rules of a sandbox stack: throw-away, nothing protected, scratch storage only, read-only on
curated data, small, never on prod's cluster, with a recorded lifetime."""

from __future__ import annotations

from components.config.base import NAME_RE
from components.config.errors import MISSING
from components.config.rules.common import Add
from components.config.stack import StackConfig
from components.config.units import cpu_cores, memory_gib, parse_time

# A sandbox's notebook server: enough to explore, small enough that one cannot crowd out the
# host's notebook nodes (an r6i.xlarge has 4 cores and 32 GiB).
SANDBOX_CPU = (0.25, 4.0)
SANDBOX_MEMORY_GIB = (0.5, 16.0)


def sandbox_rules(cfg: StackConfig, add: Add) -> None:
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
            MISSING,
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
                value if value else MISSING,
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
                f"a lifetime of {hours:g} hours exceeds maxTtlHours ({box.max_ttl_hours})",
                "use an earlier expiresAt",
            )
