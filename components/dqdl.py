"""A declared dataset's quality rules as one list of `Rule`s, and that list as DQDL text.

The same `Rule` objects drive the Glue Data Quality ruleset (`dqdl`, in components/data_lake.py)
and the local evaluator (dataops/quality.py), so the two cannot check different things;
`parse` reads the text back, and the tests hold `parse(dqdl(rules)) == rules`.

The DQDL forms used, from the DQDL reference (https://docs.aws.amazon.com/glue/latest/dg/dqdl.html
and its rule-type pages):
- `ColumnExists "c"`, one per stored column (the schema);
- `IsComplete "c"` for every column declared `nullable: false`, then the declared rules:
- `IsComplete "c"`, `IsUnique "c"`, `Completeness "c" >= x`,
- `ColumnValues "c" in [v, ...]` (with the keyword `NULL` where nulls are allowed),
  `ColumnValues "c" between x and y`, `RowCount between x and y` ("between" excludes both ends
  in DQDL).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from components.config.datasets import DatasetConfig


@dataclass(frozen=True)
class Rule:
    kind: str
    """The DQDL rule type: ColumnExists, IsComplete, Completeness, IsUnique, ColumnValues, RowCount."""
    column: str | None = None
    at_least: float | None = None
    values: tuple[str | int | None, ...] | None = None
    """ColumnValues ... in [...]; None in it is DQDL's NULL keyword."""
    between: tuple[int | float | str, int | float | str] | None = None
    """ColumnValues / RowCount ... between low and high (both excluded)."""

    def dqdl(self) -> str:
        head = self.kind if self.column is None else f'{self.kind} "{self.column}"'
        if self.at_least is not None:
            return f"{head} >= {_literal(self.at_least)}"
        if self.values is not None:
            return f"{head} in [{', '.join(_literal(v) for v in self.values)}]"
        if self.between is not None:
            low, high = self.between
            return f"{head} between {_literal(low)} and {_literal(high)}"
        return head


def _literal(value: int | float | str | None) -> str:
    # Strings are quoted (dates too: the reference's date example is `between "2022-05-31" and
    # ...`); validation refuses values with a quote or backslash, so nothing needs escaping.
    if value is None:
        return "NULL"
    return f'"{value}"' if isinstance(value, str) else repr(value)


def rules_of(dataset: DatasetConfig) -> list[Rule]:
    """Every rule the dataset must meet, in a fixed order: schema, declared nullability, then its
    own rules as declared."""
    out = [Rule("ColumnExists", c.name) for c in dataset.columns]
    out += [Rule("IsComplete", c.name) for c in dataset.columns if not c.nullable]
    for r in dataset.rules:
        out.append(
            Rule(
                r.rule,
                r.column,
                at_least=r.at_least,
                values=tuple(r.in_) if r.in_ is not None else None,
                between=(r.between[0], r.between[1]) if r.between is not None else None,
            )
        )
    return out


def dqdl(rules: list[Rule]) -> str:
    body = ",\n".join(f"    {rule.dqdl()}" for rule in rules)
    return f"Rules = [\n{body}\n]"


# -- reading the text back (the tests, and `verify` comparing a deployed ruleset) -------------------

_RULE = re.compile(
    r'^(?P<kind>[A-Za-z]+)(?: "(?P<column>[^"]+)")?'
    r"(?: >= (?P<at_least>\S+)| in \[(?P<values>.*)\]| between (?P<low>\S+) and (?P<high>\S+))?$"
)
_VALUE = re.compile(r'"([^"]*)"|(-?[0-9][0-9.e+-]*)|NULL')


def _value(text: str) -> int | float | str | None:
    if text == "NULL":
        return None
    if text.startswith('"'):
        return text[1:-1]
    return float(text) if any(c in text for c in ".e") else int(text)


def parse(text: str) -> list[Rule]:
    """The rules of a `Rules = [...]` document in the forms `dqdl` writes; anything else raises
    ValueError naming the line."""
    stripped = text.strip()
    if not (stripped.startswith("Rules = [") and stripped.endswith("]")):
        raise ValueError("not a DQDL document: expected `Rules = [ ... ]`")
    out = []
    for line in stripped[len("Rules = [") : -1].strip().splitlines():
        line = line.strip().removesuffix(",")
        match = _RULE.match(line)
        if match is None:
            raise ValueError(f"not a rule this platform writes: {line!r}")
        values = match["values"]
        out.append(
            Rule(
                match["kind"],
                match["column"],
                at_least=float(match["at_least"]) if match["at_least"] else None,
                values=tuple(_value(v.group(0)) for v in _VALUE.finditer(values)) if values else None,
                between=(_value(match["low"]), _value(match["high"])) if match["low"] else None,
            )
        )
    return out
