"""The hardened EKS cluster a stack creates, in the network it is given: a private API
endpoint behind its own security group, secrets encrypted with the stack's key, access from
the config's access entries only, and the add-ons every workload relies on (nodes.py for the
nodes and EKS-managed add-ons; the policy engine, the load balancer controller and the
autoscaler as pinned charts)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.cluster import access
from components.cluster.autoscaler import ClusterAutoscaler, ClusterAutoscalerArgs
from components.cluster.base import PLATFORM_LABELS, STORAGE_CLASS, Cluster, kubeconfig
from components.cluster.load_balancer_controller import LoadBalancerController, LoadBalancerControllerArgs
from components.cluster.node_pools import POOL_LABEL
from components.cluster.nodes import NodesArgs, create_nodes, managed_policy
from components.cluster.policy_engine import PolicyEngine, PolicyEngineArgs
from components.config import NodeGroupConfig, StackConfig
from components.network import VpcRef
from components.workload_identity import WorkloadIdentity, service_trust

API_PORT = 443


@dataclass
class EksClusterArgs:
    name: str
    """Physical cluster name (`<namePrefix>-<stack>`)."""
    tags: dict[str, str]
    kubernetes_version: str
    admin_roles: list[str]
    """Role ARNs given cluster-admin access entries."""
    deploy_role: str | None
    preview_role: str | None
    sandbox_role: str | None
    """Given access to `sandbox-*` namespaces when the cluster hosts sandboxes."""
    hosts_sandboxes: bool
    """`sandbox-*` stacks may use this cluster (exported, and checked by them)."""
    public_access_cidrs: list[str]
    private_access_cidrs: list[str]
    """Private ranges admitted to the private API endpoint on 443 (the runner is added by its component)."""
    log_types: list[str]
    log_retention_days: int
    service_cidr: str | None
    system_nodes: NodeGroupConfig
    notebook_nodes: NodeGroupConfig
    gpu_nodes: NodeGroupConfig | None
    """Only where notebooks have GPU profiles."""
    protect: bool
    team_namespaces: list[str]

    @staticmethod
    def from_config(cfg: StackConfig) -> EksClusterArgs:
        c = cfg.cluster
        return EksClusterArgs(
            name=cfg.physical_name(),
            tags=cfg.mandatory_tags(),
            kubernetes_version=c.kubernetes_version,
            admin_roles=list(c.admin_roles),
            deploy_role=cfg.ci.deploy_role,
            preview_role=cfg.ci.preview_role,
            sandbox_role=cfg.ci.sandbox_role if cfg.hosts_sandboxes else None,
            hosts_sandboxes=cfg.hosts_sandboxes,
            public_access_cidrs=list(c.public_access_cidrs),
            private_access_cidrs=list(c.private_access_cidrs),
            log_types=list(c.log_types),
            log_retention_days=cfg.log_retention_days,
            service_cidr=c.network.service_cidr,
            system_nodes=c.system_nodes,
            notebook_nodes=c.notebook_nodes,
            gpu_nodes=c.gpu_nodes if cfg.notebooks.gpu else None,
            protect=cfg.protected,
            team_namespaces=cfg.workload_namespaces(),
        )


class EksCluster(Cluster):
    eks: aws.eks.Cluster
    """The EKS cluster."""
    api_security_group: aws.ec2.SecurityGroup
    """On the control plane's network interfaces: who may reach the private API endpoint on 443."""

    def __init__(
        self, name: str, args: EksClusterArgs, vpc: VpcRef, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(name, opts)
        self._hosts_sandboxes = args.hosts_sandboxes
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        partition = aws.get_partition_output(opts=invoke).partition
        region = aws.get_region_output(opts=invoke).region

        secrets_key = aws.kms.Key(
            f"{name}-secrets-key",
            description=f"{args.name} Kubernetes secrets",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        cluster_role = aws.iam.Role(
            f"{name}-cluster-role",
            assume_role_policy=json.dumps(service_trust("eks.amazonaws.com", tag_session=True)),
            tags=args.tags,
            opts=child,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-cluster-policy",
            role=cluster_role.name,
            policy_arn=managed_policy(partition, "AmazonEKSClusterPolicy"),
            opts=child,
        )
        # EKS would create this log group itself, with no expiry; owning it sets the retention.
        logs = aws.cloudwatch.LogGroup(
            f"{name}-control-plane-logs",
            name=f"/aws/eks/{args.name}/cluster",
            retention_in_days=args.log_retention_days,
            tags=args.tags,
            opts=child,
        )
        # EKS puts the security groups given here on the control plane's network interfaces (and
        # on nothing else); the endpoint is private, so these rules are the way in: from the
        # runner that deploys the stack (added by CiRunner) and from `privateAccessCidrs`
        # (EKS user guide, "Cluster API server endpoint" and "Security group requirements":
        # https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html,
        # https://docs.aws.amazon.com/eks/latest/userguide/sec-group-reqs.html). Its own rules only
        # add to the cluster security group EKS creates, which nodes and the control plane share.
        self.api_security_group = aws.ec2.SecurityGroup(
            f"{name}-api-sg",
            vpc_id=vpc.vpc_id,
            description=f"Clients of the {args.name} Kubernetes API (private endpoint, 443)",
            tags={**args.tags, "Name": f"{args.name}-api"},
            opts=child,
        )
        for i, cidr in enumerate(args.private_access_cidrs):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-api-from-cidr-{i}",
                security_group_id=self.api_security_group.id,
                cidr_ipv4=cidr,
                ip_protocol="tcp",
                from_port=API_PORT,
                to_port=API_PORT,
                description=f"Kubernetes API from {cidr} (cluster.privateAccessCidrs)",
                tags=args.tags,
                opts=child,
            )
        network_config = {"service_ipv4_cidr": args.service_cidr} if args.service_cidr else None
        self.eks = aws.eks.Cluster(
            f"{name}-eks",
            name=args.name,
            version=args.kubernetes_version,
            role_arn=cluster_role.arn,
            vpc_config={
                "subnet_ids": vpc.private_subnet_ids,
                "security_group_ids": [self.api_security_group.id],
                "endpoint_private_access": True,
                "endpoint_public_access": bool(args.public_access_cidrs),
                **({"public_access_cidrs": args.public_access_cidrs} if args.public_access_cidrs else {}),
            },
            access_config={
                "authentication_mode": "API",
                # Admins come from the config's access entries only, not from whoever ran `up`.
                "bootstrap_cluster_creator_admin_permissions": False,
            },
            encryption_config={"provider": {"key_arn": secrets_key.arn}, "resources": ["secrets"]},
            enabled_cluster_log_types=args.log_types,
            kubernetes_network_config=network_config,
            # The add-ons (nodes.py) are EKS-managed, so upgrades keep them in step with the version.
            bootstrap_self_managed_addons=False,
            deletion_protection=args.protect,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment, logs], protect=args.protect),
        )
        cluster_name = self.eks.name
        # EKS puts the private endpoint's network interfaces in the cluster's subnets.
        self.api_server_cidrs = pulumi.Output.from_input(vpc.cidr).apply(lambda cidr: [cidr])

        entries = access.create_access_entries(
            f"{name}-access",
            cluster_name,
            partition,
            access.grants(args.admin_roles, args.deploy_role, args.preview_role, args.sandbox_role),
            args.tags,
            parent=self,
        )
        nodes = create_nodes(
            name,
            NodesArgs(
                cluster=self.eks,
                physical_name=args.name,
                partition=partition,
                subnet_ids=vpc.private_subnet_ids,
                system_nodes=args.system_nodes,
                notebook_nodes=args.notebook_nodes,
                gpu_nodes=args.gpu_nodes,
                tags=args.tags,
            ),
            parent=self,
        )

        self.provider = k8s.Provider(
            f"{name}-provider",
            kubeconfig=pulumi.Output.secret(
                pulumi.Output.all(
                    self.eks.endpoint,
                    self.eks.certificate_authority.data,
                    self.eks.name,
                    region,
                ).apply(lambda v: kubeconfig(*v))
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=entries),
        )
        storage_class = k8s.storage.v1.StorageClass(
            f"{name}-storage-class",
            metadata={
                "name": STORAGE_CLASS,
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            provisioner="ebs.csi.aws.com",
            parameters={"type": "gp3", "encrypted": "true"},
            # Homes outlive their pods; in protected stacks they also outlive their claims.
            reclaim_policy="Retain" if args.protect else "Delete",
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=[nodes.ebs]),
        )
        if args.sandbox_role:
            access.sandbox_hosting(name, PLATFORM_LABELS, provider=self.provider, parent=self)
        system = {POOL_LABEL: "system"}
        policy_engine = PolicyEngine(
            f"{name}-policy-engine",
            PolicyEngineArgs(labels=PLATFORM_LABELS),
            provider=self.provider,
            opts=child,
        )
        controller = LoadBalancerController(
            f"{name}-load-balancer-controller",
            LoadBalancerControllerArgs(
                cluster_name=cluster_name,
                cluster_arn=self.eks.arn,
                vpc_id=vpc.vpc_id,
                region=region,
                tags=args.tags,
                node_selector=system,
            ),
            provider=self.provider,
            opts=pulumi.ResourceOptions(parent=self, depends_on=nodes.groups),
        )
        autoscaler = ClusterAutoscaler(
            f"{name}-autoscaler",
            ClusterAutoscalerArgs(
                cluster_name=cluster_name,
                cluster_arn=self.eks.arn,
                kubernetes_version=args.kubernetes_version,
                region=region,
                tags=args.tags,
                node_selector=system,
            ),
            provider=self.provider,
            opts=pulumi.ResourceOptions(parent=self, depends_on=nodes.groups),
        )
        self.storage_class = STORAGE_CLASS
        # Workloads (the hub's Helm release) wait for nodes, DNS, storage, the policy engine that
        # makes their NetworkPolicies hold and the controller that admits their Ingress.
        self.ready = [
            *nodes.groups,
            nodes.coredns,
            nodes.ebs,
            storage_class,
            policy_engine.operator,
            controller.chart,
            autoscaler.chart,
        ]
        self.identity = WorkloadIdentity(
            mode="pod-identity",
            cluster_name=cluster_name,
            cluster_arn=self.eks.arn,
            namespaces=args.team_namespaces,
        )
        self.finish()

    def exported(self) -> pulumi.Output[dict]:
        return pulumi.Output.all(
            mode="eks",
            name=self.eks.name,
            arn=self.eks.arn,
            endpoint=self.eks.endpoint,
            certificateAuthority=self.eks.certificate_authority.data,
            identity=self.identity.mode,
            storageClass=self.storage_class,
            hostsSandboxes=self._hosts_sandboxes,
        )
