"""A dataset's rules (components/dqdl.Rule) judged over a stream of Arrow tables, one row group at a
time, with the meaning Glue Data Quality gives them.

Where the meaning comes from: the DQDL reference (https://docs.aws.amazon.com/glue/latest/dg/dqdl.html
and its rule-type pages), and where it is silent, Deequ, which Glue Data Quality is built on
("Built on top of the open-source DeeQu framework", AWS Glue developer guide, "AWS Glue Data
Quality"), whose DQDL translation is in awslabs/deequ (src/main/scala/com/amazon/deequ/dqdl/):
- IsComplete / Completeness: the fraction of rows whose value is not null (Deequ `Completeness`);
  NaN is a value, not a null.
- IsUnique: Deequ `Uniqueness` = 1: among the rows where the column is not null, every value
  occurs once (`FrequencyBasedAnalyzer` leaves null rows out of both counts). NaN equals NaN, as
  in Spark SQL ("NaN Semantics": "In aggregations, all NaN values are grouped together").
- ColumnValues in [...]: every row's value is one of the set; a null fails ("For all
  ColumnValues rules (other than != and NOT IN), NULL rows will fail the rule", DQDL
  ColumnValues page; Deequ: `col IS NOT NULL AND col IN (...)`).
- ColumnValues between x and y: every row's value is above x and below y ("between ...
  (exclusive)", DQDL Expressions); nulls fail (Deequ adds `isComplete`), and so does NaN, which
  Spark orders above every number. Numbers are compared as doubles, as Deequ does.
- RowCount between x and y: x < rows < y.
- On an empty dataset every column rule fails: Deequ's metrics have no value without a row
  (`metricFromEmpty`), and a rule without a metric fails. RowCount is 0 and judged as such.
The tests hold each of these on edge cases (tests/dataops/test_quality_rules.py).

Memory: everything is a running count, except IsUnique, whose per-value counts are spilled to
disk in hash buckets sized from the dataset's row count, and summed one bucket at a time.
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from components.dqdl import Rule

EXAMPLES = 3
# Values per IsUnique bucket: a bucket is summed in memory (Arrow's group-by), so this bounds that
# memory whatever the dataset's size. Measured (benchmarks/quality_memory.py): summing a million
# 14-character ids took about 150 MiB of Arrow memory; a quarter of that keeps the whole check near
# the footprint of reading one row group of every column.
VALUES_PER_BUCKET = 1 << 18

# Glue type -> the Arrow types (as pyarrow reads Parquet) that hold it.
TYPES: dict[str, Callable[[pa.DataType], bool]] = {
    "string": lambda t: pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t),
    "boolean": pa.types.is_boolean,
    "tinyint": pa.types.is_int8,
    "smallint": pa.types.is_int16,
    "int": pa.types.is_int32,
    "bigint": pa.types.is_int64,
    "float": pa.types.is_float32,
    "double": pa.types.is_float64,
    "date": pa.types.is_date32,
    "timestamp": pa.types.is_timestamp,
}
ARROW = {
    "string": pa.string(),
    "int": pa.int32(),
    "bigint": pa.int64(),
    "date": pa.date32(),
}


def type_matches(glue_type: str, arrow_type: pa.DataType) -> bool:
    if pa.types.is_dictionary(arrow_type):  # pandas categoricals: judged by their values
        arrow_type = arrow_type.value_type
    return TYPES[glue_type](arrow_type)


def partition_column(glue_type: str, text: str | None, length: int) -> pa.Array:
    """A partition key's value (from the object's path) as a column of `length` rows."""
    value: Any = text
    if text is not None and glue_type in ("int", "bigint"):
        value = int(text)
    elif text is not None and glue_type == "date":
        value = datetime.date.fromisoformat(text)
    return pa.array([value] * length, type=ARROW[glue_type])


def partition_value_problem(glue_type: str, text: str | None) -> str:
    """Why `text` is not a value of `glue_type`, or ""."""
    if text is None:
        return ""
    try:
        partition_column(glue_type, text, 1)
    except (ValueError, OverflowError, pa.ArrowInvalid):
        return f"{text!r} is not a {glue_type}"
    return ""


@dataclass(frozen=True)
class Verdict:
    rule: Rule
    ok: bool
    observed: str


def _plain(array: pa.ChunkedArray | pa.Array) -> pa.Array:
    """One array with dictionary encoding undone."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    return array


def _shown(value: Any) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return json.dumps(value, default=str)


