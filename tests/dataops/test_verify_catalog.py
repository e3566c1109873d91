"""`verify`'s checks of the declared datasets (dataops/verify_catalog.py): each dataset's Glue
table and Data Quality ruleset as the offline plan declares them pass; a missing table or
ruleset, or one changed outside the stack, fails its check naming it.

The tables are created in a real moto server (the fixtures of test_verify.py) and read back
through Glue's GetTable; moto 5.2 serves no Data Quality rulesets, so those come from an
in-memory catalog holding what GetDataQualityRuleset returns."""

from __future__ import annotations

import contextlib
import copy
import json

import boto3
import pytest

from dataops import verify, verify_catalog
from dataops.cli import main
from tests.conftest import LAKE_OWNER
from tests.dataops.test_verify import REGION, aws_env, endpoint, make_lake  # noqa: F401 - fixtures

TABLE = "aws:glue/catalogTable:CatalogTable"
RULESET = "aws:glue/dataQualityRuleset:DataQualityRuleset"


class Rulesets:
    """GetDataQualityRuleset's answers, by name."""

    def __init__(self, items: dict[str, dict]):
        self.items = items

    def ruleset(self, name: str) -> dict | None:
        return copy.deepcopy(self.items.get(name))


class Both:
    """Tables from Glue (moto), rulesets from memory."""

    def __init__(self, tables: verify_catalog.GlueCatalog, rulesets: Rulesets):
        self.tables, self.rulesets = tables, rulesets

    def table(self, database: str, name: str) -> dict | None:
        return self.tables.table(database, name)

    def ruleset(self, name: str) -> dict | None:
        return self.rulesets.ruleset(name)


def glue_table_input(inputs: dict) -> dict:
    """The plan's CatalogTable inputs in Glue's TableInput form."""
    storage = inputs["storageDescriptor"]
    return {
        "Name": inputs["name"],
        "Owner": inputs["owner"],
        "TableType": inputs["tableType"],
        "Parameters": inputs["parameters"],
        "PartitionKeys": [{"Name": k["name"], "Type": k["type"]} for k in inputs.get("partitionKeys", [])],
        "StorageDescriptor": {
            "Location": storage["location"],
            "InputFormat": storage["inputFormat"],
            "OutputFormat": storage["outputFormat"],
            "SerdeInfo": {"SerializationLibrary": storage["serDeInfo"]["serializationLibrary"]},
            "Columns": [{"Name": c["name"], "Type": c["type"]} for c in storage["columns"]],
        },
    }


def deployed_rulesets(plan) -> dict[str, dict]:
    return {
        r.inputs["name"]: {
            "Name": r.inputs["name"],
            "Ruleset": r.inputs["ruleset"],
            "TargetTable": {
                "DatabaseName": r.inputs["targetTable"]["databaseName"],
                "TableName": r.inputs["targetTable"]["tableName"],
            },
        }
        for r in plan.of_type(RULESET)
    }


@pytest.fixture
def glue(aws_env, plans):  # noqa: F811 - the fixture imported above
    """A Glue catalog in moto with the owner plan's databases and tables (made afresh)."""
    client = boto3.client("glue", region_name=REGION)
    plan = plans[LAKE_OWNER]
    for table in plan.of_type(TABLE):
        database = table.inputs["databaseName"]
        with contextlib.suppress(client.exceptions.AlreadyExistsException):
            client.create_database(DatabaseInput={"Name": database})
        with contextlib.suppress(client.exceptions.EntityNotFoundException):
            client.delete_table(DatabaseName=database, Name=table.inputs["name"])
        client.create_table(DatabaseName=database, TableInput=glue_table_input(table.inputs))
    return client


@pytest.fixture
def datasets(plans) -> list[verify_catalog.DeclaredDataset]:
    def bad(where, value, expected):
        return AssertionError(f"{where}: {value} is not {expected}")

    return verify_catalog.declared(plans[LAKE_OWNER].outputs["lake"], bad)


