"""Rules of the declared datasets (`lake.datasets`): each names a zone of the lake, its name and
prefix are its own, every rule names a column it has and fits that column's type, and the values a
rule compares with are of that type.

Which types a rule applies to follows the DQDL reference
(https://docs.aws.amazon.com/glue/latest/dg/dqdl.html): `between` "only ... for numeric and date
types"; `in` is kept to strings and whole numbers here, because comparing floating-point values
for equality is fragile and Glue compares numbers as doubles."""

from __future__ import annotations

import datetime
from typing import Any

from components.config.datasets import DatasetConfig, RuleConfig
from components.config.errors import MISSING
from components.config.rules.common import Add
from components.config.stack import StackConfig

KEY = "lake.datasets"
INTEGER_TYPES = ("tinyint", "smallint", "int", "bigint")
NUMERIC_TYPES = (*INTEGER_TYPES, "float", "double")
# What each key of a rule is for; a rule may set exactly the keys its type needs.
NEEDS = {
    "IsComplete": {"column"},
    "IsUnique": {"column"},
    "Completeness": {"column", "atLeast"},
    "ColumnValues": {"column"},  # and exactly one of in, between (below)
    "RowCount": {"between"},
}
OPTIONAL = {"ColumnValues": {"in", "between"}}


def dataset_rules(cfg: StackConfig, add: Add) -> None:
    datasets = cfg.lake.datasets or []
    if datasets and cfg.lake.role != "owner":
        return  # rules/__init__.py refuses the key itself on a consumer
    seen: dict[str, int] = {}
    places: list[tuple[str, str, str]] = []  # (zone, prefix, key)
    for i, ds in enumerate(datasets):
        key = f"{KEY}[{i}]"
        if ds.name in seen:
            add(f"{key}.name", ds.name, f"already the name of lake.datasets[{seen[ds.name]}]", "rename one")
        seen.setdefault(ds.name, i)
        if ds.zone not in cfg.zones:
            add(
                f"{key}.zone", ds.zone, "not a zone of the lake", f"use one of {', '.join(sorted(cfg.zones))}"
            )
        for zone, prefix, other in places:
            if zone == ds.zone and (prefix.startswith(ds.prefix) or ds.prefix.startswith(prefix)):
                add(
                    f"{key}.prefix",
                    ds.prefix,
                    f"overlaps {other}.prefix ({prefix!r}) in the {zone} zone: "
                    "each would read the other's files",
                    "give each dataset a prefix of its own, e.g. sales/orders/ and sales/refunds/",
                )
        places.append((ds.zone, ds.prefix, key))
        _columns(ds, key, add)
        for j in range(len(ds.rules)):
            _rule(ds, j, f"{key}.rules[{j}]", add)


def _columns(ds: DatasetConfig, key: str, add: Add) -> None:
    names: set[str] = set()
    for part, items in (("columns", ds.columns), ("partitionKeys", ds.partition_keys)):
        for j, item in enumerate(items):
            if item.name in names:
                add(
                    f"{key}.{part}[{j}].name",
                    item.name,
                    "named twice among the dataset's columns and partition keys",
                    "rename or remove one",
                )
            names.add(item.name)


