"""`python -m dataops quality` against a real moto server on 127.0.0.1 (the fixtures of
test_verify.py): Parquet objects written under the lake's bucket names (the offline plan's, in
moto's account) pass; objects breaking one rule fail exactly that rule, naming what was observed
(exit 1); a missing column, a wrong type, a stray object or folder are bad input (exit 2, one line
each, no traceback); a dataset across many files and partitions is read in full. Also: the
checked-in samples are what samples/make_samples.py writes, and pass as the PR workflow runs them.

What each rule means on nulls, NaN and empty data is tested rule by rule, without S3, in
test_quality_rules.py."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from dataops.cli import main
from dataops.plan import ROOT
from tests.conftest import CONFIGS, CONSUMERS, LAKE_OWNER
from tests.dataops.test_verify import ACCOUNT, REGION, aws_env, endpoint, free_port  # noqa: F401 - fixtures

FAKE_ACCOUNT = "111122223333"  # the offline plan's (dataops/fake_cloud.py)
SAMPLES = ROOT / "samples" / "lake"
DATASETS = {d.name: d for d in CONFIGS[LAKE_OWNER].datasets}
ORDERS = DATASETS["sales_orders"]
# The stored schema of sales_orders, as its samples have it.
ORDERS_SCHEMA = pq.read_schema(next((SAMPLES / "curated" / ORDERS.prefix).rglob("*.parquet")))


@pytest.fixture(scope="module")
def buckets(plans) -> dict[str, str]:
    """Zone -> bucket name, as the offline plan of the lake owner names it, in moto's account."""
    zones = plans[LAKE_OWNER].outputs["lake"]["zones"]
    return {zone: spec["bucket"].replace(FAKE_ACCOUNT, ACCOUNT) for zone, spec in zones.items()}


@pytest.fixture
def s3(aws_env, buckets):  # noqa: F811 - the fixture imported above
    client = boto3.client("s3", region_name=REGION)
    for name in buckets.values():
        with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
            client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
            for item in page.get("Contents", []):
                client.delete_object(Bucket=name, Key=item["Key"])
    return client


def parquet(table: pa.Table, row_group_size: int | None = None) -> bytes:
    out = io.BytesIO()
    pq.write_table(table, out, row_group_size=row_group_size)
    return out.getvalue()


def put(s3, bucket: str, key: str, body: bytes) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=body)


def upload_samples(s3, buckets) -> int:
    count = 0
    for path in sorted(SAMPLES.rglob("*.parquet")):
        zone, *rest = path.relative_to(SAMPLES).parts
        put(s3, buckets[zone], "/".join(rest), path.read_bytes())
        count += 1
    return count


def orders(n: int, start: int = 0, **columns) -> pa.Table:
    """`n` valid rows of sales_orders, with any column replaced by the given values."""
    data = {
        "order_id": [f"o-{i:06d}" for i in range(start, start + n)],
        "customer_id": [f"c-{i % 50:04d}" for i in range(n)],
        "amount": [10.0 + i % 100 for i in range(n)],
        "currency": [("EUR", "GBP", "USD")[i % 3] for i in range(n)],
        "channel": [("web", "app", "store")[i % 3] for i in range(n)],
    }
    data.update(columns)
    return pa.Table.from_pydict(data, schema=ORDERS_SCHEMA)


def put_orders(s3, buckets, table: pa.Table, day: str = "2026-11-28", part: int = 0) -> None:
    key = f"{ORDERS.prefix}order_date={day}/part-{part}.parquet"
    put(s3, buckets[ORDERS.zone], key, parquet(table))


