"""What the notebooks of the dataops platform share, shipped in the notebook image
(images/notebook/Dockerfile copies this package into the image's Python).

`cluster()` gives a Dask client the same way everywhere, so notebook code never asks where it
runs::

    import dask.dataframe as dd
    import dataops_notebook

    with dataops_notebook.cluster(maximum=8) as client:
        sales = dd.read_parquet("s3://.../sales/")
        sales.groupby("region").amount.sum().compute()
    # leaving the block shut the cluster down (scheduler and workers)

Without `with`, `client.shutdown()` does the same; `client.close()` closes only this client.

- On the hub (dev, test, prod), the hub gives every notebook the gateway's address in the dask
  config (`DASK_GATEWAY__*`, components/dask_gateway.py `hub_values`): a new cluster from the
  platform's Dask Gateway, whose schedulers and workers run this same image, with the notebook's
  access to the lake. The gateway holds it to the platform's limits (worker sizes, clusters and
  resources per user) and shuts it down after the stack's idle timeout.
- Anywhere else (the local stack, sandboxes): a `distributed.LocalCluster` of worker processes
  in this container, sized from the CPUs and memory this process may use.
"""

from __future__ import annotations

import atexit
import json
import math
from typing import Any

import dask.config
from dask.system import CPU_COUNT
from distributed import Client, LocalCluster
from distributed.deploy.utils import nprocesses_nthreads
from distributed.system import MEMORY_LIMIT

__all__ = ["ClusterClient", "cluster"]

GIB = 2**30
# The kernel and the Jupyter server share the container's memory with the local workers. A
# worker's nanny restarts it before it reaches its own limit (`distributed.worker.memory.terminate`,
# 0.95 by default), but nothing guards the kernel, so the workers get this share between them.
LOCAL_MEMORY_SHARE = 0.75


class ClusterClient(Client):
    """A `distributed.Client` that owns its cluster: `shutdown()`, or leaving a `with` block,
    closes the client and stops the cluster's scheduler and workers; `close()` closes only the
    client. The cluster is `client.cluster`."""

    def shutdown(self) -> None:
        # Client.shutdown awaits `cluster.close()` on the client's event loop, which a
        # GatewayCluster (sync API) does not support; closing the client first and then the
        # cluster, from this thread, works for both kinds. A GatewayCluster's `close()` keeps it
        # running on the gateway when it was asked to outlive the kernel; `shutdown()` stops it.
        owned = self.cluster
        self.close()
        if owned is not None:
            getattr(owned, "shutdown", owned.close)()

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        super().__exit__(exc_type, exc_value, traceback)
        self.shutdown()


def gateway_address() -> str | None:
    """The gateway's address from the dask config (`gateway.address`), None without one."""
    return dask.config.get("gateway.address", default=None)


def cluster(
    workers: int | None = None,
    *,
    minimum: int = 1,
    maximum: int | None = None,
    worker_cores: float | None = None,
    worker_memory_gib: float | None = None,
    stop_with_kernel: bool = True,
) -> ClusterClient:
    """A client connected to a new Dask cluster of this environment, set as the default, so
    `.compute()` runs there.

    `workers`: that many workers; otherwise adaptive between `minimum` and `maximum` (None: as
    many as the platform allows one cluster). `worker_cores`, `worker_memory_gib`: each worker's
    size (None: the platform's default); the gateway refuses sizes beyond the platform's bounds.
    Locally, the cluster never takes more than this container has: at most one worker per core
    it may use (`worker_cores` threads each), the workers' memory within its memory limit.
    `stop_with_kernel=False`: a gateway cluster outlives this kernel (and its notebook server)
    until `client.shutdown()` or the platform's idle timeout; a local one cannot.
    """
    if gateway_address() is not None:
        return _gateway_cluster(workers, minimum, maximum, worker_cores, worker_memory_gib, stop_with_kernel)
    return _local_cluster(workers or maximum, worker_cores, worker_memory_gib)


def _gateway_cluster(
    workers: int | None,
    minimum: int,
    maximum: int | None,
    worker_cores: float | None,
    worker_memory_gib: float | None,
    stop_with_kernel: bool,
) -> ClusterClient:
    # Imported here: the local path needs no gateway client.
    from dask_gateway import GatewayCluster

    # The option names are the ones the platform's gateway offers (components/dask_gateway.py,
    # LIMITS_CODE); what is not given keeps the gateway's default. A refusal (a size beyond the
    # bounds, a user already at their cluster limit) raises here with the gateway's reason.
    asked = {"worker_cores": worker_cores, "worker_memory_gib": worker_memory_gib}
    options = {name: value for name, value in asked.items() if value is not None}
    gateway = _gateway()
    name = gateway.submit(**options)
    try:
        # Its own client and event loop, closed with the cluster. Not `gateway.new_cluster()`:
        # that cluster shares the gateway's event loop, and one that fails to start is left
        # half-made, its client closing itself on that same loop when garbage-collected, which
        # never returns (a hung kernel).
        # shutdown_on_close: dask_gateway closes its clusters when the kernel exits (an atexit
        # hook), and a notebook server that stops shuts its kernels down first.
        new = GatewayCluster.from_name(name, shutdown_on_close=stop_with_kernel)
    except BaseException:
        gateway.stop_cluster(name)
        raise
    try:
        if workers is not None:
            new.scale(workers)
        else:
            new.adapt(minimum=minimum, maximum=maximum)
        return ClusterClient(new, security=new.security, loop=new.loop)
    except BaseException:
        new.shutdown()
        raise


# One gateway client per gateway configuration for the kernel's life, closed when it exits.
_GATEWAYS: dict[str, Any] = {}


def _gateway() -> Any:
    from dask_gateway import Gateway

    class OnceClosedGateway(Gateway):
        """Closes once: dask_gateway 2026.3.0's finaliser closes a closed Gateway again and fails
        (its event loop is gone)."""

        closed = False

        def close(self) -> None:
            if not self.closed:
                self.closed = True
                super().close()

    key = json.dumps(dask.config.get("gateway"), sort_keys=True, default=str)
    if key not in _GATEWAYS:
        if not _GATEWAYS:
            atexit.register(_close_gateways)
        _GATEWAYS[key] = OnceClosedGateway()
    return _GATEWAYS[key]


def _close_gateways() -> None:
    while _GATEWAYS:
        _, gateway = _GATEWAYS.popitem()
        gateway.close()


def _local_cluster(
    workers: int | None, worker_cores: float | None, worker_memory_gib: float | None
) -> ClusterClient:
    if worker_cores is not None:
        threads = max(1, min(math.floor(worker_cores), CPU_COUNT))
        count = max(1, min(CPU_COUNT // threads, workers or CPU_COUNT))
    elif workers is not None:
        # The CPUs shared among the workers, rounded up as LocalCluster does for n_workers alone.
        count = max(1, min(workers, CPU_COUNT))
        threads = math.ceil(CPU_COUNT / count)
    else:
        # distributed's own split of the CPUs into processes and threads (LocalCluster's default).
        count, threads = nprocesses_nthreads(CPU_COUNT)
    memory = int(MEMORY_LIMIT * LOCAL_MEMORY_SHARE / count)
    if worker_memory_gib is not None:
        memory = min(memory, int(worker_memory_gib * GIB))
    local = LocalCluster(n_workers=count, threads_per_worker=threads, memory_limit=memory, processes=True)
    try:
        return ClusterClient(local)
    except BaseException:
        local.close()
        raise
