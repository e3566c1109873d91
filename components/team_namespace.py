"""TeamNamespace: one team's namespace — Pod Security `restricted`, a quota, container
defaults, deny-by-default networking with the few flows a notebook needs, and the service
account that carries the environment's workload role (no node-role access to data)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.config import PRIVATE_CIDRS, QuotaConfig, StackConfig, TeamConfig
from components.pod_security import namespace_labels
from components.workload_identity import SERVICE_ACCOUNT, WorkloadIdentity

TYPE = "dataops:index:TeamNamespace"


INSTANCE_METADATA = "169.254.169.254/32"
# Pods reach the EKS Pod Identity agent on this link-local address for their credentials
# (https://docs.aws.amazon.com/eks/latest/userguide/pod-id-how-it-works.html).
POD_IDENTITY_AGENT = "169.254.170.23/32"
HUB_API_PORT = 8081  # JupyterHub's internal API, which single-user servers call
NOTEBOOK_PORT = 8888  # single-user servers, reached only through the hub's proxy


@dataclass
class TeamNamespaceArgs:
    team: str
    quota: QuotaConfig
    hub_namespace: str
    identity: WorkloadIdentity
    workload_role: aws.iam.Role
    labels: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)
    """On every object (sandboxes: owner, created-at, expires-at; label values cannot hold them)."""

    @staticmethod
    def from_config(
        cfg: StackConfig, team: TeamConfig, identity: WorkloadIdentity, workload_role: aws.iam.Role
    ) -> TeamNamespaceArgs:
        return TeamNamespaceArgs(
            team=team.name,
            quota=team.quota,
            hub_namespace=cfg.hub_namespace,
            identity=identity,
            workload_role=workload_role,
            labels={"app.kubernetes.io/part-of": cfg.project, "dataops.io/environment": cfg.environment},
            annotations=cfg.expiry_annotations(),
        )


class TeamNamespace(pulumi.ComponentResource):
    namespace: k8s.core.v1.Namespace
    """The team's namespace."""
    service_account: k8s.core.v1.ServiceAccount
    """`data-access`: pods using it get the environment's workload role."""

    def __init__(
        self,
        name: str,
        args: TeamNamespaceArgs,
        provider: k8s.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(TYPE, name, None, opts)
        on_cluster = pulumi.ResourceOptions(parent=self, provider=provider)
        ns = args.team
        pss = namespace_labels("restricted")
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": ns,
                "labels": {**args.labels, **pss, "dataops.io/team": args.team},
                **({"annotations": args.annotations} if args.annotations else {}),
            },
            opts=on_cluster,
        )
        within = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[self.namespace])

        def meta(object_name: str, annotations: dict | None = None) -> dict:
            merged = {**args.annotations, **(annotations or {})}
            return {
                "name": object_name,
                "namespace": ns,
                "labels": args.labels,
                **({"annotations": merged} if merged else {}),
            }

        q = args.quota
        k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            metadata=meta("team-quota"),
            spec={
                "hard": {
                    "requests.cpu": q.cpu,
                    "requests.memory": q.memory,
                    "limits.memory": q.memory,
                    "requests.storage": q.storage,
                    "pods": str(q.pods),
                    # LoadBalancer services would bypass the hub's proxy and its TLS load
                    # balancer; nobody gets one.
                    "services.loadbalancers": "0",
                    "services.nodeports": "0",
                }
            },
            opts=within,
        )
        k8s.core.v1.LimitRange(
            f"{name}-limits",
            metadata=meta("container-defaults"),
            spec={
                "limits": [
                    {
                        "type": "Container",
                        # The quota counts requests and memory limits, so every container needs them.
                        "defaultRequest": {"cpu": q.default_cpu, "memory": q.default_memory},
                        "default": {"memory": q.default_memory},
                    }
                ]
            },
            opts=within,
        )

        everyone: dict = {}
        policies = {
            "default-deny": {"podSelector": everyone, "policyTypes": ["Ingress", "Egress"]},
            "allow-dns": {
                "podSelector": everyone,
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                                },
                                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                            }
                        ],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                    }
                ],
            },
            "allow-hub": {
                "podSelector": everyone,
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [
                    {
                        "from": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": args.hub_namespace}
                                }
                            }
                        ],
                        "ports": [{"protocol": "TCP", "port": NOTEBOOK_PORT}],
                    }
                ],
                "egress": [
                    {
                        "to": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": args.hub_namespace}
                                }
                            }
                        ],
                        "ports": [{"protocol": "TCP", "port": HUB_API_PORT}],
                    }
                ],
            },
            # The lake's endpoints (S3 through the VPC gateway endpoint, STS, KMS) are public AWS
            # addresses on 443; private ranges and the instance metadata service stay closed.
            "allow-data-lake": {
                "podSelector": everyone,
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {"ipBlock": {"cidr": "0.0.0.0/0", "except": [*PRIVATE_CIDRS, INSTANCE_METADATA]}}
                        ],
                        "ports": [{"protocol": "TCP", "port": 443}],
                    }
                ],
            },
        }
        if args.identity.mode == "pod-identity":
            policies["allow-pod-identity-agent"] = {
                "podSelector": everyone,
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [{"ipBlock": {"cidr": POD_IDENTITY_AGENT}}],
                        "ports": [{"protocol": "TCP", "port": 80}],
                    }
                ],
            }
        for policy_name, spec in policies.items():
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{policy_name}", metadata=meta(policy_name), spec=spec, opts=within
            )

        annotations = {}
        if args.identity.mode == "irsa":
            annotations["eks.amazonaws.com/role-arn"] = args.workload_role.arn
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-data-access",
            metadata=meta(SERVICE_ACCOUNT, annotations),
            # Credentials arrive as a projected web-identity token; the API token is not needed.
            automount_service_account_token=False,
            opts=within,
        )
        if args.identity.mode == "pod-identity":
            aws.eks.PodIdentityAssociation(
                f"{name}-pod-identity",
                cluster_name=args.identity.cluster_name,
                namespace=ns,
                service_account=SERVICE_ACCOUNT,
                role_arn=args.workload_role.arn,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.service_account]),
            )
        self.register_outputs({"namespace": ns, "serviceAccount": SERVICE_ACCOUNT})
