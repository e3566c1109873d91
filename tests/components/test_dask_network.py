"""The Dask gateway's network policies, judged flow by flow with tests/netpol.py on prod's plan:
what Dask needs gets through and nothing else. test_dask_gateway_pods.py runs the same flows
between the pods dask-gateway's own code makes."""

from __future__ import annotations

import pytest

from components import dask_network as net
from tests.conftest import CONFIGS
from tests.netpol import Address, Pod, can_connect

HUB = "jupyterhub"

NOTEBOOK = Pod(HUB, {"component": "singleuser-server", "app": "jupyterhub"})
HUB_POD = Pod(HUB, {"component": "hub", "app": "jupyterhub"})
PROXY = Pod(HUB, {"component": "proxy", "app": "jupyterhub"})


def dask_pod(component: str) -> Pod:
    return Pod(
        HUB, {net.INSTANCE: net.RELEASE, net.COMPONENT: component, "app.kubernetes.io/name": "dask-gateway"}
    )


TRAEFIK, API, CONTROLLER = dask_pod("traefik"), dask_pod("gateway"), dask_pod("controller")
SCHEDULER, WORKER = dask_pod("dask-scheduler"), dask_pod("dask-worker")
OTHER_TEAM = Pod("data-science", {"app": "anything"})

FLOWS = [
    # (source, destination, port, allowed)
    (NOTEBOOK, TRAEFIK, net.GATEWAY_PORT, True),  # the client: API and scheduler, through traefik
    (PROXY, TRAEFIK, net.GATEWAY_PORT, True),  # dashboards under /services/dask-gateway/
    (HUB_POD, TRAEFIK, net.GATEWAY_PORT, True),  # the hub's service check
    (TRAEFIK, API, net.GATEWAY_PORT, True),
    (TRAEFIK, SCHEDULER, net.SCHEDULER_PORT, True),
    (TRAEFIK, SCHEDULER, net.DASHBOARD_PORT, True),
    (API, HUB_POD, net.HUB_API_PORT, True),  # checking a user's token
    (API, SCHEDULER, net.SCHEDULER_API_PORT, True),  # scale and adapt
    (SCHEDULER, API, net.GATEWAY_PORT, True),  # heartbeats, idle shutdown
    (WORKER, SCHEDULER, net.SCHEDULER_PORT, True),
    (SCHEDULER, WORKER, 40123, True),  # workers listen on ports they choose
    (WORKER, WORKER, 40123, True),
    # and nothing else
    (NOTEBOOK, SCHEDULER, net.SCHEDULER_PORT, False),  # only through traefik, which checks the token
    (NOTEBOOK, API, net.GATEWAY_PORT, False),
    (NOTEBOOK, WORKER, 40123, False),
    (OTHER_TEAM, TRAEFIK, net.GATEWAY_PORT, False),
    (WORKER, API, net.GATEWAY_PORT, False),
    (WORKER, HUB_POD, net.HUB_API_PORT, False),
    (WORKER, NOTEBOOK, 8888, False),
    (SCHEDULER, HUB_POD, net.HUB_API_PORT, False),
    (TRAEFIK, WORKER, 40123, False),
    (CONTROLLER, SCHEDULER, net.SCHEDULER_PORT, False),
    (TRAEFIK, SCHEDULER, net.SCHEDULER_API_PORT, False),
]


@pytest.mark.parametrize(("source", "destination", "port", "allowed"), FLOWS)
def test_dask_flows(plans, source, destination, port, allowed):
    assert can_connect(plans["prod"], source, destination, port) is allowed


def test_the_gateway_reaches_the_api_server_in_its_vpc_and_workers_reach_aws_but_not_the_vpc(plans):
    plan = plans["prod"]
    vpc = CONFIGS["prod"].cluster.network.vpc_cidr
    inside = Address(vpc.replace("0/16", "5"))  # an address in the VPC: the API's endpoints are there
    for pod in (API, CONTROLLER, TRAEFIK):
        assert can_connect(plan, pod, inside, 443), pod
        assert not can_connect(plan, pod, Address("10.99.0.5"), 443), "only the stack's VPC"
    for pod in (SCHEDULER, WORKER):
        assert not can_connect(plan, pod, inside, 443), "the API server is not theirs to call"
        assert can_connect(plan, pod, Address("52.218.1.1"), 443), "S3 and STS, as notebooks"
        assert not can_connect(plan, pod, Address("169.254.169.254"), 80), "never the node's metadata"
