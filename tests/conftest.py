"""Shared fixtures: offline plans of the shipped stacks, and plans of ad-hoc stack files.

Plans are built once per session (the plan engine caches by file content), so every test reads
the same recorded registrations; assertions name the URN that failed.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from dataops.plan import ROOT, Plan, build_plan
from dataops.stack_files import known_stacks

SHIPPED = [s for s in known_stacks(ROOT)]
CLOUD_STACKS = ["dev", "test", "prod"]
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def plans() -> dict[str, Plan]:
    return {stack: build_plan(stack) for stack in SHIPPED}


@pytest.fixture
def plan_with(tmp_path: Path) -> Callable[..., Plan]:
    """Plan `stack` with the given stack-file text instead of the shipped one."""

    def build(stack: str, text: str) -> Plan:
        path = tmp_path / f"Pulumi.{stack}.yaml"
        path.write_text(textwrap.dedent(text))
        return build_plan(stack, ROOT, path)

    return build


@pytest.fixture(scope="session")
def everything() -> Plan:
    """The 'everything on' owner configuration: every lake feature and option set."""
    return build_plan("prod", ROOT, FIXTURES / "everything.yaml")


def policy(resource) -> dict:
    """A policy input (JSON text in the plan) as a document."""
    for key in ("policy", "assumeRolePolicy"):
        if key in resource.inputs:
            return json.loads(resource.inputs[key])
    raise KeyError(f"{resource.urn} has no policy input")
