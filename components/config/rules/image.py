"""Rules of the notebook image (a promoted digest, never a tag) and of the Docker-only `local`
stack, which builds it."""

from __future__ import annotations

from components.config.base import DIGEST_RE, REPOSITORY_RE
from components.config.errors import MISSING
from components.config.rules.common import Add
from components.config.stack import StackConfig


def image_rules(cfg: StackConfig, add: Add) -> None:
    img = cfg.image
    if img.digest is not None and not DIGEST_RE.match(img.digest):
        add(
            "image.digest",
            img.digest,
            "not an immutable digest (a tag such as 'latest' can change under you)",
            "use the sha256:<64 hex> digest printed by `pulumi stack output image --stack dev`",
        )
    # REPOSITORY_RE admits a registry's port and nothing after the name: no tag, no digest
    if img.repository is not None and not REPOSITORY_RE.match(img.repository):
        add(
            "image.repository",
            img.repository,
            "a repository without tag or digest is expected",
            "put the repository here (e.g. dataops-notebook) and the digest in image.digest",
        )
    if cfg.environment in ("test", "prod") and img.digest is None:
        add(
            "image.digest",
            MISSING,
            f"{cfg.environment} runs only promoted images, never a fresh build",
            "set image.digest to the digest tested in the previous environment",
        )
    if img.digest is None and img.repository is not None:
        add(
            "image.repository",
            img.repository,
            "only applies to a promoted digest",
            "set image.digest, or remove image.repository to build the image in this stack",
        )


def local_rules(cfg: StackConfig, add: Add) -> None:
    if cfg.environment != "local":
        return
    if cfg.lake.role != "owner":
        add(
            "lake.role",
            cfg.lake.role,
            "the local stack owns its own lake on the local endpoint",
            "set lake.role to owner",
        )
    if cfg.image.digest is not None:
        add(
            "image.digest",
            cfg.image.digest,
            "the local stack builds the image from images/notebook",
            "remove image.digest",
        )
    if cfg.local.notebook_port == cfg.local.lake_port:
        add(
            "local.lakePort",
            cfg.local.lake_port,
            "the notebook already uses this port",
            "choose another port",
        )
