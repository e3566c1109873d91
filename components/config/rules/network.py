"""Rules of the network an eks cluster runs in: the VPC the platform creates (its ranges, AZs
and NAT), or the subnets of an existing VPC (`cluster.network.existing`). Whether two stacks'
VPCs overlap is a rule across stacks (dataops/stacks.py)."""

from __future__ import annotations

from pydantic.alias_generators import to_camel

from components.config.rules.common import PRIVATE_RANGES, Add, parse_cidr
from components.config.stack import StackConfig

# The keys that describe a VPC the platform creates, and so mean nothing with an existing one.
CREATED_NETWORK_KEYS = ("vpc_cidr", "availability_zones", "nat_gateways", "interface_endpoints")
PROD_AZS = 3


def network_rules(cfg: StackConfig, add: Add) -> None:
    net = cfg.cluster.network
    if net.existing is not None:
        existing_network_rules(cfg, add)
    else:
        created_network_rules(cfg, add)
    if net.service_cidr is not None:
        svc = parse_cidr(net.service_cidr, "cluster.network.serviceCidr", add)
        vpc = (
            parse_cidr(net.vpc_cidr, "cluster.network.vpcCidr", lambda *_: None) if not net.existing else None
        )
        if svc is not None and not any(svc.subnet_of(r) for r in PRIVATE_RANGES):
            add(
                "cluster.network.serviceCidr",
                net.service_cidr,
                "not a private (RFC 1918) range",
                "use e.g. 172.20.0.0/16",
            )
        elif svc is not None and vpc is not None and svc.overlaps(vpc):
            add(
                "cluster.network.serviceCidr",
                net.service_cidr,
                f"overlaps the VPC range {vpc}",
                "choose a range outside the VPC, e.g. 172.20.0.0/16",
            )


def created_network_rules(cfg: StackConfig, add: Add) -> None:
    net = cfg.cluster.network
    vpc = parse_cidr(net.vpc_cidr, "cluster.network.vpcCidr", add)
    if vpc is not None:
        if not any(vpc.subnet_of(r) for r in PRIVATE_RANGES):
            add(
                "cluster.network.vpcCidr",
                net.vpc_cidr,
                "not a private (RFC 1918) range",
                "use a range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16",
            )
        if not 16 <= vpc.prefixlen <= 20:
            add(
                "cluster.network.vpcCidr",
                net.vpc_cidr,
                "the VPC must be between /16 and /20",
                "use a /16 to /20 range (subnets are carved from it per AZ)",
            )
    if cfg.environment == "prod":
        if net.availability_zones != PROD_AZS:
            add(
                "cluster.network.availabilityZones",
                net.availability_zones,
                "prod spans three AZs",
                "set it to 3",
            )
        if net.nat_gateways != "perAz":
            add(
                "cluster.network.natGateways",
                net.nat_gateways,
                "prod keeps egress up when one AZ fails",
                "set it to perAz",
            )


def existing_network_rules(cfg: StackConfig, add: Add) -> None:
    net = cfg.cluster.network
    existing = net.existing
    assert existing is not None
    for key in CREATED_NETWORK_KEYS:
        if key in net.model_fields_set:
            alias = to_camel(key)
            add(
                f"cluster.network.{alias}",
                getattr(net, key),
                "describes a VPC the platform creates, but cluster.network.existing names one it does not",
                f"remove cluster.network.{alias}",
            )
    private, public = existing.private_subnet_ids, existing.public_subnet_ids
    for key, ids in (("privateSubnetIds", private), ("publicSubnetIds", public)):
        for subnet in sorted({s for s in ids if ids.count(s) > 1}):
            add(f"cluster.network.existing.{key}", subnet, "listed twice", "list each subnet once")
    for subnet in sorted(set(private) & set(public)):
        add(
            "cluster.network.existing.publicSubnetIds",
            subnet,
            "also listed as a private subnet: nodes would sit where the internet is routed in",
            "list the VPC's public subnets here and its private ones in privateSubnetIds",
        )
    if len(public) == 1:
        # Application load balancers need subnets in two AZs at least (Elastic Load Balancing
        # user guide, "Subnets for your load balancer":
        # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#subnets-load-balancer).
        add(
            "cluster.network.existing.publicSubnetIds",
            public,
            "a load balancer needs subnets in two AZs at least",
            "list one public subnet in each of two or three AZs",
        )
    nb = cfg.notebooks
    if nb.enabled and nb.hosted_zone and nb.scheme == "internet-facing" and not public:
        add(
            "cluster.network.existing.publicSubnetIds",
            [],
            "the hub's internet-facing load balancer needs public subnets",
            "list the VPC's public subnets, or set notebooks.scheme: internal",
        )
    if cfg.environment == "prod" and len(private) != PROD_AZS:
        add(
            "cluster.network.existing.privateSubnetIds",
            private,
            "prod spans three AZs",
            "list one private subnet in each of three AZs",
        )
