"""SandboxNotebook: one JupyterLab server in a sandbox's namespace on the host's cluster.

It runs the host stack's image (by digest) under the namespace's `data-access` service account,
so it reads the curated zone and writes only the sandbox's scratch bucket. It is reached with
`kubectl port-forward` behind a generated token; nothing is exposed outside the cluster, and
the namespace's default-deny network policies apply to it like to any team pod.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.cluster.node_pools import POOL_LABEL
from components.cluster.node_pools import USER_TAINT as NOTEBOOK_NODE_TAINT
from components.config import StackConfig
from components.pod_security import NOTEBOOK_POD
from components.team_namespace import NOTEBOOK_PORT
from components.workload_identity import SERVICE_ACCOUNT

TYPE = "dataops:index:SandboxNotebook"
APP = {"app.kubernetes.io/name": "sandbox-notebook"}


@dataclass
class SandboxNotebookArgs:
    namespace: str
    cpu: str
    memory: str
    labels: dict[str, str]
    annotations: dict[str, str]

    @staticmethod
    def from_config(cfg: StackConfig, namespace: str, annotations: dict[str, str]) -> SandboxNotebookArgs:
        box = cfg.sandbox
        assert box is not None
        return SandboxNotebookArgs(
            namespace=namespace,
            cpu=box.notebook_cpu,
            memory=box.notebook_memory,
            labels={"app.kubernetes.io/part-of": cfg.project, "dataops.io/environment": cfg.environment},
            annotations=annotations,
        )


class SandboxNotebook(pulumi.ComponentResource):
    token: pulumi.Output[str]
    """The server's login token (a secret output)."""

    def __init__(
        self,
        name: str,
        args: SandboxNotebookArgs,
        provider: k8s.Provider,
        image_ref: pulumi.Input[str],
        environment: pulumi.Input[dict[str, str]],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(TYPE, name, None, opts)
        on_cluster = pulumi.ResourceOptions(parent=self, provider=provider)
        meta = {
            "namespace": args.namespace,
            "labels": {**args.labels, **APP},
            "annotations": args.annotations,
        }
        token = random.RandomPassword(
            f"{name}-token", length=48, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        secret = k8s.core.v1.Secret(
            f"{name}-token",
            metadata={**meta, "name": "notebook-token"},
            string_data={"token": token.result},
            type="Opaque",
            opts=on_cluster,
        )
        resources = {"cpu": args.cpu, "memory": args.memory}
        env = pulumi.Output.from_input(environment).apply(
            lambda e: [{"name": k, "value": v} for k, v in sorted(e.items())]
        )
        k8s.apps.v1.Deployment(
            f"{name}-server",
            metadata={**meta, "name": "notebook"},
            spec={
                "replicas": 1,
                "selector": {"matchLabels": APP},
                "strategy": {"type": "Recreate"},
                "template": {
                    "metadata": {"labels": {**args.labels, **APP}, "annotations": args.annotations},
                    "spec": {
                        "serviceAccountName": SERVICE_ACCOUNT,
                        "automountServiceAccountToken": False,
                        "nodeSelector": {POOL_LABEL: "notebooks"},
                        "tolerations": [
                            {
                                "key": NOTEBOOK_NODE_TAINT["key"],
                                "operator": "Equal",
                                "value": NOTEBOOK_NODE_TAINT["value"],
                                "effect": "NoSchedule",
                            }
                        ],
                        # Pod Security `restricted`, which the namespace enforces.
                        "securityContext": copy.deepcopy(NOTEBOOK_POD),
                        "containers": [
                            {
                                "name": "notebook",
                                "image": image_ref,
                                "args": ["start-notebook.py", f"--ServerApp.port={NOTEBOOK_PORT}"],
                                "ports": [{"name": "http", "containerPort": NOTEBOOK_PORT}],
                                # The image's start script reads the token from JUPYTER_TOKEN.
                                "env": pulumi.Output.all(env, secret.metadata["name"]).apply(
                                    lambda v: [
                                        *v[0],
                                        {
                                            "name": "JUPYTER_TOKEN",
                                            "valueFrom": {"secretKeyRef": {"name": v[1], "key": "token"}},
                                        },
                                    ]
                                ),
                                "resources": {"requests": resources, "limits": resources},
                                "readinessProbe": {"tcpSocket": {"port": NOTEBOOK_PORT}, "periodSeconds": 10},
                                "securityContext": {
                                    "allowPrivilegeEscalation": False,
                                    "capabilities": {"drop": ["ALL"]},
                                },
                                # Scratch space for the session; data worth keeping goes to the
                                # scratch bucket (DATAOPS_WORKSPACE_BUCKET).
                                "volumeMounts": [{"name": "home", "mountPath": "/home/jovyan/work"}],
                            }
                        ],
                        "volumes": [{"name": "home", "emptyDir": {"sizeLimit": "10Gi"}}],
                    },
                },
            },
            opts=on_cluster,
        )
        k8s.core.v1.Service(
            f"{name}-service",
            metadata={**meta, "name": "notebook"},
            spec={
                "type": "ClusterIP",
                "selector": APP,
                "ports": [{"name": "http", "port": NOTEBOOK_PORT, "targetPort": NOTEBOOK_PORT}],
            },
            opts=on_cluster,
        )
        self.token = pulumi.Output.secret(token.result)
        self.register_outputs({"namespace": args.namespace})
