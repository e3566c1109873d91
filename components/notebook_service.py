"""NotebookService: the team's central JupyterHub on the stack's cluster (Zero to JupyterHub).

Installed with `helm.v3.Release` because the chart relies on Helm hooks, which `helm.v4.Chart`
skips. The values are built here from the stack config — never hand-edited YAML — and the
tests check them against the chart's values schema for the keys used. The hub and its user
servers share one namespace, set up like a team namespace by TeamNamespace (Pod Security
`restricted`, quota, default-deny networking, the `data-access` service account bound to the
workload role), because the chart's spawner watches only its own namespace. Servers run the
stack's pinned image and are culled when idle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.node_pools import POOL_LABEL
from components.config import NotebooksConfig, StackConfig
from components.container_image import chart_image
from components.dask_gateway import hub_values as gateway_hub_values
from components.notebook_endpoint import NotebookEndpoint, NotebookEndpointArgs
from components.pod_security import NOTEBOOK_GID, RESTRICTED_CONTAINER
from components.workload_identity import SERVICE_ACCOUNT

TYPE = "dataops:index:NotebookService"
CHART = "jupyterhub"
# Pinned: a new chart version is a reviewed change to this line, never a silent upgrade.
CHART_VERSION = "4.4.0"
CHART_REPOSITORY = "https://hub.jupyter.org/helm-chart/"
OAUTH_SECRET = "hub-oauth-client"  # noqa: S105 - the Kubernetes Secret's name
PORT_FORWARD = "kubectl --namespace {namespace} port-forward service/proxy-public 8080:80"
AUTHENTICATOR_CLASS = {"github": "GitHubOAuthenticator", "generic-oauth": "GenericOAuthenticator"}


def load_balancer_subnets(cfg: StackConfig) -> list[str]:
    """An existing VPC's subnets for the hub's load balancer (public ones for an internet-facing
    hub); none in the VPC the platform creates, whose subnets carry the controller's discovery tags."""
    existing = cfg.cluster.network.existing
    if existing is None:
        return []
    return list(
        existing.public_subnet_ids
        if cfg.notebooks.scheme == "internet-facing"
        else existing.private_subnet_ids
    )


@dataclass
class NotebookServiceArgs:
    namespace: str
    notebooks: NotebooksConfig
    image_ref: pulumi.Input[str]
    """`registry/repo@sha256:...` of this stack's image."""
    storage_class: str
    oauth_client_secret: pulumi.Input[str] | None
    labels: dict[str, str]
    dedicated_nodes: bool = True
    """The cluster has a notebook node group (eks mode): pin user servers to it."""
    endpoint: NotebookEndpointArgs | None = None
    """The hub's HTTPS address (a hosted zone is configured and the platform runs the cluster)."""
    dask_gateway: bool = False
    """Dask Gateway runs beside the hub (components/dask_gateway.py): register it and tell the
    notebooks where it is."""

    @staticmethod
    def from_config(
        cfg: StackConfig, image_ref: pulumi.Input[str], storage_class: str
    ) -> NotebookServiceArgs:
        secret = cfg.oauth_client_secret
        nb = cfg.notebooks
        labels = {"app.kubernetes.io/part-of": cfg.project, "dataops.io/environment": cfg.environment}
        endpoint = None
        if nb.hosted_zone and nb.hostname and cfg.cluster.mode == "eks":
            endpoint = NotebookEndpointArgs(
                hostname=nb.hostname,
                hosted_zone=nb.hosted_zone.rstrip("."),
                namespace=cfg.hub_namespace,
                scheme=nb.scheme,
                allowed_cidrs=list(nb.allowed_cidrs),
                load_balancer_name=cfg.physical_name("hub")[:32],
                subnets=load_balancer_subnets(cfg),
                labels=labels,
                tags={k: v for k, v in cfg.mandatory_tags().items() if "," not in v and "=" not in v},
            )
        return NotebookServiceArgs(
            namespace=cfg.hub_namespace,
            notebooks=nb,
            image_ref=image_ref,
            storage_class=storage_class,
            oauth_client_secret=pulumi.Output.secret(secret.get_secret_value()) if secret else None,
            labels=labels,
            dedicated_nodes=cfg.cluster.mode == "eks",
            endpoint=endpoint,
            dask_gateway=cfg.runs_dask_gateway,
        )


