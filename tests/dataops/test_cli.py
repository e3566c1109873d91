"""`python -m dataops` as a user runs it: real subprocesses, exit codes, stdout/stderr."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from dataops.plan import ROOT
from tests.conftest import SHIPPED, children, session_processes


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
        f"known stacks: {', '.join(SHIPPED)}",
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


# -- how a command ends: a reader that goes away, Ctrl-C --------------------------------------


@pytest.fixture(scope="module")
def cached_env(tmp_path_factory) -> dict[str, str]:
    """A plan cache of this module's own: each stack is planned once, however many commands run."""
    return os.environ | {"DATAOPS_PLAN_CACHE": str(tmp_path_factory.mktemp("plan-cache"))}


@pytest.fixture(scope="module")
def undeclared_root(tmp_path_factory) -> Path:
    """The project with no allowed differences in parity.yaml, so that `parity` has a lot to say."""
    root = tmp_path_factory.mktemp("undeclared")
    for path in ROOT.iterdir():
        if path.name not in ("parity.yaml", ".git", ".venv", ".dataops-cache"):
            (root / path.name).symlink_to(path)
    shipped = yaml.safe_load((ROOT / "parity.yaml").read_text())
    (root / "parity.yaml").write_text(yaml.safe_dump(shipped | {"allowed": []}))
    return root


def first_line_then_close(args: list[str], env: dict[str, str]) -> tuple[bytes, int, int, str]:
    """Run `python -m dataops ARGS` as `... | head -1` does: read one line of its stdout, then
    close the pipe. The pipe holds one page where the platform allows it (Linux), so any
    command that writes more than that meets the closed pipe."""
    read, write = os.pipe()
    if hasattr(fcntl, "F_SETPIPE_SZ"):
        fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, 4096)
    capacity = fcntl.fcntl(write, fcntl.F_GETPIPE_SZ) if hasattr(fcntl, "F_GETPIPE_SZ") else 65536
    with subprocess.Popen(
        [sys.executable, "-m", "dataops", *args], cwd=ROOT, env=env, stdout=write, stderr=subprocess.PIPE
    ) as process:
        os.close(write)
        line = b""
        while not line.endswith(b"\n") and (byte := os.read(read, 1)):
            line += byte
        os.close(read)
        stderr = process.stderr.read().decode()
    return line, capacity, process.returncode, stderr


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "--stack", "prod", "--json"],
        ["diff", "dev", "prod", "--format", "json"],
        ["diff", "dev", "prod", "--format", "markdown"],
        ["diff", "dev", "prod"],
        ["estimate", "--stack", "prod", "--format", "json"],
        ["parity"],
    ],
    ids=" ".join,
)
def test_a_closed_pipe_ends_the_command_quietly(args, cached_env, undeclared_root):
    if args == ["parity"]:
        args = ["--root", str(undeclared_root), "parity"]
    whole = subprocess.run(
        [sys.executable, "-m", "dataops", *args], cwd=ROOT, env=cached_env, capture_output=True, timeout=300
    )
    assert whole.returncode in (0, 1) and whole.stdout, whole.stderr  # parity fails, as it should
    line, capacity, code, stderr = first_line_then_close(args, cached_env)
    if len(whole.stdout) <= capacity + len(line):
        pytest.skip(f"this platform's pipe holds all {len(whole.stdout)} bytes: nothing meets it closed")
    assert whole.stdout.startswith(line) and line.endswith(b"\n")
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    assert stderr == ""
    assert code == 141  # as a shell reports a command ended by SIGPIPE: cut short, not a success


@pytest.mark.parametrize(
    "args",
    [
        ["validate"],
        ["policy", "--stack", "prod"],
        ["bootstrap", "--stack", "prod"],
        ["estimate", "--stack", "prod"],
    ],
    ids=" ".join,
)
def test_a_pipe_closed_before_any_output_ends_the_command_quietly(args, cached_env):
    """Commands that print little: even their one write meets the closed pipe, and is no success."""
    read, write = os.pipe()
    os.close(read)  # nobody will read
    try:
        result = subprocess.run(
            [sys.executable, "-m", "dataops", *args],
            cwd=ROOT,
            env=cached_env,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
        )
    finally:
        os.close(write)
    assert (result.returncode, result.stderr) == (141, "")


@pytest.mark.parametrize("send", [os.killpg, os.kill], ids=["ctrl-c at a terminal", "kill -INT"])
def test_ctrl_c_while_forked_workers_plan_is_one_line(send):
    """`parity` (plan cache off) forks workers once prod is planned; Ctrl-C then ends the
    command, its workers too, with one line and no traceback from any of them."""
    with subprocess.Popen(
        [sys.executable, "-m", "dataops", "parity"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        deadline = time.monotonic() + 120
        while not children(process.pid):
            assert process.poll() is None and time.monotonic() < deadline, "it never forked"
            time.sleep(0.02)
        send(process.pid, signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    assert (process.returncode, stderr, stdout) == (130, "error: interrupted\n", "")
    assert session_processes(process.pid) == []


@pytest.mark.parametrize(
    ("given", "environment", "refused"),
    [
        ("notaurl", None, "--endpoint-url 'notaurl'"),
        ("ftp://127.0.0.1:21", None, "--endpoint-url 'ftp://127.0.0.1:21'"),  # a host, not http(s)
        ("http:///lake", None, "--endpoint-url 'http:///lake'"),  # http(s), no host
        (None, "127.0.0.1:4566", "AWS_ENDPOINT_URL '127.0.0.1:4566'"),
        ("http://127.0.0.1:4566", "junk", None),  # the flag wins over the environment
        ("https://s3.eu-west-1.amazonaws.com", None, None),
        (None, None, None),
    ],
)
def test_an_endpoint_that_is_not_an_http_url_is_one_line(monkeypatch, given, environment, refused):
    from dataops.cli import checked_endpoint
    from dataops.plan import PlanError

    if environment is None:
        monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    else:
        monkeypatch.setenv("AWS_ENDPOINT_URL", environment)
    if refused is None:
        assert checked_endpoint(given) == (given if given is not None else environment)
        return
    with pytest.raises(PlanError) as info:
        checked_endpoint(given)
    assert info.value.lines == [f"{refused}: not an http(s) URL; fix: e.g. http://127.0.0.1:4566"]


@pytest.mark.parametrize("command", ["verify", "quality"])
def test_verify_and_quality_refuse_a_bad_endpoint_without_a_traceback(command):
    result = run(command, "--stack", "prod", "--endpoint-url", "notaurl")
    assert_user_error(result, "--endpoint-url 'notaurl': not an http(s) URL")
