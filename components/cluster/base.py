"""What every kind of cluster gives the rest of the stack (the `Cluster` interface), and the
kubeconfig that reaches an EKS cluster with short-lived credentials."""

from __future__ import annotations

import json

import pulumi
import pulumi_kubernetes as k8s

from components.config import PRIVATE_CIDRS
from components.workload_identity import WorkloadIdentity

# One component type for every mode, so a stack's cluster keeps its URN whichever module builds it.
TYPE = "dataops:index:Cluster"

STORAGE_CLASS = "gp3-encrypted"
PLATFORM_LABELS = {"app.kubernetes.io/part-of": "dataops-platform"}


class Cluster(pulumi.ComponentResource):
    """The interface of every mode (eks.py, existing.py, host.py)."""

    provider: k8s.Provider
    """The Kubernetes provider every Kubernetes resource of the stack uses."""
    identity: WorkloadIdentity
    """How pods of this cluster get AWS credentials."""
    storage_class: str
    """The encrypted StorageClass for persistent volumes (homes)."""
    ready: list[pulumi.Resource]
    """What workloads must wait for: nodes, DNS and storage (nothing to wait for when adopted)."""
    api_server_cidrs: pulumi.Input[list[str]]
    """Where the API server's endpoints are, for pods that call it (NetworkPolicies see the
    endpoints' addresses, not the `kubernetes` service's). An adopted cluster's are unknown: the
    private ranges."""

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        self.api_server_cidrs = list(PRIVATE_CIDRS)

    def finish(self) -> None:
        """Register the outputs every mode shares (called last by each mode's constructor)."""
        self.register_outputs({"identity": self.identity.mode, "storageClass": self.storage_class})

    def exported(self) -> pulumi.Output[dict]:
        """The `cluster` stack output (sandboxes and tools read it)."""
        return pulumi.Output.all(
            mode="existing",
            name=None,
            arn=None,
            endpoint=None,
            certificateAuthority=None,
            identity=self.identity.mode,
            storageClass=self.storage_class,
            hostsSandboxes=False,
        )


def kubeconfig(endpoint: str, ca_data: str, cluster_name: str, region: str) -> str:
    """A kubeconfig that authenticates with `aws eks get-token` (short-lived, from the caller's
    AWS credentials), so no long-lived cluster credential is stored in the stack."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}
            ],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
            "current-context": cluster_name,
            "users": [
                {
                    "name": cluster_name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region],
                        }
                    },
                }
            ],
        }
    )
