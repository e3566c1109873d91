"""`verify`'s checks of the declared datasets: each has its Glue table, with the declared columns,
partition keys, Parquet SerDe and location, and its Glue Data Quality ruleset, on that table, with
the declared DQDL (what components/data_lake.py creates, from the `lake.datasets` output).

The AWS side is behind `Catalog`, two reads: `GlueCatalog` asks Glue (GetTable,
GetDataQualityRuleset). moto serves Glue tables but not Data Quality rulesets, so the tests run
the table checks against a moto server and the ruleset checks against an in-memory catalog with
the same interface (docs/data-quality.md, "What the tests show").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"


class Catalog(Protocol):
    def table(self, database: str, name: str) -> dict[str, Any] | None:
        """GetTable's `Table`, or None when there is no such table."""

    def ruleset(self, name: str) -> dict[str, Any] | None:
        """GetDataQualityRuleset's answer, or None when there is no such ruleset."""


class GlueCatalog:
    def __init__(self, glue: Any):
        self.glue = glue

    def table(self, database: str, name: str) -> dict[str, Any] | None:
        try:
            return self.glue.get_table(DatabaseName=database, Name=name)["Table"]
        except self.glue.exceptions.EntityNotFoundException:
            return None

    def ruleset(self, name: str) -> dict[str, Any] | None:
        try:
            return self.glue.get_data_quality_ruleset(Name=name)
        except self.glue.exceptions.EntityNotFoundException:
            return None


@dataclass(frozen=True)
class DeclaredDataset:
    name: str
    database: str
    table: str
    ruleset: str
    dqdl: str
    columns: tuple[tuple[str, str], ...]
    partition_keys: tuple[tuple[str, str], ...]
    location: str


def declared(lake: dict[str, Any], bad: Any) -> list[DeclaredDataset]:
    """The datasets of the `lake` output; `bad(where, value, expected)` makes the error."""
    # Absent or null: an owner deployed before datasets existed; anything else must be a map.
    datasets = lake.get("datasets")
    datasets = {} if datasets is None else datasets
    if not isinstance(datasets, dict):
        raise bad("lake.datasets", datasets, "a map of datasets")
    out = []
    for name, spec in sorted(datasets.items()):
        where = f"lake.datasets.{name}"
        try:
            zone = lake["zones"][spec["zone"]]
            out.append(
                DeclaredDataset(
                    name,
                    str(zone["glueDatabase"]),
                    str(spec["table"]),
                    str(spec["ruleset"]),
                    str(spec["dqdl"]),
                    tuple((str(c), str(t)) for c, t in spec["columns"]),
                    tuple((str(k), str(t)) for k, t in spec["partitionKeys"]),
                    f"s3://{zone['bucket']}/{spec['prefix']}",
                )
            )
        except (KeyError, TypeError, ValueError):
            raise bad(where, spec, "{zone, prefix, table, ruleset, dqdl, columns, partitionKeys}") from None
    return out


def _pairs(items: list[dict[str, Any]]) -> tuple[tuple[str, str], ...]:
    return tuple((str(c.get("Name")), str(c.get("Type"))) for c in items)


def checks(dataset: DeclaredDataset, catalog: Catalog) -> list[tuple[str, bool, str]]:
    """(check, ok, detail) for one dataset, in the order they are reported."""
    where = f"{dataset.database}.{dataset.table}"
    table = catalog.table(dataset.database, dataset.table)
    out: list[tuple[str, bool, str]] = []
    if table is None:
        out.append((f"the Glue table {where} exists", False, "no such table"))
    else:
        out.append((f"the Glue table {where} exists", True, ""))
        storage = table.get("StorageDescriptor") or {}
        found = (_pairs(storage.get("Columns") or []), _pairs(table.get("PartitionKeys") or []))
        wanted = (dataset.columns, dataset.partition_keys)
        schema_detail = "" if found == wanted else f"columns {found[0]}, partition keys {found[1]}"
        out.append(("its columns and partition keys are the declared ones", found == wanted, schema_detail))
        serde = (storage.get("SerdeInfo") or {}).get("SerializationLibrary")
        location = storage.get("Location")
        ok = serde == PARQUET_SERDE and location == dataset.location
        out.append(
            (
                f"it reads Parquet at {dataset.location}",
                ok,
                "" if ok else f"SerDe {serde}, location {location}",
            )
        )
    ruleset = catalog.ruleset(dataset.ruleset)
    if ruleset is None:
        out.append((f"the Data Quality ruleset {dataset.ruleset} exists", False, "no such ruleset"))
        return out
    out.append((f"the Data Quality ruleset {dataset.ruleset} exists", True, ""))
    target = ruleset.get("TargetTable") or {}
    on = (target.get("DatabaseName"), target.get("TableName"))
    out.append(
        (
            f"it targets {where}",
            on == (dataset.database, dataset.table),
            "" if on == (dataset.database, dataset.table) else f"targets {on[0]}.{on[1]}",
        )
    )
    same = (ruleset.get("Ruleset") or "").strip() == dataset.dqdl.strip()
    out.append(
        ("its DQDL is the declared rules'", same, "" if same else "the ruleset was changed outside the stack")
    )
    return out
