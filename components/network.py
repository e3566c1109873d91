"""The network an eks cluster runs in, given to it as a `VpcRef`: either `Network`, the VPC the
stack creates — private subnets for nodes across AZs, public ones only for NAT and load
balancers, a gateway endpoint so S3 (the lake, and ECR's image layers) never crosses a NAT, and
optionally interface endpoints for the AWS APIs nodes and pods call most — or `existing_vpc`,
the subnets of a VPC the organisation runs (`cluster.network.existing`), looked up and checked."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.cluster.base import TYPE as CLUSTER_TYPE
from components.config import INTERFACE_SERVICES, ExistingNetworkConfig, StackConfig

TYPE = "dataops:index:Network"
NAME = "cluster-network"
KEY = "dataops-platform:cluster.network.existing.privateSubnetIds"


@dataclass
class VpcRef:
    """What a cluster, its runner and its load balancer controller need of their network."""

    vpc_id: pulumi.Input[str]
    cidr: pulumi.Input[str]
    """The VPC's range (the cluster's API endpoints are in it)."""
    private_subnet_ids: list[pulumi.Input[str]]
    """Node subnets, one per AZ, in a fixed order (the per-AZ node groups are numbered by it)."""


@dataclass
class NetworkArgs:
    cidr: str
    availability_zones: int
    nat_per_az: bool
    """One NAT gateway per AZ (survives an AZ outage) or one shared (cheaper, for dev)."""
    cluster_name: str
    """Subnets are tagged for the cluster's load balancers."""
    tags: dict[str, str]
    interface_endpoints: bool = False
    """Private endpoints for INTERFACE_SERVICES (priced per AZ-hour; `estimate` shows the NAT
    processing they save)."""

    @staticmethod
    def from_config(cfg: StackConfig) -> NetworkArgs:
        net = cfg.cluster.network
        return NetworkArgs(
            cidr=net.vpc_cidr,
            availability_zones=net.availability_zones,
            nat_per_az=net.nat_gateways == "perAz",
            cluster_name=cfg.physical_name(),
            tags=cfg.mandatory_tags(),
            interface_endpoints=net.interface_endpoints,
        )


def moved_from_the_cluster() -> pulumi.ResourceOptions:
    """The network was once built inside the cluster component: this alias keeps the URNs of the
    VPC and everything in it in stacks deployed then, so `pulumi up` moves them, not replaces
    them (Pulumi docs, "aliases" resource option: https://www.pulumi.com/docs/iac/concepts/options/aliases/;
    children follow their parent's alias)."""
    stack = pulumi.create_urn(f"{pulumi.get_project()}-{pulumi.get_stack()}", "pulumi:pulumi:Stack")
    cluster = pulumi.create_urn("cluster", CLUSTER_TYPE, parent=stack)
    return pulumi.ResourceOptions(aliases=[pulumi.Alias(parent=cluster)])


def subnet_plan(cidr: str, azs: int) -> tuple[list[str], list[str]]:
    """(private, public) CIDRs: the VPC split in four, private subnets take the first quarters;
    the last quarter is split again into small public subnets (NAT and load balancers only)."""
    vpc = ipaddress.ip_network(cidr)
    quarters = list(vpc.subnets(prefixlen_diff=2))
    public = list(quarters[3].subnets(prefixlen_diff=2))
    return [str(q) for q in quarters[:azs]], [str(p) for p in public[:azs]]


