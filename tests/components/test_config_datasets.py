"""Rules of `lake.datasets` (components/config/rules/datasets.py), each broken one way at a time
on the shipped prod declaration: exactly one line, naming the key, the value and the fix; and
through `python -m dataops validate`, exit 2 with no traceback."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
import yaml

from dataops.cli import main
from dataops.plan import ROOT, PlanError, load_config
from tests.components.config_lines import assert_lines
from tests.components.test_config import LINE

KEY = "dataops-platform:lake.datasets"
SHIPPED = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())


def datasets() -> list[dict]:
    return copy.deepcopy(SHIPPED["config"]["dataops-platform:lake"]["datasets"])


def with_datasets(value: list[dict], stack: str = "prod") -> str:
    doc = copy.deepcopy(
        SHIPPED if stack == "prod" else yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    )
    doc["config"].setdefault("dataops-platform:lake", {})["datasets"] = value
    return yaml.safe_dump(doc, sort_keys=False)


def problems(tmp_path: Path, value: list[dict], stack: str = "prod") -> list[str]:
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(with_datasets(value, stack))
    try:
        load_config(stack, ROOT, path)
    except PlanError as exc:
        for line in exc.lines:
            assert LINE.match(line), f"not in the one-line format: {line}"
        return exc.lines
    return []


def orders(d: list[dict]) -> dict:
    return d[0]


def revenue(d: list[dict]) -> dict:
    return d[1]


def _set(pick, **changes):
    def change(d):
        pick(d).update(changes)

    return change


def _rule(pick, index, **changes):
    def change(d):
        rule = pick(d)["rules"][index]
        for k, v in changes.items():
            if v is None:
                rule.pop(k, None)
            else:
                rule[k] = v

    return change


def _add_rule(pick, rule):
    def change(d):
        pick(d)["rules"].append(rule)

    return change


def _overlap(prefix):
    def change(d):
        d.append({**copy.deepcopy(d[0]), "name": "sales_other", "prefix": prefix})

    return change


# case -> (change to the shipped datasets, the key the one line names, a piece of that line)
CASES = {
    "unknown zone": (_set(orders, zone="gold"), "[0].zone", "not a zone of the lake"),
    "duplicate names": (_set(revenue, name="sales_orders"), "[1].name", "already the name of"),
    "prefix inside another's": (_overlap("sales/orders/2026/"), "[2].prefix", "overlaps"),
    "prefix around another's": (_overlap("sales/"), "[2].prefix", "overlaps"),
    "the same prefix": (_overlap("sales/orders/"), "[2].prefix", "overlaps"),
    "rule on a missing column": (_rule(orders, 0, column="order_no"), "[0].rules[0].column", "not a column"),
    "in on a double column": (
        _add_rule(orders, {"rule": "ColumnValues", "column": "amount", "in": [1, 2]}),
        "[0].rules[6].in",
        "`in` compares strings or whole numbers",
    ),
    "between on a string column": (
        _add_rule(orders, {"rule": "ColumnValues", "column": "currency", "between": [1, 2]}),
        "[0].rules[6].between",
        "between applies to numbers and dates",
    ),
    "numbers in a string column's set": (
        _rule(orders, 1, **{"in": ["EUR", 1]}),
        "[0].rules[1].in",
        "the values must be strings",
    ),
    "strings in an integer column's set": (
        _add_rule(revenue, {"rule": "ColumnValues", "column": "orders", "in": ["1"]}),
        "[1].rules[5].in",
        "the values must be whole numbers",
    ),
    "a set of only null": (_rule(orders, 1, **{"in": [None]}), "[0].rules[1].in", "no allowed value"),
    "a quote in a value": (_rule(orders, 1, **{"in": ['E"UR']}), "[0].rules[1].in", "quote or backslash"),
    "a non-date bound on a date": (
        _rule(revenue, 1, between=["2020-01-01", "soon"]),
        "[1].rules[1].between",
        "dates written YYYY-MM-DD",
    ),
    "a string bound on a number": (_rule(orders, 2, between=[0, "1e6"]), "[0].rules[2].between", "numbers"),
    "one bound": (_rule(orders, 2, between=[0]), "[0].rules[2].between", "needs [low, high]"),
    "low above high": (_rule(orders, 2, between=[10, 1]), "[0].rules[2].between", "low must be below high"),
    "low equal to high": (_rule(orders, 2, between=[5, 5]), "[0].rules[2].between", "low must be below high"),
    "a negative row count": (
        _rule(orders, 5, between=[-1, 10]),
        "[0].rules[5].between",
        "whole numbers of rows",
    ),
    "a fractional row count": (
        _rule(orders, 5, between=[0, 1.5]),
        "[0].rules[5].between",
        "whole numbers of rows",
    ),
    "completeness above 1": (_rule(orders, 4, atLeast=1.5), "[0].rules[4].atLeast", "a fraction of rows"),
    "completeness of 0": (_rule(orders, 4, atLeast=0), "[0].rules[4].atLeast", "a fraction of rows"),
    "completeness without atLeast": (_rule(orders, 4, atLeast=None), "[0].rules[4].atLeast", "needs atLeast"),
    "a row count without between": (_rule(orders, 5, between=None), "[0].rules[5].between", "needs between"),
    "a row count on a column": (
        _rule(orders, 5, column="order_id"),
        "[0].rules[5].column",
        "takes no column",
    ),
    "IsUnique with a set": (_rule(orders, 0, **{"in": ["a"]}), "[0].rules[0].in", "takes no in"),
    "IsUnique without a column": (_rule(orders, 0, column=None), "[0].rules[0].column", "needs column"),
    "ColumnValues with in and between": (
        _rule(orders, 2, **{"in": [1]}),
        "[0].rules[2]",
        "exactly one of in, between",
    ),
    "ColumnValues with neither": (
        _rule(orders, 2, between=None),
        "[0].rules[2]",
        "exactly one of in, between",
    ),
    "IsComplete on a non-nullable column": (
        _add_rule(orders, {"rule": "IsComplete", "column": "order_id"}),
        "[0].rules[6].rule",
        "already adds IsComplete",
    ),
    "the same rule twice": (
        _add_rule(orders, {"rule": "IsUnique", "column": "order_id"}),
        "[0].rules[6]",
        "the same rule twice",
    ),
    "a column named twice": (
        lambda d: orders(d)["columns"].append({"name": "amount", "type": "double"}),
        "[0].columns[5].name",
        "named twice",
    ),
    "IsUnique with atLeast": (_rule(orders, 0, atLeast=0.9), "[0].rules[0].atLeast", "takes no atLeast"),
    "IsUnique with between": (_rule(orders, 0, between=[1, 2]), "[0].rules[0].between", "takes no between"),
    "a backslash in a value": (
        _rule(orders, 1, **{"in": ["E\\UR"]}),
        "[0].rules[1].in",
        "quote or backslash",
    ),
    "a partition key that is also a column": (
        lambda d: orders(d)["partitionKeys"].append({"name": "currency", "type": "string"}),
        "[0].partitionKeys[1].name",
        "named twice",
    ),
}


def test_the_shipped_declarations_validate():
    assert load_config("prod")[1].datasets


# The nearest declarations that are right: each at the edge of a rule in CASES.
GOOD = {
    "completeness of all rows": _rule(orders, 4, atLeast=1),
    "IsComplete on a nullable column": lambda d: (
        orders(d)["columns"].append({"name": "note", "type": "string"}),
        _add_rule(orders, {"rule": "IsComplete", "column": "note"})(d),
    ),
}


@pytest.mark.parametrize("case", sorted(GOOD))
def test_the_nearest_good_declarations_validate(tmp_path, case):
    value = datasets()
    GOOD[case](value)
    assert problems(tmp_path, value) == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_malformed_declaration_is_one_line(tmp_path, case):
    change, key, message = CASES[case]
    value = datasets()
    change(value)
    found = problems(tmp_path, value)
    assert len(found) == 1, found
    (line,) = found
    assert LINE.match(line)["key"] == KEY + key, line
    assert message in line, line
    assert_lines(f"datasets: {case}", found)


@pytest.mark.parametrize(
    ("change", "key", "message"),
    [
        (_set(orders, prefix="/sales"), "[0].prefix", "should match pattern"),
        (_set(orders, name="Sales-Orders"), "[0].name", "should match pattern"),
        (lambda d: orders(d)["columns"][0].update(type="varchar"), "[0].columns[0].type", "string"),
        (lambda d: orders(d)["partitionKeys"][0].update(type="double"), "[0].partitionKeys[0].type", "date"),
        (_rule(orders, 0, rule="IsPrimaryKey"), "[0].rules[0].rule", "IsUnique"),
        (_set(orders, format="csv"), "[0].format", "parquet"),
        (_set(orders, columns=[]), "[0].columns", "at least 1"),
    ],
)
def test_malformed_fields_are_refused_by_the_model(tmp_path, change, key, message):
    value = datasets()
    change(value)
    found = problems(tmp_path, value)
    assert len(found) == 1, found
    assert LINE.match(found[0])["key"] == KEY + key, found
    assert message in found[0], found


def test_datasets_are_the_lake_owners_to_declare(tmp_path):
    found = problems(tmp_path, datasets(), stack="dev")
    assert [LINE.match(line)["key"] for line in found] == [KEY], found


def test_two_datasets_may_share_a_prefix_in_different_zones(tmp_path):
    value = datasets()
    value.append({**copy.deepcopy(value[0]), "name": "sales_orders_raw", "zone": "raw"})
    assert problems(tmp_path, value) == []


def test_a_sibling_prefix_with_a_common_start_is_not_an_overlap(tmp_path):
    # sales/orders/ and sales/orders_archive/ share characters but not a folder.
    value = datasets()
    value.append({**copy.deepcopy(value[0]), "name": "sales_archive", "prefix": "sales/orders_archive/"})
    assert problems(tmp_path, value) == []


@pytest.fixture
def project(tmp_path) -> Path:
    for path in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "sandboxes").mkdir()
    shutil.copy(ROOT / "sandboxes" / "template.yaml", tmp_path / "sandboxes" / "template.yaml")
    return tmp_path


@pytest.mark.parametrize(
    "case",
    [
        "unknown zone",
        "duplicate names",
        "rule on a missing column",
        "between on a string column",
        "prefix inside another's",
    ],
)
def test_validate_exits_2_with_one_line(project, capsys, case):
    change, key, message = CASES[case]
    value = datasets()
    change(value)
    (project / "Pulumi.prod.yaml").write_text(with_datasets(value))
    code = main(["--root", str(project), "validate"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: Pulumi.prod.yaml: {KEY}{key} = "), err
    assert message in lines[0] and "; fix: " in lines[0], err