class _Check:
    column: str | None = None

    def __init__(self, rule: Rule):
        self.rule, self.column, self.rows = rule, rule.column, 0

    def add(self, table: pa.Table) -> None:
        self.rows += table.num_rows

    def verdict(self) -> Verdict:
        if self.column is not None and self.rows == 0:
            return Verdict(self.rule, False, "no rows: a column rule has nothing to measure (Glue fails it)")
        return self.judge()

    def judge(self) -> Verdict:
        raise NotImplementedError


class _Exists(_Check):
    def verdict(self) -> Verdict:
        # A missing column is a schema mismatch, reported (exit 2) before any rule is judged.
        return Verdict(self.rule, True, "in every object")


class _Completeness(_Check):
    def __init__(self, rule: Rule):
        super().__init__(rule)
        self.nulls = 0
        self.least = 1.0 if rule.kind == "IsComplete" else float(rule.at_least or 0)

    def add(self, table: pa.Table) -> None:
        super().add(table)
        self.nulls += table.column(self.column).null_count

    def judge(self) -> Verdict:
        fraction = (self.rows - self.nulls) / self.rows
        return Verdict(
            self.rule,
            fraction >= self.least,
            f"completeness {fraction:.4f}, {self.nulls} of {self.rows} rows null",
        )


class _In(_Check):
    def __init__(self, rule: Rule, glue_type: str):
        super().__init__(rule)
        self.arrow = pa.string() if glue_type == "string" else pa.int64()
        self.allowed = pa.array([v for v in rule.values or () if v is not None], type=self.arrow)
        # DQDL's NULL keyword in the set lets nulls pass (Deequ: `col IN (...) OR col IS NULL`).
        self.null_ok = None in (rule.values or ())
        self.outside, self.nulls, self.examples = 0, 0, []

    def add(self, table: pa.Table) -> None:
        super().add(table)
        values = pc.cast(_plain(table.column(self.column)), self.arrow)
        inside = pc.is_in(values, value_set=self.allowed)
        if self.null_ok:
            inside = pc.or_(inside, pc.is_null(values))
        self.nulls += values.null_count
        self.outside += len(values) - (pc.sum(inside).as_py() or 0)
        if len(self.examples) < EXAMPLES:
            wrong = pc.filter(values, pc.invert(pc.fill_null(inside, True)))
            for value in pc.unique(wrong).to_pylist():
                if value not in self.examples and len(self.examples) < EXAMPLES:
                    self.examples.append(value)

    def judge(self) -> Verdict:
        detail = f"{self.outside} of {self.rows} rows not in the set ({self.nulls} null"
        detail += ", allowed)" if self.null_ok else ")"
        if self.examples:
            detail += ", e.g. " + ", ".join(_shown(v) for v in self.examples)
        return Verdict(self.rule, self.outside == 0, detail)


class _Between(_Check):
    def __init__(self, rule: Rule, glue_type: str):
        super().__init__(rule)
        low, high = rule.between or (0, 0)
        if glue_type == "date":
            self.arrow = pa.date32()
            self.low = pa.scalar(datetime.date.fromisoformat(str(low)), pa.date32())
            self.high = pa.scalar(datetime.date.fromisoformat(str(high)), pa.date32())
        else:  # Deequ compares numeric columns with the bounds as doubles
            self.arrow = pa.float64()
            self.low, self.high = pa.scalar(float(low)), pa.scalar(float(high))
        self.outside, self.nulls, self.nans = 0, 0, 0
        self.least: Any = None
        self.most: Any = None

    def add(self, table: pa.Table) -> None:
        super().add(table)
        original = _plain(table.column(self.column))
        values = pc.cast(original, self.arrow)
        inside = pc.and_(pc.greater(values, self.low), pc.less(values, self.high))
        self.nulls += values.null_count
        if pa.types.is_floating(self.arrow):
            self.nans += pc.sum(pc.is_nan(values)).as_py() or 0
        self.outside += len(values) - (pc.sum(inside).as_py() or 0)
        extremes = pc.min_max(original).as_py()  # NaN and null are left out
        for name, pick in (("least", min), ("most", max)):
            found = extremes["min" if name == "least" else "max"]
            if found is not None:
                current = getattr(self, name)
                setattr(self, name, found if current is None else pick(current, found))

    def judge(self) -> Verdict:
        detail = f"{self.outside} of {self.rows} rows not between ({self.nulls} null, {self.nans} NaN)"
        if self.least is not None:
            detail += f", values from {_shown(self.least)} to {_shown(self.most)}"
        return Verdict(self.rule, self.outside == 0, detail)