class NotebookService(pulumi.ComponentResource):
    release: k8s.helm.v3.Release
    """The JupyterHub Helm release."""
    url: pulumi.Output[str]
    """Where users open the hub."""
    namespace: str
    """The hub's namespace (where user servers run too)."""
    service_account: str
    """The service account user servers run under."""

    def __init__(
        self,
        name: str,
        args: NotebookServiceArgs,
        provider: k8s.Provider,
        environment: pulumi.Input[dict[str, str]],
        namespace: k8s.core.v1.Namespace,
        cluster_ready: list[pulumi.Resource] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(TYPE, name, None, opts)
        # A first install must not race the nodes, DNS and storage: `atomic` would roll it back.
        needs: list[pulumi.Resource] = [namespace, *(cluster_ready or [])]
        if args.oauth_client_secret is not None:
            # A Secret the hub reads through its environment: the client secret never enters the
            # Helm values, which anyone allowed `helm get values` could read.
            needs.append(
                k8s.core.v1.Secret(
                    f"{name}-oauth",
                    metadata={"name": OAUTH_SECRET, "namespace": args.namespace, "labels": args.labels},
                    string_data={"client-secret": args.oauth_client_secret},
                    opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[namespace]),
                )
            )
        values = pulumi.Output.all(args.image_ref, environment).apply(
            lambda v: hub_values(args, image_ref=v[0], lake_env=v[1])
        )
        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            name="jupyterhub",
            chart=CHART,
            version=CHART_VERSION,
            repository_opts={"repo": CHART_REPOSITORY},
            namespace=args.namespace,
            values=values,
            # Roll back a failed upgrade instead of leaving the hub half-updated.
            atomic=True,
            cleanup_on_fail=True,
            timeout=900,
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=needs),
        )
        if args.endpoint is not None:
            endpoint = NotebookEndpoint(
                f"{name}-endpoint",
                args.endpoint,
                provider=provider,
                after=[self.release, *(cluster_ready or [])],
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.url = endpoint.url
        else:
            self.url = pulumi.Output.from_input(PORT_FORWARD.format(namespace=args.namespace))
            # Said once per run: the hostname (and so the OAuth callback) resolves nowhere.
            pulumi.log.warn(
                "notebooks.hostedZone is not set: the hub has no load balancer or DNS record; reach it with "
                f"`{PORT_FORWARD.format(namespace=args.namespace)}`",
                resource=self,
            )
        self.namespace = args.namespace
        self.service_account = SERVICE_ACCOUNT
        self.register_outputs(
            {"url": self.url, "namespace": self.namespace, "serviceAccount": SERVICE_ACCOUNT}
        )

    def exported(self) -> pulumi.Output[dict]:
        """The `notebooks` stack output."""
        return pulumi.Output.all(url=self.url, namespace=self.namespace, serviceAccount=self.service_account)


def hub_values(args: NotebookServiceArgs, *, image_ref: str, lake_env: dict[str, str]) -> dict[str, Any]:
    nb = args.notebooks
    profiles = []
    for p in nb.profiles:
        override: dict[str, Any] = {
            "cpu_guarantee": p.cpu_guarantee,
            "cpu_limit": p.cpu_limit,
            "mem_guarantee": p.mem_guarantee,
            "mem_limit": p.mem_limit,
        }
        if p.gpus:
            override["extra_resource_limits"] = {"nvidia.com/gpu": str(p.gpus)}
            if args.dedicated_nodes:
                override["node_selector"] = {POOL_LABEL: "gpu"}
        profiles.append(
            {
                "display_name": p.name,
                "slug": p.name,
                "description": (
                    f"{p.cpu_guarantee}-{p.cpu_limit} CPU, {p.mem_guarantee}-{p.mem_limit} memory"
                    + (f", {p.gpus} GPU" if p.gpus else "")
                ),
                "default": p.default,
                "kubespawner_override": override,
            }
        )

    config: dict[str, Any] = {
        "KubeSpawner": {
            # The chart has no keys for these; KubeSpawner does.
            "container_security_context": RESTRICTED_CONTAINER,
            "pod_security_context": {
                "runAsNonRoot": True,
                "fsGroup": NOTEBOOK_GID,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
        },
    }
    if nb.authenticator == "dummy":
        config["JupyterHub"] = {"authenticator_class": "dummy"}
    else:
        cls = AUTHENTICATOR_CLASS[nb.authenticator]
        oauth = nb.oauth
        assert oauth is not None  # guaranteed by config validation
        auth: dict[str, Any] = {
            "client_id": oauth.client_id,
            "oauth_callback_url": f"https://{nb.hostname}/hub/oauth_callback",
        }
        if nb.authenticator == "github":
            auth["allowed_organizations"] = oauth.allowed_organizations
            auth["scope"] = ["read:org"]
        else:
            auth.update(
                {
                    "authorize_url": oauth.authorize_url,
                    "token_url": oauth.token_url,
                    "userdata_url": oauth.userdata_url,
                    "scope": ["openid", "profile", "email", "groups"],
                    "username_claim": "preferred_username",
                    "claim_groups_key": "groups",
                    "allowed_groups": oauth.allowed_groups,
                }
            )
        config["JupyterHub"] = {"authenticator_class": nb.authenticator}
        config[cls] = auth

    values: dict[str, Any] = {
        "hub": {
            "config": config,
            "networkPolicy": {"enabled": True},
            # OAuthenticator reads its client secret from OAUTH_CLIENT_SECRET.
            "extraEnv": {}
            if nb.authenticator == "dummy"
            else {
                "OAUTH_CLIENT_SECRET": {
                    "valueFrom": {"secretKeyRef": {"name": OAUTH_SECRET, "key": "client-secret"}}
                }
            },
        },
        "proxy": {
            # Reached through the platform's Ingress (its load balancer targets the pod's IP).
            "service": {"type": "ClusterIP"},
            "https": {"enabled": False},  # TLS ends at the load balancer
            "chp": {"networkPolicy": {"enabled": True}},
        },
        "singleuser": {
            "image": chart_image(image_ref),
            "serviceAccountName": SERVICE_ACCOUNT,
            # The iptables init container needs root and NET_ADMIN, which `restricted` forbids;
            # the metadata server stays blocked by the network policies instead.
            "cloudMetadata": {"blockWithIptables": False},
            "networkPolicy": {
                "enabled": True,
                "egressAllowRules": {
                    "cloudMetadataServer": False,
                    "privateIPs": False,
                    "nonPrivateIPs": True,
                    "dnsPortsKubeSystemNamespace": True,
                    "dnsPortsPrivateIPs": True,
                    "dnsPortsCloudMetadataServer": False,
                },
            },
            "uid": 1000,
            "fsGid": 100,
            "allowPrivilegeEscalation": False,
            "storage": {
                "type": "dynamic",
                "capacity": nb.home_size,
                "dynamic": {"storageClass": args.storage_class},
            },
            "extraEnv": dict(sorted(lake_env.items())),
            "nodeSelector": {POOL_LABEL: "notebooks"} if args.dedicated_nodes else {},
            "profileList": profiles,
        },
        "scheduling": scheduling_values(nb, args.dedicated_nodes),
        # The pullers need `name:tag` images and privileged init steps; notebook nodes pull on demand.
        "prePuller": {"hook": {"enabled": False}, "continuous": {"enabled": False}},
        "cull": {"enabled": True, "timeout": nb.idle_timeout_minutes * 60, "every": 300, "users": False},
        # The platform's own Ingress (components/notebook_endpoint.py), which Pulumi waits for.
        "ingress": {"enabled": False},
    }
    if args.dask_gateway:
        values = merge(values, gateway_hub_values(args.namespace))
    return values


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`base` with `extra` merged in, mapping by mapping (extra's scalars and lists win)."""
    out = dict(base)
    for key, value in extra.items():
        out[key] = (
            merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        )
    return out


def scheduling_values(nb: NotebooksConfig, dedicated_nodes: bool) -> dict[str, Any]:
    """How user servers meet the autoscaler (Zero to JupyterHub, "Optimizations",
    https://z2jh.jupyter.org/en/stable/administrator/optimization.html): the user scheduler packs
    servers onto the busiest node so others empty out and go; placeholders (lowest priority,
    the size of the default server) hold warm capacity and give way to a real server; with none,
    a start waits for a node from zero."""
    if not dedicated_nodes:  # an adopted cluster: its own scheduling
        return {
            "userScheduler": {"enabled": False},
            "userPods": {"nodeAffinity": {"matchNodePurpose": "prefer"}},
        }
    default = next((p for p in nb.profiles if p.default), nb.profiles[0])
    return {
        # The chart's own security contexts for these pods already meet Pod Security `restricted`.
        "userScheduler": {"enabled": True},
        "podPriority": {"enabled": True},
        "userPlaceholder": {
            "enabled": nb.placeholders > 0,
            "replicas": nb.placeholders,
            "resources": {"requests": {"cpu": str(default.cpu_guarantee), "memory": default.mem_guarantee}},
        },
        "userPods": {"nodeAffinity": {"matchNodePurpose": "require"}},
    }
