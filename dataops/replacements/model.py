"""The shape of a replacement rule: which inputs of a resource type make its provider replace the
resource rather than update it in place, the condition when there is one, and the upstream
source that says so. The tables are `aws`, `kubernetes` and `other`; `dataops.replacements`
merges them and answers for one changed input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Sides:
    """What a conditional rule may look at: the resource's inputs before and after, and the
    inputs of the provider the new side uses."""

    a: dict[str, Any]
    b: dict[str, Any]
    provider: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Forces:
    """Inputs (camelCase paths as the plan records them, lists without their indices) whose
    change replaces the resource; a path names its whole subtree."""

    inputs: tuple[str, ...]
    source: str
    """Where the provider says so: a link to the file, at the commit it was read at."""
    when: Callable[[Sides], bool] | None = None
    condition: str = ""
    """`when` in words, shown next to the input it forces."""


@dataclass(frozen=True)
class Rules:
    """Everything the diff knows about one resource type."""

    source: str
    """Where the type's other inputs are seen updated in place (its Update), or why none is."""
    forces: tuple[Forces, ...] = ()
    refused: tuple[Forces, ...] = ()
    """Inputs the provider updates in place but the service refuses to change (immutable
    fields): `pulumi up` fails on them instead of replacing."""
    note: str = ""


def tf_aws(path: str, commit: str) -> str:
    """A resource's file in terraform-provider-aws, which pulumi-aws bridges: its schema marks the
    attributes that cannot change in place `ForceNew` (plugin SDK) or `RequiresReplace` (plugin
    framework), and Pulumi plans a change to one as a replacement."""
    return f"https://github.com/hashicorp/terraform-provider-aws/blob/{commit}/internal/service/{path}"
