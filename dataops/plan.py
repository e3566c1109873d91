"""The offline plan: the real `__main__.py` run in-process under Pulumi's mock runtime.

Nothing here needs the Pulumi CLI, cloud credentials or the network. A `Plan` holds every
registration request exactly as the engine would receive it (type, name, parent, inputs,
dependencies, protect, retainOnDelete) and the stack's outputs. Every tool and most tests consume
this one `Plan`; nothing else runs the program its own way.

`build_plan` evaluates a stack with `dataops.engine` unless `dataops.plan_cache` already holds
the plan for exactly the same inputs; this module itself imports neither the SDKs nor the
config model, so a command answered from the cache starts in a fraction of a second. The data
types (`Plan`, `PlannedResource`, `PlanError`) are `dataops.plan_types`'.
"""

# size: `build_plan` and its parallel form `build_plans` share the in-process cache and the
# reference checks, and `diff --base` calls both by name in other revisions (dataops/revision.py);
# the fork machinery below them is their private detail.

from __future__ import annotations

import contextvars
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dataops import interrupt, plan_cache
from dataops.plan_types import ORGANIZATION, Plan, PlanError

if TYPE_CHECKING:
    from components.config import StackConfig
    from dataops import stack_files

ROOT = Path(__file__).resolve().parent.parent
MAX_PROBLEMS = 20  # config problems listed before the rest are counted


def load_config(
    stack: str, root: Path = ROOT, config_path: Path | None = None
) -> tuple[stack_files.StackFiles, StackConfig]:
    """Read and validate a stack's config; PlanError with one line per problem."""
    from components.config import ConfigError, validate
    from dataops import stack_files

    try:
        files = stack_files.load(root, stack, config_path)
    except stack_files.StackFileError as exc:
        raise PlanError([str(exc)]) from None
    try:
        cfg = validate(
            files.raw,
            project=files.project,
            stack=stack,
            source=files.source,
            offline=True,
            secret_keys=files.secret_keys,
        )
    except ConfigError as exc:
        lines = [str(p) for p in exc.problems]
        if len(lines) > MAX_PROBLEMS:  # a file with thousands of bad entries still reads in one screen
            rest = len(lines) - MAX_PROBLEMS
            lines = [
                *lines[:MAX_PROBLEMS],
                f"{files.source.stack_file}: ... and {rest} more problems like these",
            ]
        raise PlanError(lines) from None
    return files, cfg


_CACHE: dict[str, Plan] = {}


def _cached(stack: str, root: Path, config_path: Path | None) -> tuple[str, Plan | None]:
    """The stack's cache key, and its plan if this process or the plan cache already has it."""
    cache_key = plan_cache.inputs_key(root, stack, config_path)
    if cache_key in _CACHE:
        return cache_key, _CACHE[cache_key]
    if (cached := plan_cache.load(root, cache_key)) is not None:
        _CACHE[cache_key] = cached
    return cache_key, cached


def _references(cfg: StackConfig) -> list[tuple[str, str, str, str]]:
    """(setting, value, short name, fully qualified name) of each stack `cfg` reads outputs of."""
    references = []
    if cfg.lake.role == "consumer":
        references.append(
            ("lake.ownerStack", cfg.lake.owner_stack, cfg.owner_stack, cfg.owner_stack_name(ORGANIZATION))
        )
    if cfg.environment == "sandbox" and cfg.sandbox is not None:
        references.append(
            ("sandbox.hostStack", cfg.sandbox.host_stack, cfg.host_stack, cfg.host_stack_name(ORGANIZATION))
        )
    return references


