"""Rules of how CI reaches and deploys the private cluster: the in-VPC runner, its GitHub
connection and users, and the roles the workflows assume."""

from __future__ import annotations

import re

from components.config.base import ROLE_ARN_RE
from components.config.errors import MISSING
from components.config.rules.common import PRIVATE_RANGES, Add, parse_cidr
from components.config.stack import StackConfig

CONNECTION_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}$"
)
REPOSITORY_SLUG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")


def role_arn(value: str, key: str, add: Add) -> None:
    """EKS access entries need the role's exact ARN, path included (IAM Identity Center roles
    live under /aws-reserved/sso.amazonaws.com/...): a name alone cannot be turned into it."""
    if ROLE_ARN_RE.match(value):
        return
    if re.match(r"^[\w+=,.@-]{1,64}$", value):
        add(
            key,
            value,
            "a bare role name; access entries need the role's full ARN, path included",
            f"use the output of `aws iam get-role --role-name {value} --query Role.Arn`",
        )
    else:
        add(key, value, "not an IAM role ARN", "use arn:aws:iam::<12-digit account>:role/<path/><name>")


def ci_rules(cfg: StackConfig, add: Add) -> None:
    """eks clusters: how CI reaches the private API endpoint, and which roles it uses there."""
    c, ci = cfg.cluster, cfg.ci
    for key, arn in ci.access_roles().items():
        role_arn(arn, key, add)
    if ci.repository is not None and not REPOSITORY_SLUG_RE.match(ci.repository):
        add("ci.repository", ci.repository, "not a GitHub repository", "write it as owner/name")
    if ci.connection_arn is not None and not CONNECTION_ARN_RE.match(ci.connection_arn):
        add(
            "ci.connectionArn",
            ci.connection_arn,
            "not a CodeConnections connection ARN",
            "copy it from `aws codeconnections list-connections`",
        )
    if cfg.runs_runner and not ci.runner.allowed_actor_ids:
        add(
            "ci.runner.allowedActorIds",
            [],
            "anyone who can open a pull request (a fork's author too) could run jobs inside the VPC",
            "list the GitHub user ids of the people whose runs may use it (`gh api users/<login> --jq .id`)",
        )
    if cfg.runs_runner:
        for key, value in (("ci.repository", ci.repository), ("ci.connectionArn", ci.connection_arn)):
            if value is None:
                add(
                    key,
                    MISSING,
                    "the in-VPC runner needs the repository and its CodeConnections connection",
                    "set it in Pulumi.yaml (see the README's first deploy), or set ci.runner.enabled: false",
                )
    elif not c.public_access_cidrs and not c.private_access_cidrs:
        add(
            "ci.runner.enabled",
            False,
            "nothing could reach the cluster's private API endpoint to deploy to it",
            "keep the runner, or list cluster.privateAccessCidrs (your VPN) for dev and test",
        )
    for cidr in c.private_access_cidrs:
        block = parse_cidr(cidr, "cluster.privateAccessCidrs", add)
        if block is not None and not any(block.subnet_of(r) for r in PRIVATE_RANGES):
            add(
                "cluster.privateAccessCidrs",
                cidr,
                "not a private (RFC 1918) range",
                "list your VPN or peered ranges; public clients use cluster.publicAccessCidrs",
            )
    if cfg.environment == "prod" and c.private_access_cidrs:
        add(
            "cluster.privateAccessCidrs",
            c.private_access_cidrs,
            "prod's API endpoint admits its in-VPC runner only",
            "remove cluster.privateAccessCidrs (reach prod through the deploy workflow)",
        )
    if c.host_sandboxes and cfg.environment == "prod":
        add(
            "cluster.hostSandboxes",
            True,
            "throw-away sandboxes never run on prod's cluster",
            "remove cluster.hostSandboxes (dev hosts them)",
        )
