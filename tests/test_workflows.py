"""The GitHub workflows: linted by actionlint (the WebAssembly build in tools/actionlint, run with
Node.js), then checked as data for what this project requires of them.

Pull requests: tests, the offline diff as one updated PR comment, parity, and previews with the
policy pack only when cloud credentials exist. Main: dev, then test and prod behind environments.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from dataops import parity
from dataops.diff_report import INTENDED_LABEL
from dataops.plan import ROOT
from tests.conftest import CLOUD_STACKS, CONFIGS, LAKE_OWNER

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


def all_jobs() -> list[tuple[str, str, dict]]:
    return [
        (path.name, name, job)
        for path in sorted(WORKFLOWS.glob("*.yml"))
        for name, job in load(path.name)["jobs"].items()
    ]


def pulumi_steps(job: dict) -> list[dict]:
    return [s for s in steps(job) if s.get("uses", "").startswith("pulumi/actions@")]


def runs_python(job: dict) -> bool:
    """Python runs in the job: a command of the project, or the Pulumi program itself."""
    commands = " ".join(s.get("run", "") for s in steps(job))
    return "python" in commands or "tasks.py" in commands or bool(pulumi_steps(job))


def test_pull_request_workflow():
    wf = load("pull-request.yml")
    jobs = wf["jobs"]
    assert any("python3 tasks.py test" in s.get("run", "") for s in steps(jobs["test"]))
    diff_runs = " ".join(s.get("run", "") for s in steps(jobs["offline-diff"]))
    assert "dataops diff --all-stacks --base" in diff_runs and "dataops parity" in diff_runs
    assert "--edit-last" not in diff_runs  # it would edit whatever the bot posted last
    preview = jobs["preview"]
    assert sorted(preview["strategy"]["matrix"]["stack"]) == sorted(CLOUD_STACKS)  # every one, once
    (pulumi,) = pulumi_steps(preview)
    assert pulumi["with"]["command"] == "preview" and pulumi["with"]["comment-on-pr"] is True
    assert pulumi["with"]["policyPacks"] == "policies"
    # never for forks, and only once the runners exist
    assert "github.event.pull_request.head.repo.full_name == github.repository" in preview["if"]
    assert "vars.DATAOPS_RUNNERS == 'true'" in preview["if"]
    # one run per pull request, a new push replaces the old one
    assert wf["concurrency"] == {
        "group": "pull-request-${{ github.event.pull_request.number }}",
        "cancel-in-progress": True,
    }


def test_the_pull_request_checks_every_declared_datasets_samples():
    job = load("pull-request.yml")["jobs"]["data-quality"]
    declared = [d.name for d in CONFIGS[LAKE_OWNER].datasets]
    assert job["strategy"]["matrix"]["dataset"] == declared  # each one, once, in the file's order
    assert job["strategy"]["fail-fast"] is False  # one dataset's failure does not hide another's
    (step,) = [s for s in steps(job) if "dataops quality" in s.get("run", "")]
    assert step["env"] == {"DATASET": "${{ matrix.dataset }}"}
    run = step["run"]
    assert f'--stack {LAKE_OWNER} --dataset "${{DATASET}}" --data samples/lake' in run
    assert "set -o pipefail" in run  # the quality verdict, not tee's, is the step's


def comment_step() -> dict:
    job = load("pull-request.yml")["jobs"]["offline-diff"]
    (step,) = [s for s in steps(job) if "dataops-diff" in s.get("run", "")]
    return step


def test_the_diff_comment_is_posted_even_when_parity_fails():
    job = load("pull-request.yml")["jobs"]["offline-diff"]
    names = [s.get("id") for s in steps(job)]
    assert names.index("parity") < steps(job).index(comment_step())
    assert comment_step()["if"] == "${{ !cancelled() && steps.diff.outcome == 'success' }}"
    parity = next(s for s in steps(job) if s.get("id") == "parity")
    assert "continue-on-error" not in parity  # a failing gate still fails the job
    assert "set -o pipefail" in parity["run"]  # tee must not hide the gate's exit code


GH_STUB = """#!/usr/bin/env bash
# Records each call; answers the comment listing from $GH_COMMENTS (one id per line, as --jq would).
printf '%s\n' "$*" >> "$GH_LOG"
if [ "$1 $2" = "api repos/o/r/issues/7/comments" ] && [ "$3" = "--paginate" ]; then cat "$GH_COMMENTS"; fi
"""


def run_comment_step(
    tmp_path: Path, *, existing: str, fork: bool, parity: str, protected: str = "success"
) -> tuple[list[str], str, str]:
    """Run the workflow's comment script under bash, with `gh` replaced by a recorder."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(GH_STUB)
    (bin_dir / "gh").chmod(0o755)
    (tmp_path / "diff.md").write_text("### dev\nno changes\n")
    (tmp_path / "parity.txt").write_text("parity: dev->test: something undeclared\n")
    (tmp_path / "protected.txt").write_text(
        "protected: prod: aws:s3/bucket:Bucket lake-raw-bucket: replace\n"
    )
    (tmp_path / "comments").write_text(existing)
    summary = tmp_path / "summary.md"
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "GH_LOG": str(tmp_path / "gh.log"),
        "GH_COMMENTS": str(tmp_path / "comments"),
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_STEP_SUMMARY": str(summary),
        "PR": "7",
        "FORK": "true" if fork else "false",
        "PARITY": parity,
        "PROTECTED": protected,
    }
    script = comment_step()["run"]
    proc = subprocess.run(
        [shutil.which("bash") or "/bin/bash", "-e", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    log = tmp_path / "gh.log"
    calls = log.read_text().splitlines() if log.exists() else []
    comment = (tmp_path / "comment.md").read_text()
    return calls, comment, summary.read_text() if summary.exists() else ""


def test_comment_step_creates_the_comment_when_there_is_none(tmp_path):
    calls, comment, _ = run_comment_step(tmp_path, existing="", fork=False, parity="success")
    assert calls[-1] == "api --method POST repos/o/r/issues/7/comments -F body=@comment.md"
    assert comment.startswith("<!-- dataops-diff -->\n### dev")
    assert "Parity gate failed" not in comment


def test_comment_step_updates_its_own_comment_found_by_the_marker(tmp_path):
    # the listing's jq filter keeps only comments that start with the marker
    calls, _, _ = run_comment_step(tmp_path, existing="4242\n", fork=False, parity="failure")
    # its own: the marker, posted by the workflow's token (a user's comment with the marker is not)
    assert (
        'select(.user.login == "github-actions[bot]" and (.body | startswith("<!-- dataops-diff -->")))'
        in calls[0]
    )
    assert calls[-1] == "api --method PATCH repos/o/r/issues/comments/4242 -F body=@comment.md"
    assert not any("POST" in c for c in calls)


def test_comment_step_includes_the_parity_failure(tmp_path):
    _, comment, _ = run_comment_step(tmp_path, existing="", fork=False, parity="failure")
    assert "#### Parity gate failed" in comment and "something undeclared" in comment


def test_comment_step_includes_the_protected_resources_gate_only_when_it_failed(tmp_path):
    _, comment, _ = run_comment_step(tmp_path, existing="", fork=False, parity="success", protected="failure")
    assert "#### Protected resources gate failed" in comment and "lake-raw-bucket: replace" in comment
    (tmp_path / "again").mkdir()
    _, comment, _ = run_comment_step(tmp_path / "again", existing="", fork=False, parity="success")
    assert "Protected resources gate" not in comment


def test_the_protected_resources_gate_runs_with_the_label_as_its_only_override():
    wf = load("pull-request.yml")
    # PyYAML reads the key `on` as True
    assert {"labeled", "unlabeled"} <= set(wf[True]["pull_request"]["types"])
    job = wf["jobs"]["offline-diff"]
    gate = next(s for s in steps(job) if s.get("id") == "protected")
    assert "--fail-on-protected" in gate["run"] and "set -o pipefail" in gate["run"]
    assert "continue-on-error" not in gate
    assert gate["if"] == "${{ !cancelled() && steps.diff.outcome == 'success' }}"
    label = f"${{{{ contains(github.event.pull_request.labels.*.name, '{INTENDED_LABEL}') }}}}"
    diff_step = next(s for s in steps(job) if s.get("id") == "diff")
    for step in (gate, diff_step):
        assert step["env"]["INTENDED"] == label
        assert 'if [ "${INTENDED}" = "true" ]; then intended=(--protected-change-intended); fi' in step["run"]
    assert steps(job).index(gate) < steps(job).index(comment_step())
    assert f"label `{INTENDED_LABEL}`" in (ROOT / "docs" / "ci.md").read_text()  # the override is documented


def test_a_fork_gets_the_diff_in_the_run_summary(tmp_path):
    calls, comment, summary = run_comment_step(tmp_path, existing="", fork=True, parity="success")
    assert calls == [] and summary == comment


def test_deploy_workflow_promotes_through_environments_after_a_preview():
    """Every cloud stack is deployed, in parity.yaml's promotion order, each after the previous
    one; each but the first after a preview of exactly that stack, which its approver sees."""
    jobs = load("deploy.yml")["jobs"]
    order = [s for s in parity.load(ROOT / "parity.yaml").compare if s in CLOUD_STACKS]
    assert sorted(order) == sorted(CLOUD_STACKS), "a cloud stack parity.yaml does not compare"
    first, *later = order
    for name in order:
        assert jobs[name]["environment"] == name
        (up,) = pulumi_steps(jobs[name])
        assert up["with"]["command"] == "up" and up["with"]["stack-name"] == name
        assert up["with"]["policyPacks"] == "policies"
    for previous, name in zip(order, later, strict=False):
        preview = jobs[jobs[name]["needs"]]
        assert preview["needs"] == previous, f"{name} is previewed before {previous} is deployed"
        assert "environment" not in preview, "the preview runs before the approval gate"
        (step,) = pulumi_steps(preview)
        assert step["with"]["command"] == "preview" and step["with"]["stack-name"] == name
        assert step["with"]["comment-on-summary"] is True
        assert not any("docker" in str(s) for s in steps(jobs[name])), f"{name} rebuilds the image"
    assert jobs["not-bootstrapped"]["if"] == "vars.DATAOPS_RUNNERS != 'true'"
    assert jobs[first]["if"] == "vars.DATAOPS_RUNNERS == 'true'"


def test_every_cloud_stack_can_be_bootstrapped():
    options = load("bootstrap.yml")[True]["workflow_dispatch"]["inputs"]["stack"]["options"]
    assert sorted(options) == sorted(CLOUD_STACKS)


def test_every_python_job_sets_up_python_with_a_pip_cache():
    for workflow, name, job in all_jobs():
        if not runs_python(job):
            continue
        setup = [s for s in steps(job) if s.get("uses", "").startswith("actions/setup-python@")]
        assert setup, f"{workflow} {name}: runs Python without actions/setup-python"
        assert setup[0]["with"]["python-version"] == "3.11", (workflow, name)
        assert setup[0]["with"].get("cache") == "pip", f"{workflow} {name}: no pip cache"
        assert steps(job).index(setup[0]) < min(
            i for i, s in enumerate(steps(job)) if "run" in s or s.get("uses", "").startswith("pulumi/")
        ), f"{workflow} {name}: Python is set up after it is used"


def test_only_jobs_that_assume_a_role_get_an_id_token():
    for path in sorted(WORKFLOWS.glob("*.yml")):
        assert "id-token" not in load(path.name).get("permissions", {}), path.name
    for workflow, name, job in all_jobs():
        assumes = any(
            s.get("uses", "").startswith("aws-actions/configure-aws-credentials@") for s in steps(job)
        )
        has_token = job.get("permissions", {}).get("id-token") == "write"
        assert assumes == has_token, f"{workflow} {name}: assumes a role: {assumes}, id-token: {has_token}"


def cluster_stack(job: dict) -> str | None:
    """The stack whose cluster the job reaches: a `pulumi up/preview/destroy` of a cloud stack
    (through pulumi/actions or the CLI, unless it leaves out every Kubernetes object as the
    bootstrap does), or a sandbox command (sandboxes live on dev's cluster)."""
    for s in pulumi_steps(job):
        if "with" in s:  # a bare pulumi/actions step only installs the CLI
            return s["with"]["stack-name"]
    for s in steps(job):
        command = s.get("run", "")
        if re.search(r"pulumi (up|preview|destroy|refresh)\b", command) and "**kubernetes:**" not in command:
            found = re.search(r"--stack\s+\"?([\w${}.-]+)", command)
            return found.group(1) if found else "?"
        if "dataops sandbox" in command:
            return "dev"
    return None


def test_a_cli_deploy_on_a_hosted_runner_would_be_caught():
    job = {"runs-on": "ubuntu-latest", "steps": [{"run": "pulumi up --stack prod --yes"}]}
    assert cluster_stack(job) == "prod"
    bootstrap = {
        "steps": [
            {"run": "pulumi up --stack prod --exclude 'urn:pulumi:**kubernetes:**' --exclude-dependents"}
        ]
    }
    assert cluster_stack(bootstrap) is None


def test_every_job_that_reaches_a_cluster_runs_on_that_stacks_runner(plans):
    runners = {s: plans[s].outputs["runner"]["project"] for s in CLOUD_STACKS}
    reaching = 0
    for workflow, name, job in all_jobs():
        stack = cluster_stack(job)
        if stack is None:
            assert "codebuild-" not in str(job.get("runs-on")), f"{workflow} {name}: needs no runner"
            continue
        reaching += 1
        label = job["runs-on"]
        for each in job.get("strategy", {}).get("matrix", {}).get("stack") or [stack]:
            expected = f"codebuild-{runners[each]}-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}"
            assert label.replace("${{ matrix.stack }}", each) == expected, (workflow, name, label)
        assert "vars.DATAOPS_RUNNERS == 'true'" in str(job.get("if", "")) or workflow == "deploy.yml"
    # deploy: an up per stack and a preview for each but the first; pull-request: the previews
    # (one matrix job); sandboxes: 3 jobs
    assert reaching == 2 * len(CLOUD_STACKS) - 1 + 1 + 3


def test_runner_project_names_follow_the_stack(plans):
    from components.ci_runner import runs_on_label

    for stack in CLOUD_STACKS:
        runner = plans[stack].outputs["runner"]
        assert runner == {
            "project": f"dataops-{stack}-runner",
            "runsOn": runs_on_label(f"dataops-{stack}-runner"),
        }


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
    # Its sandbox may be gone already (reaped after 3 days, or never created): not a failure there.
    assert 'sandbox destroy "pr-${NUMBER}" --yes --missing-ok' in " ".join(
        s.get("run", "") for s in steps(closed)
    )
    checkout = next(s for s in steps(closed) if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"  # not the PR's code
    assert wf["concurrency"]["group"] == "sandboxes"
