"""`python -m dataops parity`: the shipped dev, test and prod differ only as parity.yaml declares,
and an undeclared difference fails naming the stacks, resource and property."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dataops.parity import load_allowances, violations
from dataops.plan import ROOT, PlanError, build_plan


def test_shipped_stacks_differ_only_where_declared(plans):
    allowances = load_allowances(ROOT / "parity.yaml")
    assert all(a.reason for a in allowances)
    assert violations(plans, allowances) == []


def copy_project(tmp_path: Path) -> Path:
    for name in (
        "Pulumi.yaml",
        "Pulumi.dev.yaml",
        "Pulumi.test.yaml",
        "Pulumi.prod.yaml",
        "__main__.py",
        "parity.yaml",
    ):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_an_undeclared_difference_fails(tmp_path, monkeypatch):
    root = copy_project(tmp_path)
    prod = root / "Pulumi.prod.yaml"
    prod.write_text(
        prod.read_text().replace(
            "  dataops-platform:cluster:\n", '  dataops-platform:cluster:\n    kubernetesVersion: "1.34"\n', 1
        )
    )
    monkeypatch.syspath_prepend(str(ROOT))
    plans = {s: build_plan(s, root) for s in ("dev", "test", "prod")}
    found = violations(plans, load_allowances(root / "parity.yaml"))
    assert (
        "test->prod: aws:eks/cluster:Cluster cluster-eks: inputs.version: '1.35' -> '1.34'; not declared in "
        "parity.yaml" in found
    )


def test_a_promoted_digest_must_match_between_test_and_prod(tmp_path, monkeypatch):
    root = copy_project(tmp_path)
    prod = root / "Pulumi.prod.yaml"
    text = prod.read_text()
    digest = text.split("digest: ")[1].split("\n")[0]
    prod.write_text(text.replace(digest, "sha256:" + "0" * 64))
    monkeypatch.syspath_prepend(str(ROOT))
    plans = {s: build_plan(s, root) for s in ("dev", "test", "prod")}
    found = violations(plans, load_allowances(root / "parity.yaml"))
    assert any(line.startswith("test->prod:") and "singleuser.image.tag" in line for line in found)


def test_malformed_allowance_is_a_user_error(tmp_path):
    path = tmp_path / "parity.yaml"
    path.write_text("allowed:\n  - {resources: '*', property: 'inputs.x'}\n")
    with pytest.raises(PlanError) as info:
        load_allowances(path)
    assert "needs `resources`, a `reason`" in info.value.lines[0]


def test_cli_exit_codes():
    result = subprocess.run(
        [sys.executable, "-m", "dataops", "parity"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "parity: 0 undeclared differences" in result.stdout
