"""The on-disk plan cache: a hit is the same plan without running the program, any change to
an input is a miss, and the key covers every file a plan reads."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dataops import plan_cache
from dataops.plan import ROOT, Plan, PlannedResource


def run(code: str, cache: Path) -> subprocess.CompletedProcess:
    env_code = f"import os; os.environ['DATAOPS_PLAN_CACHE'] = {str(cache)!r}\n" + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", env_code], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )


def test_a_hit_is_the_same_plan_without_importing_the_sdks(tmp_path):
    code = """
        import json, sys
        from dataops.plan import build_plan
        plan = build_plan("dev")
        print(json.dumps({"plan": plan.to_dict(), "warnings": plan.warnings,
                          "custom": [r.custom for r in plan.resources],
                          "sdk_loaded": "pulumi" in sys.modules}))
    """
    first, second = (json.loads(run(code, tmp_path).stdout) for _ in range(2))
    assert first["sdk_loaded"] and not second["sdk_loaded"]
    assert first["plan"] == second["plan"] and len(first["plan"]["resources"]) > 20
    assert first["warnings"] == second["warnings"] and first["custom"] == second["custom"]
    assert len(list(tmp_path.glob("*.json"))) == 2  # dev and the owner it references (prod)


def test_every_input_changes_the_key(tmp_path):
    root = tmp_path / "root"
    for name in [*plan_cache.INPUT_DIRS]:
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    for path in [
        *map(Path, plan_cache.INPUT_FILES),
        *(p.relative_to(ROOT) for p in ROOT.glob("Pulumi.*.yaml")),
    ]:
        shutil.copy(ROOT / path, root / path)
    base = plan_cache.inputs_key(root, "dev")
    assert plan_cache.inputs_key(root, "dev") == base and plan_cache.inputs_key(root, "test") != base
    for edited in (
        "Pulumi.prod.yaml",
        "Pulumi.yaml",
        "__main__.py",
        "components/cluster.py",
        "dataops/fake_cloud.py",
        "images/notebook/Dockerfile",
    ):
        path = root / edited
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        assert plan_cache.inputs_key(root, "dev") != base, edited
        path.write_bytes(original)
    (root / "components" / "new_component.py").write_text("")
    assert plan_cache.inputs_key(root, "dev") != base
    other = tmp_path / "other.yaml"
    other.write_text("config: {}\n")
    assert plan_cache.inputs_key(root, "dev", other) != base


def test_a_plan_reads_no_project_file_outside_the_key(tmp_path):
    # Every file the program opens while planning (an audit hook sees each open) must be one of
    # the key's inputs; otherwise editing it would leave a stale plan in the cache.
    code = """
        import json, sys
        from pathlib import Path
        from dataops.plan import ROOT, build_plan
        opened = set()
        def hook(event, args):
            if event == "open" and isinstance(args[0], (str, Path)):
                opened.add(str(Path(args[0]).resolve()))
        sys.addaudithook(hook)
        for stack in ("dev", "test", "prod", "local"):
            build_plan(stack)
        print(json.dumps(sorted(opened)))
    """
    result = run(code, tmp_path / "off-not-used")
    assert result.returncode == 0, result.stderr
    root = str(ROOT.resolve()) + "/"
    opened = {p for p in json.loads(result.stdout) if p.startswith(root)}
    ignored = ("/.venv/", "/__pycache__/", "/.dataops-cache/")
    read = {p for p in opened if not any(part in p for part in ignored) and not Path(p).is_dir()}
    covered = {str(p.resolve()) for p in plan_cache.input_files(ROOT)}
    assert read, "the hook saw no project file at all"
    assert read <= covered, sorted(read - covered)


def test_a_damaged_entry_is_a_miss_and_off_means_off(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAOPS_PLAN_CACHE", str(tmp_path))
    plan = Plan("p", "s", [PlannedResource("u", "t", "n", "", {"a": 1}, [], True, False)], {}, ["w"])
    plan_cache.store(ROOT, "k", plan)
    loaded = plan_cache.load(ROOT, "k")
    assert loaded is not None and loaded.resources == plan.resources and loaded.warnings == ["w"]
    (tmp_path / "k.json").write_text('{"project": "p", "resour')
    assert plan_cache.load(ROOT, "k") is None
    monkeypatch.setenv("DATAOPS_PLAN_CACHE", "off")
    plan_cache.store(ROOT, "k2", plan)
    assert plan_cache.load(ROOT, "k2") is None and not (tmp_path / "k2.json").exists()


@pytest.mark.parametrize("keep", [3])
def test_old_entries_are_pruned(tmp_path, monkeypatch, keep):
    monkeypatch.setenv("DATAOPS_PLAN_CACHE", str(tmp_path))
    monkeypatch.setattr(plan_cache, "KEEP", keep)
    for i in range(5):
        plan_cache.store(ROOT, f"k{i}", Plan("p", "s", [], {}))
    assert len(list(tmp_path.glob("*.json"))) == keep and not list(tmp_path.glob("*.tmp"))
