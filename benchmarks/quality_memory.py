"""Peak memory of `python -m dataops quality` as a dataset grows: sales_orders-shaped Parquet
(the shipped declaration, Pulumi.prod.yaml) of growing row counts, written into a folder laid out
like the lake, each checked by a fresh process whose peak resident memory (ru_maxrss of the
child, from wait4) is reported beside the data's size on disk and uncompressed. The rows are made
up, with a fixed seed: unique order ids, a few nulls in `channel`, every rule holding, so every
rule reads every row.

    .venv/bin/python benchmarks/quality_memory.py [--rows 1000000 4000000 16000000]

The files hold ROWS_PER_FILE rows in row groups of ROW_GROUP rows, over one partition per
FILES_PER_DAY files, as a daily batch job writes them. Figures: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
ROWS_PER_FILE = 500_000
ROW_GROUP = 128 * 1024
FILES_PER_DAY = 4
PREFIX = Path("curated") / "sales" / "orders"
CURRENCIES = ["EUR", "GBP", "USD"]
CHANNELS = ["web", "app", "store"]

# A fresh interpreter starts the command as its child and reports the child's peak memory. (From
# this process the child's peak would include this one's: Linux keeps a process's peak across
# fork and exec.)
LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, "-m", "dataops", *sys.argv[1:]])
_, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss * 1024)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def orders(rng: random.Random, start: int, rows: int) -> pa.Table:
    return pa.table(
        {
            "order_id": [f"o-{i:012d}" for i in range(start, start + rows)],
            "customer_id": [f"c-{rng.randrange(200_000):06d}" for _ in range(rows)],
            "amount": [round(rng.uniform(5, 900), 2) for _ in range(rows)],
            "currency": [rng.choice(CURRENCIES) for _ in range(rows)],
            "channel": [None if rng.random() < 0.04 else rng.choice(CHANNELS) for _ in range(rows)],
        }
    )


def write(root: Path, rows: int) -> tuple[int, int, int]:
    """Write `rows` rows under root/curated/sales/orders/; (files, bytes on disk, bytes
    uncompressed, as the Parquet footers count them)."""
    rng = random.Random(19)  # noqa: S311 - made-up rows, not secrets
    files = on_disk = uncompressed = 0
    day = datetime.date(2026, 1, 1)
    for start in range(0, rows, ROWS_PER_FILE):
        folder = root / PREFIX / f"order_date={day + datetime.timedelta(days=files // FILES_PER_DAY)}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"part-{files % FILES_PER_DAY}.parquet"
        pq.write_table(orders(rng, start, min(ROWS_PER_FILE, rows - start)), path, row_group_size=ROW_GROUP)
        meta = pq.ParquetFile(path).metadata
        uncompressed += sum(meta.row_group(g).total_byte_size for g in range(meta.num_row_groups))
        on_disk += path.stat().st_size
        files += 1
    return files, on_disk, uncompressed


def check(data: Path) -> tuple[int, float, int]:
    """(exit code, seconds, peak resident bytes) of quality on `data`."""
    argv = ["quality", "--stack", "prod", "--dataset", "sales_orders", "--data", str(data)]
    began = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *argv], cwd=ROOT, capture_output=True, text=True, check=False
    )
    took = time.perf_counter() - began
    if proc.returncode != 0:
        sys.exit(f"quality exited {proc.returncode} on {data}:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return proc.returncode, took, int(proc.stdout.splitlines()[-1])


def mib(n: int) -> str:
    return f"{n / (1 << 20):,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 4_000_000, 16_000_000])
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, pyarrow {pa.__version__}, {os.cpu_count()} CPUs\n")
    print("| rows | files | on disk (MiB) | uncompressed (MiB) | peak memory (MiB) | seconds |")
    print("|---:|---:|---:|---:|---:|---:|")
    _, took, peak = check(ROOT / "samples" / "lake")
    print(f"| 240 (the samples) | 6 | 0 | 0 | {mib(peak)} | {took:.1f} |", flush=True)
    for rows in args.rows:
        with tempfile.TemporaryDirectory(prefix="dataops-quality-bench-") as tmp:
            files, on_disk, uncompressed = write(Path(tmp), rows)
            _, took, peak = check(Path(tmp))
        sizes = f"{mib(on_disk)} | {mib(uncompressed)}"
        print(f"| {rows:,} | {files} | {sizes} | {mib(peak)} | {took:.1f} |", flush=True)


if __name__ == "__main__":
    main()
