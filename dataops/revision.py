"""Offline plans of another git revision, made by that revision's own code and stack files in a
temporary `git worktree` that is removed again.

A revision's plans are cached by its git tree id (`plan_cache.revision_key`), so the base of a
pull request is evaluated once, not on every push; the worktree is only made on a miss. Missing
plans are evaluated by one subprocess (the SDK imports are most of a plan's cost, so they are
paid once), and `start` returns at once so the caller plans the working tree meanwhile.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from dataops import plan_cache
from dataops.plan import Plan, PlanError


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)  # noqa: S607


def resolve(root: Path, ref: str) -> tuple[str, str]:
    """(commit id, tree id) of `ref`; PlanError when it is not a commit of this repository."""
    commit = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if commit.returncode != 0:
        raise PlanError(
            [
                f"--base {ref}: not a commit of this repository; fix: use a branch, tag or commit "
                "(e.g. origin/main after `git fetch`)"
            ]
        )
    tree = _git(root, "rev-parse", f"{ref}^{{tree}}")
    return commit.stdout.strip(), tree.stdout.strip()


def stacks_at(root: Path, commit: str) -> list[str]:
    listed = _git(root, "ls-tree", "--name-only", commit)
    names = listed.stdout.split()
    return sorted(
        n[len("Pulumi.") : -len(".yaml")] for n in names if n.startswith("Pulumi.") and n.count(".") == 2
    )


def start(root: Path, ref: str, stacks: list[str]) -> Future[dict[str, Plan]]:
    """Begin evaluating `stacks` at `ref` in the background; the future's result maps each stack
    to its plan, or raises PlanError. Bad refs fail here, before anything runs, and a revision
    whose plans are all cached gives a future that is already done."""
    commit, tree_id = resolve(root, ref)
    keys = {stack: plan_cache.revision_key(tree_id, stack) for stack in stacks}
    plans = {stack: p for stack in stacks if (p := plan_cache.load(root, keys[stack])) is not None}
    missing = [s for s in stacks if s not in plans]
    if not missing:
        done: Future[dict[str, Plan]] = Future()
        done.set_result(plans)
        return done
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(_plans, root, ref, commit, missing, keys, plans)
    pool.shutdown(wait=False)
    return future


def _plans(
    root: Path, ref: str, commit: str, missing: list[str], keys: dict[str, str], cached: dict[str, Plan]
) -> dict[str, Plan]:
    with tempfile.TemporaryDirectory(prefix="dataops-base-") as tmp:
        tree = Path(tmp) / "tree"
        added = _git(root, "worktree", "add", "--detach", str(tree), commit)
        if added.returncode != 0:
            raise PlanError([f"--base {ref}: git worktree failed: {added.stderr.strip().splitlines()[-1]}"])
        try:
            done = _plan_all(tree, missing, ref)
        finally:
            _git(root, "worktree", "remove", "--force", str(tree))
    for stack, plan in done.items():
        plan_cache.store(root, keys[stack], plan)
    return cached | done


# One process plans every stack, so the SDK imports are paid once; a revision that has
# `build_plans` spreads them over its share of the cores. It uses the revision's own planning
# code; a revision too old for this falls back to one `dataops plan` process per stack. Like
# `python -m dataops`, it runs without the cyclic GC and skips interpreter teardown.
_BATCH = """
import gc, json, os, sys
gc.disable()
from dataops import plan as P
stacks = sys.argv[1:]
try:
    plans = P.build_plans(stacks) if hasattr(P, "build_plans") else {}
except P.PlanError:
    plans = {}  # planned one by one below, to name the stack that fails
for stack in stacks:
    try:
        plan = plans.get(stack) or P.build_plan(stack)
        doc = plan.to_dict() | {"warnings": list(getattr(plan, "warnings", []))}
        for entry, resource in zip(doc["resources"], plan.resources):
            entry["custom"] = getattr(resource, "custom", True)  # components are not custom
        print(json.dumps({"stack": stack, "plan": doc}))
    except P.PlanError as exc:
        print(json.dumps({"stack": stack, "error": exc.lines[0]}))
sys.stdout.flush()
os._exit(0)
"""


def _python_in(tree: Path, *args: str) -> subprocess.CompletedProcess:
    """This interpreter, on the revision's own code (its worktree is the working directory)."""
    from dataops.plan import plan_jobs

    env = os.environ | {
        "DATAOPS_PLAN_CACHE": "off",  # the worktree, and any cache in it, is temporary
        "DATAOPS_PLAN_JOBS": str(max(1, plan_jobs() - 1)),  # one core plans the working tree
    }
    return subprocess.run(
        [sys.executable, *args], cwd=tree, capture_output=True, text=True, timeout=1200, check=False, env=env
    )


def _plan_all(tree: Path, stacks: list[str], ref: str) -> dict[str, Plan]:
    result = _python_in(tree, "-c", _BATCH, *stacks)
    if result.returncode != 0:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            return dict(zip(stacks, pool.map(lambda s: _plan_in(tree, s, ref), stacks), strict=True))
    plans = {}
    for line in result.stdout.splitlines():
        if not line.startswith('{"stack"'):
            continue  # anything else the revision's program printed
        doc = json.loads(line)
        if "error" in doc:
            raise PlanError(
                [f"--base {ref}: stack {doc['stack']} does not evaluate at that revision: {doc['error']}"]
            )
        plans[doc["stack"]] = Plan.from_dict(doc["plan"])
    return plans


def _plan_in(tree: Path, stack: str, ref: str) -> Plan:
    """The revision's own program and tooling evaluate its own stack files."""
    result = _python_in(tree, "-m", "dataops", "plan", "--stack", stack, "--json")
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or ["no output"])[0].removeprefix("error: ")
        raise PlanError([f"--base {ref}: stack {stack} does not evaluate at that revision: {first}"])
    return Plan.from_dict(json.loads(result.stdout))