def results(datasets, catalog) -> list[str]:
    return [
        f"{'PASS' if ok else 'FAIL'} {d.name}: {check}" + (f" ({detail})" if detail else "")
        for d in datasets
        for check, ok, detail in verify_catalog.checks(d, catalog)
    ]


def test_the_declared_datasets_are_read_from_the_lake_output(datasets, plans):
    assert sorted(d.name for d in datasets) == sorted(
        r.inputs["name"] for r in plans[LAKE_OWNER].of_type(TABLE)
    )
    orders = next(d for d in datasets if d.name == "sales_orders")
    assert orders.database == "dataops_prod_curated" and orders.partition_keys == (("order_date", "date"),)
    assert orders.location.endswith("-curated-111122223333-eu-west-1/sales/orders/")


def test_what_the_plan_declares_passes_every_check(glue, datasets, plans):
    catalog = Both(verify_catalog.GlueCatalog(glue), Rulesets(deployed_rulesets(plans[LAKE_OWNER])))
    found = results(datasets, catalog)
    assert len(found) == 6 * len(datasets)
    assert all(line.startswith("PASS") for line in found), found


def test_a_missing_table_fails_naming_it(glue, datasets, plans):
    glue.delete_table(DatabaseName="dataops_prod_curated", Name="sales_orders")
    catalog = Both(verify_catalog.GlueCatalog(glue), Rulesets(deployed_rulesets(plans[LAKE_OWNER])))
    failed = [line for line in results(datasets, catalog) if line.startswith("FAIL")]
    assert failed == [
        "FAIL sales_orders: the Glue table dataops_prod_curated.sales_orders exists (no such table)"
    ]


def test_a_missing_ruleset_fails_naming_it(glue, datasets, plans):
    rulesets = deployed_rulesets(plans[LAKE_OWNER])
    del rulesets["dataops-prod-daily_revenue"]
    failed = [
        line
        for line in results(datasets, Both(verify_catalog.GlueCatalog(glue), Rulesets(rulesets)))
        if line.startswith("FAIL")
    ]
    assert failed == [
        "FAIL daily_revenue: the Data Quality ruleset dataops-prod-daily_revenue exists (no such ruleset)"
    ]


def _retyped(table: dict) -> dict:
    table["StorageDescriptor"]["Columns"][2]["Type"] = "float"
    return table


def _moved(table: dict) -> dict:
    table["StorageDescriptor"]["Location"] = table["StorageDescriptor"]["Location"] + "old/"
    return table


def _csv(table: dict) -> dict:
    table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] = (
        "org.apache.hadoop.hive.serde2.OpenCSVSerde"
    )
    return table


def _unpartitioned(table: dict) -> dict:
    table["PartitionKeys"] = []
    return table


@pytest.mark.parametrize(
    ("change", "check", "detail"),
    [
        (_retyped, "its columns and partition keys are the declared ones", "('amount', 'float')"),
        (_unpartitioned, "its columns and partition keys are the declared ones", "partition keys ()"),
        (_moved, "it reads Parquet at", "/sales/orders/old/"),
        (_csv, "it reads Parquet at", "SerDe org.apache.hadoop.hive.serde2.OpenCSVSerde"),
    ],
)
def test_a_table_changed_outside_the_stack_fails_its_check(glue, datasets, plans, change, check, detail):
    plan = plans[LAKE_OWNER]
    inputs = next(t.inputs for t in plan.of_type(TABLE) if t.inputs["name"] == "sales_orders")
    glue.update_table(DatabaseName=inputs["databaseName"], TableInput=change(glue_table_input(inputs)))
    catalog = Both(verify_catalog.GlueCatalog(glue), Rulesets(deployed_rulesets(plan)))
    failed = [line for line in results(datasets, catalog) if line.startswith("FAIL")]
    assert len(failed) == 1, failed
    assert failed[0].startswith(f"FAIL sales_orders: {check}") and detail in failed[0], failed


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda r: r.update(
                Ruleset=r["Ruleset"].replace("between 0 and 1000000,", "between 0 and 2000000,")
            ),
            "FAIL sales_orders: its DQDL is the declared rules' (the ruleset was changed outside the stack)",
        ),
        (
            lambda r: r["TargetTable"].update(TableName="daily_revenue"),
            "FAIL sales_orders: it targets dataops_prod_curated.sales_orders "
            "(targets dataops_prod_curated.daily_revenue)",
        ),
    ],
)
def test_a_ruleset_changed_outside_the_stack_fails_its_check(glue, datasets, plans, change, expected):
    rulesets = deployed_rulesets(plans[LAKE_OWNER])
    change(rulesets["dataops-prod-sales_orders"])
    failed = [
        line
        for line in results(datasets, Both(verify_catalog.GlueCatalog(glue), Rulesets(rulesets)))
        if line.startswith("FAIL")
    ]
    assert failed == [expected]


