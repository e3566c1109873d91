"""Wall time of the offline commands as a user or a CI step runs them (fresh processes; the
median of N runs, and the fastest). Each cold one is set against its floor, timed just before
it in every run: a fresh process that only imports the Pulumi SDK modules the program loads for
that stack (for diff and parity, for all stacks), found by planning the stacks once first. The
floor process is tuned as the commands are (see `dataops/__main__.py`). "x floor" is the median
of the per-run ratios, not the ratio of the two medians: this machine's speed drifts between
runs, and the ratio of two neighbouring timings drifts far less.

    .venv/bin/python benchmarks/offline_commands.py [--runs 5]

The plan cache column: "off", every plan runs the program; "warm", a second command over
unchanged files; for `diff --all-stacks --base HEAD` (needs a git checkout) also "empty", base
and working tree both planned, and "base only", the base revision's plans cached and the
working tree's not, as on a push that changed the program.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATAOPS = [sys.executable, "-m", "dataops"]
# Tuned as `python -m dataops` is (no cyclic GC, no interpreter teardown), so the floor and
# the commands pay the same for the same imports.
IMPORT = """
import gc, importlib, os, sys
gc.disable()
for m in sys.argv[1:]:
    importlib.import_module(m)
os._exit(0)
"""

# Drops the working tree's plans from the cache and keeps the base revision's.
FORGET_WORKING_TREE = """
from pathlib import Path
from dataops import plan_cache
from dataops.stack_files import known_stacks
root = Path.cwd()
for stack in known_stacks(root):
    (plan_cache.directory(root) / f"{plan_cache.inputs_key(root, stack)}.json").unlink(missing_ok=True)
"""

LOADED = """
import json, sys
from dataops.plan import build_plan
for stack in sys.argv[1:]:
    build_plan(stack)
print(json.dumps(sorted(m for m in sys.modules if m.startswith("pulumi"))))
"""


def sdk_modules(stacks: list[str]) -> list[str]:
    env = os.environ | {"DATAOPS_PLAN_CACHE": "off"}
    cmd = [sys.executable, "-c", LOADED, *stacks]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"error: planning the shipped stacks failed:\n{out.stderr}")
    return json.loads(out.stdout)


def seconds(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def measure(
    cmd: list[str], runs: int, env: dict[str, str], before: list[str] | None, floor: list[str] | None
) -> tuple[list[float], float | None, float | None]:
    """Each run's seconds of `cmd`; with `floor`, also the floor's median and the median of the
    per-run ratios; each run times the floor just before the command."""
    times, floors, ratios = [], [], []
    for _ in range(runs):
        if before:
            subprocess.run(before, cwd=ROOT, env=env, check=True, capture_output=True)
        if floor:
            floors.append(seconds(floor, os.environ | {"DATAOPS_PLAN_CACHE": "off"}))
        times.append(seconds(cmd, env))
        if floor:
            ratios.append(times[-1] / floors[-1])
    if not floor:
        return times, None, None
    return times, statistics.median(floors), statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    stacks = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))
    modules = {s: sdk_modules([s]) for s in stacks} | {"all": sdk_modules(stacks)}
    cache = Path(tempfile.mkdtemp(prefix="dataops-bench-cache-"))
    cold = os.environ | {"DATAOPS_PLAN_CACHE": "off"}
    warm = os.environ | {"DATAOPS_PLAN_CACHE": str(cache)}
    git = (ROOT / ".git").exists() and shutil.which("git")
    # (label, command, environment, run before each timed run, plan cache state)
    rows: list[tuple[str, list[str], dict[str, str], list[str] | None, str]] = [
        *((f"plan {s}", [*DATAOPS, "plan", "--stack", s, "--json"], cold, None, "off") for s in stacks),
        ("diff dev prod", [*DATAOPS, "diff", "dev", "prod"], cold, None, "off"),
        ("parity", [*DATAOPS, "parity"], cold, None, "off"),
    ]
    all_stacks = [*DATAOPS, "diff", "--all-stacks", "--base", "HEAD"]
    if git:
        # Base and working tree both evaluated: the first run on a pull request.
        clear = [sys.executable, "-c", f"import shutil; shutil.rmtree({str(cache)!r}, ignore_errors=True)"]
        rows.append(("diff --all-stacks --base HEAD", all_stacks, warm, clear, "empty"))
        # Only the working tree evaluated: a later push that changed the program.
        forget = [sys.executable, "-c", FORGET_WORKING_TREE]
        rows.append(("diff --all-stacks --base HEAD", all_stacks, warm, forget, "base only"))
    rows += [
        ("diff dev prod", [*DATAOPS, "diff", "dev", "prod"], warm, None, "warm"),
        ("parity", [*DATAOPS, "parity"], warm, None, "warm"),
    ]
    if git:
        rows.append(("diff --all-stacks --base HEAD", all_stacks, warm, None, "warm"))

    floors = {name: [sys.executable, "-c", IMPORT, *mods] for name, mods in modules.items()}
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, median of {args.runs} runs\n")
    print(
        "| command | plan cache | seconds (median) | fastest | floor (SDK imports) | x floor |\n"
        "|---|---|---:|---:|---:|---:|"
    )
    try:
        for label, cmd, env, before, state in rows:
            stack = label.split()[1] if label.startswith("plan ") else "all"
            if state in ("warm", "base only"):  # a first run fills the cache
                subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True)
            # A warm command imports no SDK: a floor would compare it with work it never does.
            floor = None if state == "warm" else floors[stack]
            times, floor_median, ratio = measure(cmd, args.runs, env, before, floor)
            cells = ("n/a", "n/a") if ratio is None else (f"{floor_median:.2f}", f"{ratio:.2f}")
            median, fastest = statistics.median(times), min(times)
            print(f"| {label} | {state} | {median:.2f} | {fastest:.2f} | {cells[0]} | {cells[1]} |")
    finally:
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
