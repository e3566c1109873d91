"""NotebookService: the team's central JupyterHub on the stack's cluster (Zero to JupyterHub).

Installed with `helm.v3.Release` because the chart relies on Helm hooks, which `helm.v4.Chart`
skips. The values are built here from the stack config — never hand-edited YAML — and the
tests check them against the chart's values schema for the keys used. User servers run in the
team namespaces (Pod Security `restricted`) under the `data-access` service account, on the
stack's pinned image, and are culled when idle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.cluster import POOL_LABEL
from components.config import Notebooks, StackConfig
from components.lake_access import LakeRef
from components.team_namespace import HUB_API_PORT, NOTEBOOK_PORT
from components.workload_identity import SERVICE_ACCOUNT

TYPE = "dataops:index:NotebookService"
CHART = "jupyterhub"
# Pinned: a new chart version is a reviewed change to this line, never a silent upgrade.
CHART_VERSION = "4.4.2"
CHART_REPOSITORY = "https://hub.jupyter.org/helm-chart/"
HUB_SERVICE_ACCOUNT = "hub"  # the chart's name for the hub's service account
OAUTH_SECRET = "hub-oauth-client"  # noqa: S105 - the Kubernetes Secret's name
AUTHENTICATOR_CLASS = {"github": "GitHubOAuthenticator", "generic-oauth": "GenericOAuthenticator"}
# Pod Security `restricted` for user servers: the chart has no keys for these, KubeSpawner does.
CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}


@dataclass
class NotebookServiceArgs:
    namespace: str
    teams: list[str]
    notebooks: Notebooks
    image_ref: pulumi.Input[str]
    """`registry/repo@sha256:...` of this stack's image."""
    storage_class: str
    oauth_client_secret: pulumi.Input[str] | None
    labels: dict[str, str]
    dedicated_nodes: bool = True
    """The cluster has a notebook node group (eks mode): pin user servers to it."""

    @staticmethod
    def from_config(
        cfg: StackConfig, image_ref: pulumi.Input[str], storage_class: str
    ) -> NotebookServiceArgs:
        secret = cfg.oauth_client_secret
        return NotebookServiceArgs(
            namespace=cfg.hub_namespace,
            teams=[t.name for t in cfg.teams],
            notebooks=cfg.notebooks,
            image_ref=image_ref,
            storage_class=storage_class,
            oauth_client_secret=pulumi.Output.secret(secret.get_secret_value()) if secret else None,
            labels={"app.kubernetes.io/part-of": cfg.project, "dataops.io/environment": cfg.environment},
            dedicated_nodes=cfg.cluster.mode == "eks",
        )


class NotebookService(pulumi.ComponentResource):
    release: k8s.helm.v3.Release
    """The JupyterHub Helm release."""
    url: pulumi.Output[str]
    """Where users open the hub."""
    namespace: str
    """The hub's namespace."""
    service_account: str
    """The service account user servers run under (in their team namespace)."""

    def __init__(
        self,
        name: str,
        args: NotebookServiceArgs,
        provider: k8s.Provider,
        lake: LakeRef,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(TYPE, name, None, opts)
        on_cluster = pulumi.ResourceOptions(parent=self, provider=provider)
        # The hub and proxy meet `restricted`; the namespace enforces `baseline` because the
        # chart's optional helpers are not all restricted-ready, and warns/audits `restricted`.
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": args.namespace,
                "labels": {
                    **args.labels,
                    "pod-security.kubernetes.io/enforce": "baseline",
                    "pod-security.kubernetes.io/warn": "restricted",
                    "pod-security.kubernetes.io/audit": "restricted",
                },
            },
            opts=on_cluster,
        )
        grants = self._hub_access_to_teams(name, args, on_cluster)
        if args.oauth_client_secret is not None:
            # A Secret the hub reads through its environment: the client secret never enters the
            # Helm values, which anyone allowed `helm get values` could read.
            grants.append(
                k8s.core.v1.Secret(
                    f"{name}-oauth",
                    metadata={"name": OAUTH_SECRET, "namespace": args.namespace, "labels": args.labels},
                    string_data={"client-secret": args.oauth_client_secret},
                    opts=pulumi.ResourceOptions.merge(
                        on_cluster, pulumi.ResourceOptions(depends_on=[namespace])
                    ),
                )
            )
        values = pulumi.Output.all(args.image_ref, lake.environment()).apply(
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
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[namespace, *grants]),
        )
        nb = args.notebooks
        self.url = pulumi.Output.from_input(
            f"https://{nb.hostname}"
            if nb.hostname
            else f"kubectl --namespace {args.namespace} port-forward service/proxy-public 8080:80"
        )
        self.namespace = args.namespace
        self.service_account = SERVICE_ACCOUNT
        self.register_outputs(
            {"url": self.url, "namespace": self.namespace, "serviceAccount": SERVICE_ACCOUNT}
        )

    def exported(self) -> pulumi.Output[dict]:
        """The `notebooks` stack output."""
        return pulumi.Output.all(url=self.url, namespace=self.namespace, serviceAccount=self.service_account)

    def _hub_access_to_teams(
        self, name: str, args: NotebookServiceArgs, opts: pulumi.ResourceOptions
    ) -> list[pulumi.Resource]:
        """The hub starts user servers in the team namespaces: it needs exactly the rights the
        chart grants it in its own namespace, there."""
        out: list[pulumi.Resource] = []
        for team in args.teams:
            meta = {"name": "jupyterhub-spawner", "namespace": team, "labels": args.labels}
            role = k8s.rbac.v1.Role(
                f"{name}-{team}-spawner",
                metadata=meta,
                rules=[
                    {
                        "apiGroups": [""],
                        "resources": ["pods", "persistentvolumeclaims", "secrets", "services"],
                        "verbs": ["get", "watch", "list", "create", "delete"],
                    },
                    {"apiGroups": [""], "resources": ["events"], "verbs": ["get", "watch", "list"]},
                ],
                opts=opts,
            )
            out.append(
                k8s.rbac.v1.RoleBinding(
                    f"{name}-{team}-spawner-binding",
                    metadata=meta,
                    role_ref={
                        "apiGroup": "rbac.authorization.k8s.io",
                        "kind": "Role",
                        "name": "jupyterhub-spawner",
                    },
                    subjects=[
                        {"kind": "ServiceAccount", "name": HUB_SERVICE_ACCOUNT, "namespace": args.namespace}
                    ],
                    opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[role])),
                )
            )
        return out