def test_verify_reports_the_catalog_checks_with_the_buckets(tmp_path, glue, plans, capsys, monkeypatch):
    """The whole command: the lake's buckets (moto) and its datasets, one FAIL for a missing
    ruleset, exit 1."""
    outputs = make_lake("cat")
    owner = plans[LAKE_OWNER].outputs["lake"]
    for zone, spec in owner["zones"].items():
        if zone in outputs["lake"]["zones"]:
            outputs["lake"]["zones"][zone]["glueDatabase"] = spec["glueDatabase"]
    declared = {n: d for n, d in owner["datasets"].items() if d["zone"] in outputs["lake"]["zones"]}
    assert declared, "a dataset in the zones make_lake creates"
    outputs["lake"]["datasets"] = declared
    # The tables' locations are the test lake's buckets, as a deploy of this lake would have them.
    for name, spec in declared.items():
        inputs = next(t.inputs for t in plans[LAKE_OWNER].of_type(TABLE) if t.inputs["name"] == name)
        table = glue_table_input(inputs)
        table["StorageDescriptor"]["Location"] = (
            f"s3://{outputs['lake']['zones'][spec['zone']]['bucket']}/{spec['prefix']}"
        )
        glue.update_table(DatabaseName=inputs["databaseName"], TableInput=table)
    monkeypatch.setattr(
        verify,
        "glue_catalog",
        lambda region, endpoint_url: Both(verify_catalog.GlueCatalog(glue), Rulesets({})),
    )
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    code = main(["verify", "--stack", "prod", "--outputs", str(path)])
    out = capsys.readouterr().out
    assert code == 1, out
    failed = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert failed == [
        f"FAIL {name}: the Data Quality ruleset {spec['ruleset']} exists (no such ruleset)"
        for name, spec in sorted(declared.items())
    ]
    assert f"PASS {next(iter(declared))}: the Glue table" in out


@pytest.mark.parametrize(
    ("datasets", "expected"),
    [
        ([], "`lake.datasets` is [], not a map of datasets"),
        ({"x": {"zone": "curated"}}, "`lake.datasets.x` is"),
        (
            {
                "x": {
                    "zone": "gold",
                    "prefix": "a/",
                    "table": "x",
                    "ruleset": "r",
                    "dqdl": "",
                    "columns": [],
                    "partitionKeys": [],
                }
            },
            "`lake.datasets.x` is",
        ),
    ],
)
def test_garbled_dataset_outputs_are_one_error_line(tmp_path, aws_env, capsys, datasets, expected):  # noqa: F811
    outputs = make_lake(f"garbled{len(json.dumps(datasets))}")
    outputs["lake"]["datasets"] = datasets
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    code = main(["verify", "--stack", "prod", "--outputs", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and len(err.splitlines()) == 1, err
    assert expected in err, err
