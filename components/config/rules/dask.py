"""Rules of the Dask clusters users start from the hub: worker sizes within their caps, per-user
caps that leave room for a scheduler and the largest worker, workers that fit a notebook node,
and the hub namespace's quota (which counts every worker) above one user's caps."""

from __future__ import annotations

from components.config.rules.cluster import instance_sizes
from components.config.rules.common import Add
from components.config.stack import StackConfig
from components.config.units import cpu_cores, memory_gib
from components.config.workloads import DASK_SCHEDULER_CORES, DASK_SCHEDULER_MEMORY_GIB

KEY = "notebooks.dask"


def dask_rules(cfg: StackConfig, add: Add) -> None:
    if not cfg.runs_dask_gateway:
        return
    d = cfg.notebooks.dask
    quota = cfg.hub_team().quota
    smallest = _smallest_notebook_node(cfg)
    # (what, unit, a worker's default, its most, per-user cap, the scheduler's share, node room, quota)
    for what, unit, default, most, per_user, scheduler, node, quota_value, quota_text in (
        (
            "Cores",
            "cores",
            d.worker_cores,
            d.worker_cores_max,
            d.max_cores_per_user,
            DASK_SCHEDULER_CORES,
            smallest[0] if smallest else None,
            cpu_cores(quota.cpu),
            quota.cpu,
        ),
        (
            "MemoryGib",
            "GiB",
            d.worker_memory_gib,
            d.worker_memory_gib_max,
            d.max_memory_gib_per_user,
            DASK_SCHEDULER_MEMORY_GIB,
            smallest[1] if smallest else None,
            memory_gib(quota.memory),
            quota.memory,
        ),
    ):
        worker, worker_max, user_cap = (
            f"{KEY}.worker{what}",
            f"{KEY}.worker{what}Max",
            f"{KEY}.max{what}PerUser",
        )
        if default > most:
            add(worker, default, f"above worker{what}Max ({most:g}), the most a worker may get", "lower it")
        per_cluster = per_user / d.max_clusters_per_user
        if per_cluster < scheduler + most:
            add(
                user_cap,
                per_user,
                f"each of {d.max_clusters_per_user} clusters would get {per_cluster:g} {unit}, too few for "
                f"its scheduler ({scheduler:g}) and one worker of {most:g}",
                f"raise it to {(scheduler + most) * d.max_clusters_per_user:g}, or lower maxClustersPerUser "
                f"or worker{what}Max",
            )
        if node is not None and most > node:
            add(
                worker_max,
                most,
                f"no notebook node has that many {unit} ({node:g})",
                "lower it, or use larger cluster.notebookNodes.instanceTypes",
            )
        # Workers run in the hub's namespace, whose quota counts them beside the notebook servers.
        if quota_value is not None and per_user > quota_value:
            add(
                user_cap,
                per_user,
                f"above the hub namespace's quota ({quota_text}), which would stop the clusters first",
                f"lower it to {quota_value:g} or less",
            )


def _smallest_notebook_node(cfg: StackConfig) -> tuple[float, float] | None:
    """(vCPUs, GiB) of the smallest notebook node type; None for an adopted cluster."""
    if cfg.cluster.mode != "eks":
        return None
    sizes = [instance_sizes()[t] for t in cfg.cluster.notebook_nodes.instance_types if t in instance_sizes()]
    return (min(s[0] for s in sizes), min(s[1] for s in sizes)) if sizes else None
