"""docs/configuration.md: every key of the stack configuration, rendered from the config model.

The walk is generic: it reads the root model (`StackConfig`, which dataops/docs.py passes)
through pydantic's field list (aliases, defaults, default factories, which nested model a
field holds) and each model's JSON schema (types, allowed values, ranges, descriptions, and the
`environments` text a field may carry in `json_schema_extra`). So a key that is added, renamed,
re-documented or given another default shows in the reference without editing this module,
whatever the model classes are called, and `python -m dataops docs --check` fails until the
file is regenerated.
"""

from __future__ import annotations

import math
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, TypeAdapter
from pydantic.fields import FieldInfo

# Hand-written companion of the generated file: rules between keys, secrets, shared values.
RULES_PAGE = "configuration-rules.md"
# The key a field's json_schema_extra uses for an environment-dependent default ("dev only").
ENVIRONMENTS = "environments"
# A model-valued default is shown as its keys' rows, not repeated as one long YAML mapping.
SEE_KEYS = "its keys below"


@dataclass(frozen=True)
class Row:
    key: str
    type: str
    default: str
    environments: str
    description: str


def _nested(annotation: Any) -> tuple[str, type[BaseModel] | None]:
    """How a field holds a nested model: ("", M) itself, ("[]", M) a list, (".<name>", M) a
    mapping's values; ("", None) when it holds none. Optional (`M | None`) is looked through."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, types.UnionType):
        for arg in args:
            shape, model = _nested(arg)
            if model is not None:
                return shape, model
        return "", None
    if origin in (list, tuple, set, frozenset) and args:
        return "[]", _nested(args[0])[1]
    if origin is dict and len(args) == 2:
        return ".<name>", _nested(args[1])[1]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "", annotation
    return "", None


def _yaml(value: Any) -> str:
    """A value on one line, as a YAML stack file would show it (flow style)."""
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=math.inf)
    return text.removesuffix("\n...\n").strip()


def _dumped(field: FieldInfo, value: Any) -> Any:
    """A default as the data a stack file holds (camelCase keys). Items of a list or mapping
    leave out their own defaults: their keys' rows show those."""
    return TypeAdapter(field.annotation).dump_python(value, mode="json", by_alias=True, exclude_defaults=True)


def _bounds(schema: dict[str, Any], unit: str = "") -> str:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    low_sign = ">" if "exclusiveMinimum" in schema else "≥"
    high_sign = "<" if "exclusiveMaximum" in schema else "≤"
    if low is not None and high is not None and low_sign == "≥" and high_sign == "≤":
        return f"{low}\N{EN DASH}{high}{unit}"
    parts = [
        f"{low_sign} {low}" if low is not None else "",
        f"{high_sign} {high}" if high is not None else "",
    ]
    return ", ".join(p for p in parts if p) + (unit if any(parts) else "")


def _plural(kind: str) -> str:
    """What a list or mapping holds: `strings`, `mappings`, `items, each one of ...`."""
    word, sep, rest = kind.partition(",")
    if word.startswith("one of"):
        return f"items, each {kind}"
    return f"{word}s{sep}{rest}" if " " not in word else kind


