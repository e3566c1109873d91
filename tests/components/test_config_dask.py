"""Rules of `notebooks.dask` (components/config/rules/dask.py), each met and broken, one
condition at a time: worker sizes within their caps, per-user caps with room for a scheduler
and the largest worker in each cluster, workers that fit a notebook node, and caps within the
hub namespace's quota."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components.config.workloads import DASK_SCHEDULER_CORES, DASK_SCHEDULER_MEMORY_GIB
from dataops.plan import ROOT, PlanError, load_config
from tests.components.config_lines import assert_lines
from tests.components.test_config import LINE

KEY = "dataops-platform:notebooks.dask"


def problems(tmp_path: Path, dask: dict, stack: str = "test", **cluster: object) -> dict[str, list[str]]:
    doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    doc["config"]["dataops-platform:notebooks"]["dask"] = dask
    doc["config"]["dataops-platform:cluster"].update(cluster)
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(doc))
    try:
        load_config(stack, ROOT, path)
    except PlanError as exc:
        out: dict[str, list[str]] = {}
        for line in exc.lines:
            match = LINE.match(line)
            assert match, f"not in the one-line format: {line}"
            out.setdefault(match["key"], []).append(line)
        return out
    return {}


def lines(found: dict[str, list[str]]) -> list[str]:
    return [line for key in found for line in found[key]]


def test_the_shipped_limits_validate(tmp_path):
    for stack in ("dev", "test", "prod"):
        _, cfg = load_config(stack)
        assert cfg.runs_dask_gateway, stack


@pytest.mark.parametrize(
    ("what", "default", "most"),
    [("Cores", "workerCores", "workerCoresMax"), ("MemoryGib", "workerMemoryGib", "workerMemoryGibMax")],
)
@pytest.mark.parametrize(("value", "cap", "refused"), [(4, 4, False), (5, 4, True), (2, 4, False)])
def test_a_workers_default_size_stays_within_its_cap(
    request, tmp_path, what, default, most, value, cap, refused
):
    found = problems(tmp_path, {default: value, most: cap})
    assert (f"{KEY}.{default}" in found) is refused, found
    assert_lines(f"dask: {request.node.name}", lines(found))


@pytest.mark.parametrize(
    ("clusters", "cores", "refused"),
    [
        (2, 2 * (DASK_SCHEDULER_CORES + 4), False),  # exactly a scheduler and the largest worker each
        (2, 2 * (DASK_SCHEDULER_CORES + 4) - 1, True),  # one core short
        (1, DASK_SCHEDULER_CORES + 4, False),
        (4, 16, True),  # enough in total, too little per cluster
    ],
)
def test_each_cluster_has_room_for_its_scheduler_and_the_largest_worker_cores(
    request, tmp_path, clusters, cores, refused
):
    found = problems(
        tmp_path, {"maxClustersPerUser": clusters, "maxCoresPerUser": cores, "workerCoresMax": 4}
    )
    assert (f"{KEY}.maxCoresPerUser" in found) is refused, found
    assert_lines(f"dask: {request.node.name}", lines(found))


@pytest.mark.parametrize(
    ("clusters", "memory", "refused"),
    [
        (2, 2 * (DASK_SCHEDULER_MEMORY_GIB + 16), False),
        (2, 2 * (DASK_SCHEDULER_MEMORY_GIB + 16) - 1, True),
    ],
)
def test_each_cluster_has_room_for_its_scheduler_and_the_largest_worker_memory(
    request, tmp_path, clusters, memory, refused
):
    found = problems(
        tmp_path, {"maxClustersPerUser": clusters, "maxMemoryGibPerUser": memory, "workerMemoryGibMax": 16}
    )
    assert (f"{KEY}.maxMemoryGibPerUser" in found) is refused, found
    assert_lines(f"dask: {request.node.name}", lines(found))


@pytest.mark.parametrize(
    ("instance", "cores", "memory", "refused"),
    [
        ("r6i.xlarge", 4, 32, set()),  # 4 vCPU, 32 GiB: the largest worker fits exactly
        ("r6i.xlarge", 8, 32, {"workerCoresMax"}),  # memory fits, cores do not
        ("r6i.large", 2, 32, {"workerMemoryGibMax"}),  # 2 vCPU, 16 GiB: cores fit, memory does not
    ],
)
def test_the_largest_worker_fits_a_notebook_node(request, tmp_path, instance, cores, memory, refused):
    dask = {
        "workerCoresMax": cores,
        "workerMemoryGibMax": memory,
        "maxCoresPerUser": 2 * (DASK_SCHEDULER_CORES + cores),
        "maxMemoryGibPerUser": 2 * (DASK_SCHEDULER_MEMORY_GIB + memory),
    }
    found = problems(
        tmp_path,
        dask,
        notebookNodes={"instanceTypes": [instance], "minSize": 0, "desiredSize": 0, "maxSize": 3},
    )
    keys = {"workerCoresMax", "workerMemoryGibMax"}
    assert {k for k in keys if f"{KEY}.{k}" in found} == refused, found
    assert_lines(f"dask: {request.node.name}", lines(found))


def test_the_caps_stay_within_the_hub_namespaces_quota(tmp_path):
    """The hub's namespace has the default team quota (32 cores, 128 GiB); workers count in it."""
    within = problems(tmp_path, {"maxClustersPerUser": 2, "maxCoresPerUser": 32, "maxMemoryGibPerUser": 128})
    assert not within, within
    over = problems(tmp_path, {"maxClustersPerUser": 2, "maxCoresPerUser": 40, "maxMemoryGibPerUser": 128})
    assert list(over) == [f"{KEY}.maxCoresPerUser"] and "quota" in over[f"{KEY}.maxCoresPerUser"][0], over
    assert_lines("dask: the core cap over the quota", lines(over))
    over = problems(tmp_path, {"maxClustersPerUser": 2, "maxCoresPerUser": 32, "maxMemoryGibPerUser": 200})
    assert list(over) == [f"{KEY}.maxMemoryGibPerUser"], over
    assert_lines("dask: the memory cap over the quota", lines(over))


def test_no_dask_rule_applies_where_the_gateway_does_not_run(tmp_path):
    found = problems(tmp_path, {"enabled": False, "workerCores": 8, "workerCoresMax": 4})
    assert not found, found


def test_text_where_a_number_belongs_gets_a_number_hint(tmp_path):
    (line,) = problems(tmp_path, {"workerCoresMax": "lots"})[f"{KEY}.workerCoresMax"]
    assert line.endswith('= "lots": not a number; fix: write a number without quotes, e.g. 2 or 0.5'), line
