"""The on-disk plan cache: a hit is the same plan without running the program, any change to
an input is a miss, and the key covers every file a plan reads."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from dataops import plan_cache
from dataops.plan import ROOT
from dataops.plan_types import Plan, PlanError, PlannedResource


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
        "components/cluster/eks.py",
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
        from dataops.stack_files import known_stacks
        opened = set()
        def hook(event, args):
            if event == "open" and isinstance(args[0], (str, Path)):
                opened.add(str(Path(args[0]).resolve()))
        sys.addaudithook(hook)
        for stack in known_stacks(ROOT):
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


def key(i: int) -> str:
    return f"{i:064x}"


def test_pruning_deletes_only_the_caches_own_files(tmp_path, monkeypatch):
    """A directory the cache shares with other files: the oldest entries and the leftovers of
    interrupted writes go, and nothing else, however it is named."""
    cache = tmp_path / "shared"
    monkeypatch.setenv("DATAOPS_PLAN_CACHE", str(cache))
    for i in range(6):
        plan_cache.store(ROOT, key(i), Plan("p", "s", [], {}))
        os.utime(cache / f"{key(i)}.json", (1000 + i, 1000 + i))  # key(5) the newest
    assert (cache / plan_cache.MARKER).is_file()  # it made the directory, so it is its own
    long_ago = time.time() - plan_cache.STALE_TEMPORARY_SECONDS - 60
    foreign = [
        "notes.json",
        key(0xABC).upper() + ".json",
        key(9) + ".json.bak",
        key(10) + ".json\n",
        "x.tmp",
        key(11) + ".tmp",
    ]
    for name in foreign:
        (cache / name).write_text("not the cache's")
        os.utime(cache / name, (1, 1))  # older than every entry
    interrupted = cache / f"{key(7)}.abc_123.tmp"
    writing = cache / f"{key(8)}.def456.tmp"
    for path, when in ((interrupted, long_ago), (writing, time.time())):
        path.write_text("{")
        os.utime(path, (when, when))
    monkeypatch.setattr(plan_cache, "KEEP", 3)
    plan_cache.store(ROOT, key(6), Plan("p", "s", [], {}))
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        [plan_cache.MARKER, *foreign, writing.name, *(f"{key(i)}.json" for i in (4, 5, 6))]
    )


@pytest.mark.parametrize(
    ("setting", "where"),
    [
        ("off", None),
        ("0", None),
        ("FALSE", None),
        ("no", None),
        ("", "default"),
        ("on", "default"),
        ("1", "default"),
        ("Yes", "default"),
        ("true", "default"),
    ],
)
def test_on_and_off_name_no_directory(tmp_path, monkeypatch, setting, where):
    root = tmp_path / "project"
    monkeypatch.chdir(tmp_path)  # where a directory named `on` used to appear
    monkeypatch.setenv("DATAOPS_PLAN_CACHE", setting)
    default = root / ".dataops-cache" / "plans"
    assert plan_cache.directory(root) == (default if where else None)
    plan_cache.store(root, key(1), Plan("p", "s", [], {}))
    assert (default / f"{key(1)}.json").is_file() == bool(where)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project"] * bool(where)


def test_the_projects_own_directory_is_the_caches_even_unmarked(tmp_path, monkeypatch):
    # Caches made before the marker existed hold entries and no marker: still the cache's.
    monkeypatch.setenv("DATAOPS_PLAN_CACHE", "on")
    default = tmp_path / ".dataops-cache" / "plans"
    default.mkdir(parents=True)
    (default / f"{key(1)}.json").write_text("{}")
    plan_cache.store(tmp_path, key(2), Plan("p", "s", [], {}))
    assert sorted(p.name for p in default.iterdir()) == [
        plan_cache.MARKER,
        f"{key(1)}.json",
        f"{key(2)}.json",
    ]


def test_a_directory_is_used_when_new_empty_or_marked(tmp_path, monkeypatch):
    for folder in (tmp_path / "new" / "deeper", tmp_path / "empty"):
        (tmp_path / "empty").mkdir(exist_ok=True)
        monkeypatch.setenv("DATAOPS_PLAN_CACHE", str(folder))
        assert plan_cache.directory(ROOT) == folder
        plan_cache.store(ROOT, key(1), Plan("p", "s", [], {"n": 1}))
        assert (folder / plan_cache.MARKER).is_file()
        assert plan_cache.directory(ROOT) == folder  # not empty any more, but marked
        assert plan_cache.load(ROOT, key(1)).outputs == {"n": 1}


@pytest.mark.parametrize("kind", ["relative", "typo", "file", "foreign"])
def test_a_setting_it_must_not_use_is_refused(tmp_path, monkeypatch, kind):
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / f"{key(1)}.json").write_text("someone else's")
    (tmp_path / "file").write_text("a file")
    setting = {"relative": "cache", "typo": "of", "file": str(tmp_path / "file"), "foreign": str(foreign)}[
        kind
    ]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATAOPS_PLAN_CACHE", setting)
    with pytest.raises(PlanError) as info:
        plan_cache.directory(ROOT)
    (line,) = info.value.lines
    assert line.startswith(f"DATAOPS_PLAN_CACHE={setting}: ") and "fix: set it to on" in line
    with pytest.raises(PlanError):
        plan_cache.store(ROOT, key(2), Plan("p", "s", [], {}))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "photos"]
    assert [p.name for p in foreign.iterdir()] == [f"{key(1)}.json"]


def test_the_command_refuses_a_foreign_directory_in_one_line(tmp_path):
    (tmp_path / "report.json").write_text("{}")
    result = subprocess.run(
        [sys.executable, "-m", "dataops", "plan", "--stack", "local"],
        cwd=ROOT,
        env=os.environ | {"DATAOPS_PLAN_CACHE": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"error: DATAOPS_PLAN_CACHE={tmp_path}: a directory with other files")
    assert len(result.stderr.splitlines()) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
