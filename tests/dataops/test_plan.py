"""The offline plan engine: format, determinism, stack references, secrets, failure modes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time

import pytest
import yaml

from dataops import engine
from dataops import plan as plan_module
from dataops.engine import _normalise
from dataops.plan import ROOT, PlanError, build_plan, build_plans, plan_jobs
from tests.conftest import CONFIGS

FIELDS = {
    "urn",
    "type",
    "name",
    "parent",
    "inputs",
    "dependencies",
    "protect",
    "retainOnDelete",
    "provider",
    "aliases",
    "ignoreChanges",
    "replaceOnChanges",
}


def test_plan_document_has_the_documented_shape(plans):
    doc = plans["prod"].to_dict()
    assert set(doc) == {"project", "stack", "resources", "outputs"}
    assert doc["project"] == "dataops-platform" and doc["stack"] == "prod"
    assert len(doc["resources"]) > 40
    for r in doc["resources"]:
        assert set(r) == FIELDS, r["urn"]
        assert r["urn"] == "urn:pulumi:prod::dataops-platform::" + r["urn"].split("::", 2)[2]
    json.dumps(doc)  # serialisable as is


def test_every_parent_and_dependency_is_in_the_plan(plans):
    for plan in plans.values():
        urns = {r.urn for r in plan.resources}
        for r in plan.resources:
            assert r.parent == "" or r.parent in urns, r.urn
            assert set(r.dependencies) <= urns, r.urn


def test_same_inputs_give_the_same_plan():
    plan_module._CACHE.clear()
    first = json.dumps(build_plan("dev").to_dict())
    plan_module._CACHE.clear()
    second = json.dumps(build_plan("dev").to_dict())
    assert first == second


def test_consumer_stack_reference_resolves_to_the_owner_offline_outputs(plans):
    ref = plans["dev"].named("lake-owner")
    assert ref.inputs["name"] == "organization/dataops-platform/prod"
    bucket = plans["prod"].outputs["lake"]["zones"]["curated"]["arn"]
    assert any(bucket in rp.inputs["policy"] for rp in plans["dev"].of_type("aws:iam/rolePolicy:RolePolicy"))


def test_secrets_and_unknowns_are_shown_as_placeholders():
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "hunter2"}
    assert _normalise({"a": secret, "b": [1.0, 2.5], "c": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"}) == {
        "a": "[secret]",
        "b": [1, 2.5],
        "c": "[unknown]",
    }


def test_secret_config_is_marked_secret_and_never_printed(tmp_path):
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(
        (ROOT / "Pulumi.dev.yaml").read_text() + "  dataops-platform:tags:\n    secure: v1:ciphertext\n"
    )
    from dataops.stack_files import load

    files = load(ROOT, "dev", path)
    assert "dataops-platform:tags" in files.secret_keys
    assert "ciphertext" not in json.dumps(files.raw)


def test_owner_that_is_not_a_stack_of_this_project(tmp_path):
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(
        "config:\n  dataops-platform:environment: dev\n"
        "  dataops-platform:lake: {role: consumer, ownerStack: acme/other-project/prod}\n"
        "  dataops-platform:cluster: {adminRoles: ['arn:aws:iam::111122223333:role/break-glass']}\n"
        "  dataops-platform:notebooks: {enabled: false}\n"
    )
    with pytest.raises(PlanError) as info:
        build_plan("dev", ROOT, path)
    assert "not a stack of this project" in info.value.lines[0]


SMALL_OWNER = (
    "config:\n  dataops-platform:environment: dev\n"
    "  dataops-platform:deletionProtection: false\n"
    "  dataops-platform:lake: {role: owner, zones: {curated: {}}}\n"
    "  dataops-platform:access: {read: [curated]}\n"
    "  dataops-platform:cluster: {adminRoles: ['arn:aws:iam::111122223333:role/break-glass']}\n"
    "  dataops-platform:notebooks: {enabled: false}\n"
)


def with_setting(stack: str, key: str, value: object) -> str:
    """The shipped stack file of `stack` with `dataops-platform:<key>` set to `value`."""
    doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    doc["config"][f"dataops-platform:{key}"] = value
    return yaml.safe_dump(doc, sort_keys=False)


def owner_with_zones(zones: list[str]) -> str:
    doc = yaml.safe_load(SMALL_OWNER)
    doc["config"]["dataops-platform:lake"]["zones"] = {zone: {} for zone in zones}
    return yaml.safe_dump(doc, sort_keys=False)


def test_program_errors_from_stack_outputs_are_user_errors(tmp_path, monkeypatch):
    """A consumer reading a zone its owner lacks fails in the program with a one-line RunError."""
    prod = tmp_path / "Pulumi.prod.yaml"
    dev = tmp_path / "Pulumi.dev.yaml"
    prod.write_text((ROOT / "Pulumi.prod.yaml").read_text())
    dev.write_text(with_setting("dev", "access", {"read": ["raw"]}))
    # The offline plan resolves the owner from the repository's prod stack, whose lake has 'raw';
    # make the owner lack it by planning against a copy of the project with a smaller lake.
    for name in ("Pulumi.yaml", "__main__.py"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    prod.write_text(SMALL_OWNER)
    monkeypatch.syspath_prepend(str(ROOT))
    with pytest.raises(PlanError) as info:
        build_plan("dev", tmp_path)
    assert "dataops-platform:access.read = 'raw': the lake has no such zone" in info.value.lines[0]
    plan_module._CACHE.clear()
    assert build_plan("dev").stack == "dev"  # the failed run left nothing behind for the next


def test_owner_stack_must_own_a_cloud_lake(tmp_path):
    for owner in ("test", "local"):
        path = tmp_path / "Pulumi.dev.yaml"
        path.write_text(
            (ROOT / "Pulumi.dev.yaml").read_text().replace("ownerStack: prod", f"ownerStack: {owner}")
        )
        with pytest.raises(PlanError) as info:
            build_plan("dev", ROOT, path)
        assert f"stack {owner} does not own a cloud lake" in info.value.lines[0]


ENVIRONMENTS = ["dev", "prod", "test"]
ALL_STACKS = ["dev", "local", "prod", "test"]  # prod first; then dev here, local in a fork, test waits


def test_a_plan_leaves_no_thread_behind(monkeypatch):
    """The dev stack's program registers resource transforms, for which the SDK runs a gRPC
    server on a poller thread; left running, no later plan in this process could fork."""
    monkeypatch.setattr(plan_module, "_CACHE", {})  # run the program here, not from memory
    assert "dask-gateway" in {r.inputs.get("chart") for r in build_plan("dev").resources}
    assert threading.active_count() == 1, threading.enumerate()


@pytest.fixture
def forks(monkeypatch) -> list[int]:
    """The pids `build_plans` forks; the test process must be single-threaded for it to fork."""
    assert plan_module._can_fork(), f"a thread is running in the test process: {threading.enumerate()}"
    pids: list[int] = []
    real = os.fork

    def counting() -> int:
        pid = real()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counting)
    plan_module._CACHE.clear()
    yield pids
    plan_module._CACHE.clear()


def records(plans) -> dict[str, str]:
    return {stack: json.dumps(plan.to_record(), sort_keys=True) for stack, plan in plans.items()}


def test_plans_made_in_parallel_are_the_plans_made_one_by_one(forks):
    one_by_one = records(build_plans(ENVIRONMENTS, jobs=1))
    assert forks == []
    plan_module._CACHE.clear()
    parallel = build_plans(ENVIRONMENTS, jobs=2)
    # prod (which dev and test reference) is planned first, here; then dev here and test in a fork
    assert len(forks) == 1
    assert records(parallel) == one_by_one and list(parallel) == ENVIRONMENTS


def test_a_program_error_in_a_forked_plan_is_the_same_one_line_error(tmp_path, forks, monkeypatch):
    """test reads a zone its owner's lake lacks, which only its program run finds out; test is
    the stack the fork starts with (prod first here, then dev here and test there)."""
    for name in ("Pulumi.yaml", "__main__.py", "Pulumi.dev.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    dev_zones = sorted(CONFIGS["dev"].access.read)  # the owner has what dev reads, not raw
    assert "raw" not in dev_zones
    (tmp_path / "Pulumi.prod.yaml").write_text(owner_with_zones(dev_zones))
    (tmp_path / "Pulumi.test.yaml").write_text(with_setting("test", "access", {"read": ["raw"]}))
    monkeypatch.syspath_prepend(str(ROOT))
    with pytest.raises(PlanError) as info:
        build_plans(ENVIRONMENTS, tmp_path, jobs=2)
    assert len(forks) == 1
    assert info.value.lines == [
        "Pulumi.test.yaml: dataops-platform:access.read = 'raw': the lake has no such zone; "
        f"fix: use one of {', '.join(dev_zones)}, or add the zone to the owner stack"
    ]


def test_a_fork_that_fails_otherwise_is_planned_again_here(forks, monkeypatch, capfd):
    """A bug in a child must not vanish: the child says so, and its stack is planned again in
    this process, where an exception would show its traceback; here the failure is only in the
    child, so all succeed."""
    parent, real = os.getpid(), plan_module.build_plan

    def fails_in_a_child(stack, *args, **kwargs):
        if os.getpid() != parent:
            raise RuntimeError("a bug")
        return real(stack, *args, **kwargs)

    expected = records(build_plans(ENVIRONMENTS, jobs=1))
    plan_module._CACHE.clear()
    monkeypatch.setattr(plan_module, "build_plan", fails_in_a_child)
    capfd.readouterr()
    assert records(build_plans(ENVIRONMENTS, jobs=2)) == expected
    assert len(forks) == 1
    assert capfd.readouterr().err.splitlines() == [
        "warning: a forked process failed planning test (RuntimeError: a bug); "
        "the main process plans its stacks again"
    ]


def test_plan_jobs_setting(monkeypatch):
    monkeypatch.setenv("DATAOPS_PLAN_JOBS", "3")
    assert plan_jobs() == 3
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("DATAOPS_PLAN_JOBS", bad)
        with pytest.raises(PlanError) as info:
            plan_jobs()
        assert info.value.lines == [
            f"DATAOPS_PLAN_JOBS={bad}: not a whole number of processes; fix: e.g. 1 or 2"
        ]


def test_when_no_process_can_be_forked_its_stack_is_planned_here(forks, monkeypatch):
    expected = records(build_plans(ENVIRONMENTS, jobs=1))
    plan_module._CACHE.clear()

    def no_more_processes() -> int:
        raise BlockingIOError("fork: Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_more_processes)
    before = open_fds()
    assert records(build_plans(ENVIRONMENTS, jobs=2)) == expected
    assert open_fds() == before  # the pipes made for it are closed


def test_without_a_pipe_to_spare_the_stacks_are_planned_here(forks, monkeypatch):
    expected = records(build_plans(ENVIRONMENTS, jobs=1))
    plan_module._CACHE.clear()

    def no_more_files() -> tuple[int, int]:
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(os, "pipe", no_more_files)
    assert records(build_plans(ENVIRONMENTS, jobs=2)) == expected
    assert forks == []


def open_fds() -> int | None:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None


def recording_where_planned(monkeypatch, log, hold=lambda stack: None):
    """Each program run appends "pid stack" to `log`; `hold(stack)` runs first, in the process
    that took the stack."""
    real = engine.run_program

    def recorded(files, *args):
        hold(files.stack)
        with log.open("a") as out:  # one short appended line: whole even with two writers
            out.write(f"{os.getpid()} {files.stack}\n")
        return real(files, *args)

    monkeypatch.setattr(engine, "run_program", recorded)


def planned_by(log) -> dict[str, list[str]]:
    """{"here": stacks this process ran, "child": stacks a fork ran}, sorted, repeats kept."""
    out: dict[str, list[str]] = {"here": [], "child": []}
    for line in log.read_text().splitlines():
        pid, stack = line.split()
        out["here" if int(pid) == os.getpid() else "child"].append(stack)
    return {k: sorted(v) for k, v in out.items()}


def wait_for(log, stack: str) -> None:
    """Until another process has logged `stack` (so it took that stack); at most a minute."""
    for _ in range(600):
        if log.exists() and any(line.endswith(f" {stack}") for line in log.read_text().splitlines()):
            return
        time.sleep(0.1)
    raise AssertionError(f"no process took {stack} within a minute")


def holding(log, stack: str, *, here: bool, until: str):
    """A `hold` that keeps `stack`, in this process (here) or in the fork, until the other
    process has taken `until`."""
    parent = os.getpid()

    def hold(taken: str) -> None:
        if taken == stack and (os.getpid() == parent) == here:
            wait_for(log, until)

    return hold


def test_a_fork_done_early_takes_the_next_waiting_stack(tmp_path, forks, monkeypatch):
    """prod first, here; then dev here and local in the fork, while test waits. dev is held here
    until the fork, done with its small local stack, has taken test."""
    expected = records(build_plans(ALL_STACKS, jobs=1))
    plan_module._CACHE.clear()
    log = tmp_path / "planned"
    recording_where_planned(monkeypatch, log, holding(log, "dev", here=True, until="test"))
    before = open_fds()
    assert records(build_plans(ALL_STACKS, jobs=2)) == expected
    assert len(forks) == 1
    assert planned_by(log) == {"here": ["dev", "prod"], "child": ["local", "test"]}
    assert open_fds() == before  # the queue and the fork's pipe are closed


def test_this_process_done_early_takes_the_next_waiting_stack(tmp_path, forks, monkeypatch):
    """The other way round: local is held in the fork until this process has taken test."""
    expected = records(build_plans(ALL_STACKS, jobs=1))
    plan_module._CACHE.clear()
    log = tmp_path / "planned"
    recording_where_planned(monkeypatch, log, holding(log, "local", here=False, until="test"))
    assert records(build_plans(ALL_STACKS, jobs=2)) == expected
    assert planned_by(log) == {"here": ["dev", "prod", "test"], "child": ["local"]}


@pytest.mark.parametrize(
    ("failing", "reported"),
    [({"local", "test"}, "local"), ({"dev", "test"}, "dev"), ({"test"}, "test"), ({"local"}, "local")],
)
def test_the_error_raised_is_the_one_a_one_by_one_run_meets_first(
    tmp_path, forks, monkeypatch, failing, reported
):
    """Stacks fail in whichever process takes them; every stack is still tried, and the error
    is the one a one-by-one run meets first (stacks in ALL_STACKS order)."""
    log = tmp_path / "planned"

    def fail(stack: str) -> None:
        if stack in failing:
            raise PlanError([f"Pulumi.{stack}.yaml: a mistake"])

    recording_where_planned(monkeypatch, log, fail)
    before = open_fds()
    with pytest.raises(PlanError) as info:
        build_plans(ALL_STACKS, jobs=2)
    assert info.value.lines == [f"Pulumi.{reported}.yaml: a mistake"]
    assert len(forks) == 1
    assert open_fds() == before
    ran = planned_by(log)  # each stack that did not fail ran once, in one process or the other
    assert sorted(ran["here"] + ran["child"]) == sorted(set(ALL_STACKS) - failing)
    plan_module._CACHE.clear()
    with pytest.raises(PlanError) as one_by_one:
        build_plans(ALL_STACKS, jobs=1)
    assert one_by_one.value.lines == info.value.lines


def test_a_fork_that_dies_has_its_stacks_planned_here(tmp_path, forks, monkeypatch, capfd):
    expected = records(build_plans(ENVIRONMENTS, jobs=1))
    plan_module._CACHE.clear()
    parent = os.getpid()

    def die_in_the_fork(stack: str) -> None:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)

    recording_where_planned(monkeypatch, tmp_path / "planned", die_in_the_fork)
    capfd.readouterr()
    assert records(build_plans(ENVIRONMENTS, jobs=2)) == expected
    assert capfd.readouterr().err.splitlines() == [
        f"warning: a forked process was killed by signal {int(signal.SIGKILL)}; "
        "the main process plans its stacks again"
    ]
    assert planned_by(tmp_path / "planned") == {"here": ["dev", "prod", "test"], "child": []}


def _with_admin(arn: str) -> str:
    shipped = (ROOT / "Pulumi.test.yaml").read_text()
    sso = "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_PlatformAdmin_5c1e7a9b3d2f4e60"
    assert sso in shipped
    return shipped.replace(sso, arn)


def test_an_admin_role_missing_from_the_account_fails_the_plan_in_one_line(plan_with):
    missing = "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Gone_0"
    with pytest.raises(PlanError) as info:
        plan_with("test", _with_admin(missing))
    assert info.value.lines == [
        f'Pulumi.test.yaml: dataops-platform:cluster.adminRoles[0] = "{missing}": no such IAM role in the '
        "account (offline: dataops/offline_account.yaml); fix: create the role first (see the README's first "
        "deploy) or correct the ARN"
    ]


def test_an_admin_role_named_without_its_path_fails_the_plan(plan_with):
    without_path = "arn:aws:iam::111122223333:role/AWSReservedSSO_PlatformAdmin_5c1e7a9b3d2f4e60"
    with pytest.raises(PlanError) as info:
        plan_with("test", _with_admin(without_path))
    (line,) = info.value.lines
    assert line.startswith("Pulumi.test.yaml: IAM role AWSReservedSSO_PlatformAdmin_5c1e7a9b3d2f4e60 is ")
    assert "aws-reserved/sso.amazonaws.com" in line and "Traceback" not in line
