"""Write the sample data of the shipped datasets (Pulumi.prod.yaml, `lake.datasets`) into
samples/lake/<zone>/<prefix>, laid out as in the lake's buckets.

The pull-request workflow runs `python -m dataops quality --stack prod --data samples/lake` on
them, so a change to a rule or a schema is tested like code; tests/dataops/test_quality.py checks
that the files checked in are exactly what this script writes. The rows are made up, small (a few
hundred) and the same on every run (a fixed seed, no clock): run it again after changing it, and
commit the files.

    python samples/make_samples.py [--out DIR]
"""

from __future__ import annotations

import argparse
import datetime
import random
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

OUT = Path(__file__).resolve().parent / "lake"
DAYS = [datetime.date(2026, 11, 26) + datetime.timedelta(days=n) for n in range(3)]
CURRENCIES = ["EUR", "GBP", "USD"]
CHANNELS = ["web", "app", "store"]
FILES_PER_DAY = 2
ORDERS_PER_FILE = 40
# Small row groups, so that the samples have several per file, as real data has.
ROW_GROUP = 16

ORDERS = pa.schema(
    [
        ("order_id", pa.string()),
        ("customer_id", pa.string()),
        ("amount", pa.float64()),
        ("currency", pa.string()),
        ("channel", pa.string()),
    ]
)
REVENUE = pa.schema(
    [("day", pa.date32()), ("currency", pa.string()), ("orders", pa.int64()), ("revenue", pa.float64())]
)


def write(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, row_group_size=ROW_GROUP, compression="snappy")


def orders(rng: random.Random, day: datetime.date, part: int) -> list[dict]:
    rows = []
    for n in range(ORDERS_PER_FILE):
        rows.append(
            {
                "order_id": f"o-{day:%Y%m%d}-{part}-{n:03d}",
                "customer_id": f"c-{rng.randrange(1, 120):04d}",
                "amount": round(rng.uniform(5, 900), 2),
                "currency": rng.choice(CURRENCIES),
                # Older orders lack a channel: about one in twenty-five, within Completeness >= 0.9.
                "channel": None if rng.random() < 0.04 else rng.choice(CHANNELS),
            }
        )
    return rows


def main(out: Path) -> None:
    rng = random.Random(19)  # noqa: S311 - made-up sample rows, not secrets
    if out.exists():
        shutil.rmtree(out)
    totals: dict[tuple[datetime.date, str], list[float]] = {}
    for day in DAYS:
        for part in range(FILES_PER_DAY):
            rows = orders(rng, day, part)
            folder = out / "curated" / "sales" / "orders" / f"order_date={day.isoformat()}"
            write(pa.Table.from_pylist(rows, schema=ORDERS), folder / f"part-{part}.parquet")
            for row in rows:
                totals.setdefault((day, row["currency"]), []).append(row["amount"])
    revenue = [
        {"day": day, "currency": currency, "orders": len(amounts), "revenue": round(sum(amounts), 2)}
        for (day, currency), amounts in sorted(totals.items())
    ]
    write(
        pa.Table.from_pylist(revenue, schema=REVENUE),
        out / "analytics" / "revenue" / "daily" / "part-0.parquet",
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"where to write (default: {OUT})")
    main(parser.parse_args().out)
