"""NotebookEndpoint: the hub's HTTPS address — an ACM certificate for `notebooks.hostname`
validated through the configured Route 53 zone, an Ingress that the AWS Load Balancer
Controller turns into an Application Load Balancer (HTTPS with that certificate; HTTP only
redirects), and an alias record pointing the hostname at it.

The Ingress is the platform's own resource, not the chart's: Pulumi waits until it has a load
balancer address (pulumi-kubernetes' Ingress await: the backend service's endpoints exist and
`status.loadBalancer.ingress` is set), so the alias record is written once there is something to
point at. Annotations (controller guide, "Ingress annotations",
https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/):
`target-type: ip` sends traffic straight to the proxy pod (its service is a ClusterIP); the
health check is the proxy's own `/_chp_healthz`, so the target stays healthy while the hub
restarts; an idle timeout of an hour keeps quiet kernel websockets open.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.cluster.load_balancer_controller import INGRESS_CLASS, SSL_POLICY

TYPE = "dataops:index:NotebookEndpoint"
PROXY_SERVICE = "proxy-public"  # the Zero to JupyterHub chart's proxy service, port name `http`
ALB = "alb.ingress.kubernetes.io"


@dataclass
class NotebookEndpointArgs:
    hostname: str
    hosted_zone: str
    namespace: str
    scheme: str
    """`internal` or `internet-facing`."""
    allowed_cidrs: list[str]
    load_balancer_name: str
    """At most 32 characters; the load balancer's name in the AWS console."""
    subnets: list[str]
    """The load balancer's subnets; empty: the controller discovers them by their role tags
    (controller guide, "Subnet auto-discovery":
    https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/subnet_discovery/)."""
    labels: dict[str, str]
    tags: dict[str, str] = field(default_factory=dict)


def ingress_annotations(args: NotebookEndpointArgs, certificate_arn: str) -> dict[str, str]:
    annotations = {
        f"{ALB}/scheme": args.scheme,
        f"{ALB}/target-type": "ip",
        f"{ALB}/listen-ports": json.dumps([{"HTTP": 80}, {"HTTPS": 443}]),
        f"{ALB}/ssl-redirect": "443",
        f"{ALB}/certificate-arn": certificate_arn,
        f"{ALB}/ssl-policy": SSL_POLICY,
        f"{ALB}/healthcheck-path": "/_chp_healthz",
        f"{ALB}/success-codes": "200",
        f"{ALB}/load-balancer-name": args.load_balancer_name,
        f"{ALB}/load-balancer-attributes": (
            "idle_timeout.timeout_seconds=3600,routing.http.drop_invalid_header_fields.enabled=true"
        ),
        f"{ALB}/tags": ",".join(f"{k}={v}" for k, v in sorted(args.tags.items())),
    }
    if args.allowed_cidrs:
        annotations[f"{ALB}/inbound-cidrs"] = ",".join(args.allowed_cidrs)
    if args.subnets:
        annotations[f"{ALB}/subnets"] = ",".join(args.subnets)
    return annotations


class NotebookEndpoint(pulumi.ComponentResource):
    url: pulumi.Output[str]
    """`https://<hostname>`, once the record points at the load balancer."""
    ingress: k8s.networking.v1.Ingress
    """The hub's Ingress."""

    def __init__(
        self,
        name: str,
        args: NotebookEndpointArgs,
        provider: k8s.Provider,
        after: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ):
        """`after`: what the Ingress waits for (the controller's chart, whose webhook admits it,
        and the hub, whose proxy service is its backend)."""
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        zone = aws.route53.get_zone_output(name=args.hosted_zone, private_zone=False, opts=invoke)

        # DNS validation works for an internal load balancer too: ACM reads the public zone.
        certificate = aws.acm.Certificate(
            f"{name}-certificate",
            domain_name=args.hostname,
            validation_method="DNS",
            key_algorithm="RSA_2048",
            tags=args.tags,
            opts=child,
        )
        option = certificate.domain_validation_options[0]
        validation_record = aws.route53.Record(
            f"{name}-validation",
            zone_id=zone.zone_id,
            name=option.resource_record_name,
            type=option.resource_record_type,
            records=[option.resource_record_value],
            ttl=300,
            # The same name validates a re-created certificate for this hostname.
            allow_overwrite=True,
            opts=child,
        )
        validated = aws.acm.CertificateValidation(
            f"{name}-certificate-validation",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[validation_record.fqdn],
            opts=child,
        )
        self.ingress = k8s.networking.v1.Ingress(
            f"{name}-ingress",
            metadata={
                "name": "hub",
                "namespace": args.namespace,
                "labels": args.labels,
                "annotations": validated.certificate_arn.apply(lambda arn: ingress_annotations(args, arn)),
            },
            spec={
                "ingressClassName": INGRESS_CLASS,
                "rules": [
                    {
                        "host": args.hostname,
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": PROXY_SERVICE, "port": {"name": "http"}}},
                                }
                            ]
                        },
                    }
                ],
            },
            # A new load balancer takes a few minutes; the default wait is ten.
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=provider,
                depends_on=after,
                custom_timeouts=pulumi.CustomTimeouts(create="20m", update="20m"),
            ),
        )
        address = self.ingress.status.load_balancer.ingress[0].hostname
        # The zone id of application load balancers in this region (a fixed table of AWS's).
        lb_zone = aws.lb.get_hosted_zone_id_output(load_balancer_type="application", opts=invoke)
        record = aws.route53.Record(
            f"{name}-record",
            zone_id=zone.zone_id,
            name=args.hostname,
            type="A",
            aliases=[{"name": address, "zone_id": lb_zone.id, "evaluate_target_health": True}],
            opts=child,
        )
        self.url = record.fqdn.apply(lambda _: f"https://{args.hostname}")
        self.register_outputs({"url": self.url})
