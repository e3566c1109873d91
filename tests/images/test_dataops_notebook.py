"""dataops_notebook.cluster()'s choices, without starting a cluster: which kind of cluster, and
how a local one is sized from what this container may use. tests/test_dask_real.py runs both
kinds for real."""

from __future__ import annotations

from typing import Any

import dask.config
import pytest

from tests.images.helper import load_dataops_notebook

notebook = load_dataops_notebook()
GIB = 2**30


class Recorded:
    """Stands in for LocalCluster and the client: records what the helper asked for."""

    def __init__(self, *args: Any, **kwargs: Any):
        self.args, self.kwargs = args, kwargs


@pytest.fixture
def local(monkeypatch):
    """cluster() on a container with `cpus` CPUs and `memory` bytes: the LocalCluster arguments."""

    def sized(cpus: int, memory: int, **asked: Any) -> dict[str, Any]:
        monkeypatch.setattr(notebook, "CPU_COUNT", cpus)
        monkeypatch.setattr(notebook, "MEMORY_LIMIT", memory)
        monkeypatch.setattr(notebook, "LocalCluster", Recorded)
        monkeypatch.setattr(notebook, "ClusterClient", Recorded)
        with dask.config.set({"gateway.address": None}):
            client = notebook.cluster(**asked)
        (cluster,) = client.args
        return cluster.kwargs

    return sized


def test_without_a_gateway_the_cluster_is_local(local):
    # distributed's own split for 2 CPUs: two one-thread processes; 3/4 of the memory between them.
    assert local(2, 8 * GIB) == {
        "n_workers": 2,
        "threads_per_worker": 1,
        "memory_limit": 3 * GIB,
        "processes": True,
    }


@pytest.mark.parametrize(
    ("cpus", "memory", "asked", "workers", "threads", "worker_memory"),
    [
        (2, 8 * GIB, {"workers": 8}, 2, 1, 3 * GIB),  # never more workers than CPUs
        (2, 8 * GIB, {"maximum": 8}, 2, 1, 3 * GIB),  # nor adaptive's maximum
        (8, 8 * GIB, {"workers": 1}, 1, 8, 6 * GIB),  # fewer workers, each a bigger share
        (8, 8 * GIB, {"workers": 3}, 3, 3, 2 * GIB),  # threads rounded up, as LocalCluster does
        (8, 16 * GIB, {"worker_cores": 2, "workers": 2}, 2, 2, 6 * GIB),
        (8, 16 * GIB, {"worker_cores": 2}, 4, 2, 3 * GIB),  # cores per worker: threads
        (2, 8 * GIB, {"worker_cores": 4}, 1, 2, 6 * GIB),  # never more threads than CPUs
        (2, 8 * GIB, {"worker_memory_gib": 1}, 2, 1, 1 * GIB),  # asked for less: less
        (2, 8 * GIB, {"worker_memory_gib": 64}, 2, 1, 3 * GIB),  # asked for more: what fits
    ],
)
def test_a_local_cluster_fits_the_container(local, cpus, memory, asked, workers, threads, worker_memory):
    kwargs = local(cpus, memory, **asked)
    assert (kwargs["n_workers"], kwargs["threads_per_worker"]) == (workers, threads)
    assert kwargs["memory_limit"] == worker_memory
    assert kwargs["n_workers"] * kwargs["memory_limit"] <= memory * notebook.LOCAL_MEMORY_SHARE


def test_with_a_gateway_address_the_cluster_comes_from_the_gateway(monkeypatch):
    asked: list[tuple[Any, ...]] = []
    monkeypatch.setattr(notebook, "_gateway_cluster", lambda *args: asked.append(args) or "gateway")
    monkeypatch.setattr(notebook, "_local_cluster", lambda *args: pytest.fail("started a local cluster"))
    # What the hub sets for every notebook (components/dask_gateway.py hub_values), as dask reads it.
    with dask.config.set({"gateway.address": "http://traefik-dask-gateway.hub/services/dask-gateway"}):
        assert notebook.cluster(3, worker_cores=2.0) == "gateway"
    assert asked == [(3, 1, None, 2.0, None, True)]
