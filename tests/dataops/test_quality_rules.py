"""Each rule `quality` judges (dataops/quality_rules.py), on the edge cases where an evaluator
could differ from Glue Data Quality: nulls, NaN, an empty dataset, values at the bounds,
duplicates split across row groups. What each expected verdict rests on is cited beside it: the
DQDL reference (https://docs.aws.amazon.com/glue/latest/dg/dqdl.html and its rule-type pages),
and Deequ, which Glue Data Quality is built on, where the reference is silent."""

from __future__ import annotations

import datetime
import math

import pyarrow as pa
import pytest

from components.dqdl import Rule
from dataops import quality_rules
from dataops.quality_rules import Evaluator, partition_value_problem, type_matches

NAN = math.nan


def judge(tmp_path, rule: Rule, glue_type: str, *batches: list, arrow: pa.DataType | None = None):
    """The verdict of `rule` over a column fed as `batches` (each one row group)."""
    types = {rule.column or "x": glue_type}
    evaluator = Evaluator([rule], types, tmp_path, sum(len(b) for b in batches))
    for batch in batches:
        column = rule.column or "x"
        evaluator.add(pa.table({column: pa.array(batch, type=arrow)}))
    (verdict,) = evaluator.verdicts()
    return verdict


# -- IsComplete / Completeness: the fraction of non-null rows; NaN is a value -------------------


@pytest.mark.parametrize(
    ("batches", "ok"),
    [
        ([[1.0, 2.0], [3.0]], True),
        ([[1.0, None], [3.0]], False),  # one null anywhere fails IsComplete
        ([[NAN, NAN]], True),  # NaN is not null (Deequ's Completeness counts isNotNull)
        ([[None]], False),
    ],
)
def test_is_complete(tmp_path, batches, ok):
    verdict = judge(tmp_path, Rule("IsComplete", "c"), "double", *batches, arrow=pa.float64())
    assert verdict.ok is ok, verdict


@pytest.mark.parametrize(
    ("values", "at_least", "ok"),
    [
        ([1, 1, 1, 1, 1, 1, 1, 1, 1, None], 0.9, True),  # exactly 0.9: `>=` holds at the bound
        ([1, 1, 1, 1, 1, 1, 1, 1, None, None], 0.9, False),  # 0.8
        ([None] * 4, 0.1, False),
    ],
)
def test_completeness_at_the_bound(tmp_path, values, at_least, ok):
    verdict = judge(
        tmp_path,
        Rule("Completeness", "c", at_least=at_least),
        "int",
        values[:5],
        values[5:],
        arrow=pa.int32(),
    )
    assert verdict.ok is ok, verdict
    assert f"{values.count(None)} of {len(values)} rows null" in verdict.observed


# -- IsUnique: non-null values each once; NaN equals NaN; nulls left out ------------------------


@pytest.mark.parametrize(
    ("batches", "ok", "shown"),
    [
        ([["a", "b"], ["c"]], True, "0 values occur more than once"),
        ([["a", "b"], ["a"]], False, 'e.g. "a"'),  # a duplicate across row groups (and so files)
        ([["a", None], [None, "b"]], True, "uniqueness 1.0000"),  # nulls are not values (Deequ)
        ([["a", "a", "a"]], False, "1 values occur more than once"),
    ],
)
def test_is_unique_on_strings(tmp_path, batches, ok, shown):
    verdict = judge(tmp_path, Rule("IsUnique", "c"), "string", *batches, arrow=pa.string())
    assert verdict.ok is ok, verdict
    assert shown in verdict.observed, verdict


def test_is_unique_counts_nan_as_one_value(tmp_path):
    # Spark SQL groups all NaNs together ("NaN Semantics"), so two NaNs are a duplicate.
    verdict = judge(tmp_path, Rule("IsUnique", "c"), "double", [1.0, NAN], [NAN], arrow=pa.float64())
    assert not verdict.ok and "NaN" in verdict.observed, verdict


