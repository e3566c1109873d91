"""`diff --base REF`: the working tree against a git revision, through a real git worktree, with
the revision's plans cached by its tree id."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dataops import plan_cache, revision
from dataops.plan import ROOT, Plan, PlanError
from tests.conftest import children, session_processes

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


def dataops(repo: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dataops", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=check)  # noqa: S607


def worktrees(repo: Path) -> list[str]:
    listed = git(repo, "worktree", "list", "--porcelain")
    return [
        line.removeprefix("worktree ") for line in listed.stdout.splitlines() if line.startswith("worktree ")
    ]


def base_planning(repo: Path, tmp: Path, *args: str) -> subprocess.Popen:
    """`diff ARGS` (plan cache off, temporary files in `tmp`) as a session of its own, once the
    base revision's worktree exists and its subprocess plans in it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "dataops", "diff", *args],
        cwd=repo,
        env=os.environ | {"DATAOPS_PLAN_CACHE": "off", "TMPDIR": str(tmp)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while len(worktrees(repo)) < 2 or not children(process.pid, "python"):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.02)
    return process


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
        "dev@HEAD -> dev (working tree): 1 resource differs (0 only in dev@HEAD, 0 only in dev "
        "(working tree), 1 changed)" in result.stdout
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
    doc = json.loads(result.stdout)
    by_label = {(d["a"], d["b"]): d["counts"] for d in doc["stacks"]}
    assert [row["stack"] for row in doc["summary"]] == [d["stack"] for d in doc["stacks"]]
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
    plans = revision._plan_all(revision.Pending(), repo, ["dev"], "HEAD")
    assert set(plans) == {"dev"} and len(plans["dev"].resources) > 20
    monkeypatch.setattr(revision, "_BATCH", "raise SystemExit(3)")
    with pytest.raises(PlanError, match="stack nope does not evaluate at that revision"):
        revision._plan_all(revision.Pending(), repo, ["nope"], "HEAD")


def test_a_revision_without_build_plans_is_planned_one_stack_at_a_time(repo, tmp_path):
    """The batch runs the revision's own code: one that predates `build_plans` still works."""
    tree = tmp_path / "old"
    shutil.copytree(repo, tree, ignore=shutil.ignore_patterns(".git"))
    plan_py = tree / "dataops" / "plan.py"
    plan_py.write_text(plan_py.read_text().replace("def build_plans(", "def _not_yet("))
    plans = revision._plan_all(revision.Pending(), tree, ["dev", "prod"], "HEAD")
    assert set(plans) == {"dev", "prod"}
    assert len(plans["dev"].resources) > 20 and len(plans["prod"].resources) > 20


@pytest.mark.parametrize("send", [os.killpg, os.kill], ids=["ctrl-c at a terminal", "kill -INT"])
def test_ctrl_c_during_diff_base_stops_the_base_and_removes_its_worktree(repo, tmp_path, send):
    with base_planning(repo, tmp_path, "--base", "HEAD", "--all-stacks") as process:
        send(process.pid, signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    assert (process.returncode, stderr, stdout) == (130, "error: interrupted\n", "")
    assert worktrees(repo) == [str(repo)]
    assert list(tmp_path.iterdir()) == []  # its dataops-base-* directory too
    assert session_processes(process.pid) == []  # the base's subprocess did not plan on


def test_a_worktree_left_by_a_killed_run_is_removed_by_the_next(repo, tmp_path, monkeypatch):
    with base_planning(repo, tmp_path, "--stack", "dev", "--base", "HEAD") as process:
        # Every process of the command, as when a CI job is cancelled: none cleans up.
        while alive := session_processes(process.pid):
            for pid in alive:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
    (left,) = (Path(w) for w in worktrees(repo)[1:])
    assert left.parent.parent == tmp_path and left.parent.name.startswith("dataops-base-")

    # The next run finds both plans in the cache (stand-ins), so only the clean-up is real.
    cache = tmp_path / "cache"
    monkeypatch.setenv("DATAOPS_PLAN_CACHE", str(cache))
    stand_in = Plan("dataops-platform", "dev", [], {})
    plan_cache.store(repo, plan_cache.revision_key(revision.resolve(repo, "HEAD")[1], "dev"), stand_in)
    plan_cache.store(repo, plan_cache.inputs_key(repo, "dev"), stand_in)
    mine = tmp_path / "mine"  # a worktree of the user's own, which stays
    git(repo, "worktree", "add", "--detach", str(mine))
    try:
        after = dataops(
            repo, "diff", "--stack", "dev", "--base", "HEAD", env=os.environ | {"TMPDIR": str(tmp_path)}
        )
        assert after.returncode == 0 and after.stderr == "", after.stderr
        assert worktrees(repo) == [str(repo), str(mine)]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "mine"]
    finally:
        git(repo, "worktree", "remove", "--force", str(mine))


def test_only_this_tools_worktrees_that_no_process_holds_are_removed(repo, tmp_path):
    """Each case of `remove_leftovers`: removed, or kept and why."""
    cases = {
        "dataops-base-dead0001": "removed",  # locked by nobody: its run was killed
        "dataops-base-live0001": "kept",  # locked: a run (or its subprocess) still plans in it
        "dataops-base-gone0001": "removed",  # its directory is gone; git still lists it
        "dataops-base-old00001": "removed",  # no lock (an earlier version's), older than any run
        "dataops-base-young001": "kept",  # no lock, and a run of an earlier version may be going
        "dataops-base-mine": "kept",  # not a name `tempfile.mkdtemp` gives: the user's
        "mine": "kept",
    }
    long_ago = time.time() - revision.LOCKLESS_SECONDS - 60
    for name in cases:
        git(repo, "worktree", "add", "--detach", str(tmp_path / name / "tree"))
        os.utime(tmp_path / name, (long_ago, long_ago))
    for name in ("dataops-base-dead0001", "dataops-base-live0001"):
        (tmp_path / name / revision.LOCK).touch()
    os.utime(tmp_path / "dataops-base-young001", None)
    shutil.rmtree(tmp_path / "dataops-base-gone0001")
    try:
        with open(tmp_path / "dataops-base-live0001" / revision.LOCK) as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            revision.remove_leftovers(repo)
        kept = [name for name in cases if str(tmp_path / name / "tree") in worktrees(repo)]
        assert kept == [name for name, fate in cases.items() if fate == "kept"]
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)
    finally:
        for name in cases:
            git(repo, "worktree", "remove", "--force", str(tmp_path / name / "tree"), check=False)