def quality(capsys, *argv: str, root: Path | None = None) -> tuple[int, str, str]:
    code = main([*(["--root", str(root)] if root else []), "quality", "--stack", "prod", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def fails(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("FAIL")]


def assert_bad_input(code: int, err: str, *expected: str) -> list[str]:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert all(line.startswith("error: ") and "; fix: " in line for line in lines), err
    for piece in expected:
        assert any(piece in line for line in lines), (piece, err)
    return lines


# -- passing ---------------------------------------------------------------------------------------


def test_the_samples_in_the_lakes_buckets_pass_through_the_command_line(s3, buckets, aws_env):  # noqa: F811
    assert upload_samples(s3, buckets) >= 7
    result = subprocess.run(
        [sys.executable, "-m", "dataops", "quality", "--stack", "prod", "--format", "json"],
        cwd=ROOT,
        env={**os.environ, **aws_env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["failed"] == 0
    found = {d["dataset"]: d for d in report["datasets"]}
    assert set(found) == set(DATASETS)
    orders_report = found["sales_orders"]
    assert orders_report["objects"] == 6 and orders_report["rows"] == 240
    assert orders_report["location"] == f"s3://{buckets['curated']}/sales/orders/"
    assert len(orders_report["rules"]) == 15  # 5 columns, 4 non-nullable, 6 declared rules


def test_one_dataset_only(s3, buckets, capsys):
    upload_samples(s3, buckets)
    code, out, err = quality(capsys, "--dataset", "daily_revenue")
    assert code == 0, out + err
    assert "sales_orders" not in out
    assert out.splitlines()[-1] == "quality: 1 datasets, 13 rules passed, 0 failed"


@pytest.mark.parametrize("stack", CONSUMERS)
def test_a_consumer_checks_the_owners_lake(s3, buckets, capsys, stack):
    upload_samples(s3, buckets)
    code = main(["quality", "--stack", stack, "--dataset", "sales_orders"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"under s3://{buckets['curated']}/sales/orders/" in out  # the owner's bucket, not its own


# -- each rule broken ------------------------------------------------------------------------------

GOOD = 100
# case -> (columns replaced in 100 otherwise valid rows, the one FAIL line expected)
BROKEN = {
    "IsComplete": (
        {"customer_id": [None] + [f"c-{i}" for i in range(1, GOOD)]},
        'FAIL sales_orders: IsComplete "customer_id" (completeness 0.9900, 1 of 100 rows null)',
    ),
    "IsUnique": (
        {"order_id": ["o-dup", "o-dup"] + [f"o-{i}" for i in range(2, GOOD)]},
        'FAIL sales_orders: IsUnique "order_id" (uniqueness 0.9800, 1 values occur more than once, e.g. "o-dup")',
    ),
    "ColumnValues in": (
        {"currency": ["CHF"] + ["EUR"] * (GOOD - 1)},
        'FAIL sales_orders: ColumnValues "currency" in ["EUR", "GBP", "USD"] '
        '(1 of 100 rows not in the set (0 null), e.g. "CHF")',
    ),
    "ColumnValues between": (
        {"amount": [-5.0] + [10.0] * (GOOD - 1)},
        'FAIL sales_orders: ColumnValues "amount" between 0 and 1000000 '
        "(1 of 100 rows not between (0 null, 0 NaN), values from -5.0 to 10.0)",
    ),
    "Completeness": (
        {"channel": [None] * 11 + ["web"] * (GOOD - 11)},
        'FAIL sales_orders: Completeness "channel" >= 0.9 (completeness 0.8900, 11 of 100 rows null)',
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_broken_rule_is_one_fail_line_with_what_was_observed(s3, buckets, capsys, case):
    columns, expected = BROKEN[case]
    put_orders(s3, buckets, orders(GOOD, **columns))
    code, out, err = quality(capsys, "--dataset", "sales_orders")
    assert code == 1, out + err
    assert fails(out) == [expected]
    assert out.splitlines()[-1] == "quality: 1 datasets, 14 rules passed, 1 failed"


def test_a_nan_amount_fails_between_and_is_counted(s3, buckets, capsys):
    put_orders(s3, buckets, orders(GOOD, amount=[float("nan")] + [10.0] * (GOOD - 1)))
    code, out, _ = quality(capsys, "--dataset", "sales_orders")
    assert code == 1
    (line,) = fails(out)
    assert 'ColumnValues "amount" between' in line and "(1 of 100 rows not between (0 null, 1 NaN)" in line


@pytest.fixture
def root_with_row_count(tmp_path) -> Path:
    """A copy of the stack files whose sales_orders wants more than 5 and fewer than 50 rows."""
    for path in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    doc = yaml.safe_load((tmp_path / "Pulumi.prod.yaml").read_text())
    datasets = doc["config"]["dataops-platform:lake"]["datasets"]
    (rule,) = [r for r in datasets[0]["rules"] if r["rule"] == "RowCount"]
    rule["between"] = [5, 50]
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return tmp_path


@pytest.mark.parametrize(("rows", "ok"), [(49, True), (50, False), (5, False), (6, True)])
def test_row_count_between_excludes_both_bounds(s3, buckets, capsys, root_with_row_count, rows, ok):
    put_orders(s3, buckets, orders(rows))
    code, out, err = quality(capsys, "--dataset", "sales_orders", root=root_with_row_count)
    assert code == (0 if ok else 1), out + err
    assert fails(out) == ([] if ok else [f"FAIL sales_orders: RowCount between 5 and 50 ({rows} rows)"])


def test_an_empty_dataset_fails_every_column_rule(s3, buckets, capsys):
    # No object under the prefix: Glue's metrics have no value, so the column rules fail
    # (dataops/quality_rules.py); RowCount between 0 and ... fails too, 0 being excluded.
    code, out, _ = quality(capsys, "--dataset", "sales_orders")
    assert code == 1
    failed = fails(out)
    assert len(failed) == 10 and all("no rows" in line for line in failed[:-1]), failed
    assert failed[-1] == "FAIL sales_orders: RowCount between 0 and 100000000 (0 rows)"


# -- many files and partitions ---------------------------------------------------------------------


def test_a_dataset_across_many_files_and_partitions_is_checked_in_full(s3, buckets, capsys):
    days = [f"2026-11-{d:02d}" for d in range(1, 11)]
    start = 0
    for day in days:
        for part in range(3):
            s3.put_object(
                Bucket=buckets["curated"],
                Key=f"{ORDERS.prefix}order_date={day}/part-{part}.parquet",
                Body=parquet(orders(37, start=start), row_group_size=10),
            )
            start += 37
    # A _SUCCESS marker beside the data is skipped, as Hive and Spark skip it.
    put(s3, buckets["curated"], f"{ORDERS.prefix}order_date={days[0]}/_SUCCESS", b"")
    code, out, err = quality(capsys, "--dataset", "sales_orders")
    assert code == 0, out + err
    assert f"sales_orders: {30 * 37} rows in 30 objects under s3://{buckets['curated']}/sales/orders/" in out
    # One id repeated in the last file of the last partition, far from its first occurrence.
    last = orders(
        37, start=start - 37, order_id=["o-000000"] + [f"o-{i:06d}" for i in range(start - 36, start)]
    )
    put(s3, buckets["curated"], f"{ORDERS.prefix}order_date={days[-1]}/part-2.parquet", parquet(last, 10))
    code, out, _ = quality(capsys, "--dataset", "sales_orders")
    assert code == 1
    (line,) = fails(out)
    assert line.startswith('FAIL sales_orders: IsUnique "order_id"') and '"o-000000"' in line, line


# -- bad input: exit 2 -----------------------------------------------------------------------------


def test_a_missing_column_and_a_wrong_type_are_schema_mismatches(s3, buckets, capsys):
    table = (
        orders(GOOD)
        .drop_columns(["channel"])
        .set_column(2, "amount", pa.array([str(i) for i in range(GOOD)]))
    )
    put(s3, buckets["curated"], f"{ORDERS.prefix}order_date=2026-11-28/part-0.parquet", parquet(table))
    put_orders(s3, buckets, orders(GOOD, start=GOOD).drop_columns(["channel"]), part=1)
    code, out, err = quality(capsys, "--dataset", "sales_orders")
    lines = assert_bad_input(
        code, err, "column channel (string) is missing", "column amount is string, declared double"
    )
    assert len(lines) == 2, err
    missing = next(line for line in lines if "channel" in line)
    assert "order_date=2026-11-28/part-0.parquet (and 1 more objects)" in missing
    assert "PASS" not in out and "FAIL" not in out


def test_an_integer_where_a_double_is_declared_is_a_mismatch(s3, buckets, capsys):
    table = orders(3).set_column(2, "amount", pa.array([1, 2, 3], type=pa.int64()))
    put_orders(s3, buckets, table)
    code, _, err = quality(capsys, "--dataset", "sales_orders")
    assert len(assert_bad_input(code, err, "column amount is int64, declared double")) == 1


@pytest.mark.parametrize(
    ("key", "body", "expected"),
    [
        ("order_date=2026-11-28/notes.txt", b"not parquet", "not readable as Parquet"),
        ("part-0.parquet", None, "expected order_date=<value> before the file name"),
        ("day=2026-11-28/part-0.parquet", None, "folder 'day=2026-11-28' is not order_date=<value>"),
        ("order_date=yesterday/part-0.parquet", None, "partition order_date: 'yesterday' is not a date"),
        ("order_date=2026-11-28/x=1/part-0.parquet", None, "expected order_date=<value> before"),
    ],
)
def test_a_stray_object_is_bad_input_naming_it(s3, buckets, capsys, key, body, expected):
    put_orders(s3, buckets, orders(5))
    put(
        s3, buckets["curated"], ORDERS.prefix + key, body if body is not None else parquet(orders(5, start=5))
    )
    code, _, err = quality(capsys, "--dataset", "sales_orders")
    (line,) = assert_bad_input(code, err, expected)
    assert f"s3://{buckets['curated']}/{ORDERS.prefix}{key}" in line


def test_a_partition_key_stored_in_the_file_is_bad_input(s3, buckets, capsys):
    table = orders(3).append_column("order_date", pa.array(["2026-11-28"] * 3))
    put_orders(s3, buckets, table)
    code, _, err = quality(capsys, "--dataset", "sales_orders")
    assert_bad_input(code, err, "partition key order_date is also a column of the file")


def test_an_unknown_dataset(s3, capsys):
    code, _, err = quality(capsys, "--dataset", "orders")
    (line,) = assert_bad_input(code, err, "--dataset orders: not a declared dataset")
    assert "sales_orders" in line and "daily_revenue" in line


def test_a_lake_that_is_not_deployed(aws_env, buckets, capsys):  # noqa: F811
    client = boto3.client("s3", region_name=REGION)
    for name in buckets.values():
        try:
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
                for item in page.get("Contents", []):
                    client.delete_object(Bucket=name, Key=item["Key"])
            client.delete_bucket(Bucket=name)
        except client.exceptions.NoSuchBucket:
            pass
    code, _, err = quality(capsys, "--dataset", "sales_orders")
    assert_bad_input(code, err, "S3 answered NoSuchBucket")


# -- the samples and the gate ----------------------------------------------------------------------


def test_the_checked_in_samples_are_what_the_script_writes(tmp_path):
    subprocess.run(
        [sys.executable, "samples/make_samples.py", "--out", str(tmp_path / "lake")],
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    written = {
        p.relative_to(tmp_path / "lake"): p.read_bytes()
        for p in (tmp_path / "lake").rglob("*")
        if p.is_file()
    }
    shipped = {p.relative_to(SAMPLES): p.read_bytes() for p in SAMPLES.rglob("*") if p.is_file()}
    assert sorted(written) == sorted(shipped), "run `python samples/make_samples.py` and commit the result"
    changed = [str(p) for p in written if written[p] != shipped[p]]
    assert changed == [], "run `python samples/make_samples.py` and commit the result"


def test_the_samples_have_a_file_per_dataset_and_several_row_groups():
    for dataset in DATASETS.values():
        files = sorted((SAMPLES / dataset.zone / dataset.prefix).rglob("*.parquet"))
        assert files, dataset.name
    orders_file = next((SAMPLES / "curated" / ORDERS.prefix).rglob("*.parquet"))
    assert pq.ParquetFile(orders_file).num_row_groups > 1


@pytest.mark.parametrize("stack", ["prod", "local"])
def test_the_samples_pass_from_a_folder_as_the_pr_workflow_runs_them(stack):
    # The local stack declares no dataset of its own: it is judged by the cloud lake owner's.
    result = subprocess.run(
        [sys.executable, "-m", "dataops", "quality", "--stack", stack, "--data", "samples/lake"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "quality: 2 datasets, 28 rules passed, 0 failed"


def test_a_broken_sample_fails_from_a_folder(tmp_path, capsys):
    lake = tmp_path / "lake"
    shutil.copytree(SAMPLES, lake)
    path = lake / "analytics" / ORDERS.prefix.replace("sales/orders/", "revenue/daily/") / "part-0.parquet"
    table = pq.read_table(path)
    revenue = table.column("revenue").to_pylist()
    table = table.set_column(3, "revenue", pa.array([-1.0, *revenue[1:]]))
    pq.write_table(table, path)
    code, out, err = quality(capsys, "--data", str(lake))
    assert code == 1, out + err
    (line,) = fails(out)
    assert line.startswith('FAIL daily_revenue: ColumnValues "revenue" between 0 and 1000000000 (1 of 9 rows')


def test_a_data_folder_that_is_not_there(tmp_path, capsys):
    code, _, err = quality(capsys, "--data", str(tmp_path / "nowhere"))
    assert_bad_input(code, err, "not a directory")


def test_markdown_and_json_reports_name_each_rule(capsys):
    code, out, _ = quality(capsys, "--data", str(SAMPLES), "--format", "markdown")
    assert code == 0
    assert (
        '| sales_orders | `IsUnique "order_id"` | pass | uniqueness 1.0000, 0 values occur more than once |'
        in out
    )
    code, out, _ = quality(capsys, "--data", str(SAMPLES), "--format", "json", "--dataset", "sales_orders")
    rules = json.loads(out)["datasets"][0]["rules"]
    assert {"rule": "RowCount between 0 and 100000000", "ok": True, "observed": "240 rows"} in rules


def test_an_unreachable_endpoint_is_one_line(aws_env, capsys):  # noqa: F811
    url = f"http://127.0.0.1:{free_port()}"
    code, _, err = quality(capsys, "--dataset", "sales_orders", "--endpoint-url", url)
    (line,) = assert_bad_input(code, err, "cannot reach")
    assert "127.0.0.1" in line


def test_missing_credentials_are_one_line(aws_env):  # noqa: F811
    # A fresh process: boto3's default session in this one keeps the credentials it found.
    env = {
        k: v
        for k, v in {**os.environ, **aws_env}.items()
        if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    }
    result = subprocess.run(
        [sys.executable, "-m", "dataops", "quality", "--stack", "prod", "--dataset", "sales_orders"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert_bad_input(result.returncode, result.stderr, "no AWS credentials found")