class Network(pulumi.ComponentResource):
    vpc: aws.ec2.Vpc
    """The VPC."""
    ref: VpcRef
    """What the cluster uses of it."""
    private_subnet_ids: list[pulumi.Output[str]]
    """Node subnets, one per AZ."""
    public_subnet_ids: list[pulumi.Output[str]]
    """NAT / load-balancer subnets, one per AZ."""

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        azs = aws.get_availability_zones_output(
            state="available", opts=pulumi.InvokeOutputOptions(parent=self)
        )
        private_cidrs, public_cidrs = subnet_plan(args.cidr, args.availability_zones)

        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={**args.tags, "Name": f"{args.cluster_name}"},
            opts=child,
        )
        # The default security group of a VPC allows all traffic between its members; emptying
        # it means nothing relies on it by accident (CIS AWS 5.4).
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=self.vpc.id, tags=args.tags, opts=child)
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=self.vpc.id, tags=args.tags, opts=child)
        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=self.vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": igw.id}],
            tags=args.tags,
            opts=child,
        )

        self.private_subnet_ids, self.public_subnet_ids = [], []
        nats: list[aws.ec2.NatGateway] = []
        private_rts = []
        for i in range(args.availability_zones):
            az = azs.names[i]
            public = aws.ec2.Subnet(
                f"{name}-public-{i}",
                vpc_id=self.vpc.id,
                cidr_block=public_cidrs[i],
                availability_zone=az,
                map_public_ip_on_launch=False,
                tags={
                    **args.tags,
                    "kubernetes.io/role/elb": "1",
                    f"kubernetes.io/cluster/{args.cluster_name}": "shared",
                },
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{i}-rt", subnet_id=public.id, route_table_id=public_rt.id, opts=child
            )
            if args.nat_per_az or i == 0:
                eip = aws.ec2.Eip(f"{name}-nat-{i}-eip", domain="vpc", tags=args.tags, opts=child)
                nats.append(
                    aws.ec2.NatGateway(
                        f"{name}-nat-{i}",
                        allocation_id=eip.id,
                        subnet_id=public.id,
                        tags=args.tags,
                        opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                    )
                )
            private = aws.ec2.Subnet(
                f"{name}-private-{i}",
                vpc_id=self.vpc.id,
                cidr_block=private_cidrs[i],
                availability_zone=az,
                tags={
                    **args.tags,
                    "kubernetes.io/role/internal-elb": "1",
                    f"kubernetes.io/cluster/{args.cluster_name}": "shared",
                },
                opts=child,
            )
            rt = aws.ec2.RouteTable(
                f"{name}-private-{i}-rt",
                vpc_id=self.vpc.id,
                routes=[{"cidr_block": "0.0.0.0/0", "nat_gateway_id": nats[-1].id}],
                tags=args.tags,
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{i}-rta", subnet_id=private.id, route_table_id=rt.id, opts=child
            )
            private_rts.append(rt.id)
            self.public_subnet_ids.append(public.id)
            self.private_subnet_ids.append(private.id)

        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        aws.ec2.VpcEndpoint(
            f"{name}-s3-endpoint",
            vpc_id=self.vpc.id,
            service_name=region.apply(lambda r: f"com.amazonaws.{r}.s3"),
            vpc_endpoint_type="Gateway",
            route_table_ids=private_rts,
            tags=args.tags,
            opts=child,
        )
        if args.interface_endpoints:
            # Only the VPC may use them: HTTPS from its own range.
            endpoint_sg = aws.ec2.SecurityGroup(
                f"{name}-endpoints-sg",
                vpc_id=self.vpc.id,
                description=f"Interface endpoints of {args.cluster_name}: HTTPS from the VPC",
                tags={**args.tags, "Name": f"{args.cluster_name}-endpoints"},
                opts=child,
            )
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-endpoints-https",
                security_group_id=endpoint_sg.id,
                cidr_ipv4=args.cidr,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                description="HTTPS from the VPC",
                tags=args.tags,
                opts=child,
            )
            for service in INTERFACE_SERVICES:
                aws.ec2.VpcEndpoint(
                    f"{name}-{service.replace('.', '-')}-endpoint",
                    vpc_id=self.vpc.id,
                    service_name=region.apply(lambda r, svc=service: f"com.amazonaws.{r}.{svc}"),
                    vpc_endpoint_type="Interface",
                    private_dns_enabled=True,
                    subnet_ids=self.private_subnet_ids,
                    security_group_ids=[endpoint_sg.id],
                    tags=args.tags,
                    opts=child,
                )
        self.ref = VpcRef(
            vpc_id=self.vpc.id, cidr=args.cidr, private_subnet_ids=list(self.private_subnet_ids)
        )
        self.register_outputs({"vpcId": self.vpc.id, "privateSubnetIds": self.private_subnet_ids})


def existing_vpc(existing: ExistingNetworkConfig) -> VpcRef:
    """An existing VPC's private subnets, each looked up (a subnet that does not exist fails the
    preview) and checked: all in `vpcId`, each in its own AZ, as the per-AZ node groups assume."""
    subnets = [aws.ec2.get_subnet_output(id=subnet) for subnet in existing.private_subnet_ids]

    def check(found: list[dict]) -> list[str]:
        zones: dict[str, str] = {}
        for subnet in found:
            if subnet["vpc_id"] != existing.vpc_id:
                raise pulumi.RunError(
                    f"{KEY} = {subnet['id']!r}: in {subnet['vpc_id']}, not in vpcId {existing.vpc_id}; "
                    "fix: list private subnets of that VPC"
                )
            other = zones.setdefault(subnet["availability_zone"], subnet["id"])
            if other != subnet["id"]:
                raise pulumi.RunError(
                    f"{KEY} = {subnet['id']!r}: {other} is in {subnet['availability_zone']} too; "
                    "fix: list one private subnet per availability zone"
                )
        return [subnet["id"] for subnet in found]

    checked = pulumi.Output.all(
        *(pulumi.Output.all(id=s.id, vpc_id=s.vpc_id, availability_zone=s.availability_zone) for s in subnets)
    ).apply(check)
    return VpcRef(
        vpc_id=checked.apply(lambda _: existing.vpc_id),
        cidr=aws.ec2.get_vpc_output(id=existing.vpc_id).cidr_block,
        private_subnet_ids=[checked[i] for i in range(len(subnets))],
    )
