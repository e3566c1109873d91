"""A cluster the organisation already runs: the stack installs into it through a kubeconfig
(a secret) and creates nothing at the cluster level."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.base import Cluster
from components.config import ExistingClusterConfig, StackConfig
from components.workload_identity import WorkloadIdentity


@dataclass
class ExistingClusterArgs:
    existing: ExistingClusterConfig
    kubeconfig: pulumi.Input[str] | None
    """None: the kubeconfig of whoever runs `pulumi up` (with `existing.context`)."""
    team_namespaces: list[str]

    @staticmethod
    def from_config(cfg: StackConfig) -> ExistingClusterArgs:
        return ExistingClusterArgs(
            existing=cfg.cluster.existing or ExistingClusterConfig(),
            kubeconfig=(
                pulumi.Output.secret(cfg.kubeconfig.get_secret_value())
                if cfg.kubeconfig is not None
                else None
            ),
            team_namespaces=cfg.workload_namespaces(),
        )


class ExistingCluster(Cluster):
    def __init__(self, name: str, args: ExistingClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, opts)
        existing = args.existing
        self.provider = k8s.Provider(
            f"{name}-provider",
            kubeconfig=args.kubeconfig,
            context=existing.context,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.identity = WorkloadIdentity(
            mode="irsa" if existing.oidc_provider_arn else "none",
            oidc_provider_arn=existing.oidc_provider_arn,
            namespaces=args.team_namespaces,
        )
        self.storage_class = existing.storage_class
        self.ready = []
        self.finish()
