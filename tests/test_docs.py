"""The generated docs are current, and the check fails, naming the file and the command, when
the config model or a price changes without regenerating them.

The changes are made on copies (a subclass of the model, a temporary copy of prices.yaml) and
patched in for one test; the repository's files are never edited. The suite only checks:
regenerating is `python -m dataops docs`, run by whoever changes the model or the prices.
"""

from __future__ import annotations

import copy
from typing import Literal

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.alias_generators import to_camel

import components.config
from components.config import StackConfig
from dataops import cli, config_reference, docs, estimate
from dataops.plan import ROOT

REGENERATE = "python -m dataops docs"


@pytest.fixture
def check(plans, capsys):
    """`python -m dataops docs --check` on the repository: (exit code, stdout, stderr). The
    session's plans are built first, so the cost table reuses them."""

    def run() -> tuple[int, str, str]:
        code = cli.main(["docs", "--check"])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_the_generated_docs_are_current(check):
    code, out, _ = check()
    assert code == 0, out
    assert out.strip() == f"docs: 0 of {len(docs.GENERATED)} generated files stale"


def _changed(attribute: str, change) -> tuple[type[StackConfig], str]:
    """StackConfig with one attribute of a top-level field (the first with a text default)
    changed, and the changed text."""
    name, field = next((n, f) for n, f in StackConfig.model_fields.items() if isinstance(f.default, str))
    changed = copy.copy(field)
    setattr(changed, attribute, change(getattr(field, attribute)))
    model = create_model(StackConfig.__name__, __base__=StackConfig, **{name: (field.annotation, changed)})
    return model, getattr(changed, attribute)


@pytest.mark.parametrize(
    ("attribute", "change"),
    [("description", lambda text: f"{text} (reworded)"), ("default", lambda value: f"{value}x")],
)
def test_a_changed_config_field_makes_the_reference_stale(check, monkeypatch, attribute, change):
    model, shown = _changed(attribute, change)
    monkeypatch.setattr(components.config, "StackConfig", model)
    code, out, _ = check()
    assert code == 1
    assert out.splitlines() == [
        f"docs: {docs.CONFIGURATION} is stale; fix: run `{REGENERATE}` and commit the result",
        f"docs: 1 of {len(docs.GENERATED)} generated files stale",
    ]
    assert shown in config_reference.render(model)  # regenerating would write the change
    assert shown not in (ROOT / docs.CONFIGURATION).read_text()


def test_a_changed_price_makes_the_cost_table_stale(check, monkeypatch, tmp_path):
    prices = yaml.safe_load((ROOT / estimate.PRICES).read_text())
    unit = next(iter(prices["unit"]))  # the first unit price (the EKS control plane's today)
    prices["unit"][unit]["price"] *= 2
    edited = tmp_path / "prices.yaml"
    edited.write_text(yaml.safe_dump(prices))
    real = estimate.load_tables

    def load_tables(root, overrides=None):
        tables = real(root, overrides)
        tables.prices = yaml.safe_load(edited.read_text())
        return tables

    monkeypatch.setattr(estimate, "load_tables", load_tables)
    code, out, _ = check()
    assert code == 1
    assert out.splitlines() == [
        f"docs: {docs.COSTS} is stale; fix: run `{REGENERATE}` and commit the result",
        f"docs: 1 of {len(docs.GENERATED)} generated files stale",
    ]


