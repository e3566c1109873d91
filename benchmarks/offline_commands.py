"""Wall time of the offline commands as a user or a CI step runs them (fresh processes, median
of N runs), each against its floor measured in the same run: a fresh process that only imports
the Pulumi SDK modules the program loads for that stack (for diff and parity, for all stacks),
found by planning the stacks once first.

    .venv/bin/python benchmarks/offline_commands.py [--runs 5]

"cold" runs with the plan cache off (every plan runs the program); "cached" runs again with
the cache warm, as a second command over unchanged files does. The `--base HEAD` rows need a
git checkout; they plan the working tree while the revision's plans run in subprocesses.
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
IMPORT = "import importlib, sys\nfor m in sys.argv[1:]: importlib.import_module(m)"

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


def median_seconds(cmd: list[str], runs: int, env: dict[str, str], before: list[str] | None = None) -> float:
    times = []
    for _ in range(runs):
        if before:
            subprocess.run(before, cwd=ROOT, env=env, check=True, capture_output=True)
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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
    rows: list[tuple[str, list[str], dict[str, str], list[str] | None]] = [
        *((f"plan {s}", [*DATAOPS, "plan", "--stack", s, "--json"], cold, None) for s in stacks),
        ("diff dev prod", [*DATAOPS, "diff", "dev", "prod"], cold, None),
        ("parity", [*DATAOPS, "parity"], cold, None),
    ]
    if git:
        # Before each run the cache holds nothing: base and working tree are both evaluated.
        clear = [sys.executable, "-c", f"import shutil; shutil.rmtree({str(cache)!r}, ignore_errors=True)"]
        rows.append(
            (
                "diff --all-stacks --base HEAD",
                [*DATAOPS, "diff", "--all-stacks", "--base", "HEAD"],
                warm,
                clear,
            )
        )
    rows += [
        ("diff dev prod", [*DATAOPS, "diff", "dev", "prod"], warm, None),
        ("parity", [*DATAOPS, "parity"], warm, None),
    ]
    if git:
        rows.append(
            (
                "diff --all-stacks --base HEAD",
                [*DATAOPS, "diff", "--all-stacks", "--base", "HEAD"],
                warm,
                None,
            )
        )

    floors = {
        name: median_seconds([sys.executable, "-c", IMPORT, *mods], args.runs, cold)
        for name, mods in modules.items()
    }
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, median of {args.runs} runs\n")
    print("| command | plan cache | seconds | floor (SDK imports) | x floor |\n|---|---|---:|---:|---:|")
    try:
        for label, cmd, env, before in rows:
            stack = label.split()[1] if label.startswith("plan ") else "all"
            floor = floors[stack]
            # The first cached run fills the cache; the median then is of hits.
            state = "off" if env is cold else ("empty" if before else "warm")
            if state == "warm":
                subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True)
            seconds = median_seconds(cmd, args.runs, env, before)
            print(f"| {label} | {state} | {seconds:.2f} | {floor:.2f} | {seconds / floor:.2f} |")
    finally:
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