def build_plan(
    stack: str, root: Path = ROOT, config_path: Path | None = None, _chain: tuple[str, ...] = ()
) -> Plan:
    """Evaluate `stack` offline. Raises PlanError for user mistakes."""
    cache_key, cached = _cached(stack, root, config_path)
    if cached is not None:
        return cached
    from dataops import stack_files  # only a cache miss pays for the config model

    files, cfg = load_config(stack, root, config_path)
    if cfg.owns_cloud_lake:
        _only_owner(stack, root, files.source.stack_file)

    # Stack references resolve to the referenced stacks' own offline outputs.
    stack_outputs: dict[str, dict[str, Any]] = {}
    known = stack_files.known_stacks(root)
    for setting, value, short, fqn in _references(cfg):
        where = f"{files.source.stack_file}: {files.project}:{setting} = {value!r}"
        if short in _chain or short == stack:
            cycle = " -> ".join((*_chain, stack, short))
            raise PlanError(
                [f"{where}: stack references form a cycle ({cycle}); fix: reference another stack"]
            )
        if short not in known or not fqn.endswith(f"/{files.project}/{short}"):
            raise PlanError(
                [f"{where}: not a stack of this project (known: {', '.join(known)}); fix: name one of them"]
            )
        referenced = load_config(short, root)[1]
        if setting == "lake.ownerStack" and not referenced.owns_cloud_lake:
            raise PlanError(
                [
                    f"{where}: stack {short} does not own a cloud lake; "
                    "fix: name the stack whose lake.role is owner"
                ]
            )
        if setting == "sandbox.hostStack" and (
            referenced.environment in ("local", "sandbox") or referenced.cluster.mode != "eks"
        ):
            raise PlanError(
                [
                    f"{where}: stack {short} does not create an EKS cluster; "
                    "fix: name a stack with cluster.mode eks (e.g. dev)"
                ]
            )
        if setting == "sandbox.hostStack" and not referenced.hosts_sandboxes:
            raise PlanError(
                [
                    f"{where}: stack {short} does not host sandboxes; fix: host them on dev "
                    f"(or set cluster.hostSandboxes: true in Pulumi.{short}.yaml, never prod)"
                ]
            )
        stack_outputs[fqn] = build_plan(short, root, None, (*_chain, stack)).outputs

    from dataops.engine import run_program  # the SDKs: only for a valid config that is not cached

    plan = contextvars.copy_context().run(run_program, files, cfg, stack_outputs)
    _CACHE[cache_key] = plan
    plan_cache.store(root, cache_key, plan)
    return plan


def _only_owner(stack: str, root: Path, stack_file: str) -> None:
    """Exactly one stack owns the cloud lake: a stack file copied from the owner's under another
    name would create a second lake. (Other stacks whose files do not validate are `validate`'s
    to report.)"""
    from dataops import stack_files

    for other in stack_files.known_stacks(root):
        if other == stack:
            continue
        try:
            other_cfg = load_config(other, root)[1]
        except PlanError:
            continue
        if other_cfg.owns_cloud_lake:
            raise PlanError(
                [
                    f"{stack_file}: dataops-platform:lake.role = 'owner': stack {other} already owns the "
                    "lake; fix: make this stack a consumer (lake.role: consumer, lake.ownerStack: "
                    f"{other}), or move the ownership deliberately"
                ]
            )


def build_plans(stacks: list[str], root: Path = ROOT, jobs: int | None = None) -> dict[str, Plan]:
    """`build_plan` of each stack, with the misses spread over `jobs` processes (default: every
    core this process may use, or DATAOPS_PLAN_JOBS; see `plan_jobs`).

    The stacks that other misses reference (prod's lake, dev's cluster) are planned here first;
    that also imports the SDKs, the larger part of a cold plan. Then each further job is a fork
    of this process, SDKs already imported and referenced plans already made. Each process
    starts with one of the remaining stacks and then takes the next one still waiting, so a
    process that drew a small stack (local) goes on with another instead of idling. Where fork is
    missing or unsafe (another thread is running) the stacks are planned one after another; the
    plans are the same.

    Every stack is tried even after one fails, and the PlanError raised is the one a run of the
    stacks one by one would meet first, whichever process met it.
    """
    found = {s: _cached(s, root, None) for s in dict.fromkeys(stacks)}  # stack: (key, plan)
    plans = {s: p for s, (_, p) in found.items() if p is not None}
    missing = [s for s in found if s not in plans]
    referenced = {
        ref[2]
        for s in missing
        if (root / f"Pulumi.{s}.yaml").is_file()  # a missing stack's error comes from build_plan
        for ref in _references(load_config(s, root)[1])
    }
    for stack in [s for s in missing if s in referenced] or missing[:1]:
        plans[stack] = build_plan(stack, root)
    rest = [s for s in missing if s not in plans]
    jobs = min(jobs or plan_jobs(), len(rest)) if _can_fork() else 1
    try:
        queue = _Queue(rest[jobs:]) if jobs > 1 else None
    except OSError:  # no pipe to spare: one process, one stack after another
        queue = None
    here = rest if queue is None else rest[:1]
    errors: dict[str, list[str]] = {}

    def attempt(stack: str) -> None:
        try:
            plans[stack] = build_plan(stack, root)
        except PlanError as exc:
            errors[stack] = exc.lines

    children: list[tuple[int, int]] = []

    def end_children() -> None:  # on Ctrl-C (`dataops.interrupt`): their plans are not needed
        for pid, _ in children:
            os.kill(pid, signal.SIGTERM)

    interrupt.when_interrupted(end_children)
    try:
        for stack in rest[1:jobs] if queue is not None else []:
            try:
                children.append(_fork(stack, queue, root))
            except OSError:  # no process or pipe to spare: this process plans that stack too
                here = [*here, stack]
        for stack in _and_then(here, queue):
            attempt(stack)
    finally:
        # Before any child is reaped, after which its pid may name another process. A child
        # still planning then ends by itself, and on a Ctrl-C at a terminal, which reaches it too.
        interrupt.forget(end_children)
        try:
            if queue is not None:
                queue.close()
        finally:
            results = [_collect(*child) for child in children]  # every child is waited for, always
    for result in results:
        for plan in result.plans:
            plans[plan.stack] = _CACHE[found[plan.stack][0]] = plan
        errors |= result.errors
        if result.failure:  # said, not hidden: if the plans below succeed, it was the fork's own
            print(
                f"warning: a forked process {result.failure}; the main process plans its stacks again",
                file=sys.stderr,
            )
    for stack in rest:
        # Left by a child that failed (a bug shows here), or past what the queue can hold.
        if stack not in plans and stack not in errors:
            attempt(stack)
    if errors:
        raise PlanError(errors[next(s for s in rest if s in errors)])
    return {s: plans[s] for s in stacks}