def image_values(image_ref: str) -> dict[str, str]:
    """The chart renders `name:tag`; a digest therefore goes in as name `repo@sha256`, tag `<hex>`."""
    repository, digest = image_ref.split("@", 1)
    algorithm, hex_digest = digest.split(":", 1)
    return {"name": f"{repository}@{algorithm}", "tag": hex_digest}


def hub_values(args: NotebookServiceArgs, *, image_ref: str, lake_env: dict[str, str]) -> dict[str, Any]:
    nb = args.notebooks
    team_selector = [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": team}}} for team in args.teams
    ]
    profiles = []
    for team in args.teams:
        for p in nb.profiles:
            override: dict[str, Any] = {
                "namespace": team,
                "cpu_guarantee": p.cpu_guarantee,
                "cpu_limit": p.cpu_limit,
                "mem_guarantee": p.mem_guarantee,
                "mem_limit": p.mem_limit,
            }
            if p.gpus:
                override["extra_resource_limits"] = {"nvidia.com/gpu": str(p.gpus)}
            profiles.append(
                {
                    "display_name": f"{team} / {p.name}",
                    "slug": f"{team}-{p.name}",
                    "description": (
                        f"{p.cpu_guarantee}-{p.cpu_limit} CPU, {p.mem_guarantee}-{p.mem_limit} memory"
                        + (f", {p.gpus} GPU" if p.gpus else "")
                    ),
                    "default": p.default and team == args.teams[0],
                    "kubespawner_override": override,
                }
            )

    config: dict[str, Any] = {
        "KubeSpawner": {
            "container_security_context": CONTAINER_SECURITY,
            "pod_security_context": {
                "runAsNonRoot": True,
                "fsGroup": 100,
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
            # User servers live in the team namespaces and must reach the hub API from there.
            "networkPolicy": {
                "enabled": True,
                "ingress": [{"from": team_selector, "ports": [{"protocol": "TCP", "port": HUB_API_PORT}]}],
            },
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
            "service": {"type": "LoadBalancer" if nb.expose_load_balancer else "ClusterIP"},
            "https": {"enabled": False},  # TLS ends at the ingress
            "chp": {
                "networkPolicy": {
                    "enabled": True,
                    "egress": [{"to": team_selector, "ports": [{"protocol": "TCP", "port": NOTEBOOK_PORT}]}],
                }
            },
        },
        "singleuser": {
            "image": image_values(image_ref),
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
        "scheduling": {
            "userScheduler": {"enabled": False},
            "userPods": {
                "nodeAffinity": {"matchNodePurpose": "require" if args.dedicated_nodes else "prefer"}
            },
        },
        # The pullers need `name:tag` images and privileged init steps; notebook nodes pull on demand.
        "prePuller": {"hook": {"enabled": False}, "continuous": {"enabled": False}},
        "cull": {"enabled": True, "timeout": nb.idle_timeout_minutes * 60, "every": 300, "users": False},
        "ingress": {"enabled": nb.hostname is not None},
    }
    if nb.hostname:
        values["ingress"].update({"hosts": [nb.hostname], "ingressClassName": nb.ingress_class})
        if nb.tls_secret:
            values["ingress"]["tls"] = [{"hosts": [nb.hostname], "secretName": nb.tls_secret}]
    return values
