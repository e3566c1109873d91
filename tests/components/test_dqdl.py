"""The declared datasets in the offline plan: one Glue table and one Data Quality ruleset per
dataset of the lake owner (components/data_lake.py), the table with the declared schema, Parquet
SerDe, partition keys and location, the ruleset's DQDL read back and compared with the declared
rules (components/dqdl.py), and the DQDL text itself in the forms the DQDL reference gives
(https://docs.aws.amazon.com/glue/latest/dg/dqdl.html)."""

from __future__ import annotations

import pytest

from components.config import DatasetConfig
from components.dqdl import Rule, dqdl, parse, rules_of
from tests.conftest import CONFIGS, CONSUMERS, LAKE_OWNER

TABLE = "aws:glue/catalogTable:CatalogTable"
RULESET = "aws:glue/dataQualityRuleset:DataQualityRuleset"
DATABASE = "aws:glue/catalogDatabase:CatalogDatabase"
SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
DATASETS = CONFIGS[LAKE_OWNER].datasets


def by_name(plan, type_: str) -> dict:
    return {r.inputs["name"]: r for r in plan.of_type(type_)}


def test_the_owner_ships_datasets_in_the_curated_and_analytics_zones():
    assert {"curated", "analytics"} <= {d.zone for d in DATASETS}
    assert len({d.name for d in DATASETS}) == len(DATASETS) >= 2


def test_one_table_and_one_ruleset_per_declared_dataset(plans):
    plan = plans[LAKE_OWNER]
    tables, rulesets = plan.of_type(TABLE), plan.of_type(RULESET)
    assert sorted(t.inputs["name"] for t in tables) == sorted(d.name for d in DATASETS)
    assert len(rulesets) == len(DATASETS)
    targets = sorted(r.inputs["targetTable"]["tableName"] for r in rulesets)
    assert targets == sorted(d.name for d in DATASETS)


@pytest.mark.parametrize("stack", CONSUMERS)
def test_consumers_create_no_tables_or_rulesets(plans, stack):
    assert plans[stack].of_type(TABLE) == [] and plans[stack].of_type(RULESET) == []


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.name)
def test_each_table_has_the_declared_schema_in_its_zones_database(plans, dataset: DatasetConfig):
    plan = plans[LAKE_OWNER]
    table = by_name(plan, TABLE)[dataset.name].inputs
    databases = {r.name.removeprefix("lake-").removesuffix("-catalog"): r for r in plan.of_type(DATABASE)}
    assert table["databaseName"] == databases[dataset.zone].inputs["name"]
    storage = table["storageDescriptor"]
    assert [(c["name"], c["type"]) for c in storage["columns"]] == [(c.name, c.type) for c in dataset.columns]
    assert [(k["name"], k["type"]) for k in table.get("partitionKeys", [])] == [
        (k.name, k.type) for k in dataset.partition_keys
    ]
    assert storage["serDeInfo"]["serializationLibrary"] == SERDE
    assert storage["inputFormat"].endswith("MapredParquetInputFormat")
    bucket = plan.outputs["lake"]["zones"][dataset.zone]["bucket"]
    assert storage["location"] == f"s3://{bucket}/{dataset.prefix}"
    assert table["owner"] == dataset.owner
    assert table["parameters"]["classification"] == "parquet"


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.name)
def test_each_rulesets_dqdl_reads_back_as_the_declared_rules(plans, dataset: DatasetConfig):
    plan = plans[LAKE_OWNER]
    ruleset = next(
        r for r in plan.of_type(RULESET) if r.inputs["targetTable"]["tableName"] == dataset.name
    ).inputs
    table = by_name(plan, TABLE)[dataset.name].inputs
    assert ruleset["targetTable"]["databaseName"] == table["databaseName"]
    found = parse(ruleset["ruleset"])
    # Compared with the stack file's own words, not with rules_of (which wrote the text).
    expected = [Rule("ColumnExists", c.name) for c in dataset.columns]
    expected += [Rule("IsComplete", c.name) for c in dataset.columns if not c.nullable]
    for r in dataset.rules:
        expected.append(
            Rule(
                r.rule,
                r.column,
                at_least=r.at_least,
                values=tuple(r.in_) if r.in_ is not None else None,
                between=tuple(r.between) if r.between is not None else None,  # type: ignore[arg-type]
            )
        )
    assert found == expected
    tags = ruleset["tags"]
    assert tags["owner"] == dataset.owner and tags["dataset"] == dataset.name and tags["zone"] == dataset.zone
    for key in ("environment", "stack", "project", "cost-center", "data-classification"):
        assert tags.get(key), f"{dataset.name}: ruleset tag {key} missing"


def test_the_shipped_rules_cover_every_supported_rule_type():
    kinds = {r.kind for d in DATASETS for r in rules_of(d)}
    assert kinds == {"ColumnExists", "IsComplete", "Completeness", "IsUnique", "ColumnValues", "RowCount"}


def test_the_dqdl_text_is_in_the_references_forms():
    rules = [
        Rule("ColumnExists", "id"),
        Rule("IsComplete", "id"),
        Rule("IsUnique", "id"),
        Rule("Completeness", "channel", at_least=0.9),
        Rule("ColumnValues", "currency", values=("EUR", "USD", None)),
        Rule("ColumnValues", "level", values=(1, 2)),
        Rule("ColumnValues", "amount", between=(0, 1000.5)),
        Rule("ColumnValues", "day", between=("2020-01-01", "2100-01-01")),
        Rule("RowCount", between=(0, 100)),
    ]
    text = dqdl(rules)
    assert text.splitlines() == [
        "Rules = [",
        '    ColumnExists "id",',
        '    IsComplete "id",',
        '    IsUnique "id",',
        '    Completeness "channel" >= 0.9,',
        '    ColumnValues "currency" in ["EUR", "USD", NULL],',
        '    ColumnValues "level" in [1, 2],',
        '    ColumnValues "amount" between 0 and 1000.5,',
        '    ColumnValues "day" between "2020-01-01" and "2100-01-01",',
        "    RowCount between 0 and 100",
        "]",
    ]
    assert parse(text) == rules


@pytest.mark.parametrize(
    "text",
    [
        'IsComplete "id"',  # no Rules = [ ... ]
        'Rules = [\n    IsComplete "id" and IsUnique "id"\n]',  # a form the platform does not write
        'Rules = [\n    Mean "x" > 3 where "y < 1"\n]',
    ],
)
def test_parse_refuses_what_the_platform_does_not_write(text):
    with pytest.raises(ValueError):
        parse(text)
