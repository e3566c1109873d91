"""Each part of the repository imports only what its own dependency list installs, and the locks
pin those lists with hashes at one set of versions.

The parts and their lists (pyproject.toml; the locks from `python3 tasks.py lock`):
- the program (__main__.py, components/): `dependencies`, locked in requirements.txt, which is
  all `pulumi up` installs;
- the tooling (dataops/): the program's plus the `tools` extra;
- the tests: all of those plus `dev` (requirements-dev.txt, which .venv holds);
- the policy pack (policies/): policies/requirements.in, locked in policies/requirements.txt, all
  its own virtualenv holds;
- tasks.py: the standard library (it runs before .venv exists).
A package a part imports but only another part's list installs works in the tests, which run
with everything installed, and fails where that part runs alone: here it fails first.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, distribution, packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
PROGRAM = PROJECT["dependencies"]
EXTRAS = PROJECT["optional-dependencies"]
PACK = [
    line.strip()
    for line in (ROOT / "policies" / "requirements.in").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]
# part: (its files, the project's own modules it may import, its dependency list). The pack runs
# from its own folder (`from rules import ...`), without the rest of the repository.
PARTS = {
    "program": ([ROOT / "__main__.py", *ROOT.glob("components/**/*.py")], {"components"}, PROGRAM),
    "tooling": (
        list(ROOT.glob("dataops/**/*.py")),
        {"dataops", "components", "policies"},
        [*PROGRAM, *EXTRAS["tools"]],
    ),
    "tests": (
        list(ROOT.glob("tests/**/*.py")),
        {"tests", "dataops", "components", "policies"},
        [*PROGRAM, *EXTRAS["tools"], *EXTRAS["dev"]],
    ),
    "policy pack": (
        list(ROOT.glob("policies/*.py")),
        {"policies", *(p.stem for p in ROOT.glob("policies/*.py"))},
        PACK,
    ),
    "tasks.py": ([ROOT / "tasks.py"], set(), []),
}
LOCKS = {
    "requirements-dev.txt": [*PROGRAM, *EXTRAS["tools"], *EXTRAS["dev"]],
    "requirements.txt": PROGRAM,
    "policies/requirements.txt": PACK,
}


def imported(paths: list[Path], own: set[str], root: Path = ROOT) -> dict[str, str]:
    """Top-level name of every module imported from outside the standard library and `own` -> a
    file importing it (module level or in a function: either runs where the part runs)."""
    out: dict[str, str] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top not in sys.stdlib_module_names and top not in own and top != "__future__":
                    out.setdefault(top, path.relative_to(root).as_posix())
    return out


def installed_by(requirements: list[str]) -> set[str]:
    """The distributions `requirements` install (with their extras), all the way down, as this
    platform resolves their markers."""
    seen: set[str] = set()
    pending = [(Requirement(r), "") for r in requirements]
    while pending:
        req, extra = pending.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(req.name)
        for wanted in ("", *req.extras):
            key = f"{name}[{wanted}]"
            if key in seen:
                continue
            seen.add(key)
            try:
                requires = distribution(name).requires or []
            except PackageNotFoundError:
                continue  # a lock test below reports a declared package that is not installed
            pending += [(Requirement(r), wanted) for r in requires]
    return {key.partition("[")[0] for key in seen}


def missing(imports: dict[str, str], requirements: list[str]) -> list[str]:
    """Each imported module no distribution of `requirements` provides."""
    provided = installed_by(requirements)
    providers = packages_distributions()
    return [
        f"{where}: import {top} (from {', '.join(providers.get(top, ['no installed distribution']))})"
        for top, where in sorted(imports.items())
        if not {canonicalize_name(d) for d in providers.get(top, [])} & provided
    ]


@pytest.mark.parametrize("part", PARTS)
def test_each_part_imports_only_what_its_list_installs(part):
    paths, own, requirements = PARTS[part]
    assert missing(imported(paths, own), requirements) == [], (
        f"the {part} imports packages its dependency list does not install (pyproject.toml, "
        "policies/requirements.in); declare them there and run `python3 tasks.py lock`"
    )


def test_a_package_only_another_list_installs_is_found(tmp_path):
    verify = tmp_path / "verify.py"
    verify.write_text("import json\nimport yaml\n\n\ndef client():\n    import boto3\n\n    return boto3\n")
    found = imported([verify], set(), tmp_path)
    assert found == {"yaml": "verify.py", "boto3": "verify.py"}
    assert missing(found, PROGRAM) == ["verify.py: import boto3 (from boto3)"]
    assert missing(found, [*PROGRAM, *EXTRAS["tools"]]) == []


def test_a_project_folder_the_part_runs_without_is_found(tmp_path):
    rules = tmp_path / "rules.py"
    rules.write_text("from components.config import MANDATORY_TAG_KEYS\n")
    found = imported([rules], {"policies", "rules"}, tmp_path)
    assert missing(found, PACK) == ["rules.py: import components (from no installed distribution)"]


def pins(lock: str) -> dict[str, tuple[str, int]]:
    """Package -> (version, number of hashes) of a pip-compile lock."""
    out: dict[str, tuple[str, int]] = {}
    current = None
    for line in (ROOT / lock).read_text().splitlines():
        if match := re.match(r"^([A-Za-z0-9._-]+)==(\S+)", line):
            current = canonicalize_name(match[1])
            out[current] = (match[2], 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            out[current] = (out[current][0], out[current][1] + 1)
        elif not line.startswith(" "):
            current = None
    return out


@pytest.mark.parametrize("lock", LOCKS)
def test_every_lock_pins_its_list_with_hashes(lock):
    locked = pins(lock)
    assert locked, f"{lock}: no pinned package"
    assert [p for p, (_, hashes) in locked.items() if not hashes] == [], f"{lock}: pins without a hash"
    declared = {canonicalize_name(Requirement(r).name) for r in LOCKS[lock]}
    assert sorted(declared - set(locked)) == [], (
        f"{lock}: declared but not locked; run `python3 tasks.py lock`"
    )


@pytest.mark.parametrize("lock", ["requirements.txt", "policies/requirements.txt"])
def test_the_other_locks_run_what_the_tests_ran(lock):
    dev = {p: v for p, (v, _) in pins("requirements-dev.txt").items()}
    assert {p: v for p, (v, _) in pins(lock).items() if dev.get(p) != v} == {}, (
        f"{lock} pins versions requirements-dev.txt does not; run `python3 tasks.py lock`"
    )
