"""PolicyEngine: Calico in policy-only mode, so the namespaces' NetworkPolicies hold for every
pod — the notebook servers included.

The VPC CNI's own network-policy agent applies policies only to pods that belong to a
Deployment: "Standalone Pods that don't have a metadata.ownerReferences set can't have network
policies applied to them" (EKS user guide, "Limit Pod traffic with Kubernetes network policies",
https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy.html; aws/aws-network-policy-agent#327).
KubeSpawner's user pods are standalone. Calico enforces policies on every pod while the VPC CNI
keeps doing pod networking ("Install EKS with Amazon VPC networking", Calico documentation,
https://docs.tigera.io/calico/latest/getting-started/kubernetes/managed-public-cloud/eks); the
CNI's own agent must then be off, and the CNI must annotate pod IPs (the Cluster component sets
both on the vpc-cni add-on). Operators of JupyterHub on EKS run it this way for the same reason.

Installed with `helm.v4.Chart` from the Tigera operator's charts: the CRDs (their own chart since
Calico 3.32) and then the operator, which creates `calico-system` itself. The chart's one Helm
hook, a pre-delete clean-up Job, is skipped by v4; tearing down a cluster removes Calico with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.pod_security import namespace_labels

TYPE = "dataops:index:PolicyEngine"
CHART_REPOSITORY = "https://docs.tigera.io/calico/charts"
CRD_CHART = "crd.projectcalico.org.v1"
OPERATOR_CHART = "tigera-operator"
# Pinned: an upgrade is a reviewed change of this line. v3.32.1 is the newest release whose
# charts were rendered and checked when this was written (objects valid for Kubernetes 1.35).
CHART_VERSION = "v3.32.1"
NAMESPACE = "tigera-operator"
# The one namespace below `restricted`: the operator Deployment runs with hostNetwork and a
# hostPath volume (/var/lib/calico), which only `privileged` admits. The operator labels the
# namespace it creates for calico-node (`calico-system`) privileged itself.
PRIVILEGED = namespace_labels("privileged")


@dataclass
class PolicyEngineArgs:
    labels: dict[str, str]


class PolicyEngine(pulumi.ComponentResource):
    operator: k8s.helm.v4.Chart
    """The Tigera operator chart (its Installation makes the operator deploy Calico)."""

    def __init__(
        self,
        name: str,
        args: PolicyEngineArgs,
        provider: k8s.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(TYPE, name, None, opts)
        on_cluster = pulumi.ResourceOptions(parent=self, provider=provider)
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": NAMESPACE, "labels": {**args.labels, **PRIVILEGED}},
            opts=on_cluster,
        )
        crds = k8s.helm.v4.Chart(
            f"{name}-crds",
            chart=CRD_CHART,
            version=CHART_VERSION,
            repository_opts={"repo": CHART_REPOSITORY},
            opts=on_cluster,
        )
        self.operator = k8s.helm.v4.Chart(
            f"{name}-operator",
            chart=OPERATOR_CHART,
            version=CHART_VERSION,
            repository_opts={"repo": CHART_REPOSITORY},
            namespace=NAMESPACE,
            values=operator_values(),
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[namespace, crds]),
        )
        self.register_outputs({"namespace": NAMESPACE})


def operator_values() -> dict[str, Any]:
    return {
        "installation": {
            "kubernetesProvider": "EKS",
            "cni": {"type": "AmazonVPC"},  # the VPC CNI keeps pod networking; Calico enforces policy
            "calicoNetwork": {"bgp": "Disabled"},
        },
        # Plain networking.k8s.io NetworkPolicies need neither Calico's API server nor its flow
        # logs and UI.
        "apiServer": {"enabled": False},
        "goldmane": {"enabled": False},
        "whisker": {"enabled": False},
        "manageCRDs": False,  # the CRD chart above owns them
    }
