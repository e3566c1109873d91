"""Cluster: the stack's Kubernetes cluster — a hardened EKS cluster it creates, one the
organisation already runs, or (sandboxes) the cluster of a host stack, read through a stack
reference. Either way it exposes one `pulumi_kubernetes.Provider` that every Kubernetes
resource of the stack uses explicitly, and how pods get AWS credentials.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import cluster_access
from components.cluster_autoscaler import ClusterAutoscaler, ClusterAutoscalerArgs
from components.config import ExistingClusterConfig, NodeGroupConfig, StackConfig
from components.load_balancer_controller import LoadBalancerController, LoadBalancerControllerArgs
from components.network import Network, NetworkArgs
from components.node_pools import POOL_LABEL, USER_LABEL, USER_TAINT, Pool, node_groups
from components.policy_engine import PolicyEngine, PolicyEngineArgs
from components.workload_identity import WorkloadIdentity, pod_identity_trust, service_trust

TYPE = "dataops:index:Cluster"

STORAGE_CLASS = "gp3-encrypted"
PLATFORM_LABELS = {"app.kubernetes.io/part-of": "dataops-platform"}

MANAGED = "arn:{partition}:iam::aws:policy/{name}"
API_PORT = 443


@dataclass
class ClusterArgs:
    mode: str
    name: str
    """Physical cluster name (`<namePrefix>-<stack>`)."""
    tags: dict[str, str]
    kubernetes_version: str = "1.35"
    admin_roles: list[str] = field(default_factory=list)
    """Role ARNs given cluster-admin access entries."""
    deploy_role: str | None = None
    preview_role: str | None = None
    sandbox_role: str | None = None
    """Given access to `sandbox-*` namespaces when the cluster hosts sandboxes."""
    hosts_sandboxes: bool = False
    """`sandbox-*` stacks may use this cluster (exported, and checked by them)."""
    public_access_cidrs: list[str] = field(default_factory=list)
    private_access_cidrs: list[str] = field(default_factory=list)
    """Private ranges admitted to the private API endpoint on 443 (the runner is added by its component)."""
    log_types: list[str] = field(default_factory=list)
    log_retention_days: int = 90
    vpc_cidr: str = "10.40.0.0/16"
    availability_zones: int = 2
    nat_per_az: bool = False
    service_cidr: str | None = None
    system_nodes: NodeGroupConfig | None = None
    notebook_nodes: NodeGroupConfig | None = None
    gpu_nodes: NodeGroupConfig | None = None
    """Only where notebooks have GPU profiles."""
    interface_endpoints: bool = False
    protect: bool = False
    existing: ExistingClusterConfig | None = None
    kubeconfig: pulumi.Input[str] | None = None
    team_namespaces: list[str] = field(default_factory=list)
    host: pulumi.Output[dict] | None = None
    """`host` mode: the host stack's `cluster` output (see `Cluster.exported`)."""
    region: str = ""

    @staticmethod
    def from_host(cfg: StackConfig, host_cluster: pulumi.Output[dict], namespace: str) -> ClusterArgs:
        """A sandbox: the host stack's cluster, reached with the caller's AWS credentials."""
        return ClusterArgs(
            mode="host",
            name=cfg.physical_name(),
            tags=cfg.mandatory_tags(),
            team_namespaces=[namespace],
            host=host_cluster,
            region=cfg.region,
        )

    @staticmethod
    def from_config(cfg: StackConfig) -> ClusterArgs:
        c = cfg.cluster
        return ClusterArgs(
            mode=c.mode,
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
            log_retention_days=365 if cfg.environment == "prod" else 90,
            vpc_cidr=c.network.vpc_cidr,
            availability_zones=c.network.availability_zones,
            nat_per_az=c.network.nat_gateways == "perAz",
            service_cidr=c.network.service_cidr,
            system_nodes=c.system_nodes,
            notebook_nodes=c.notebook_nodes,
            gpu_nodes=c.gpu_nodes if cfg.notebooks.gpu else None,
            interface_endpoints=c.network.interface_endpoints,
            protect=cfg.protected,
            existing=c.existing,
            kubeconfig=(
                pulumi.Output.secret(cfg.kubeconfig.get_secret_value())
                if cfg.kubeconfig is not None
                else None
            ),
            team_namespaces=[t.name for t in cfg.teams]
            + ([cfg.hub_namespace] if cfg.notebooks.enabled else []),
        )


