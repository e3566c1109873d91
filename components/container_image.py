"""ContainerImage: the one notebook image every environment runs, referenced by digest.

The stack that builds (dev) owns an ECR repository and pushes `images/notebook/` to it. Every
other stack only references a promoted digest from its config and builds nothing, so test
and prod run exactly the bytes dev tested. Either way the output is `registry/repo@sha256:...`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker

from components.config import StackConfig

TYPE = "dataops:index:ContainerImage"
IMAGE_DIR = Path(__file__).resolve().parent.parent / "images" / "notebook"


PROJECT_DIR = IMAGE_DIR.parent.parent


def relative(path: Path) -> str:
    return path.relative_to(PROJECT_DIR).as_posix() if path.is_relative_to(PROJECT_DIR) else str(path)


def repository_name(cfg: StackConfig) -> str:
    """The image's repository name, the same in every stack (and locally)."""
    return f"{cfg.name_prefix}-notebook"


def context_digest(directory: Path = IMAGE_DIR) -> str:
    """sha256 over the build context's files: the immutable tag of what a build would produce."""
    h = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        h.update(path.relative_to(directory).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def chart_image(image_ref: str) -> dict[str, str]:
    """An image reference as Helm charts take it: they render `name:tag`, so a digest goes in as
    name `repo@sha256` and tag `<hex>` (the jupyterhub and dask-gateway charts alike)."""
    repository, digest = image_ref.split("@", 1)
    algorithm, hex_digest = digest.split(":", 1)
    return {"name": f"{repository}@{algorithm}", "tag": hex_digest}


@dataclass
class ContainerImageArgs:
    repository_name: str
    """ECR repository name (shared by every stack, so a digest means the same image everywhere)."""
    tags: dict[str, str]
    platform: str
    keep_last: int
    digest: str | None = None
    """A promoted `sha256:...`: reference it and build nothing."""
    repository: str | None = None
    """Where a promoted digest lives; None: this account's ECR repository `repository_name`."""
    force_delete: bool = False
    """Sandboxes only: let `pulumi destroy` delete a repository that still holds images."""
    context: Path = field(default=IMAGE_DIR)

    @staticmethod
    def from_config(cfg: StackConfig) -> ContainerImageArgs:
        return ContainerImageArgs(
            repository_name=repository_name(cfg),
            tags=cfg.mandatory_tags(),
            digest=cfg.image.digest,
            repository=cfg.image.repository,
            platform=cfg.image.platform,
            keep_last=cfg.image.keep_last,
            force_delete=cfg.environment == "sandbox" and not cfg.protected,
        )


class ContainerImage(pulumi.ComponentResource):
    ref: pulumi.Output[str]
    """Immutable reference `registry/repo@sha256:...` of the image this stack runs."""
    repository: aws.ecr.Repository | None = None
    """The ECR repository, when this stack builds."""
    key: aws.kms.Key | None = None
    """The key encrypting the repository, when this stack builds."""

    def __init__(self, name: str, args: ContainerImageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        region = aws.get_region_output(opts=invoke).region
        registry = pulumi.Output.concat(account, ".dkr.ecr.", region, ".amazonaws.com")

        if args.digest is not None:
            self.ref = self._promoted(args, registry)
        else:
            self.ref = self._build(name, args)
        self.register_outputs({"ref": self.ref})

    def exported(self) -> pulumi.Output[dict]:
        """The `image` stack output: what to promote to the next environment."""
        return pulumi.Output.all(
            ref=self.ref,
            repository=self.repository.repository_url if self.repository else None,
        ).apply(lambda v: {**v, "digest": v["ref"].rsplit("@", 1)[-1]})

    @staticmethod
    def _promoted(args: ContainerImageArgs, registry: pulumi.Output[str]) -> pulumi.Output[str]:
        repository = args.repository or args.repository_name
        first = repository.split("/", 1)[0]
        if "." in first or ":" in first:  # a registry host: use as given
            return pulumi.Output.from_input(f"{repository}@{args.digest}")
        return pulumi.Output.concat(registry, "/", repository, "@", args.digest)

    def _build(self, name: str, args: ContainerImageArgs) -> pulumi.Output[str]:
        child = pulumi.ResourceOptions(parent=self)
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"{args.repository_name} image repository",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=args.tags,
            opts=child,
        )
        self.repository = aws.ecr.Repository(
            f"{name}-repository",
            name=args.repository_name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configurations=[{"encryption_type": "KMS", "kms_key": self.key.arn}],
            force_delete=args.force_delete,
            tags=args.tags,
            opts=child,
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=self.repository.name,
            policy=json.dumps(lifecycle_policy(args.keep_last)),
            opts=child,
        )
        token = aws.ecr.get_authorization_token_output(
            registry_id=self.repository.registry_id, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        content = context_digest(args.context)
        lock = hashlib.sha256((args.context / "requirements.lock").read_bytes()).hexdigest()
        image = docker.Image(
            f"{name}-image",
            # The tag is the build context's hash: with immutable tags, new content gets a new tag.
            image_name=self.repository.repository_url.apply(lambda url: f"{url}:{content[:16]}"),
            build=docker.DockerBuildArgs(
                # Relative to the project directory (where `pulumi up` runs): the plan is then the
                # same in every checkout.
                context=relative(args.context),
                dockerfile=relative(args.context / "Dockerfile"),
                platform=args.platform,
                # Every build argument derives from the build context, like the tag: the same
                # content always gives the same tag, so an immutable tag is never pushed twice.
                args={"LOCK_SHA256": lock, "REVISION": f"context-{content[:16]}"},
            ),
            registry=docker.RegistryArgs(
                server=self.repository.repository_url,
                username=token.user_name,
                password=pulumi.Output.secret(token.password),
            ),
            opts=child,
        )
        return image.repo_digest


PROMOTED_TAG_PREFIX = "promoted-"


def lifecycle_policy(keep_last: int) -> dict:
    """Keep every promoted image (tagged `promoted-...` when promoted) and the last builds.

    ECR evaluates rules by priority and an image matched by a higher-priority rule is never
    expired by a lower one (https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html),
    so rule 1, which expires nothing in practice, shields promoted digests from rule 2.
    """
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": "never expire images promoted to test or prod",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPrefixList": [PROMOTED_TAG_PREFIX],
                    "countType": "imageCountMoreThan",
                    "countNumber": 10000,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": f"keep the last {keep_last} builds",
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": keep_last,
                },
                "action": {"type": "expire"},
            },
        ]
    }