def test_is_unique_on_all_null_fails(tmp_path):
    # No non-null value: Deequ's uniqueness has no value, and a rule without a metric fails.
    verdict = judge(tmp_path, Rule("IsUnique", "c"), "string", [None, None], arrow=pa.string())
    assert not verdict.ok and "null" in verdict.observed


def test_is_unique_across_many_spill_buckets(tmp_path, monkeypatch):
    # Small buckets force the spilled, bucket-at-a-time path the large datasets take.
    monkeypatch.setattr(quality_rules, "VALUES_PER_BUCKET", 7)
    values = list(range(100))
    ok = judge(tmp_path, Rule("IsUnique", "c"), "bigint", values[:50], values[50:], arrow=pa.int64())
    assert ok.ok, ok
    bad = judge(
        tmp_path, Rule("IsUnique", "c"), "bigint", values[:50], [*values[50:], 3, 77], arrow=pa.int64()
    )
    assert not bad.ok and "2 values occur more than once" in bad.observed, bad


# -- ColumnValues in [...]: nulls fail unless NULL is in the set ---------------------------------


@pytest.mark.parametrize(
    ("allowed", "batches", "ok"),
    [
        (("EUR", "USD"), [["EUR"], ["USD", "EUR"]], True),
        (("EUR", "USD"), [["EUR"], ["GBP"]], False),
        # "NULL rows will fail the rule" (DQDL, ColumnValues, Null behavior)
        (("EUR", "USD"), [["EUR", None]], False),
        # ... unless the set names NULL (the reference's "in [ "US", "CA", "UK", NULL, ... ]")
        (("EUR", "USD", None), [["EUR", None]], True),
        (("EUR",), [["eur"]], False),  # case matters
    ],
)
def test_column_values_in_a_set_of_strings(tmp_path, allowed, batches, ok):
    verdict = judge(
        tmp_path, Rule("ColumnValues", "c", values=allowed), "string", *batches, arrow=pa.string()
    )
    assert verdict.ok is ok, verdict


def test_column_values_in_names_the_values_outside(tmp_path):
    verdict = judge(
        tmp_path,
        Rule("ColumnValues", "c", values=("a",)),
        "string",
        ["a", "x", "y"],
        ["x", None],
        arrow=pa.string(),
    )
    assert verdict.observed.startswith("4 of 5 rows not in the set (1 null)"), verdict
    assert '"x"' in verdict.observed and '"y"' in verdict.observed


def test_column_values_in_whole_numbers(tmp_path):
    rule = Rule("ColumnValues", "c", values=(1, 2))
    assert judge(tmp_path, rule, "smallint", [1, 2, 2], arrow=pa.int16()).ok
    assert not judge(tmp_path, rule, "smallint", [1, 3], arrow=pa.int16()).ok


def test_column_values_in_reads_dictionary_encoded_strings(tmp_path):
    values = pa.array(["EUR", "GBP"]).dictionary_encode()
    evaluator = Evaluator([Rule("ColumnValues", "c", values=("EUR",))], {"c": "string"}, tmp_path, 2)
    evaluator.add(pa.table({"c": values}))
    (verdict,) = evaluator.verdicts()
    assert not verdict.ok and '"GBP"' in verdict.observed


# -- ColumnValues between: both bounds excluded; nulls and NaN fail ------------------------------


@pytest.mark.parametrize(
    ("values", "ok"),
    [
        ([1.0, 5.0, 9.99], True),
        ([0.0], False),  # the low bound itself: "between" excludes it (DQDL Expressions)
        ([10.0], False),  # the high bound itself
        ([5.0, None], False),  # "NULL rows will fail the rule" (DQDL, ColumnValues)
        ([5.0, NAN], False),  # Spark orders NaN above every number, so it is not below 10
        ([-1e300, 5.0], False),
    ],
)
def test_column_values_between_numbers(tmp_path, values, ok):
    verdict = judge(
        tmp_path, Rule("ColumnValues", "c", between=(0, 10)), "double", values, arrow=pa.float64()
    )
    assert verdict.ok is ok, verdict


