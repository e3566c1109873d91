"""The scheduler and worker pods the gateway creates at run time, built by dask-gateway-server's
own `KubeController.make_pod` (the chart's version, from the dev lock) from the values the plan
passes to the chart: nothing in the cluster renders these pods before a user asks for a
cluster, so this is where a value that Kubernetes or Pod Security would refuse shows up.

The chart turns its values into the gateway's traitlets config in its gateway ConfigMap
(resources/helm/dask-gateway/templates/gateway/configmap.yaml at the chart's tag: "Forward dask
cluster configuration", then `gateway.extraConfig` appended in key order, all one file). CHART_FIELDS
below is that mapping, as data; the platform's extraConfig runs unchanged.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from dask_gateway_server.backends.base import PublicException
from dask_gateway_server.backends.kubernetes.controller import KubeController
from dask_gateway_server.models import User
from dask_gateway_server.utils import FrozenAttrDict
from traitlets.config import Config

from components import dask_gateway as dg
from components import dask_network as net
from components.cluster.node_pools import POOL_LABEL
from components.workload_identity import SERVICE_ACCOUNT
from tests.components.test_dask_gateway import HUB, WITH_DASK, values
from tests.components.test_dask_network import FLOWS, NOTEBOOK, TRAEFIK
from tests.conftest import CONFIGS
from tests.netpol import Pod, can_connect
from tests.pod_security import violations

# KubeClusterConfig trait <- gateway.backend.<value>, as the chart's ConfigMap forwards them.
CHART_FIELDS = {
    "scheduler_cores": "scheduler.cores.request",
    "scheduler_cores_limit": "scheduler.cores.limit",
    "scheduler_memory": "scheduler.memory.request",
    "scheduler_memory_limit": "scheduler.memory.limit",
    "scheduler_extra_container_config": "scheduler.extraContainerConfig",
    "scheduler_extra_pod_config": "scheduler.extraPodConfig",
    "worker_cores": "worker.cores.request",
    "worker_cores_limit": "worker.cores.limit",
    "worker_memory": "worker.memory.request",
    "worker_memory_limit": "worker.memory.limit",
    "worker_threads": "worker.threads",
    "worker_extra_container_config": "worker.extraContainerConfig",
    "worker_extra_pod_config": "worker.extraPodConfig",
    "image_pull_policy": "image.pullPolicy",
    "environment": "environment",
    "namespace": "namespace",
}


def _get(tree: dict[str, Any], path: str) -> Any:
    for key in path.split("."):
        if not isinstance(tree, dict) or key not in tree:
            return None
        tree = tree[key]
    return tree


def gateway_config(chart_values: dict[str, Any]) -> Config:
    """The gateway's config as its config file builds it from the chart's values."""
    c = Config()
    backend = chart_values["gateway"]["backend"]
    c.KubeClusterConfig.image = f"{backend['image']['name']}:{backend['image']['tag']}"
    for trait, path in CHART_FIELDS.items():
        if (value := _get(backend, path)) is not None:
            setattr(c.KubeClusterConfig, trait, value)
    c.DaskGateway.backend_class = "dask_gateway_server.backends.kubernetes.KubeBackend"
    # One file: every block sees what the ones before it defined.
    extra = chart_values["gateway"]["extraConfig"]
    exec("\n".join(extra[key] for key in sorted(extra)), {"c": c})  # noqa: S102 - the plan's own code
    return c


def cluster_pods(stack_values: dict[str, Any], **options: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """(scheduler, worker) pods of a cluster a user asks for with `options`."""
    c = gateway_config(stack_values)
    backend = c.DaskGateway.backend_class(config=c)
    _, cluster_config = asyncio.run(backend.process_cluster_options(User("alice"), options))
    controller = KubeController(config=c)
    controller.gateway_instance = net.RELEASE
    controller.api_url = f"http://api-{net.RELEASE}.{HUB}:{net.GATEWAY_PORT}/api"
    # The controller reads the config back from the DaskCluster object, as plain data.
    spec = FrozenAttrDict(cluster_config.to_dict())
    return (
        controller.make_pod(HUB, "c0ffee", spec, is_worker=False),
        controller.make_pod(HUB, "c0ffee", spec, is_worker=True),
    )


@pytest.mark.parametrize("stack", WITH_DASK)
def test_the_pods_the_gateway_makes_pass_pod_security_restricted(plans, stack):
    for pod in cluster_pods(values(plans[stack])):
        assert violations(pod["spec"]) == [], pod["metadata"]["labels"][net.COMPONENT]


@pytest.mark.parametrize("stack", WITH_DASK)
def test_the_pods_run_the_stack_image_as_the_lake_role_with_the_lake_variables(plans, stack):
    plan = plans[stack]
    for pod in cluster_pods(values(plan)):
        spec = pod["spec"]
        assert spec["serviceAccountName"] == SERVICE_ACCOUNT
        assert spec["automountServiceAccountToken"] is True, "Pod Identity's token"
        (container,) = spec["containers"]
        assert container["image"] == plan.outputs["image"]["ref"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        lake = {k: v for k, v in env.items() if k.startswith("DATAOPS_")}
        assert lake and lake.items() <= values(plan)["gateway"]["backend"]["environment"].items()
        if CONFIGS[stack].cluster.mode == "eks":  # dedicated node pools
            assert spec["nodeSelector"] == {POOL_LABEL: "notebooks"}


@pytest.mark.parametrize("stack", WITH_DASK)
def test_a_worker_gets_the_size_asked_for_within_the_bounds(plans, stack):
    dask = CONFIGS[stack].notebooks.dask
    _, default = cluster_pods(values(plans[stack]))
    _, biggest = cluster_pods(
        values(plans[stack]), worker_cores=dask.worker_cores_max, worker_memory_gib=dask.worker_memory_gib_max
    )
    for pod, cores, memory in (
        (default, dask.worker_cores, dask.worker_memory_gib),
        (biggest, dask.worker_cores_max, dask.worker_memory_gib_max),
    ):
        resources = pod["spec"]["containers"][0]["resources"]
        assert resources["requests"] == resources["limits"], "Guaranteed: no overcommit of a node"
        assert float(resources["limits"]["cpu"]) == cores
        assert int(resources["limits"]["memory"]) == dg.gib(memory)
    with pytest.raises(PublicException, match="worker_cores must be <="):
        cluster_pods(values(plans[stack]), worker_cores=dask.worker_cores_max * 2)


def test_the_network_policies_select_the_pods_the_gateway_makes(plans):
    """Every flow of test_dask_gateway.py that involves a scheduler or a worker, between the pods
    make_pod really labels (the pods are created in the gateway's namespace, the hub's)."""
    plan = plans["prod"]
    real = {
        pod["metadata"]["labels"][net.COMPONENT]: Pod(HUB, pod["metadata"]["labels"])
        for pod in cluster_pods(values(plan))
    }
    assert set(real) == {"dask-scheduler", "dask-worker"}
    checked = 0
    for source, destination, port, allowed in FLOWS:
        source_real = real.get(source.labels.get(net.COMPONENT), source)
        destination_real = real.get(destination.labels.get(net.COMPONENT), destination)
        if (source_real, destination_real) != (source, destination):
            checked += 1
            assert can_connect(plan, source_real, destination_real, port) is allowed, (
                source,
                destination,
                port,
            )
    assert checked >= 10
    assert not can_connect(plan, NOTEBOOK, real["dask-scheduler"], net.SCHEDULER_PORT)
    assert can_connect(plan, TRAEFIK, real["dask-scheduler"], net.SCHEDULER_PORT)