def _type(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    """A JSON schema node in words, e.g. `integer, 1-365`, `one of `a`, `b``, `list of strings`."""
    if "$ref" in schema:
        target = defs[schema["$ref"].rsplit("/", 1)[-1]]
        return "mapping" if "properties" in target else _type(target, defs)
    for union in ("anyOf", "oneOf"):
        if union in schema:
            kinds = [_type(s, defs) for s in schema[union]]
            return ("; or " if any(", " in k for k in kinds) else " or ").join(kinds)
    if "enum" in schema:
        return "one of " + ", ".join(f"`{_yaml(v)}`" for v in schema["enum"])
    if "const" in schema:
        return f"`{_yaml(schema['const'])}`"
    kind = schema.get("type", "any")
    if kind == "array":
        counted = _bounds(
            {k.replace("Items", "imum"): v for k, v in schema.items() if "Items" in k}, " items"
        )
        return f"list of {_plural(_type(schema.get('items', {}), defs))}" + (
            f", {counted}" if counted else ""
        )
    if kind == "object":
        values = schema.get("additionalProperties")
        return (
            f"mapping of names to {_plural(_type(values, defs))}" if isinstance(values, dict) else "mapping"
        )
    if kind == "string":
        words = "secret string" if schema.get("format") == "password" else "string"
        length = _bounds({k.replace("Length", "imum"): v for k, v in schema.items() if "Length" in k})
        shown = f"{words}, {length} characters" if length else words
        return shown + (f", matching `{schema['pattern']}`" if "pattern" in schema else "")
    if kind in ("integer", "number"):
        bounds = _bounds(schema)
        return f"{kind}, {bounds}" if bounds else kind
    return str(kind)


def rows(model: type[BaseModel], prefix: str = "", given: BaseModel | None = None) -> Iterator[Row]:
    """Every key of `model` and of the models it holds, in declaration order. `given`: the
    default of the enclosing key, which sets its keys' defaults (a node group's instance types
    come from the cluster's default for that group, not from the group's model)."""
    schema = model.model_json_schema(by_alias=True)
    defs = schema.get("$defs", {})
    for name, field in model.model_fields.items():
        key = field.alias or name
        node = schema["properties"][key]
        shape, inner = _nested(field.annotation)
        if given is not None:
            value, has_default = getattr(given, name), True
        elif field.is_required():
            value, has_default = None, False
        else:
            value, has_default = field.get_default(call_default_factory=True, validated_data={}), True
        if not has_default:
            default = "required"
        elif not shape and isinstance(value, BaseModel):
            default = SEE_KEYS
        else:
            default = f"`{_yaml(_dumped(field, value))}`"
        yield Row(
            key=f"{prefix}{key}",
            type=_type(node, defs),
            default=default,
            environments=str(node.get(ENVIRONMENTS, "")),
            description=field.description or "",
        )
        if inner is not None:
            held = value if not shape and isinstance(value, BaseModel) else None
            yield from rows(inner, f"{prefix}{key}{shape}.", held)


def _prose(text: str) -> str:
    """Text on one line, with `<` and `>` outside code spans escaped so that Markdown keeps
    them (`https://<hostname>/` would otherwise read as an HTML tag and vanish)."""
    parts = " ".join(text.split()).split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("<", "&lt;").replace(">", "&gt;")
    return "`".join(parts)


def _cell(text: str) -> str:
    return _prose(text).replace("|", "\\|")


def _table(section: list[Row]) -> list[str]:
    """A Markdown table; the environments column only where a key in it has such a rule."""
    with_env = any(r.environments for r in section)
    head = ["key", "type", "default", *(["per environment"] if with_env else []), "description"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in section:
        cells = [f"`{r.key}`", r.type, r.default, *([r.environments] if with_env else []), r.description]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


def render(model: type[BaseModel]) -> str:
    """The whole of docs/configuration.md, for the stack configuration's root model: the
    top-level keys that are not sections in one table, then one table per section."""
    intro = " ".join((model.__doc__ or "").strip().split("\n\n")[0].split())
    out = [
        "# Configuration reference",
        "",
        f"<!-- Generated by `python -m dataops docs` from the config model ({model.__name__}); "
        "do not edit: change the model and regenerate. -->",
        "",
        intro,
        "",
        "A nested key is written with dots; `[]` stands for any item of a list and `<name>` for a "
        "key of a mapping you name. A default is shown as a YAML stack file would show it; "
        f"`required` has no default, and a mapping whose default is its keys' says *{SEE_KEYS}*. "
        "Which combinations are refused, secrets, and where shared values live: "
        f"[{RULES_PAGE}]({RULES_PAGE}).",
    ]
    all_rows = list(rows(model))
    # A top-level key that holds one nested model (not a list or mapping of them) is a section.
    held = {f.alias or n: _nested(f.annotation) for n, f in model.model_fields.items()}
    sections = [key for key, (shape, inner) in held.items() if inner is not None and not shape]
    top = [r for r in all_rows if not any(r.key == s or r.key.startswith(f"{s}.") for s in sections)]
    out += ["", "## Top-level keys", "", *_table(top)]
    for section in sections:
        head = next(r for r in all_rows if r.key == section)
        out += ["", f"## `{section}`", "", _prose(head.description)]
        if head.default != SEE_KEYS:
            out[-1] += f" Default: {head.default}."
        if head.environments:
            out += ["", f"Per environment: {_prose(head.environments)}"]
        out += ["", *_table([r for r in all_rows if r.key.startswith(f"{section}.")])]
    return "\n".join(out) + "\n"
