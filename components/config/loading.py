"""Turning raw Pulumi config into a validated StackConfig: in a program run (`load_stack_config`)
and for the offline tooling (`validate`), with the same checks, in two passes — the model's
shape, then the rules — and every problem listed at once."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from pydantic import SecretStr, ValidationError

from components.config.base import PROVIDER_NAMESPACES, REGION_RE, SECRET_KEYS
from components.config.errors import MISSING, ConfigError, Problem, Source, structure_problems
from components.config.rules import rule_problems
from components.config.stack import StackConfig

OFFLINE_SECRET_PLACEHOLDER = "offline-placeholder-secret"  # noqa: S105 - stands in for a value never read


def validate(
    raw: dict[str, Any],
    *,
    project: str,
    stack: str,
    source: Source,
    offline: bool = False,
    secret_keys: Collection[str] = (),
) -> StackConfig:
    """Validate raw Pulumi config (`{"ns:key": value}`, top-level values as the CLI passes them).

    Raises ConfigError listing every problem; returns the typed model otherwise. `offline` (the
    offline plan): secrets a stack needs but has not set yet get a placeholder and a note instead
    of an error, because they are set per deployment with `pulumi config set --secret`.
    `secret_keys`: the full keys whose values were encrypted (`secure:`) in their file.
    """
    problems: list[Problem] = []
    ours: dict[str, Any] = {}
    for full_key, value in raw.items():
        ns, _, key = full_key.partition(":")
        if ns == project and key in SECRET_KEYS and full_key not in secret_keys:
            # The stack files are committed: a secret written there in plain text is in git.
            problems.append(
                Problem(
                    source.file_of(full_key),
                    full_key,
                    "[secret]",
                    "a secret written in plain text in a file that is committed to git",
                    f"remove it, run `pulumi config set --secret {key} <value> --stack {stack}`, "
                    "and rotate it (it is in the history)",
                )
            )
            continue
        if ns == project:
            # Secrets are passed as they are: never parsed, never echoed in a message.
            ours[key] = value if key in SECRET_KEYS else _decode(value)
        elif ns not in PROVIDER_NAMESPACES:
            problems.append(
                Problem(
                    source.file_of(full_key),
                    full_key,
                    _decode(value),
                    f"unknown namespace '{ns}'",
                    f"use {project}:<key> for platform settings, or a provider "
                    f"namespace ({', '.join(PROVIDER_NAMESPACES)})",
                )
            )

    region = str(raw.get("aws:region", ""))
    if not REGION_RE.match(region):
        problems.append(
            Problem(
                source.file_of("aws:region"),
                "aws:region",
                region or MISSING,
                "not an AWS region",
                "set aws:region, e.g. eu-west-1 (Pulumi.yaml sets it for all stacks)",
            )
        )
    try:
        cfg = StackConfig.model_validate(ours)
    except ValidationError as exc:
        raise ConfigError(problems + structure_problems(exc, source)) from None
    cfg._project, cfg._stack, cfg._region = project, stack, region
    if (
        offline
        and cfg.environment != "local"
        and cfg.notebooks.enabled
        and cfg.notebooks.authenticator != "dummy"
        and cfg.oauth_client_secret is None
    ):
        cfg = cfg.model_copy(update={"oauth_client_secret": SecretStr(OFFLINE_SECRET_PLACEHOLDER)})
        cfg._project, cfg._stack, cfg._region = project, stack, region
        cfg._notes = [
            f"{source.stack_file}: {project}:oauthClientSecret is not set; the offline plan uses a "
            "placeholder, `pulumi up` needs `pulumi config set --secret oauthClientSecret ...`"
        ]
    problems += rule_problems(cfg, source)
    if problems:
        raise ConfigError(problems)
    return cfg


def _decode(value: Any) -> Any:
    """The CLI hands structured values to programs as JSON text; scalars stay as they are."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def load_stack_config() -> StackConfig:
    """Read and validate this stack's config inside a Pulumi program run.

    On bad config raises `pulumi.RunError`, which the CLI prints without a traceback.
    """
    import pulumi
    from pulumi.runtime import config as runtime_config

    # The SDK exposes single keys only; the full map is what the CLI handed the program
    # (including Pulumi.yaml defaults), which is what unknown-key detection needs.
    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    stack = pulumi.get_stack()
    try:
        return validate(
            raw,
            project=pulumi.get_project(),
            stack=stack,
            source=Source(stack_file=f"Pulumi.{stack}.yaml", origins={}),
            secret_keys=[k for k in raw if runtime_config.is_config_secret(k)],
        )
    except ConfigError as exc:
        raise pulumi.RunError(f"invalid configuration for stack '{stack}':\n{exc}") from None
