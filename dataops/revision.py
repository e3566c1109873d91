"""Offline plans of another git revision, made by that revision's own code and stack files in a
temporary `git worktree` that is removed again.

A revision's plans are cached by its git tree id (`plan_cache.revision_key`), so the base of a
pull request is evaluated once, not on every push; the worktree is only made on a miss. Missing
plans are evaluated by one subprocess (the SDK imports are most of a plan's cost, so they are
paid once), and `start` returns at once so the caller plans the working tree meanwhile.

Stopping, and what a killed run leaves. Used as a context manager, the `Pending` that `start`
returns stops the evaluation when its block fails or is interrupted (Ctrl-C): the subprocess
and every process it forked are ended, and the block is left only once the worktree is
removed. The subprocess and git run in process groups of their own, so a Ctrl-C at the
terminal reaches them only through this process and a worktree is never left half made or half
removed. A run killed outright (SIGKILL) cleans up nothing: its worktree stays registered in
git, and its temporary directory stays. So each worktree is `dataops-base-*/tree` in a
temporary directory that also holds a lock file, locked for as long as the worktree exists by
the process that made it and by the subprocesses planning in it. Every `start` first removes
the worktrees of that name whose lock no process holds, with their temporary directories; it
never touches a worktree of any other name.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

from dataops import interrupt, plan_cache
from dataops.plan_types import Plan, PlanError

WORKTREE_PREFIX = "dataops-base-"  # of the temporary directory that holds the worktree
OURS = re.compile(re.escape(WORKTREE_PREFIX) + r"[a-z0-9_]{8}")  # as `tempfile.mkdtemp` names it
WORKTREE = "tree"
LOCK = "lock"
TIMEOUT_SECONDS = 1200
# A worktree without a lock file was made by a version of this tool that had none; no run of
# it took longer than this (each subprocess timed out after TIMEOUT_SECONDS, and at most two
# ran one after the other), so an older one is a leftover.
LOCKLESS_SECONDS = 3600


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", *args],  # noqa: S607
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        process_group=0,  # a Ctrl-C at the terminal does not stop it halfway (see the module)
    )


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


class Stopped(Exception):
    """The evaluation was stopped (`Pending.stop`) before it finished."""


class Pending:
    """The plans of a revision, being made in the background (see `start`).

    As a context manager: a block that raises stops the evaluation, and the block is left only
    once the worktree is removed. A Ctrl-C while the evaluation runs does the same, from the
    signal handler (`dataops.interrupt`)."""

    def __init__(self) -> None:
        self._future: Future[dict[str, Plan]] = Future()
        self._finished = threading.Event()  # set before the future, for the signal handler
        # No lock guards these two: the signal handler must not wait for one (see
        # `dataops.interrupt`). `run` adds a process before it reads `_stopped`, and `stop` sets
        # `_stopped` before it reads the processes, so one of them ends each process.
        self._stopped = False
        self._running: set[subprocess.Popen] = set()
        self.lock_fds: tuple[int, ...] = ()
        """Files each subprocess keeps open: the worktree's lock (see `_plans`)."""

    def done(self) -> bool:
        return self._future.done()

    def result(self) -> dict[str, Plan]:
        """Each stack's plan; PlanError when one does not evaluate at the revision."""
        return self._future.result()

    def stop(self) -> None:
        """End the subprocesses (with everything they forked) and start no more."""
        self._stopped = True
        for process in list(self._running):
            _end(process)

    def run(self, args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
        """`args` in a process group of its own, which `stop` ends; Stopped once stopped."""
        if self._stopped:
            raise Stopped
        process = subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            process_group=0,
            pass_fds=self.lock_fds,
        )
        self._running.add(process)
        try:
            if self._stopped:
                _end(process)
            out, err = process.communicate(timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            _end(process)
            process.communicate()
            raise
        finally:
            self._running.discard(process)
        if self._stopped:
            raise Stopped  # its output, if any, is cut short
        return subprocess.CompletedProcess(args, process.returncode, out, err)

    def _evaluate(self, *args) -> None:
        """`_plans(self, *args)` into the future: a thread cannot raise to its caller."""
        try:
            try:
                plans = _plans(self, *args)
            finally:
                # The worktree is gone: a Ctrl-C has nothing left to wait for. Said before the
                # future is set, which takes a lock the interrupted main thread may hold.
                self._finished.set()
                interrupt.forget(self._interrupted)
        except BaseException as exc:  # whatever it is, `result` raises it
            self._future.set_exception(exc)
        else:
            self._future.set_result(plans)

    def _interrupted(self) -> None:
        self.stop()
        self._finished.wait()

    def __enter__(self) -> Pending:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None:
            self.stop()
        wait([self._future])


def _end(process: subprocess.Popen) -> None:
    """SIGTERM to the process group `run` started; it has no handler there, so nothing prints."""
    if process.poll() is None:  # not reaped yet, so its id (also its group's) is not reused
        with contextlib.suppress(ProcessLookupError):  # unless a thread was just reaping it
            os.killpg(process.pid, signal.SIGTERM)


def start(root: Path, ref: str, stacks: list[str]) -> Pending:
    """Begin evaluating `stacks` at `ref` in the background; the result maps each stack to its
    plan, or raises PlanError. Bad refs fail here, before anything runs, and a revision whose
    plans are all cached gives a `Pending` that is already done."""
    commit, tree_id = resolve(root, ref)
    remove_leftovers(root)
    keys = {stack: plan_cache.revision_key(tree_id, stack) for stack in stacks}
    plans = {stack: p for stack in stacks if (p := plan_cache.load(root, keys[stack])) is not None}
    missing = [s for s in stacks if s not in plans]
    pending = Pending()
    if not missing:
        pending._future.set_result(plans)
        return pending
    interrupt.when_interrupted(pending._interrupted)  # forgotten once the worktree is gone
    threading.Thread(
        target=pending._evaluate, args=(root, ref, commit, missing, keys, plans), name="dataops-base"
    ).start()
    return pending


def remove_leftovers(root: Path) -> None:
    """Remove the worktrees of earlier runs that were killed before they could (see the
    module): each `dataops-base-*/tree` whose lock no process holds, and its directory."""
    listed = _git(root, "worktree", "list", "--porcelain")
    for line in listed.stdout.splitlines():
        if line.startswith("worktree "):
            tree = Path(line.removeprefix("worktree "))
            if tree.name == WORKTREE and OURS.fullmatch(tree.parent.name):
                _remove_unless_in_use(root, tree)


def _remove_unless_in_use(root: Path, tree: Path) -> None:
    try:
        lock = os.open(tree.parent / LOCK, os.O_RDONLY)
    except FileNotFoundError:
        try:
            young = time.time() - tree.parent.stat().st_mtime < LOCKLESS_SECONDS
        except FileNotFoundError:
            young = False  # its directory is gone (e.g. a reboot emptied /tmp): git only lists it
        if not young:
            _remove(root, tree)
        return
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return  # its run, or a subprocess planning in it, is still alive
    else:
        _remove(root, tree)
    finally:
        os.close(lock)


def _remove(root: Path, tree: Path) -> None:
    _git(root, "worktree", "remove", "--force", str(tree))
    shutil.rmtree(tree.parent, ignore_errors=True)  # a run that ends now may be removing it too


def _plans(
    pending: Pending,
    root: Path,
    ref: str,
    commit: str,
    missing: list[str],
    keys: dict[str, str],
    cached: dict[str, Plan],
) -> dict[str, Plan]:
    tmp = Path(tempfile.mkdtemp(prefix=WORKTREE_PREFIX))
    with open(tmp / LOCK, "w") as lock:
        # Before the worktree exists, so a later run never finds it unlocked while in use; the
        # subprocesses keep it too, as they may outlive this process (SIGKILL).
        fcntl.flock(lock, fcntl.LOCK_EX)
        pending.lock_fds = (lock.fileno(),)
        try:
            done = _in_worktree(pending, root, tmp / WORKTREE, commit, missing, ref)
        finally:
            shutil.rmtree(tmp)  # still locked: no other run takes it for a leftover meanwhile
    for stack, plan in done.items():
        plan_cache.store(root, keys[stack], plan)
    return cached | done


def _in_worktree(
    pending: Pending, root: Path, tree: Path, commit: str, stacks: list[str], ref: str
) -> dict[str, Plan]:
    added = _git(root, "worktree", "add", "--detach", str(tree), commit)
    if added.returncode != 0:
        raise PlanError([f"--base {ref}: git worktree failed: {added.stderr.strip().splitlines()[-1]}"])
    try:
        return _plan_all(pending, tree, stacks, ref)
    finally:
        _git(root, "worktree", "remove", "--force", str(tree))


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


def _python_in(pending: Pending, tree: Path, *args: str) -> subprocess.CompletedProcess:
    """This interpreter, on the revision's own code (its worktree is the working directory)."""
    from dataops.plan import plan_jobs

    env = os.environ | {
        "DATAOPS_PLAN_CACHE": "off",  # the worktree, and any cache in it, is temporary
        "DATAOPS_PLAN_JOBS": str(max(1, plan_jobs() - 1)),  # one core plans the working tree
    }
    return pending.run([sys.executable, *args], tree, env)


def _plan_all(pending: Pending, tree: Path, stacks: list[str], ref: str) -> dict[str, Plan]:
    result = _python_in(pending, tree, "-c", _BATCH, *stacks)
    if result.returncode != 0:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            return dict(zip(stacks, pool.map(lambda s: _plan_in(pending, tree, s, ref), stacks), strict=True))
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


def _plan_in(pending: Pending, tree: Path, stack: str, ref: str) -> Plan:
    """The revision's own program and tooling evaluate its own stack files."""
    result = _python_in(pending, tree, "-m", "dataops", "plan", "--stack", stack, "--json")
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or ["no output"])[0].removeprefix("error: ")
        raise PlanError([f"--base {ref}: stack {stack} does not evaluate at that revision: {first}"])
    return Plan.from_dict(json.loads(result.stdout))
