"""A content-addressed cache of offline plans, so that an unchanged stack is evaluated once.

An offline plan is a function of its inputs only: the program (`__main__.py`, `components/`),
the engine and fake cloud (`dataops/`), the project and stack files (a consumer reads its
owner's, a sandbox its host's), the image build contexts (`images/`, whose digest names the
dev image), the price table (`estimates/`: its instance types are the ones config accepts),
the Python version and the installed packages. `inputs_key` hashes exactly these,
so editing any of them is a miss; `tests/dataops/test_plan_cache.py` checks that a plan reads
no file outside them.
A plan of a git revision is keyed by the revision's tree id (`revision_key`).

Entries are JSON files named by their key, written atomically and pruned to the newest `KEEP`.
Where they live is `DATAOPS_PLAN_CACHE`:
- unset, empty, `on`, `1`, `true` or `yes`: `.dataops-cache/plans/` under the project (ignored
  by git);
- `off`, `0`, `false` or `no`: no cache (the test suite does this, so every test runs the
  program);
- anything else: an absolute path to a directory. A relative one is refused: it would depend
  on where the command runs, and a typo of `on` or `off` would become a directory.
The cache may share a directory with nothing it did not write. It writes a marker file
(`MARKER`) into a directory when it creates it or finds it empty, and refuses a given path that
is a file, or a directory that holds other files and no marker. Pruning deletes only entries
(`<64 hex digits>.json`) and the temporary files of interrupted writes, never anything else.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from dataops.plan_types import Plan, PlanError

FORMAT = "2"  # bump when the cached document's shape changes
KEEP = 200
INPUT_DIRS = ("components", "dataops", "estimates", "images")  # estimates: the known instance types
INPUT_FILES = ("__main__.py", "Pulumi.yaml")
SKIP_DIRS = {"__pycache__", "node_modules", ".pytest_cache"}
MARKER = ".dataops-plan-cache"
MARKER_TEXT = (
    "This directory is the offline plan cache of dataops-platform (dataops/plan_cache.py).\n"
    "It deletes only its own entries here: <64 hex digits>.json and <key>.<random>.tmp.\n"
)
ENTRY_RE = re.compile(r"[0-9a-f]{64}\.json")
TEMPORARY_RE = re.compile(r"[0-9a-f]{64}\.[a-z0-9_]+\.tmp")
STALE_TEMPORARY_SECONDS = 3600  # a write takes milliseconds; one this old was interrupted
ON = ("", "on", "1", "true", "yes")
OFF = ("off", "0", "false", "no")


def directory(root: Path) -> Path | None:
    """The cache's directory (None: off); PlanError for a setting it must not or cannot use."""
    setting = os.environ.get("DATAOPS_PLAN_CACHE", "")
    if setting.lower() in OFF:
        return None
    if setting.lower() in ON:
        return root / ".dataops-cache" / "plans"  # the project's own, whatever it holds already
    folder = Path(setting)
    if not folder.is_absolute():
        problem = "not on, off or an absolute path"
    elif folder.exists() and not folder.is_dir():
        problem = "not a directory"
    elif folder.is_dir() and not (folder / MARKER).exists() and _has_entries(folder):
        problem = f"a directory with other files and no {MARKER}, so not the plan cache's"
    else:
        return folder
    raise PlanError(
        [
            f"DATAOPS_PLAN_CACHE={setting}: {problem}; fix: set it to on (the project's "
            ".dataops-cache/plans), off, or the absolute path of a new or empty directory"
        ]
    )


def _has_entries(folder: Path) -> bool:
    try:
        with os.scandir(folder) as entries:
            return any(entries)
    except OSError:
        return False  # unreadable: the cache will fail to use it, and plans without it


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
        if not (folder / MARKER).exists():  # `directory` found it new, empty or the project's
            (folder / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
        # Write then rename: a reader never sees half a file, even with two commands at once.
        with tempfile.NamedTemporaryFile(
            "w", dir=folder, prefix=f"{key}.", suffix=".tmp", delete=False, encoding="utf-8"
        ) as tmp:
            json.dump(doc, tmp)
        os.replace(tmp.name, folder / f"{key}.json")
        _prune(folder)
    except OSError:
        return  # a read-only checkout still plans, just without the cache


def _prune(folder: Path) -> None:
    """Keep the newest `KEEP` entries; delete the temporary files of writes that never ended.
    Only names the cache itself gives are considered: a file of any other name stays. A file
    another command prunes first ends this pruning (an OSError for `store`); that one finishes it."""
    entries, stale = [], time.time() - STALE_TEMPORARY_SECONDS
    with os.scandir(folder) as found:
        for item in found:
            if ENTRY_RE.fullmatch(item.name) and item.is_file(follow_symlinks=False):
                entries.append((item.stat().st_mtime, item.path))
            elif TEMPORARY_RE.fullmatch(item.name) and item.stat(follow_symlinks=False).st_mtime < stale:
                os.unlink(item.path)
    for _, path in sorted(entries, reverse=True)[KEEP:]:
        os.unlink(path)
