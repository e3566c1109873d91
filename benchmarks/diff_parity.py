"""Wall time of `diff dev prod` and `parity`, against the import time of the Pulumi SDKs they
load (the floor any offline plan pays), as a user runs them: fresh processes, median of N runs.

    .venv/bin/python benchmarks/diff_parity.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    # The SDK modules the program uses (pulumi-aws loads its submodules lazily, on first use).
    "SDK imports (floor)": [
        sys.executable,
        "-c",
        "import components.cluster, components.data_lake, components.notebook_service, "
        "components.local_notebook, components.team_namespace",
    ],
    "plan prod": [sys.executable, "-m", "dataops", "plan", "--stack", "prod", "--json"],
    "diff dev prod": [sys.executable, "-m", "dataops", "diff", "dev", "prod"],
    "parity (dev, test, prod)": [sys.executable, "-m", "dataops", "parity"],
}


def median_seconds(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"{platform.python_version()}, {os.cpu_count()} CPUs, median of {args.runs} runs\n")
    print("| command | seconds | x floor |\n|---|---:|---:|")
    floor = None
    for label, cmd in COMMANDS.items():
        seconds = median_seconds(cmd, args.runs)
        floor = floor or seconds
        print(f"| {label} | {seconds:.2f} | {seconds / floor:.1f} |")


if __name__ == "__main__":
    main()
