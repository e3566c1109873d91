"""LocalNotebook: JupyterLab on a laptop, from the same image and lock as every environment.

The image is built locally from images/notebook (nothing pushed), the server listens on
127.0.0.1 only behind a generated token, and it gets the lake's endpoint, credentials and
bucket names as the standard AWS and DATAOPS_LAKE_* variables, so boto3 / s3fs / pandas code
written here runs unchanged in the cloud, where only the endpoint and credentials differ.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.config import StackConfig
from components.container_image import IMAGE_DIR, context_digest, relative, repository_name
from components.lake_access import LakeRef
from components.local_endpoint import LOCAL_CREDENTIALS, LocalLakeEndpoint, docker_labels

TYPE = "dataops:index:LocalNotebook"
NOTEBOOK_PORT = 8888
HOME = "/home/jovyan/work"


@dataclass
class LocalNotebookArgs:
    port: int
    platform: str
    image_repository: str
    remove_data_on_destroy: bool
    labels: dict[str, str]

    @staticmethod
    def from_config(cfg: StackConfig) -> LocalNotebookArgs:
        return LocalNotebookArgs(
            port=cfg.local.notebook_port,
            platform=cfg.image.platform,
            image_repository=repository_name(cfg),
            remove_data_on_destroy=cfg.local.remove_data_on_destroy,
            labels={"project": cfg.project, "stack": cfg.stack},
        )


class LocalNotebook(pulumi.ComponentResource):
    url: pulumi.Output[str]
    """JupyterLab's address with its token (a secret output)."""
    image: pulumi.Output[str]
    """The locally built image, tagged with the build context's hash."""

    def __init__(
        self,
        name: str,
        args: LocalNotebookArgs,
        endpoint: LocalLakeEndpoint,
        lake: LakeRef,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = docker_labels(args.labels)
        token = random.RandomPassword(f"{name}-token", length=48, special=False, opts=child)
        lock = hashlib.sha256((IMAGE_DIR / "requirements.lock").read_bytes()).hexdigest()
        image = docker.Image(
            f"{name}-image",
            image_name=f"{args.image_repository}:{context_digest()[:16]}",
            build=docker.DockerBuildArgs(
                context=relative(IMAGE_DIR),
                dockerfile=relative(IMAGE_DIR / "Dockerfile"),
                platform=args.platform,
                args={"LOCK_SHA256": lock, "REVISION": "local"},
            ),
            skip_push=True,
            opts=child,
        )
        home = docker.Volume(
            f"{name}-home",
            name="dataops-local-home",
            labels=labels,
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=not args.remove_data_on_destroy),
        )
        envs = lake.environment().apply(
            lambda variables: sorted(
                [
                    f"AWS_ENDPOINT_URL={endpoint.url_in_network}",
                    *(f"{k}={val}" for k, val in LOCAL_CREDENTIALS.items()),
                    *(f"{k}={val}" for k, val in variables.items()),
                ]
            )
        )
        # The token goes into Jupyter's config file rather than the environment, where
        # `docker inspect` would show it to anyone with access to the Docker socket.
        server_config = pulumi.Output.secret(
            token.result.apply(lambda t: json.dumps({"IdentityProvider": {"token": t}}))
        )
        docker.Container(
            f"{name}-container",
            name="dataops-local-notebook",
            image=image.image_name,
            envs=envs,
            uploads=[{"file": "/home/jovyan/.jupyter/jupyter_server_config.json", "content": server_config}],
            # Loopback only: the notebook runs code, so nobody else on the network may reach it.
            ports=[{"internal": NOTEBOOK_PORT, "external": args.port, "ip": "127.0.0.1"}],
            volumes=[{"volume_name": home.name, "container_path": HOME}],
            networks_advanced=[{"name": endpoint.network.name}],
            capabilities={"drops": ["ALL"]},
            security_opts=["no-new-privileges:true"],
            restart="unless-stopped",
            labels=labels,
            opts=child,
        )
        self.image = image.image_name
        self.url = pulumi.Output.secret(
            token.result.apply(lambda t: f"http://127.0.0.1:{args.port}/lab?token={t}")
        )
        self.register_outputs({"url": self.url, "image": self.image})
