"""`python -m dataops parity`: the stacks parity.yaml compares differ only as it declares, an
undeclared difference fails naming the stacks, resource and property, and a stack parity.yaml
does not list fails instead of being skipped."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dataops.parity import Parity, load, violations
from dataops.plan import ROOT, build_plan
from dataops.plan_types import PlanError
from dataops.stack_files import known_stacks

SHIPPED = load(ROOT / "parity.yaml")
NEW = "candidate"  # a stack the tests add to a copy of the project
assert NEW not in known_stacks(ROOT), f"the tests add a stack {NEW} to a copy: rename NEW"


def test_shipped_stacks_differ_only_where_declared(plans):
    assert all(a.reason for a in SHIPPED.allowed)
    assert violations(plans, SHIPPED) == []


def test_every_shipped_stack_is_compared_or_skipped_with_a_reason():
    assert SHIPPED.unlisted(known_stacks(ROOT)) == []
    assert all(reason.strip() for reason in SHIPPED.skip.values())


def test_pairs_are_the_promotion_steps_first_then_the_rest():
    assert Parity(("a", "b", "c", "d")).pairs() == [
        ("a", "b"),
        ("b", "c"),
        ("c", "d"),
        ("a", "c"),
        ("b", "d"),
        ("a", "d"),
    ]


def test_a_stack_in_neither_list_is_named_with_the_fix():
    parity = Parity(("dev", "prod"), {"local": "docker"})
    assert parity.unlisted(["dev", "local", "prod", "qa"]) == [
        "stack qa (Pulumi.qa.yaml) is not compared; fix: add it to `compare:` in parity.yaml, "
        "or to `skip:` with the reason it cannot be compared"
    ]


def test_a_listed_stack_without_a_file_is_a_user_error():
    with pytest.raises(PlanError) as info:
        Parity(("dev", "qa")).unlisted(["dev", "prod"])
    assert info.value.lines == [
        "parity.yaml: stack qa is listed but there is no Pulumi.qa.yaml (stacks: dev, prod); "
        "fix: remove it from parity.yaml or add its stack file"
    ]


def copy_project(tmp_path: Path, parity: Parity = SHIPPED) -> Path:
    names = ["Pulumi.yaml", "__main__.py", "parity.yaml", *(f"Pulumi.{s}.yaml" for s in parity.compare)]
    for name in names:
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def with_kubernetes_version(path: Path, version: str) -> None:
    path.write_text(
        path.read_text().replace(
            "  dataops-platform:cluster:\n",
            f'  dataops-platform:cluster:\n    kubernetesVersion: "{version}"\n',
            1,
        )
    )


def other_version(plans, stack: str) -> tuple[str, str]:
    """The stack's Kubernetes version, and a supported one that differs from it."""
    version = plans[stack].named("cluster-eks").inputs["version"]
    return version, "1.34" if version != "1.34" else "1.33"


def test_an_undeclared_difference_fails(tmp_path, monkeypatch, plans):
    root = copy_project(tmp_path)
    first, *_, last = SHIPPED.compare
    version, other = other_version(plans, last)
    with_kubernetes_version(root / f"Pulumi.{last}.yaml", other)
    monkeypatch.syspath_prepend(str(ROOT))
    found = violations({s: build_plan(s, root) for s in SHIPPED.compare}, SHIPPED)
    assert (
        f"{first}->{last}: aws:eks/cluster:Cluster cluster-eks: inputs.version: {version!r} -> {other!r}; "
        "not declared in parity.yaml" in found
    )


def test_a_new_stack_listed_in_compare_is_compared(tmp_path, monkeypatch, plans):
    """Adding a stack (a copy of one compared, with another Kubernetes version) and listing it is
    all it takes."""
    _, *rest = SHIPPED.compare
    source = rest[0]
    parity = Parity((*SHIPPED.compare, NEW), SHIPPED.skip, SHIPPED.allowed)
    root = copy_project(tmp_path, SHIPPED)
    shutil.copy(ROOT / f"Pulumi.{source}.yaml", root / f"Pulumi.{NEW}.yaml")
    version, other = other_version(plans, source)
    with_kubernetes_version(root / f"Pulumi.{NEW}.yaml", other)
    monkeypatch.syspath_prepend(str(ROOT))
    found = violations({s: build_plan(s, root) for s in parity.compare}, parity)
    assert (
        f"{source}->{NEW}: aws:eks/cluster:Cluster cluster-eks: inputs.version: {version!r} -> {other!r}; "
        "not declared in parity.yaml" in found
    )


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "compare: [dev, test]\nallowed:\n  - {resources: '*', property: 'inputs.x'}\n",
            "needs `resources`, a `reason`",
        ),
        ("allowed: []\n", "compare = None: list the stacks to compare"),
        ("compare: [dev, dev]\n", "at least two and each once"),
        ("compare: [dev, test]\nskip: {local: ''}\n", "map each stack not compared to the reason"),
        ("compare: [dev, test]\nskip: {test: why}\n", "test both compared and skipped"),
        ("compare: [dev, test]\npairs: []\n", "expected the keys allowed, compare, skip"),
    ],
)
def test_a_malformed_parity_file_is_a_user_error(tmp_path, text, message):
    path = tmp_path / "parity.yaml"
    path.write_text(text)
    with pytest.raises(PlanError) as info:
        load(path)
    assert message in info.value.lines[0]


def test_cli_fails_naming_a_stack_it_does_not_compare(tmp_path):
    """The project (linked, not copied) plus a stack file parity.yaml does not list."""
    for path in ROOT.iterdir():
        if path.name not in (".git", ".venv", ".dataops-cache"):
            (tmp_path / path.name).symlink_to(path)
    shutil.copy(ROOT / f"Pulumi.{SHIPPED.compare[0]}.yaml", tmp_path / f"Pulumi.{NEW}.yaml")
    result = subprocess.run(
        [sys.executable, "-m", "dataops", "--root", str(tmp_path), "parity"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"parity: stack {NEW} (Pulumi.{NEW}.yaml) is not compared; fix: add it to `compare:` in "
        "parity.yaml, or to `skip:` with the reason it cannot be compared"
    )
    assert lines[-1].startswith("parity: 0 undeclared differences between ")
    assert lines[-1].endswith("; 1 stack(s) not listed)")
