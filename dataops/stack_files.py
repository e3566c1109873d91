"""Reading `Pulumi.yaml` and `Pulumi.<stack>.yaml` the way the Pulumi CLI hands them to a program.

The CLI merges project-level values from Pulumi.yaml with the stack file, namespaces bare keys
with the project name, and passes every top-level value as a string (objects as JSON). The
offline plan reproduces that, so the program sees the same config offline as under `pulumi up`.
Secrets cannot be decrypted offline; they become a placeholder marked secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:  # the config model (pydantic) loads only when a stack file is read
    from components.config import Source

OFFLINE_SECRET = "offline-placeholder-secret"  # noqa: S105 - stands in for ciphertext
STACK_FILE_KEYS = {"config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"}


# The project's YAML files are small: a stack file of more than this is a mistake (or worse), and
# it is refused before it is read.
MAX_YAML_BYTES = 1 << 20
# Aliases let a few bytes stand for an exponential number of values (the "billion laughs"):
# a document whose values, with every alias expanded, exceed this is refused before anything
# walks it.
MAX_YAML_VALUES = 100_000


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping names the same key twice; YAML would silently keep the last value."""


class TooLargeError(yaml.YAMLError):
    """A document that expands (through aliases) to more values than MAX_YAML_VALUES."""


def _no_duplicates(loader: Any, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, Any] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            first = seen.setdefault(key, key_node)
        except TypeError:  # an unhashable key: the constructor reports it below
            continue
        if first is not key_node:
            raise DuplicateKeyError(
                None,
                None,
                f"duplicate key {str(key)[:80]!r} (first at line {first.start_mark.line + 1}); "
                "YAML would keep only the last value",
                key_node.start_mark,
            )
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


# libyaml's parser where PyYAML was built with it (its wheels are): about 8 times faster than
# the pure-Python one, and a cold command parses the stack files many times over. Both read every
# file here the same way. libyaml is slightly more lenient (it takes a tab after `key:`) and
# words its errors differently, so a document it rejects is parsed again by the pure-Python
# loader: the errors users see are that loader's. Both refuse duplicate keys.
class _FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    construct_mapping = _no_duplicates


class _SafeLoader(yaml.SafeLoader):
    construct_mapping = _no_duplicates


def parse_yaml(text: str) -> Any:
    """`yaml.safe_load`, faster, refusing duplicate keys and alias bombs."""
    try:
        doc = yaml.load(text, Loader=_FastLoader)  # noqa: S506 - a safe loader
    except DuplicateKeyError:
        raise
    except yaml.YAMLError:
        doc = yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - a safe loader
    _check_size(doc)
    return doc


def _check_size(doc: Any) -> None:
    """Count the values of `doc` as a walk would meet them, without walking shared (aliased)
    parts again: linear in the document, whatever its aliases expand to."""
    memo: dict[int, int] = {}

    def count(value: Any) -> int:
        if not isinstance(value, dict | list):
            return 1
        if id(value) in memo:
            return memo[id(value)]
        memo[id(value)] = MAX_YAML_VALUES + 1  # a value that contains itself is unbounded
        items = value.values() if isinstance(value, dict) else value
        total = 1
        for item in items:
            total += count(item)
            if total > MAX_YAML_VALUES:
                break
        memo[id(value)] = total
        return total

    if count(doc) > MAX_YAML_VALUES:
        raise TooLargeError(
            f"expands to more than {MAX_YAML_VALUES:,} values (aliases repeated over and over); "
            "write the values out instead of nesting aliases"
        )


class StackFileError(Exception):
    """A problem with the files themselves (missing, unreadable, not YAML); one line each."""


@dataclass(frozen=True)
class StackFiles:
    root: Path
    project: str
    stack: str
    raw: dict[str, str]
    """`{"namespace:key": value}` as the CLI passes it to the program."""
    secret_keys: tuple[str, ...]
    source: Source
    files: tuple[Path, ...]
    """Every file read, for cache keys and messages."""


def known_stacks(root: Path) -> list[str]:
    """The project's environments. Sandbox stack files (`Pulumi.sandbox-*.yaml`, which the
    Automation API writes next to the project and git ignores) are not among them."""
    names = (p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))
    return sorted(n for n in names if not n.startswith("sandbox-"))