class Cluster(pulumi.ComponentResource):
    provider: k8s.Provider
    """The Kubernetes provider every Kubernetes resource of the stack uses."""
    identity: WorkloadIdentity
    """How pods of this cluster get AWS credentials."""
    storage_class: str
    """The encrypted StorageClass for persistent volumes (homes)."""
    eks: aws.eks.Cluster | None = None
    """The EKS cluster, in `eks` mode."""
    network: Network | None = None
    """The VPC, in `eks` mode."""
    node_role: aws.iam.Role | None = None
    """The node role: pulls images and joins the cluster, nothing else (no data access)."""
    ingress_controller: pulumi.Resource | None = None
    """eks mode: the load balancer controller's chart, which an Ingress waits for."""
    api_security_group: aws.ec2.SecurityGroup | None = None
    """On the control plane's network interfaces: who may reach the private API endpoint on 443."""
    ready: list[pulumi.Resource]
    """What workloads must wait for: nodes, DNS and storage (nothing to wait for when adopted)."""

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        self._hosts_sandboxes = args.hosts_sandboxes
        if args.mode == "existing":
            self._adopt(name, args)
        elif args.mode == "host":
            self._attach(name, args)
        else:
            self._create(name, args)
        self.register_outputs({"identity": self.identity.mode, "storageClass": self.storage_class})

    def exported(self) -> pulumi.Output[dict]:
        """The `cluster` stack output (sandboxes and tools read it)."""
        return pulumi.Output.all(
            mode="eks" if self.eks else "existing",
            name=self.eks.name if self.eks else None,
            arn=self.eks.arn if self.eks else None,
            endpoint=self.eks.endpoint if self.eks else None,
            certificateAuthority=self.eks.certificate_authority.data if self.eks else None,
            identity=self.identity.mode,
            storageClass=self.storage_class,
            hostsSandboxes=self._hosts_sandboxes,
        )

    # -- existing ------------------------------------------------------------------------------

    def _adopt(self, name: str, args: ClusterArgs) -> None:
        existing = args.existing or ExistingClusterConfig()
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

    # -- host (sandboxes) ----------------------------------------------------------------------

    def _attach(self, name: str, args: ClusterArgs) -> None:
        host = args.host
        assert host is not None

        def usable(c: dict) -> dict:
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

        checked = host.apply(usable)
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
            namespaces=args.team_namespaces,
        )
        self.storage_class = STORAGE_CLASS
        self.ready = []

    # -- eks -----------------------------------------------------------------------------------

    def _create(self, name: str, args: ClusterArgs) -> None:
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        partition = aws.get_partition_output(opts=invoke).partition
        region = aws.get_region_output(opts=invoke).region

        def managed(policy: str) -> pulumi.Output[str]:
            return partition.apply(lambda p: MANAGED.format(partition=p, name=policy))

        self.network = Network(
            f"{name}-network",
            NetworkArgs(
                cidr=args.vpc_cidr,
                availability_zones=args.availability_zones,
                nat_per_az=args.nat_per_az,
                cluster_name=args.name,
                tags=args.tags,
                interface_endpoints=args.interface_endpoints,
            ),
            opts=child,
        )

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
            policy_arn=managed("AmazonEKSClusterPolicy"),
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
            vpc_id=self.network.vpc.id,
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
                "subnet_ids": self.network.private_subnet_ids,
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
            # The add-ons below are EKS-managed, so upgrades keep them in step with the version.
            bootstrap_self_managed_addons=False,
            deletion_protection=args.protect,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment, logs], protect=args.protect),
        )
        cluster_name = self.eks.name

        access = cluster_access.create_access_entries(
            f"{name}-access",
            cluster_name,
            partition,
            cluster_access.grants(args.admin_roles, args.deploy_role, args.preview_role, args.sandbox_role),
            args.tags,
            parent=self,
        )

        self.node_role = aws.iam.Role(
            f"{name}-node-role",
            assume_role_policy=json.dumps(service_trust("ec2.amazonaws.com")),
            tags=args.tags,
            opts=child,
        )
        # Nodes join the cluster and pull images; the VPC CNI's permissions go to its own pod
        # identity below, and data access only to workload roles.
        node_policies = [
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{policy}", role=self.node_role.name, policy_arn=managed(policy), opts=child
            )
            for policy in ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly")
        ]

        def addon_role(addon: str, service_account: str, policy: str) -> aws.iam.Role:
            role = aws.iam.Role(
                f"{name}-{addon}-role",
                # Only the add-on's own service account in this cluster may receive the role.
                assume_role_policy=self.eks.arn.apply(
                    lambda arn: json.dumps(pod_identity_trust(arn, "kube-system", service_account))
                ),
                tags=args.tags,
                opts=child,
            )
            aws.iam.RolePolicyAttachment(
                f"{name}-{addon}-policy", role=role.name, policy_arn=managed(policy), opts=child
            )
            return role

        def addon(
            addon_name: str,
            *,
            config: dict | None = None,
            identity: tuple[str, aws.iam.Role] | None = None,
            after: list[pulumi.Resource] | None = None,
        ) -> aws.eks.Addon:
            return aws.eks.Addon(
                f"{name}-{addon_name}",
                cluster_name=cluster_name,
                addon_name=addon_name,
                configuration_values=json.dumps(config) if config else None,
                pod_identity_associations=(
                    [{"service_account": identity[0], "role_arn": identity[1].arn}] if identity else None
                ),
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                tags=args.tags,
                opts=pulumi.ResourceOptions(parent=self, depends_on=after or []),
            )

        pod_identity_agent = addon("eks-pod-identity-agent")
        # Calico enforces the NetworkPolicies (components/policy_engine.py): the CNI's own agent
        # must be off, and the CNI annotates pod IPs so Calico learns them at once.
        cni = addon(
            "vpc-cni",
            config={"enableNetworkPolicy": "false", "env": {"ANNOTATE_POD_IP": "true"}},
            identity=("aws-node", addon_role("vpc-cni", "aws-node", "AmazonEKS_CNI_Policy")),
            after=[pod_identity_agent],
        )
        kube_proxy = addon("kube-proxy")

        pools = [
            Pool("system", args.system_nodes),
            Pool("notebooks", args.notebook_nodes, per_zone=True, labels=USER_LABEL, taints=[USER_TAINT]),
        ]
        if args.gpu_nodes is not None:
            pools.append(
                Pool(
                    "gpu",
                    args.gpu_nodes,
                    ami_type="AL2023_x86_64_NVIDIA",
                    per_zone=True,
                    labels=USER_LABEL,
                    taints=[USER_TAINT],
                )
            )
        groups = node_groups(
            name,
            args.name,
            cluster_name,
            self.node_role.arn,
            self.network.private_subnet_ids,
            pools,
            args.tags,
            parent=self,
            after=[*node_policies, cni, kube_proxy],
        )

        coredns = addon("coredns", after=groups)
        ebs = addon(
            "aws-ebs-csi-driver",
            identity=(
                "ebs-csi-controller-sa",
                addon_role("ebs-csi", "ebs-csi-controller-sa", "service-role/AmazonEBSCSIDriverPolicy"),
            ),
            after=groups,
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
            opts=pulumi.ResourceOptions(parent=self, depends_on=access),
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
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=[ebs]),
        )
        if args.sandbox_role:
            cluster_access.sandbox_hosting(name, PLATFORM_LABELS, provider=self.provider, parent=self)
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
                vpc_id=self.network.vpc.id,
                region=region,
                tags=args.tags,
                node_selector=system,
            ),
            provider=self.provider,
            opts=pulumi.ResourceOptions(parent=self, depends_on=groups),
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
            opts=pulumi.ResourceOptions(parent=self, depends_on=groups),
        )
        self.ingress_controller = controller.chart
        self.storage_class = STORAGE_CLASS
        # Workloads (the hub's Helm release) wait for nodes, DNS, storage, the policy engine that
        # makes their NetworkPolicies hold and the controller that admits their Ingress.
        self.ready = [
            *groups,
            coredns,
            ebs,
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