def test_column_values_between_reports_counts_and_extremes(tmp_path):
    verdict = judge(
        tmp_path,
        Rule("ColumnValues", "c", between=(0, 10)),
        "double",
        [5.0, None],
        [NAN, 12.5],
        arrow=pa.float64(),
    )
    assert verdict.observed == "3 of 4 rows not between (1 null, 1 NaN), values from 5.0 to 12.5", verdict


def test_column_values_between_integers_compared_as_doubles(tmp_path):
    rule = Rule("ColumnValues", "c", between=(0, 10))
    assert judge(tmp_path, rule, "bigint", [1, 9], arrow=pa.int64()).ok
    assert not judge(tmp_path, rule, "bigint", [1, 10], arrow=pa.int64()).ok


def test_column_values_between_dates(tmp_path):
    rule = Rule("ColumnValues", "d", between=("2020-01-01", "2020-12-31"))
    day = datetime.date
    assert judge(tmp_path, rule, "date", [day(2020, 1, 2), day(2020, 12, 30)], arrow=pa.date32()).ok
    edge = judge(tmp_path, rule, "date", [day(2020, 1, 1)], arrow=pa.date32())
    assert not edge.ok and '"2020-01-01"' in edge.observed, edge


# -- RowCount between: both bounds excluded; an empty dataset has 0 rows --------------------------


@pytest.mark.parametrize(("rows", "ok"), [(0, False), (1, True), (9, True), (10, False)])
def test_row_count_between(tmp_path, rows, ok):
    evaluator = Evaluator([Rule("RowCount", between=(0, 10))], {}, tmp_path, rows)
    evaluator.add(pa.table({"x": pa.array(range(rows), type=pa.int64())}))
    (verdict,) = evaluator.verdicts()
    assert verdict.ok is ok and verdict.observed == f"{rows} rows", verdict


# -- an empty dataset -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        Rule("IsComplete", "c"),
        Rule("Completeness", "c", at_least=0.5),
        Rule("IsUnique", "c"),
        Rule("ColumnValues", "c", values=("a",)),
        Rule("ColumnValues", "c", between=(0, 1)),
    ],
    ids=lambda r: r.dqdl(),
)
def test_every_column_rule_fails_on_an_empty_dataset(tmp_path, rule):
    # Deequ's metrics have no value without a row, and a check without a metric fails.
    glue_type = "double" if rule.between else "string"
    evaluator = Evaluator([rule], {"c": glue_type}, tmp_path, 0)
    (verdict,) = evaluator.verdicts()
    assert not verdict.ok and "no rows" in verdict.observed, verdict


# -- types -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("glue_type", "arrow", "ok"),
    [
        ("string", pa.string(), True),
        ("string", pa.large_string(), True),
        ("string", pa.dictionary(pa.int32(), pa.string()), True),
        ("string", pa.binary(), False),
        ("int", pa.int32(), True),
        ("int", pa.int64(), False),
        ("bigint", pa.int32(), False),
        ("double", pa.float64(), True),
        ("double", pa.float32(), False),
        ("date", pa.date32(), True),
        ("date", pa.timestamp("us"), False),
        ("timestamp", pa.timestamp("ms"), True),
        ("boolean", pa.bool_(), True),
    ],
)
def test_type_matches(glue_type, arrow, ok):
    assert type_matches(glue_type, arrow) is ok


@pytest.mark.parametrize(
    ("glue_type", "text", "bad"),
    [
        ("date", "2026-11-28", False),
        ("date", "2026-13-01", True),
        ("int", "12", False),
        ("int", "x", True),
        ("int", "3000000000", True),  # beyond a 32-bit int
        ("bigint", "3000000000", False),
        ("string", None, False),  # Hive's null partition
    ],
)
def test_partition_values_are_checked_against_their_type(glue_type, text, bad):
    assert bool(partition_value_problem(glue_type, text)) is bad
