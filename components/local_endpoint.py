"""LocalLakeEndpoint: an S3-compatible endpoint in Docker for the `local` stack, and the AWS
provider pointed at it, so the lake is created by the same GovernedDataLake code as in AWS.

Governance features this endpoint cannot honour are listed in UNSUPPORTED — the one place —
and the lake skips each with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker

from components.config import StackConfig

TYPE = "dataops:index:LocalLakeEndpoint"

# moto server 5.x (motoserver/moto on Docker Hub), pinned by digest; S3, KMS, Glue and STS in one process.
MOTO_IMAGE = "motoserver/moto@sha256:91fd602a21f49cf9eb82fdf474015a3c131d40104c8297ea6a2ca920708ae32c"
MOTO_PORT = 5000
ENDPOINT_HOST = "lake-endpoint"
"""The endpoint's name on the local Docker network (what the notebook container uses)."""
LOCAL_ACCOUNT = "123456789012"  # moto's account
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
START_SCRIPT = Path(__file__).resolve().parent.parent / "images" / "lake-endpoint" / "start.py"

UNSUPPORTED = {
    "access-logging": "moto stores the logging setting but never delivers access logs",
    "lifecycle": "moto stores lifecycle rules but never runs them",
    "bucket-policy": "moto does not evaluate bucket policies, and the endpoint is plain HTTP on loopback",
    "workload-role": "moto does not enforce IAM; the notebook uses the endpoint's local credentials",
}


@dataclass
class LocalLakeEndpointArgs:
    port: int
    region: str
    remove_data_on_destroy: bool
    labels: dict[str, str]

    @staticmethod
    def from_config(cfg: StackConfig) -> LocalLakeEndpointArgs:
        return LocalLakeEndpointArgs(
            port=cfg.local.lake_port,
            region=cfg.region,
            remove_data_on_destroy=cfg.local.remove_data_on_destroy,
            labels={"project": cfg.project, "stack": cfg.stack},
        )


def docker_labels(labels: dict[str, str]) -> list[dict[str, str]]:
    """Labels in the shape the Docker provider takes, so `docker ps` shows what made a container."""
    return [{"label": k, "value": v} for k, v in sorted(labels.items())]


class LocalLakeEndpoint(pulumi.ComponentResource):
    network: docker.Network
    """The Docker network the endpoint and the notebook share."""
    aws_provider: aws.Provider
    """An AWS provider that talks only to the local endpoint."""
    url: str
    """The endpoint as seen from the host."""
    url_in_network: str
    """The endpoint as seen from containers on `network`."""

    def __init__(self, name: str, args: LocalLakeEndpointArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = docker_labels(args.labels)
        self.network = docker.Network(
            f"{name}-network", name="dataops-local", internal=False, labels=labels, opts=child
        )
        image = docker.RemoteImage(f"{name}-image", name=MOTO_IMAGE, keep_locally=True, opts=child)
        # Named and retained on delete: `pulumi destroy` keeps the lake's data unless asked not to.
        data = docker.Volume(
            f"{name}-data",
            name="dataops-local-lake",
            labels=labels,
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=not args.remove_data_on_destroy),
        )
        container = docker.Container(
            f"{name}-container",
            name="dataops-local-lake-endpoint",
            image=image.image_id,
            entrypoints=["python", "/opt/dataops/start.py"],
            uploads=[{"file": "/opt/dataops/start.py", "content": START_SCRIPT.read_text()}],
            envs=[f"MOTO_PORT={MOTO_PORT}", "MOTO_RECORDER_FILEPATH=/data/moto-recording.jsonl"],
            ports=[{"internal": MOTO_PORT, "external": args.port, "ip": "127.0.0.1"}],
            volumes=[{"volume_name": data.name, "container_path": "/data"}],
            networks_advanced=[{"name": self.network.name, "aliases": [ENDPOINT_HOST]}],
            capabilities={"drops": ["ALL"]},
            security_opts=["no-new-privileges:true"],
            restart="unless-stopped",
            labels=labels,
            opts=child,
        )
        self.url = f"http://127.0.0.1:{args.port}"
        self.url_in_network = f"http://{ENDPOINT_HOST}:{MOTO_PORT}"
        services = ("s3", "kms", "glue", "sts", "iam")
        self.aws_provider = aws.Provider(
            f"{name}-aws",
            region=args.region,
            access_key=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            secret_key=pulumi.Output.secret(LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]),
            endpoints=[{service: self.url for service in services}],
            s3_use_path_style=True,
            # No real AWS account behind this provider: never look one up.
            skip_credentials_validation=True,
            skip_metadata_api_check=True,
            skip_region_validation=True,
            skip_requesting_account_id=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[container]),
        )
        self.register_outputs({"url": self.url})
