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


# libyaml's parser where PyYAML was built with it (its wheels are): about 8 times faster than
# the pure-Python one, and a cold command parses the stack files many times over. Both read every
# file here the same way. libyaml is slightly more lenient (it takes a tab after `key:`) and
# words its errors differently, so a document it rejects is parsed again by the pure-Python
# loader: the errors users see are that loader's.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """`yaml.safe_load`, faster; a document it rejects fails with its own error."""
    try:
        return yaml.load(text, Loader=_FAST_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return yaml.safe_load(text)


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
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StackFileError(f"{path.name}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise StackFileError(f"{path.name}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    try:
        return parse_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
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
    for key, value in config.items():
        full = _namespaced(project, key)
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
