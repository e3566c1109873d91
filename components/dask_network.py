"""The network policies of the Dask gateway and the clusters it starts: what Dask needs beyond a
team namespace's default-deny, DNS, lake and Pod Identity rules (components/team_namespace.py).
Flows, ports and labels as traced in dask-gateway 2026.3.0's Kubernetes backend (its API server,
controller and traefik routes; the scheduler's callbacks to the API server), and the labels its
controller gives the pods it makes (`make_pod`). tests/components/test_dask_network.py judges
every flow with a small evaluator, also between the pods dask-gateway's own code makes.
"""

from __future__ import annotations

from typing import Any

import pulumi

RELEASE = "dask-gateway"  # the chart's fullname: services api-dask-gateway, traefik-dask-gateway
HUB_API_PORT = 8081
GATEWAY_PORT = 8000  # the API server's and traefik's container port
SCHEDULER_PORT, DASHBOARD_PORT, SCHEDULER_API_PORT = 8786, 8787, 8788
COMPONENT = "app.kubernetes.io/component"
INSTANCE = "gateway.dask.org/instance"


def _pods(component: str) -> dict[str, Any]:
    return {"podSelector": {"matchLabels": {INSTANCE: RELEASE, COMPONENT: component}}}


def _hub_pods(component: str) -> dict[str, Any]:
    """Pods of the Zero to JupyterHub chart (its `component` label)."""
    return {"podSelector": {"matchLabels": {"component": component}}}


def _tcp(*ports: int) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": port} for port in ports]


def network_policies(api_server_cidrs: pulumi.Input[list[str]]) -> dict[str, dict[str, Any]]:
    """What Dask needs beyond the namespace's default-deny, DNS, lake and Pod Identity rules
    (components/team_namespace.py); flows from dask-gateway's Kubernetes backend (api, controller,
    traefik routes) as traced in its 2026.3.0 source. Workers talk to each other and to their
    scheduler on ports they choose at start, so those rules name no port."""
    api_server = pulumi.Output.from_input(api_server_cidrs).apply(
        lambda cidrs: [{"to": [{"ipBlock": {"cidr": c}} for c in cidrs], "ports": _tcp(443)}]
    )
    scheduler, worker, api, traefik = (
        _pods(c) for c in ("dask-scheduler", "dask-worker", "gateway", "traefik")
    )
    notebooks, hub, proxy = (_hub_pods(c) for c in ("singleuser-server", "hub", "proxy"))
    # The hub chart's own policies admit some of these flows too; these do not rely on them.
    return {
        # Notebooks are the clients (the gateway's API and their schedulers, both through
        # traefik); the hub's proxy routes dashboards there and the hub checks the service.
        "dask-clients": {
            "podSelector": {
                "matchExpressions": [
                    {"key": "component", "operator": "In", "values": ["singleuser-server", "proxy", "hub"]}
                ]
            },
            "policyTypes": ["Egress"],
            "egress": [{"to": [traefik], "ports": _tcp(GATEWAY_PORT)}],
        },
        # The gateway checks each user's token with the hub.
        "dask-hub-api": {
            **hub,
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [api], "ports": _tcp(HUB_API_PORT)}],
        },
        "dask-gateway-proxy": {
            **traefik,
            "policyTypes": ["Ingress", "Egress"],
            # notebooks; the hub's proxy (dashboards under /services/dask-gateway/); the hub (its
            # service check)
            "ingress": [
                {
                    "from": [notebooks, proxy, hub],
                    "ports": _tcp(GATEWAY_PORT),
                }
            ],
            "egress": pulumi.Output.from_input(api_server).apply(
                lambda kube: [
                    {"to": [api], "ports": _tcp(GATEWAY_PORT)},
                    {"to": [scheduler], "ports": _tcp(SCHEDULER_PORT, DASHBOARD_PORT)},
                    *kube,
                ]
            ),
        },
        "dask-gateway-api": {
            **api,
            "policyTypes": ["Ingress", "Egress"],
            # traefik forwards the clients' calls; schedulers send heartbeats and idle shutdowns
            "ingress": [{"from": [traefik, scheduler], "ports": _tcp(GATEWAY_PORT)}],
            "egress": pulumi.Output.from_input(api_server).apply(
                lambda kube: [
                    {"to": [hub], "ports": _tcp(HUB_API_PORT)},  # checks users' tokens
                    {"to": [scheduler], "ports": _tcp(SCHEDULER_API_PORT)},  # scale and adapt
                    *kube,
                ]
            ),
        },
        "dask-gateway-controller": {
            **_pods("controller"),
            "policyTypes": ["Ingress", "Egress"],
            "egress": api_server,
        },
        "dask-schedulers": {
            **scheduler,
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {"from": [traefik, worker], "ports": _tcp(SCHEDULER_PORT)},
                {"from": [traefik], "ports": _tcp(DASHBOARD_PORT)},
                {"from": [api], "ports": _tcp(SCHEDULER_API_PORT)},
            ],
            "egress": [{"to": [api], "ports": _tcp(GATEWAY_PORT)}, {"to": [worker]}],
        },
        "dask-workers": {
            **worker,
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [scheduler, worker]}],
            "egress": [{"to": [scheduler], "ports": _tcp(SCHEDULER_PORT)}, {"to": [worker]}],
        },
    }
