"""Problems with a stack's config and their one-line form: `<file>: <key> = <value>: <what is
wrong>; fix: <what to do>` — for the model's own checks (pydantic's errors, phrased for a
person editing YAML) and the rules'. `Source` remembers which file set which key."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel

from components.config.base import PROJECT, SECRET_KEYS
from components.config.stack import StackConfig

MAX_SHOWN = 200  # characters of a bad value shown in its error line


@dataclass(frozen=True)
class Problem:
    file: str
    key: str
    value: Any
    message: str
    fix: str

    def __str__(self) -> str:
        shown = "(not set)" if self.value is MISSING else json.dumps(self.value, default=str)
        if len(shown) > MAX_SHOWN:  # one line stays one readable line, whatever was written
            shown = shown[: MAX_SHOWN - 20] + f"... ({len(shown):,} characters)"
        return f"{self.file}: {self.key} = {shown}: {self.message}; fix: {self.fix}"


class _Missing:
    def __repr__(self) -> str:
        return "(not set)"


MISSING: Any = _Missing()


class ConfigError(Exception):
    """Raised with every problem found; `str()` is one line per problem."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Source:
    """Where the raw values came from, so messages name the file a user must edit."""

    stack_file: str
    origins: dict[str, str]  # full key ("dataops-platform:lake") -> file that set it

    def file_of(self, full_key: str) -> str:
        return self.origins.get(full_key, self.stack_file)


def _fix_for(err: dict[str, Any], model_fields: list[str]) -> tuple[str, str]:
    """(message, fix) for one pydantic error, phrased for a person editing YAML."""
    kind = err["type"]
    ctx = err.get("ctx", {})
    if kind == "missing":
        return "required and not set", "set it in the stack file or in Pulumi.yaml"
    if kind == "extra_forbidden":
        known = ", ".join(model_fields) or "(none)"
        return "unknown key", f"remove it or correct the spelling; known keys here: {known}"
    if kind == "literal_error":
        return "not an allowed value", f"use one of {ctx.get('expected', '')}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}[
            kind
        ]
        limit = next(iter(ctx.values()), "")
        return "out of range", f"use a value {bound} {limit}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "not a whole number", "write a whole number without quotes, e.g. 30"
    if kind in ("float_type", "float_parsing"):
        return "not a number", "write a number without quotes, e.g. 2 or 0.5"
    if kind in ("bool_type", "bool_parsing"):
        return "not true or false", "write true or false without quotes"
    if kind in ("string_type",):
        got = err.get("input")
        if isinstance(got, list | dict):
            return f"a {'list' if isinstance(got, list) else 'mapping'} where one text value belongs", (
                "write a single value"
            )
        if isinstance(got, bool | int | float):
            return "not a string", 'quote it, e.g. "1.30" (YAML reads 1.30 as a number)'
        return "not a string", "write it as text"
    if kind == "string_too_short":
        return err["msg"].lower(), f"write at least {ctx.get('min_length', 1)} characters"
    if kind == "string_too_long":
        return err["msg"].lower(), f"shorten it to at most {ctx.get('max_length')} characters"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "not a mapping", "write it as a YAML mapping of keys to values"
    if kind in ("tuple_type", "list_type"):
        return "not a list", "write it as a YAML list, e.g. [a, b]"
    return err["msg"], "see the key in docs/configuration.md"


def _model_at(path: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class whose field list applies at `path` (for 'known keys' hints)."""
    model: Any = StackConfig
    for part in path:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = next((f for n, f in model.model_fields.items() if to_camel(n) == part), None)
        if field is None:
            # a dict key (zone name) or list index: descend into the value type
            continue
        model = _inner_model(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    args = getattr(annotation, "__args__", ())
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in args:
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def structure_problems(exc: ValidationError, source: Source) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        top = loc[0] if loc else ""
        full_key = f"{PROJECT}:{top}"
        rest = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc[1:])
        parent_model = _model_at(loc[:-1])
        fields = (
            [f.alias or to_camel(n) for n, f in parent_model.model_fields.items()] if parent_model else []
        )
        message, fix = _fix_for(err, fields)
        value = MISSING if err["type"] == "missing" else err.get("input")
        if top in SECRET_KEYS and value is not MISSING:
            value = "[secret]"
        problems.append(Problem(source.file_of(full_key), full_key + rest, value, message, fix))
    return problems
