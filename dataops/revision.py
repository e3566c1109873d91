"""Offline plans of another git revision: a temporary `git worktree`, the revision's own
`python -m dataops plan --json` run inside it, and the worktree removed again."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dataops.plan import Plan, PlanError, PlannedResource


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)  # noqa: S607


@contextmanager
def checkout(root: Path, ref: str) -> Iterator[Path]:
    resolved = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if resolved.returncode != 0:
        raise PlanError(
            [
                f"--base {ref}: not a commit of this repository; fix: use a branch, tag or commit "
                "(e.g. origin/main after `git fetch`)"
            ]
        )
    with tempfile.TemporaryDirectory(prefix="dataops-base-") as tmp:
        tree = Path(tmp) / "tree"
        added = _git(root, "worktree", "add", "--detach", str(tree), resolved.stdout.strip())
        if added.returncode != 0:
            raise PlanError([f"--base {ref}: git worktree failed: {added.stderr.strip().splitlines()[-1]}"])
        try:
            yield tree
        finally:
            _git(root, "worktree", "remove", "--force", str(tree))


def plan_at(tree: Path, stack: str, ref: str) -> Plan:
    """The revision's own program and tooling evaluate its own stack files."""
    result = subprocess.run(
        [sys.executable, "-m", "dataops", "plan", "--stack", stack, "--json"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or ["no output"])[0].removeprefix("error: ")
        raise PlanError([f"--base {ref}: stack {stack} does not evaluate at that revision: {first}"])
    doc = json.loads(result.stdout)
    return Plan(
        doc["project"],
        doc["stack"],
        [
            PlannedResource(
                **{k: r.get(k, "") for k in PlannedResource.__dataclass_fields__ if k != "custom"}
            )
            for r in doc["resources"]
        ],
        doc["outputs"],
    )
