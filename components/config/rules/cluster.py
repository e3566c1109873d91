"""Rules of the cluster the platform creates or adopts: its version, access, network, node
groups, and the team namespaces on it."""

from __future__ import annotations

import ipaddress
import re
from functools import cache
from pathlib import Path

import yaml
from pydantic.alias_generators import to_camel

from components.config.base import CONTROL_PLANE_LOGS, DNS_LABEL_RE, KUBERNETES_VERSIONS
from components.config.errors import MISSING
from components.config.rules.ci import ci_rules, role_arn
from components.config.rules.common import PRIVATE_RANGES, Add, parse_cidr
from components.config.rules.network import network_rules
from components.config.stack import StackConfig
from components.config.units import cpu_cores, memory_gib

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")

PRICES = Path(__file__).resolve().parents[3] / "estimates" / "prices.yaml"


@cache
def instance_sizes() -> dict[str, tuple[float, float]]:
    """The EC2 instance types the price table lists, with their vCPUs and GiB: the maintained
    list of types a node group may use, so a typo fails here rather than in EKS, and every node
    is priced and its room known."""
    ec2 = (yaml.safe_load(PRICES.read_text(encoding="utf-8")) or {}).get("ec2") or {}
    return {t: (float(s["vcpu"]), float(s["memGiB"])) for t, s in ec2.items() if isinstance(s, dict)}


def known_instance_types() -> frozenset[str]:
    return frozenset(instance_sizes())


def cluster_rules(cfg: StackConfig, add: Add) -> None:
    c = cfg.cluster
    if cfg.environment in ("local", "sandbox"):  # no cluster of their own (sandboxes use the host's)
        return
    if c.kubernetes_version not in KUBERNETES_VERSIONS:
        add(
            "cluster.kubernetesVersion",
            c.kubernetes_version,
            "not a Kubernetes version EKS supports",
            f"use one of {', '.join(KUBERNETES_VERSIONS)}",
        )
    for i, team in enumerate(cfg.teams):
        if not DNS_LABEL_RE.match(team.name) or team.name in ("default", "kube-system", cfg.hub_namespace):
            add(
                f"teams[{i}].name",
                team.name,
                "team names become namespace names",
                "use a DNS label (lowercase letters, digits, hyphens) that is neither a system namespace "
                "nor the hub's (hubNamespace)",
            )
    names = [t.name for t in cfg.teams]
    for name in sorted({n for n in names if names.count(n) > 1}):
        add("teams", name, "listed twice", "list each team once")
    if not DNS_LABEL_RE.match(cfg.hub_namespace) or cfg.hub_namespace in SYSTEM_NAMESPACES:
        add(
            "hubNamespace",
            cfg.hub_namespace,
            "not a DNS label, or a system namespace",
            "use lowercase letters, digits and hyphens, e.g. jupyterhub",
        )
    for i, team in enumerate(cfg.teams):
        q = team.quota
        for key in ("cpu", "default_cpu"):
            if cpu_cores(getattr(q, key)) is None:
                add(
                    f"teams[{i}].quota.{to_camel(key)}",
                    getattr(q, key),
                    "not a CPU quantity",
                    'write cores or millicores, e.g. "4" or "500m"',
                )
        for key in ("memory", "storage", "default_memory"):
            if memory_gib(getattr(q, key)) is None:
                add(
                    f"teams[{i}].quota.{to_camel(key)}", getattr(q, key), "not a size", 'write it like "64Gi"'
                )

    if c.mode == "existing":
        if cfg.kubeconfig is None and (c.existing is None or c.existing.context is None):
            add(
                "cluster.existing",
                MISSING,
                "an existing cluster needs a way in",
                "set cluster.existing.context, or `pulumi config set --secret kubeconfig < file`",
            )
        if (
            c.existing is not None
            and c.existing.oidc_provider_arn is not None
            and not re.match(r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/.+$", c.existing.oidc_provider_arn)
        ):
            add(
                "cluster.existing.oidcProviderArn",
                c.existing.oidc_provider_arn,
                "not an IAM OIDC provider ARN",
                "copy it from `aws iam list-open-id-connect-providers`",
            )
        if c.network.existing is not None:
            add(
                "cluster.network.existing",
                c.network.existing.vpc_id,
                "an existing cluster already has its network",
                "remove cluster.network.existing (it places a cluster the platform creates)",
            )
        return
    if cfg.kubeconfig is not None or c.existing is not None:
        add(
            "cluster.mode",
            "eks",
            "kubeconfig / cluster.existing apply only to existing clusters",
            "set cluster.mode to existing, or remove them",
        )
    if not c.admin_roles:
        add(
            "cluster.adminRoles",
            [],
            "nobody could administer the cluster",
            "list at least one IAM role ARN for cluster-admin access",
        )
    for role in c.admin_roles:
        role_arn(role, "cluster.adminRoles", add)
    ci_rules(cfg, add)

    network_rules(cfg, add)
    public: list[ipaddress.IPv4Network] = []
    for cidr in c.public_access_cidrs:
        block = parse_cidr(cidr, "cluster.publicAccessCidrs", add)
        if block is None:
            continue
        if block.prefixlen == 0:
            add(
                "cluster.publicAccessCidrs",
                cidr,
                "opens the API endpoint to the whole internet",
                "list your office or VPN ranges instead",
            )
        elif any(block.subnet_of(r) for r in PRIVATE_RANGES):
            add(
                "cluster.publicAccessCidrs",
                cidr,
                "a private range never reaches the public endpoint",
                "list public ranges; private clients use the private endpoint",
            )
        for other in public:
            if block.overlaps(other):
                add("cluster.publicAccessCidrs", cidr, f"overlaps {other}", "merge or remove one of them")
        public.append(block)

    for key, group in (
        ("systemNodes", c.system_nodes),
        ("notebookNodes", c.notebook_nodes),
        ("gpuNodes", c.gpu_nodes),
    ):
        if not group.min_size <= group.desired_size <= group.max_size:
            add(
                f"cluster.{key}",
                group.model_dump(by_alias=True, include={"min_size", "desired_size", "max_size"}),
                "sizes must satisfy minSize <= desiredSize <= maxSize",
                "adjust the three sizes",
            )
        if not group.instance_types:
            add(f"cluster.{key}.instanceTypes", [], "no instance type", "list at least one, e.g. m6i.large")
        known = known_instance_types()
        for instance_type in group.instance_types:
            if instance_type not in known:
                add(
                    f"cluster.{key}.instanceTypes",
                    instance_type,
                    f"not an instance type the platform knows ({', '.join(sorted(known))})",
                    "correct the spelling, or add it and its hourly price under ec2 in estimates/prices.yaml",
                )
    if c.system_nodes.min_size < 1:
        add(
            "cluster.systemNodes.minSize",
            c.system_nodes.min_size,
            "add-ons need at least one system node",
            "set minSize to 1 or more",
        )

    if cfg.environment == "prod":
        if c.public_access_cidrs:
            add(
                "cluster.publicAccessCidrs",
                c.public_access_cidrs,
                "prod's API endpoint is private only",
                "remove cluster.publicAccessCidrs (reach prod through the VPC or a bastion)",
            )
        if sorted(c.log_types) != sorted(CONTROL_PLANE_LOGS):
            add(
                "cluster.logTypes",
                c.log_types,
                "prod records every control-plane log type",
                "remove cluster.logTypes (the default is all of them)",
            )