def _read_yaml(path: Path) -> Any:
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise StackFileError(
                f"{path.name}: {size:,} bytes, more than a stack file can need ({MAX_YAML_BYTES:,}); "
                "fix: check it is the right file, and keep only the settings"
            )
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StackFileError(f"{path.name}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise StackFileError(f"{path.name}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    try:
        return parse_yaml(text)
    except TooLargeError as exc:
        raise StackFileError(f"{path.name}: {exc}") from None
    except DuplicateKeyError as exc:
        mark = exc.problem_mark
        raise StackFileError(
            f"{path.name}: line {mark.line + 1}, column {mark.column + 1}: {exc.problem}; "
            "fix: keep one of them"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = (getattr(exc, "problem", None) or str(exc).splitlines()[0])[:200]
        raise StackFileError(
            f"{path.name}:{where}: not valid YAML ({problem}); fix the indentation or quoting"
        ) from None


def _plain(value: Any) -> Any:
    """YAML may hold dates or non-string keys; the CLI would hand them over as JSON text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def to_cli_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(_plain(value), sort_keys=True)
    if value is None:
        return ""
    return str(value)


def _strip_secrets(value: Any) -> tuple[Any, bool]:
    """Replace `{secure: ...}` ciphertext with a placeholder; report whether any was found."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return OFFLINE_SECRET, True
        found = False
        out = {}
        for k, v in value.items():
            out[k], f = _strip_secrets(v)
            found = found or f
        return out, found
    if isinstance(value, list):
        items = [_strip_secrets(v) for v in value]
        return [v for v, _ in items], any(f for _, f in items)
    return value, False


def _namespaced(project: str, key: Any) -> str:
    key = str(key)
    return key if ":" in key else f"{project}:{key}"


def load(root: Path, stack: str, config_path: Path | None = None) -> StackFiles:
    from components.config import Source

    project_file = root / "Pulumi.yaml"
    project_doc = _read_yaml(project_file)
    if not isinstance(project_doc, dict) or not isinstance(project_doc.get("name"), str):
        raise StackFileError(f"{project_file.name}: no project name; add `name: <project>`")
    project = project_doc["name"]

    stack_file = config_path if config_path is not None else root / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        stacks = ", ".join(known_stacks(root)) or "(none)"
        raise StackFileError(
            f"{stack_file.name}: no such stack file; known stacks: {stacks}; "
            f"create it (copy Pulumi.dev.yaml) or pass --config PATH"
        )

    raw: dict[str, str] = {}
    origins: dict[str, str] = {}
    secrets: set[str] = set()
    for key, spec in (project_doc.get("config") or {}).items():
        full = _namespaced(project, key)
        if isinstance(spec, dict) and ("value" in spec or "default" in spec):
            value = spec.get("value", spec.get("default"))
        elif isinstance(spec, dict):
            continue  # declared (type/description) without a value
        else:
            value = spec
        raw[full] = to_cli_string(value)
        origins[full] = project_file.name

    doc = _read_yaml(stack_file)
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise StackFileError(f"{stack_file.name}: expected a mapping with a `config:` section")
    for key in doc:
        if key not in STACK_FILE_KEYS:
            raise StackFileError(
                f"{stack_file.name}: {key}: unknown top-level key; "
                f"put settings under `config:` (allowed here: {', '.join(sorted(STACK_FILE_KEYS))})"
            )
    config = doc.get("config") or {}
    if not isinstance(config, dict):
        raise StackFileError(f"{stack_file.name}: config: expected a mapping of `namespace:key: value`")
    spelled: dict[str, str] = {}
    for key, value in config.items():
        full = _namespaced(project, key)
        if full in spelled:
            raise StackFileError(
                f"{stack_file.name}: config: {full} is set twice (as `{spelled[full]}` and `{key}`); "
                "fix: keep one of them"
            )
        spelled[full] = str(key)
        value, secret = _strip_secrets(value)
        if secret:
            secrets.add(full)
        raw[full] = to_cli_string(value)
        origins[full] = stack_file.name

    return StackFiles(
        root=root,
        project=project,
        stack=stack,
        raw=raw,
        secret_keys=tuple(sorted(secrets)),
        source=Source(stack_file=stack_file.name, origins=origins),
        files=(project_file, stack_file),
    )