class _Queue:
    """Stacks waiting for a process, shared by this process and its forks: a pipe holding one
    byte per stack, its index. A one-byte read is atomic, so no two processes take the same
    stack. Stacks past the 256 a byte can name are left out; `build_plans` plans those last."""

    def __init__(self, stacks: list[str]) -> None:
        self.stacks = stacks[:256]
        self.fd, write = os.pipe()
        try:
            os.write(write, bytes(range(len(self.stacks))))  # within any pipe's buffer
        except OSError:
            os.close(self.fd)
            raise
        finally:
            os.close(write)  # so an empty queue reads as the end, not as a wait

    def take(self) -> str | None:
        token = os.read(self.fd, 1)
        return self.stacks[token[0]] if token else None

    def close(self) -> None:
        os.close(self.fd)


def _and_then(first: list[str], queue: _Queue | None) -> Iterator[str]:
    """`first`, then each stack this process takes from `queue`."""
    yield from first
    while queue is not None and (stack := queue.take()) is not None:
        yield stack


def plan_jobs() -> int:
    """How many processes `build_plans` uses by default."""
    setting = os.environ.get("DATAOPS_PLAN_JOBS", "")
    if setting:
        if not setting.isdigit() or int(setting) < 1:
            raise PlanError(
                [f"DATAOPS_PLAN_JOBS={setting}: not a whole number of processes; fix: e.g. 1 or 2"]
            )
        return int(setting)
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def _can_fork() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


@dataclass
class _ForkResult:
    """What a forked child sends back: its plans, its stacks' PlanErrors, and how it failed
    otherwise ("" if it did not); the stacks it failed on are planned again by the parent."""

    plans: list[Plan]
    errors: dict[str, list[str]]
    failure: str = ""


def _fork(stack: str, queue: _Queue, root: Path) -> tuple[int, int]:
    """Plan `stack`, then the stacks it takes from `queue`, in a forked child; the outcome
    comes back as JSON through a pipe (see `_ForkResult`)."""
    sys.stdout.flush()  # or the child would write this process's buffered output a second time
    sys.stderr.flush()
    read, write = os.pipe()
    # Held back until the child has SIGINT's default action again: the parent's handler
    # (`dataops.interrupt`) would have it clean up after the parent and say so a second time.
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        pid = os.fork()
        if not pid:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
    except OSError:
        os.close(read)
        os.close(write)
        raise
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    if pid:
        os.close(write)
        return pid, read
    os.close(read)
    out: dict[str, Any] = {"plans": [], "errors": {}, "failure": ""}
    current, code = stack, 1
    try:
        try:
            for current in _and_then([stack], queue):
                try:
                    out["plans"].append(build_plan(current, root).to_record())
                except PlanError as exc:
                    out["errors"][current] = exc.lines
        except Exception as exc:  # a bug: this child stops, and the parent plans `current` again
            first_line = (str(exc).splitlines() or [""])[0]
            out["failure"] = f"failed planning {current} ({type(exc).__name__}: {first_line})"
        with os.fdopen(write, "w", encoding="utf-8") as pipe:
            json.dump(out, pipe)
        code = 0
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)  # never return into the parent's code, or run its exit handlers


def _collect(pid: int, read: int) -> _ForkResult:
    """A child's outcome, once it has ended."""
    with os.fdopen(read, encoding="utf-8") as pipe:
        text = pipe.read()
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    if code != 0:  # it died before sending anything whole
        return _ForkResult([], {}, f"was killed by signal {-code}" if code < 0 else f"exited with {code}")
    out = json.loads(text)
    return _ForkResult([Plan.from_dict(doc) for doc in out["plans"]], out["errors"], out["failure"])
