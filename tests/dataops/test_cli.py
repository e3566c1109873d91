"""`python -m dataops` as a user runs it: real subprocesses, exit codes, stdout/stderr."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dataops.plan import ROOT


def run(*args: str, root: Path | None = None) -> subprocess.CompletedProcess:
    extra = ["--root", str(root)] if root else []
    return subprocess.run(
        [sys.executable, "-m", "dataops", *extra, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_user_error(result: subprocess.CompletedProcess, *expected: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert all(line.startswith("error: ") for line in lines), lines
    for text in expected:
        assert any(text in line for line in lines), (text, lines)


def test_plan_prod_json_prints_exactly_one_document():
    result = run("plan", "--stack", "prod", "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    doc = json.loads(result.stdout)
    assert doc["stack"] == "prod"
    assert any(r["type"] == "aws:s3/bucket:Bucket" for r in doc["resources"])
    assert doc["outputs"]["lake"]["zones"]


def test_plan_summary_lists_components_and_outputs():
    result = run("plan", "--stack", "dev")
    assert result.returncode == 0, result.stderr
    assert "dataops-platform / dev:" in result.stdout
    assert "dataops:index:DataAccess  access" in result.stdout
    assert "outputs: access, cluster, environment, image" in result.stdout


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (
            "dataops-platform:environment: prod\n  dataops-platform:lake: {role: owner}\n"
            "  dataops-platform:colour: blue",
            "dataops-platform:colour",
        ),
        (
            "dataops-platform:environment: prod\n"
            "  dataops-platform:lake: {role: owner, accessLogRetentionDays: lots}",
            "dataops-platform:lake.accessLogRetentionDays",
        ),
        (
            "dataops-platform:environment: prod\n  dataops-platform:lake:\n    role: owner\n    zones:\n"
            "      raw: {noncurrentVersionExpirationDays: -5}",
            "dataops-platform:lake.zones.raw.noncurrentVersionExpirationDays",
        ),
        (
            "dataops-platform:environment: prod\n  dataops-platform:deletionProtection: false\n"
            "  dataops-platform:lake: {role: owner}",
            "dataops-platform:deletionProtection",
        ),
    ],
)
def test_malformed_stack_file_exits_2_naming_the_key(tmp_path, text, key):
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text("config:\n  " + text + "\n")
    assert_user_error(run("plan", "--stack", "prod", "--config", str(path)), f"Pulumi.prod.yaml: {key} = ")


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        (
            "dataops-platform:cluster: {adminRoles: ['arn:aws:iam::111122223333:role/break-glass'], kubernetesVersion: '1.12'}",
            "cluster.kubernetesVersion",
        ),
        (
            "dataops-platform:cluster: {adminRoles: ['arn:aws:iam::111122223333:role/break-glass'], network: {vpcCidr: 10.40.0.0/16, serviceCidr: 10.40.0.0/20}}",
            "cluster.network.serviceCidr",
        ),
        (
            "dataops-platform:cluster:\n    adminRoles: ['arn:aws:iam::111122223333:role/break-glass']\n    systemNodes: {instanceTypes: [m6i.large], minSize: 3,"
            " desiredSize: 1, maxSize: 2}",
            "cluster.systemNodes",
        ),
        ("dataops-platform:cluster: {mode: existing}", "cluster.existing"),
        (
            "dataops-platform:cluster: {adminRoles: ['arn:aws:iam::111122223333:role/break-glass']}\n  dataops-platform:image: {digest: 'latest'}",
            "image.digest",
        ),
    ],
)
def test_cluster_and_image_mistakes_exit_2_naming_the_key(tmp_path, extra, key):
    path = tmp_path / "Pulumi.test.yaml"
    path.write_text(
        "config:\n  dataops-platform:environment: test\n  dataops-platform:deletionProtection: false\n"
        "  dataops-platform:lake: {role: consumer, ownerStack: prod}\n"
        + (
            ""
            if "dataops-platform:image:" in extra
            else "  dataops-platform:image: {digest: 'sha256:" + "a" * 64 + "'}\n"
        )
        + "  "
        + extra
        + "\n"
    )
    assert_user_error(
        run("plan", "--stack", "test", "--config", str(path)), f"Pulumi.test.yaml: dataops-platform:{key} = "
    )


def test_yaml_syntax_error(tmp_path):
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(
        textwrap.dedent("""
        config:
          dataops-platform:environment: prod
         dataops-platform:lake: {role: owner
    """)
    )
    assert_user_error(run("plan", "--stack", "prod", "--config", str(path)), "Pulumi.prod.yaml: line")


def test_unknown_stack():
    assert_user_error(
        run("plan", "--stack", "staging"),
        "Pulumi.staging.yaml: no such stack file",
        "known stacks: dev, local, prod, test",
    )


def test_validate_checks_every_stack_and_the_single_owner(tmp_path):
    ok = run("validate")
    assert ok.returncode == 0, ok.stderr
    assert "one lake owner" in ok.stdout
    for name in ("Pulumi.yaml", "Pulumi.prod.yaml"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n  dataops-platform:environment: dev\n  dataops-platform:deletionProtection: false\n"
        "  dataops-platform:lake: {role: owner}\n"
        "  dataops-platform:cluster: {adminRoles: ['arn:aws:iam::111122223333:role/break-glass']}\n"
        "  dataops-platform:notebooks: {enabled: false}\n"
    )
    assert_user_error(run("validate", root=tmp_path), "2 cloud stacks own the lake (dev, prod)")
