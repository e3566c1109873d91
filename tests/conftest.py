"""Shared fixtures: offline plans of the shipped stacks, and plans of ad-hoc stack files.

Plans are built once per session (the plan engine caches by file content), so every test reads
the same recorded registrations; assertions name the URN that failed. The on-disk plan cache is
off for the whole run (and the commands the tests start), so every plan really runs the program.

Which stacks there are, which of them are in the cloud, which owns the lake and which zones it
has are read from the stack files (`SHIPPED`, `CLOUD_STACKS`, ...), never written here: a new
stack or zone is then tested like the others, with no test to edit. The concrete values of the
shipped files are recorded once, in tests/snapshots/.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from dataops.plan import ROOT, Plan, build_plan, load_config
from dataops.stack_files import known_stacks

os.environ["DATAOPS_PLAN_CACHE"] = "off"

SHIPPED = known_stacks(ROOT)
CONFIGS = {stack: load_config(stack)[1] for stack in SHIPPED}
CLOUD_STACKS = [s for s in SHIPPED if CONFIGS[s].environment != "local"]
(LAKE_OWNER,) = [s for s in CLOUD_STACKS if CONFIGS[s].owns_cloud_lake]
CONSUMERS = [s for s in CLOUD_STACKS if s != LAKE_OWNER]
SANDBOX_HOSTS = [s for s in CLOUD_STACKS if CONFIGS[s].hosts_sandboxes]
ZONES = tuple(CONFIGS[LAKE_OWNER].zones)  # the lake's zones, as its owner configures them
FIXTURES = Path(__file__).parent / "fixtures"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        help="record the shipped stacks' values in tests/snapshots/ instead of comparing them",
    )


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


SANDBOX_NOW = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def sandbox_plan(tmp_path_factory) -> Plan:
    """`sandbox-demo` as `sandbox create demo --owner alice@example.com --ttl 3d` renders it."""
    from dataops import sandbox

    rendered = sandbox.render(ROOT, "demo", "alice@example.com", "3d", SANDBOX_NOW)
    path = tmp_path_factory.mktemp("sandbox") / f"Pulumi.{rendered.stack}.yaml"
    path.write_text(yaml.safe_dump(rendered.document))
    return build_plan(rendered.stack, ROOT, path)


def policy(resource) -> dict:
    """A policy input (JSON text in the plan) as a document."""
    for key in ("policy", "assumeRolePolicy"):
        if key in resource.inputs:
            return json.loads(resource.inputs[key])
    raise KeyError(f"{resource.urn} has no policy input")


def _ps(columns: str) -> list[list[str]]:
    """Every process, as `ps -A -o COLUMNS` lists it: one row of fields each."""
    listed = subprocess.run(["ps", "-A", "-o", columns], capture_output=True, text=True, check=True)  # noqa: S607
    return [line.split(None, columns.count(",")) for line in listed.stdout.splitlines()]


def session_processes(session: int) -> list[int]:
    """The live processes of a session (`start_new_session` makes a command its leader): the
    command and everything it started, whatever process group they are in."""
    alive = []
    for pid, stat in _ps("pid=,stat="):
        # Ended since `ps` listed it; or (where getsid is only allowed within one's own session)
        # not in the session, as this one is not.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if not stat.startswith("Z") and os.getsid(int(pid)) == session:
                alive.append(int(pid))
    return alive


def children(pid: int, command: str = "") -> list[int]:
    """The processes `pid` started (whose command name starts with `command`)."""
    return [
        int(child)
        for child, parent, name in _ps("pid=,ppid=,comm=")
        if int(parent) == pid and Path(name).name.startswith(command)
    ]
