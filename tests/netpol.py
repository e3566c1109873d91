"""A small evaluator of Kubernetes NetworkPolicies (networking.k8s.io/v1), for judging what the
plan's policies let through rather than how they are written.

Semantics (Kubernetes docs, "Network Policies",
https://kubernetes.io/docs/concepts/services-networking/network-policies/): a pod is isolated
for a direction once any policy of its namespace selects it with that policy type; an isolated
pod's traffic in that direction is allowed when some selecting policy has a rule whose peers and
ports match (policies add up, they never subtract); a connection needs the source's egress and
the destination's ingress. Only the plan's own policies are judged: pods of the Zero to
JupyterHub chart also have that chart's policies, which can only allow more.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from dataops.plan_types import Plan


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Address:
    ip: str


Endpoint = Pod | Address


def policies(plan: Plan, namespace: str) -> list[dict[str, Any]]:
    return [
        r.inputs["spec"]
        for r in plan.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
        if r.inputs["metadata"]["namespace"] == namespace
    ]


def _selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    if selector is None:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _peer_matches(peer: dict[str, Any], own_namespace: str, other: Endpoint) -> bool:
    if "ipBlock" in peer:
        if not isinstance(other, Address):
            return False  # pod IPs in ipBlocks are not modelled: the plan never relies on them
        block = peer["ipBlock"]
        ip = ipaddress.ip_address(other.ip)
        return ip in ipaddress.ip_network(block["cidr"]) and not any(
            ip in ipaddress.ip_network(e) for e in block.get("except") or []
        )
    if not isinstance(other, Pod):
        return False
    if "namespaceSelector" in peer:
        namespace_ok = _selects(peer["namespaceSelector"], {"kubernetes.io/metadata.name": other.namespace})
    else:
        namespace_ok = other.namespace == own_namespace
    return namespace_ok and _selects(peer.get("podSelector"), other.labels)


def _ports_match(rule: dict[str, Any], port: int, protocol: str) -> bool:
    ports = rule.get("ports")
    if not ports:
        return True
    return any(p.get("protocol", "TCP") == protocol and p.get("port") in (None, port) for p in ports)


def _allowed(
    all_policies: list[dict[str, Any]], pod: Pod, direction: str, other: Endpoint, port: int, protocol: str
) -> bool:
    kind, rules_key, peers_key = (
        ("Egress", "egress", "to") if direction == "egress" else ("Ingress", "ingress", "from")
    )
    selecting = [
        p for p in all_policies if kind in p.get("policyTypes", []) and _selects(p["podSelector"], pod.labels)
    ]
    if not selecting:
        return True  # not isolated in this direction
    for policy in selecting:
        for rule in policy.get(rules_key) or []:
            peers = rule.get(peers_key)
            if (
                not peers or any(_peer_matches(peer, pod.namespace, other) for peer in peers)
            ) and _ports_match(rule, port, protocol):
                return True
    return False


def can_connect(
    plan: Plan, source: Endpoint, destination: Endpoint, port: int, protocol: str = "TCP"
) -> bool:
    """Whether the plan's policies let `source` open a connection to `destination` on `port`."""
    if isinstance(source, Pod) and not _allowed(
        policies(plan, source.namespace), source, "egress", destination, port, protocol
    ):
        return False
    return not isinstance(destination, Pod) or _allowed(
        policies(plan, destination.namespace), destination, "ingress", source, port, protocol
    )
