"""The lake's declared datasets: where each lives, its schema, who owns it, and the quality rules
it must meet. One declaration drives the Glue catalog table, the Glue Data Quality ruleset (its
DQDL, components/dqdl.py) and `python -m dataops quality`, which checks the same rules locally.

Rule names are DQDL's rule types (https://docs.aws.amazon.com/glue/latest/dg/dqdl.html), so a
data owner who knows Glue reads them as written; what each one means is in docs/data-quality.md.
Which combinations are refused (unknown zone, a rule on a missing column, ...) is in
rules/datasets.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from components.config.base import Classification, _Strict

# Glue (Hive) type names a column may have; components/dqdl.py and dataops/quality.py map each to
# the Parquet/Arrow types that satisfy it.
ColumnType = Literal[
    "string", "boolean", "tinyint", "smallint", "int", "bigint", "float", "double", "date", "timestamp"
]
# Partition values are parsed from object paths (`day=2026-11-28/`), so only types with a plain
# text form are allowed.
PartitionType = Literal["string", "int", "bigint", "date"]
RuleType = Literal["IsComplete", "Completeness", "IsUnique", "ColumnValues", "RowCount"]

# Glue stores table and column names in lower case (Athena: "Table, database and column names must
# be lowercase", https://docs.aws.amazon.com/athena/latest/ug/tables-databases-columns-names.html);
# underscores are the only separator Athena reads without quoting.
IDENTIFIER = r"^[a-z][a-z0-9_]*$"
PREFIX = r"^([a-z0-9][a-z0-9_.-]*/)+$"


class ColumnConfig(_Strict):
    name: str = Field(pattern=IDENTIFIER, max_length=128, description="Column name (lower case, `_`).")
    type: ColumnType = Field(description="Glue type; the Parquet files must store a matching type.")
    nullable: bool = Field(default=True, description="`false` adds an `IsComplete` rule on the column.")
    description: str = Field(default="", max_length=255, description="The column's comment in the catalog.")


class PartitionKeyConfig(_Strict):
    name: str = Field(pattern=IDENTIFIER, max_length=128, description="Key name, as in `<name>=<value>/`.")
    type: PartitionType = Field(description="Glue type of the values in the object paths.")
    description: str = Field(default="", max_length=255, description="The key's comment in the catalog.")


class RuleConfig(_Strict):
    rule: RuleType = Field(description="DQDL rule type (semantics: docs/data-quality.md).")
    column: str | None = Field(default=None, description="The column the rule checks (not RowCount).")
    at_least: float | None = Field(
        default=None, description="Completeness: the least fraction of non-null rows (`>=`)."
    )
    in_: list[str | int | None] | None = Field(
        default=None,
        alias="in",
        description="ColumnValues: the allowed values (strings, or whole numbers for integer columns); "
        "`null` allows nulls (DQDL `NULL`).",
    )
    between: list[int | float | str] | None = Field(
        default=None,
        description="ColumnValues, RowCount: `[low, high]`, both excluded as in DQDL; dates as `YYYY-MM-DD`.",
    )


class DatasetConfig(_Strict):
    name: str = Field(
        pattern=IDENTIFIER, max_length=64, description="Dataset name: its Glue table and `--dataset` name."
    )
    zone: str = Field(description="The lake zone whose bucket and Glue database hold it.")
    prefix: str = Field(
        pattern=PREFIX, max_length=256, description="Where its objects are in the zone bucket, e.g. `sales/`."
    )
    format: Literal["parquet"] = Field(default="parquet", description="File format of its objects.")
    owner: str = Field(
        min_length=1, max_length=128, description="Who answers for the data (its `owner` tag)."
    )
    classification: Classification | None = Field(
        default=None, description="Its `data-classification` (default: its zone's, else the stack's)."
    )
    description: str = Field(default="", max_length=2048, description="What the dataset holds.")
    partition_keys: list[PartitionKeyConfig] = Field(
        default_factory=list, description="Hive-style partitions: `<prefix><key>=<value>/...`, in order."
    )
    columns: list[ColumnConfig] = Field(min_length=1, description="The columns stored in its files.")
    rules: list[RuleConfig] = Field(default_factory=list, description="Quality rules beyond the schema.")

    def all_columns(self) -> dict[str, str]:
        """Column and partition-key name -> Glue type: what a rule may name."""
        return {**{c.name: c.type for c in self.columns}, **{k.name: k.type for k in self.partition_keys}}
