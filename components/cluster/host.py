"""Sandboxes: the cluster of their host stack (dev by default), read through a stack
reference and reached with the caller's AWS credentials; a sandbox creates nothing at the
cluster level."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.base import STORAGE_CLASS, Cluster, kubeconfig
from components.config import StackConfig
from components.workload_identity import WorkloadIdentity


@dataclass
class HostClusterArgs:
    host: pulumi.Output[dict]
    """The host stack's `cluster` output (see `EksCluster.exported`)."""
    namespace: str
    """The sandbox's own namespace, the only one its pods run in."""
    region: str

    @staticmethod
    def from_config(cfg: StackConfig, host_cluster: pulumi.Output[dict]) -> HostClusterArgs:
        return HostClusterArgs(host=host_cluster, namespace=cfg.stack, region=cfg.region)


def usable(c: dict) -> dict:
    """The host's cluster output, if sandboxes may run there; otherwise the run fails."""
    # Pod Identity associations need an EKS cluster that this account created.
    if c.get("mode") != "eks" or c.get("identity") != "pod-identity":
        raise pulumi.RunError(
            "the sandbox's host stack does not run an EKS cluster with Pod Identity "
            f"(its cluster output is mode={c.get('mode')!r}); host sandboxes on an eks-mode stack"
        )
    if c.get("hostsSandboxes") is not True:
        raise pulumi.RunError(
            "the sandbox's host stack does not host sandboxes (its cluster output says "
            "hostsSandboxes is not true); host sandboxes on dev"
        )
    return c


class HostCluster(Cluster):
    def __init__(self, name: str, args: HostClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, opts)
        checked = args.host.apply(usable)
        self.provider = k8s.Provider(
            f"{name}-provider",
            kubeconfig=checked.apply(
                lambda c: kubeconfig(c["endpoint"], c["certificateAuthority"], c["name"], args.region)
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.identity = WorkloadIdentity(
            mode="pod-identity",
            cluster_name=checked["name"],
            cluster_arn=checked["arn"],
            namespaces=[args.namespace],
        )
        self.storage_class = STORAGE_CLASS
        self.ready = []
        self.finish()