def test_writing_regenerates_and_then_the_check_passes(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(docs, "GENERATED", {docs.CONFIGURATION: docs.configuration})
    assert cli.main(["--root", str(tmp_path), "docs", "--check"]) == 1
    assert cli.main(["--root", str(tmp_path), "docs"]) == 0
    assert f"docs: wrote {docs.CONFIGURATION}" in capsys.readouterr().out
    assert (tmp_path / docs.CONFIGURATION).read_text() == (ROOT / docs.CONFIGURATION).read_text()
    assert cli.main(["--root", str(tmp_path), "docs", "--check"]) == 0


def test_a_cost_page_without_its_markers_is_one_error_line(tmp_path, capsys):
    (tmp_path / "docs").mkdir()
    (tmp_path / docs.COSTS).write_text("# Costs\n\nthe table was pasted here by hand\n")
    assert cli.main(["--root", str(tmp_path), "docs", "--check"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {docs.COSTS}: needs the line")
    assert "fix: put the two markers back" in err[0]


class _Strict(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, extra="forbid")


class _Pool(_Strict):
    instance_types: list[str] = Field(description="Types.")
    max_size: int = Field(default=3, ge=1, le=9, description="Most nodes.")


class _Root(_Strict):
    """A root model. Keys are `x:<camelCaseName>`."""

    mode: Literal["a", "b"] = Field(default="a", description="A | B, see https://<host>/.")
    host_sandboxes: bool | None = Field(
        default=None, description="Host them.", json_schema_extra={"environments": "dev only"}
    )
    pool: _Pool = Field(
        default_factory=lambda: _Pool(instanceTypes=["m6i.large"], maxSize=5), description="The pool."
    )
    pools: dict[str, _Pool] | None = Field(default=None, description="Named pools.")
    owner: str = Field(min_length=1, description="Who.")


def test_the_reference_walks_any_model_generically():
    rows = {r.key: r for r in config_reference.rows(_Root)}
    assert list(rows) == [
        "mode",
        "hostSandboxes",
        "pool",
        "pool.instanceTypes",
        "pool.maxSize",
        "pools",
        "pools.<name>.instanceTypes",
        "pools.<name>.maxSize",
        "owner",
    ]
    # the enclosing default_factory sets its keys' defaults; a mapping's items use their own
    assert (rows["pool.instanceTypes"].default, rows["pool.maxSize"].default) == ("`[m6i.large]`", "`5`")
    assert (rows["pools.<name>.instanceTypes"].default, rows["pools.<name>.maxSize"].default) == (
        "required",
        "`3`",
    )
    assert rows["pool"].default == config_reference.SEE_KEYS
    assert (rows["owner"].default, rows["owner"].type) == ("required", "string, ≥ 1 characters")
    assert rows["pool.maxSize"].type == "integer, 1\N{EN DASH}9"
    assert rows["mode"].type == "one of `a`, `b`" and rows["hostSandboxes"].type == "boolean or null"
    assert rows["hostSandboxes"].environments == "dev only"
    text = config_reference.render(_Root)
    assert "| per environment |" in text and "| dev only |" in text  # only where a key has a rule
    assert "A \\| B, see https://&lt;host&gt;/." in text  # a table cell stays one cell, <host> visible


def test_the_layout_names_every_module():
    """docs/layout.md is where a newcomer finds a concept's file: a module it does not name is
    one nobody finds."""
    layout = (ROOT / "docs" / "layout.md").read_text(encoding="utf-8")
    missing = [
        path.relative_to(ROOT).as_posix()
        for package in ("components", "dataops", "policies")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path.name != "__init__.py" and path.stem not in layout
    ]
    assert missing == [], f"docs/layout.md does not name: {', '.join(missing)}"


def test_the_dask_limits_table_is_the_stack_files():
    """docs/dask.md's table of limits per environment, against the stack files."""
    from tests.conftest import CONFIGS

    text = (ROOT / "docs" / "dask.md").read_text(encoding="utf-8")
    rows = {
        cells[0]: cells[1:]
        for line in text.splitlines()
        if line.startswith("| ") and (cells := [c.strip() for c in line.strip("|").split("|")])
    }
    stacks = rows[""]
    for i, stack in enumerate(stacks):
        d = CONFIGS[stack].notebooks.dask
        assert rows["clusters per user"][i] == str(d.max_clusters_per_user), stack
        cores_memory = f"{d.max_cores_per_user:g} / {d.max_memory_gib_per_user:g} GiB"
        assert rows["cores / memory per user (all clusters, schedulers included)"][i] == cores_memory, stack
        assert rows["idle timeout"][i] == f"{d.idle_timeout_minutes} min", stack
