"""`diff --base REF`: the working tree against a git revision, through a real git worktree, with
the revision's plans cached by its tree id."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dataops import plan_cache, revision
from dataops.plan import ROOT, Plan, PlanError

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "PATH": "/usr/bin:/bin",
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A copy of the project with one commit (the base); tests change its working tree."""
    repo = tmp_path_factory.mktemp("revision") / "repo"
    shutil.copytree(
        ROOT,
        repo,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "__pycache__", ".pytest_cache", ".ruff_cache", "node_modules", ".dataops-cache"
        ),
    )
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run(["git", *cmd], cwd=repo, check=True, env=GIT_ENV)  # noqa: S607 - git from PATH
    return repo


def dataops(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dataops", *args], cwd=repo, capture_output=True, text=True, timeout=600
    )


def diff_with_dev_edited(repo: Path, old: str, new: str) -> subprocess.CompletedProcess:
    """`diff --stack dev --base HEAD` with `old` replaced by `new` in the working tree's dev."""
    dev = repo / "Pulumi.dev.yaml"
    original = dev.read_text()
    dev.write_text(original.replace(old, new))
    try:
        return dataops(repo, "diff", "--stack", "dev", "--base", "HEAD")
    finally:
        dev.write_text(original)


def test_working_tree_against_a_commit(repo):
    result = diff_with_dev_edited(repo, "expireObjectsAfterDays: 30", "expireObjectsAfterDays: 14")
    assert result.returncode == 0, result.stderr
    assert (
        "dev@HEAD -> dev (working tree): 0 only in dev@HEAD, 0 only in dev (working tree), 1 changed"
        in result.stdout
    )
    assert "inputs.rules[0].expiration.days: 30 -> 14" in result.stdout
    assert (
        "dataops-base-"
        not in subprocess.run(
            ["git", "worktree", "list"],  # noqa: S607
            cwd=repo,
            capture_output=True,
            text=True,
        ).stdout
    )  # the temporary worktree is gone again


def test_all_stacks_shows_added_and_deleted_stacks(repo):
    added, deleted = repo / "Pulumi.staging.yaml", repo / "Pulumi.test.yaml"
    added.write_text((repo / "Pulumi.test.yaml").read_text())
    kept = deleted.read_text()
    deleted.unlink()
    try:
        result = dataops(repo, "diff", "--all-stacks", "--base", "HEAD", "--format", "json")
    finally:
        added.unlink()
        deleted.write_text(kept)
    assert result.returncode == 0, result.stderr
    docs = [json.loads(d) for d in result.stdout.replace("}\n{", "}\x00{").split("\x00")]
    by_label = {(d["a"], d["b"]): d["counts"] for d in docs}
    assert by_label[("dev@HEAD", "dev (working tree)")] == {"only-a": 0, "only-b": 0, "changed": 0}
    staging = by_label[("staging@HEAD (absent)", "staging (working tree)")]
    assert staging["only-a"] == 0 and staging["only-b"] > 20
    gone = by_label[("test@HEAD", "test (deleted)")]
    assert gone["only-a"] > 20 and gone["only-b"] == 0


def test_bad_ref_and_unknown_stack_are_one_line_errors(repo):
    for args, message in (
        (("--stack", "dev", "--base", "no-such-ref"), "not a commit of this repository"),
        (("--stack", "nope", "--base", "HEAD"), "no Pulumi.nope.yaml in the working tree"),
        (("dev", "prod", "--base", "HEAD"), "takes --stack S or --all-stacks"),
    ):
        bad = dataops(repo, "diff", *args)
        assert bad.returncode == 2 and message in bad.stderr, bad.stderr
        assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_a_revision_whose_config_is_invalid_is_named(repo):
    dev = repo / "Pulumi.dev.yaml"
    original = dev.read_text()
    dev.write_text(original.replace("environment: dev", "environment: nonsense"))
    subprocess.run(["git", "commit", "-qam", "broken"], cwd=repo, check=True, env=GIT_ENV)  # noqa: S607
    dev.write_text(original)  # the working tree is fine; only the revision is broken
    try:
        bad = dataops(repo, "diff", "--stack", "dev", "--base", "HEAD")
    finally:
        subprocess.run(["git", "reset", "-q", "--hard", "HEAD~1"], cwd=repo, check=True, env=GIT_ENV)  # noqa: S607
    assert bad.returncode == 2, bad.stderr
    assert "--base HEAD: stack dev does not evaluate at that revision" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_an_invalid_working_tree_still_removes_the_base_worktree(repo):
    """The command exits without interpreter teardown, so it waits for the base's worktree to
    be removed even when the working tree fails first."""
    bad = diff_with_dev_edited(repo, "environment: dev", "environment: nonsense")
    assert bad.returncode == 2 and "environment" in bad.stderr, bad.stderr
    assert "Traceback" not in bad.stderr
    listed = subprocess.run(["git", "worktree", "list"], cwd=repo, capture_output=True, text=True)  # noqa: S607
    assert len(listed.stdout.splitlines()) == 1, listed.stdout


def test_revision_plans_come_from_the_cache_by_tree_id(repo, tmp_path, monkeypatch):
    monkeypatch.setenv("DATAOPS_PLAN_CACHE", str(tmp_path))
    tree = revision.resolve(repo, "HEAD")[1]
    plan = Plan("dataops-platform", "dev", [], {"marker": 1})
    plan_cache.store(repo, plan_cache.revision_key(tree, "dev"), plan)

    def no_subprocess(*_args):
        raise AssertionError("a cached revision plan was evaluated again")

    monkeypatch.setattr(revision, "_plan_all", no_subprocess)
    assert revision.start(repo, "HEAD", ["dev"]).result()["dev"].outputs == {"marker": 1}
    with pytest.raises(AssertionError, match="evaluated again"):
        revision.start(repo, "HEAD", ["prod"]).result()  # not cached: it would run
    with pytest.raises(PlanError, match="not a commit"):
        revision.start(repo, "nope", ["dev"])


def test_a_revision_without_the_batch_api_is_planned_per_stack(repo, monkeypatch):
    # Older revisions may lack what the one-process batch uses; each stack then runs the
    # revision's own `python -m dataops plan --json`.
    monkeypatch.setattr(revision, "_BATCH", "raise SystemExit(3)")
    plans = revision._plan_all(repo, ["dev"], "HEAD")
    assert set(plans) == {"dev"} and len(plans["dev"].resources) > 20
    monkeypatch.setattr(revision, "_BATCH", "raise SystemExit(3)")
    with pytest.raises(PlanError, match="stack nope does not evaluate at that revision"):
        revision._plan_all(repo, ["nope"], "HEAD")


def test_a_revision_without_build_plans_is_planned_one_stack_at_a_time(repo, tmp_path):
    """The batch runs the revision's own code: one that predates `build_plans` still works."""
    tree = tmp_path / "old"
    shutil.copytree(repo, tree, ignore=shutil.ignore_patterns(".git"))
    plan_py = tree / "dataops" / "plan.py"
    plan_py.write_text(plan_py.read_text().replace("def build_plans(", "def _not_yet("))
    plans = revision._plan_all(tree, ["dev", "prod"], "HEAD")
    assert set(plans) == {"dev", "prod"}
    assert len(plans["dev"].resources) > 20 and len(plans["prod"].resources) > 20
