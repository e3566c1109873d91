"""A content-addressed cache of offline plans, so that an unchanged stack is evaluated once.

An offline plan is a function of its inputs only: the program (`__main__.py`, `components/`),
the engine and fake cloud (`dataops/`), the project and stack files (a consumer reads its
owner's, a sandbox its host's), the image build contexts (`images/`, whose digest names the
dev image), the price table (`estimates/`: its instance types are the ones config accepts),
the Python version and the installed packages. `inputs_key` hashes exactly these,
so editing any of them is a miss; `tests/dataops/test_plan_cache.py` checks that a plan reads
no file outside them.
A plan of a git revision is keyed by the revision's tree id (`revision_key`).

Entries are JSON files in `.dataops-cache/plans/` under the project (ignored by git), written
atomically and pruned to the newest `KEEP`. `DATAOPS_PLAN_CACHE=off` turns the cache off (the
test suite does, so every test runs the program); a different directory can be given instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dataops.plan import Plan

FORMAT = "2"  # bump when the cached document's shape changes
KEEP = 200
INPUT_DIRS = ("components", "dataops", "estimates", "images")  # estimates: the known instance types
INPUT_FILES = ("__main__.py", "Pulumi.yaml")
SKIP_DIRS = {"__pycache__", "node_modules", ".pytest_cache"}


def directory(root: Path) -> Path | None:
    setting = os.environ.get("DATAOPS_PLAN_CACHE", "")
    if setting.lower() in ("off", "0", "false", "no"):
        return None
    return Path(setting) if setting else root / ".dataops-cache" / "plans"


def input_files(root: Path, stack: str | None = None) -> list[Path]:
    """Every file of the project an offline plan of `stack` may read, in a stable order: the
    environments' stack files and the stack's own (a sandbox's is not shared with the others)."""
    from dataops.stack_files import known_stacks

    stacks = sorted({*known_stacks(root), *([stack] if stack else [])})
    files = [root / name for name in INPUT_FILES] + [root / f"Pulumi.{s}.yaml" for s in stacks]
    for name in INPUT_DIRS:
        for dirpath, dirnames, filenames in os.walk(root / name):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            files += [Path(dirpath) / f for f in sorted(filenames) if not f.endswith(".pyc")]
    return [f for f in files if f.is_file()]


def _environment() -> bytes:
    """The interpreter and every installed distribution (name and version, from the names of
    the `*.dist-info` directories): a changed SDK version is a different plan."""
    parts = [sys.version, FORMAT]
    for entry in sys.path:
        if entry.endswith(("site-packages", "dist-packages")) and os.path.isdir(entry):
            parts += sorted(n for n in os.listdir(entry) if n.endswith(".dist-info"))
    return "\n".join(parts).encode()


def inputs_key(root: Path, stack: str, config_path: Path | None = None) -> str:
    digest = hashlib.sha256(_environment())
    digest.update(f"\0stack\0{stack}\0".encode())
    if config_path is not None:
        digest.update(b"\0config\0" + _read(config_path))
    for path in input_files(root, stack):
        digest.update(f"\0{path.relative_to(root).as_posix()}\0".encode())
        digest.update(hashlib.sha256(_read(path)).digest())
    return digest.hexdigest()


def revision_key(tree_id: str, stack: str) -> str:
    """A git tree id names the revision's whole content, so it stands in for its input files."""
    digest = hashlib.sha256(_environment())
    digest.update(f"\0revision\0{tree_id}\0stack\0{stack}\0".encode())
    return digest.hexdigest()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b"\0unreadable\0"  # the plan itself reports the problem; never cached as a plan


def load(root: Path, key: str) -> Plan | None:
    from dataops.plan import Plan

    folder = directory(root)
    if folder is None:
        return None
    try:
        return Plan.from_dict(json.loads((folder / f"{key}.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent or damaged: evaluate again (and overwrite it)


def store(root: Path, key: str, plan: Plan) -> None:
    folder = directory(root)
    if folder is None:
        return
    doc = plan.to_record()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Write then rename: a reader never sees half a file, even with two commands at once.
        with tempfile.NamedTemporaryFile(
            "w", dir=folder, suffix=".tmp", delete=False, encoding="utf-8"
        ) as tmp:
            json.dump(doc, tmp)
        os.replace(tmp.name, folder / f"{key}.json")
        entries = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        return  # a read-only checkout still plans, just without the cache