def _rule(ds: DatasetConfig, index: int, key: str, add: Add) -> None:
    rule = ds.rules[index]
    given = {
        name
        for name, value in (
            ("column", rule.column),
            ("atLeast", rule.at_least),
            ("in", rule.in_),
            ("between", rule.between),
        )
        if value is not None
    }
    needed, optional = NEEDS[rule.rule], OPTIONAL.get(rule.rule, set())
    shape = [
        (f"{key}.{name}", MISSING, f"{rule.rule} needs {name}", f"set {name}")
        for name in sorted(needed - given)
    ]
    shape += [
        (f"{key}.{name}", _shown(rule, name), f"{rule.rule} takes no {name}", f"remove {name}")
        for name in sorted(given - needed - optional)
    ]
    if rule.rule == "ColumnValues" and len(given & optional) != 1:
        shape.append(
            (key, _shown(rule, "rule"), "ColumnValues needs exactly one of in, between", "keep one of them")
        )
    if shape:
        # A rule of the wrong shape is reported as such, not also as values that do not fit.
        for problem in shape:
            add(*problem)
        return
    columns = ds.all_columns()
    if rule.column is not None and rule.column not in columns:
        add(
            f"{key}.column",
            rule.column,
            "not a column or partition key of the dataset",
            f"use one of {', '.join(columns)}",
        )
        return
    type_ = columns.get(rule.column or "", "")
    if rule.at_least is not None and not 0 < rule.at_least <= 1:
        add(f"{key}.atLeast", rule.at_least, "a fraction of rows", "use a number above 0 and at most 1")
    if rule.in_ is not None:
        _allowed_values(rule.in_, type_, rule.column or "", f"{key}.in", add)
    if rule.between is not None:
        _range(rule, type_, f"{key}.between", add)
    if rule.rule == "IsComplete" and any(c.name == rule.column and not c.nullable for c in ds.columns):
        add(
            f"{key}.rule",
            rule.rule,
            f"{rule.column} is declared nullable: false, which already adds IsComplete",
            "remove this rule",
        )
    if rule in ds.rules[:index]:
        add(key, _shown(rule, "rule"), "the same rule twice", "remove one")


def _allowed_values(values: list[str | int | None], type_: str, column: str, key: str, add: Add) -> None:
    if type_ not in ("string", *INTEGER_TYPES):
        add(
            key,
            values,
            f"`in` compares strings or whole numbers, and {column} is {type_}",
            "use between for numbers and dates, or declare the column as string or an integer type",
        )
        return
    wanted = str if type_ == "string" else int
    wrong = [v for v in values if v is not None and type(v) is not wanted]
    if not [v for v in values if v is not None] or wrong:
        add(
            key,
            values,
            f"{column} is {type_}: the values must be {'strings' if wanted is str else 'whole numbers'}"
            if wrong
            else "no allowed value besides null",
            "quote text values, e.g. [EUR, USD]" if wanted is str else "list whole numbers, e.g. [1, 2, 3]",
        )
    elif any('"' in v or "\\" in v for v in values if isinstance(v, str)):
        add(key, values, "a value with a quote or backslash", "DQDL values here are plain text: remove it")


def _range(rule: RuleConfig, type_: str, key: str, add: Add) -> None:
    bounds = rule.between or []
    if rule.rule == "RowCount":
        ok = all(type(b) is int and b >= 0 for b in bounds)
        kind, example = "whole numbers of rows, 0 or more", "[0, 1000000]"
    elif type_ in NUMERIC_TYPES:
        ok = all(type(b) in (int, float) for b in bounds)
        kind, example = "numbers", "[0, 100000]"
    elif type_ == "date":
        ok = all(isinstance(b, str) and _date(b) for b in bounds)
        kind, example = "dates written YYYY-MM-DD", "['2020-01-01', '2100-01-01']"
    else:
        add(
            key,
            bounds,
            f"between applies to numbers and dates (DQDL), and {rule.column} is {type_}",
            "use in for strings, or declare the column numeric or date",
        )
        return
    if len(bounds) != 2 or not ok:
        add(key, bounds, f"needs [low, high], {kind}", f"write e.g. {example}")
    elif not bounds[0] < bounds[1]:  # type: ignore[operator]
        add(
            key,
            bounds,
            "low must be below high (DQDL's between excludes both)",
            "swap them, or widen the range",
        )


def _date(text: str) -> bool:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == len("2026-01-01")


def _shown(rule: RuleConfig, name: str) -> Any:
    if name == "rule":
        return rule.model_dump(by_alias=True, exclude_none=True)
    return {"column": rule.column, "atLeast": rule.at_least, "in": rule.in_, "between": rule.between}[name]