class _RowCount(_Check):
    def judge(self) -> Verdict:
        low, high = self.rule.between or (0, 0)
        return Verdict(self.rule, low < self.rows < high, f"{self.rows} rows")  # type: ignore[operator]


class _Unique(_Check):
    """Per-value counts of the non-null rows, spilled to Arrow files in hash buckets, then summed
    one bucket at a time: memory holds one row group and one bucket, not the column."""

    def __init__(self, rule: Rule, spill: Path, expected_rows: int):
        super().__init__(rule)
        self.buckets = max(1, math.ceil(expected_rows / VALUES_PER_BUCKET))
        self.spill = spill
        self.writers: dict[int, pa.ipc.RecordBatchFileWriter] = {}
        self.values = 0

    def _bucket_of(self, values: pa.Array) -> pa.Array:
        if self.buckets == 1:
            return pa.array([0] * len(values), type=pa.int32())
        # Python's hash is stable within this process, which is all the buckets need; NaN (whose
        # hash is per object) goes to one bucket, so all NaNs are counted together.
        return pa.array(
            [hash(v) % self.buckets if v == v else 0 for v in values.to_pylist()], type=pa.int32()
        )

    def add(self, table: pa.Table) -> None:
        super().add(table)
        values = pc.drop_null(_plain(table.column(self.column)))
        self.values += len(values)
        if not len(values):
            return
        counted = pc.value_counts(values)
        batch = pa.record_batch([counted.field("values"), counted.field("counts")], names=["value", "count"])
        buckets = self._bucket_of(batch.column(0))
        for bucket in pc.unique(buckets).to_pylist():
            part = batch.filter(pc.equal(buckets, bucket))
            if bucket not in self.writers:
                path = self.spill / f"{id(self)}-{bucket}.arrow"
                self.writers[bucket] = pa.ipc.new_file(path, part.schema)
            self.writers[bucket].write_batch(part)

    def judge(self) -> Verdict:
        if self.values == 0:
            return Verdict(
                self.rule, False, f"all {self.rows} rows null: no value to measure (Glue fails it)"
            )
        once, repeated, examples = 0, 0, []
        for bucket in sorted(self.writers):
            self.writers[bucket].close()
            path = self.spill / f"{id(self)}-{bucket}.arrow"
            with pa.memory_map(str(path)) as source:
                table = pa.ipc.open_file(source).read_all()
            totals = table.group_by("value").aggregate([("count", "sum")])
            counts = totals.column("count_sum")
            once += pc.sum(pc.equal(counts, 1)).as_py() or 0
            duplicated = totals.filter(pc.greater(counts, 1))
            repeated += duplicated.num_rows
            examples += duplicated.column("value").to_pylist()[:EXAMPLES]
            path.unlink()
        uniqueness = once / self.values
        detail = f"uniqueness {uniqueness:.4f}, {repeated} values occur more than once"
        if examples:
            ordered = sorted(examples, key=lambda v: (v != v, v if v == v else 0))[:EXAMPLES]
            detail += ", e.g. " + ", ".join(_shown(v) for v in ordered)
        return Verdict(self.rule, repeated == 0, detail)


class Evaluator:
    """Every rule of one dataset, fed the dataset's rows table by table."""

    def __init__(self, rules: list[Rule], types: dict[str, str], spill: Path, expected_rows: int):
        self.checks: list[_Check] = []
        for rule in rules:
            glue_type = types.get(rule.column or "", "")
            if rule.kind == "ColumnExists":
                self.checks.append(_Exists(rule))
            elif rule.kind in ("IsComplete", "Completeness"):
                self.checks.append(_Completeness(rule))
            elif rule.kind == "IsUnique":
                self.checks.append(_Unique(rule, spill, expected_rows))
            elif rule.kind == "ColumnValues" and rule.values is not None:
                self.checks.append(_In(rule, glue_type))
            elif rule.kind == "ColumnValues":
                self.checks.append(_Between(rule, glue_type))
            elif rule.kind == "RowCount":
                self.checks.append(_RowCount(rule))
            else:
                raise ValueError(f"no local evaluation for {rule.dqdl()}")

    def columns(self) -> list[str]:
        """The columns the rules read (ColumnExists is judged on the schema alone)."""
        return sorted({c.column for c in self.checks if c.column and not isinstance(c, _Exists)})

    def add(self, table: pa.Table) -> None:
        for check in self.checks:
            check.add(table)

    def verdicts(self) -> list[Verdict]:
        return [check.verdict() for check in self.checks]
