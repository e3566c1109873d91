"""What `diff` reports: the summary first, details only for the stacks that changed, the same
facts in text, Markdown and JSON, and the protected-resources gate with its override."""

from __future__ import annotations

import copy
import json

import pytest

from dataops import cli
from dataops.diff import diff
from dataops.diff_report import (
    INTENDED_LABEL,
    Delta,
    Pair,
    deltas,
    gate,
    render_json,
    render_markdown,
    render_text,
)
from dataops.plan import ROOT
from dataops.plan_types import Plan

NO_DELTA = Delta(0.0, 0.0, 0.0, 0.0, 0.0)


def edited(plan: Plan, name: str, **inputs) -> Plan:
    after = copy.deepcopy(plan)
    after.named(name).inputs.update(inputs)
    return after


def pair(before: Plan, after: Plan, label: str | None = None) -> Pair:
    return Pair(label or before.stack, diff(before, after), NO_DELTA)


def test_replacing_a_protected_resource_is_blocked_and_fails_the_gate_unless_intended(plans):
    prod = plans["prod"]
    assert prod.named("lake-raw-bucket").protect  # prod protects its lake (deletionProtection)
    pairs = [pair(prod, edited(prod, "lake-raw-bucket", bucket="acme-data-prod-raw-renamed"))]
    (r,) = [r for r in pairs[0].diff.resources if r.name == "lake-raw-bucket"]
    assert (r.action, r.forced_by, r.protection) == ("replace", ["bucket"], "protected")

    md = render_markdown(pairs)
    risk = md.split("**Data or availability at risk**", 1)[1].split("<details>", 1)[0]
    assert "**lake-raw-bucket**: replace (forced by bucket); blocked at apply: protected" in risk
    assert f"label `{INTENDED_LABEL}`" in md
    assert "blocked at apply: protected" in render_text(pairs)

    (line,) = gate(pairs, intended=False)
    assert line.startswith(
        "prod: aws:s3/bucket:Bucket lake-raw-bucket: replace (forced by bucket); blocked at apply: "
        f"protected; fix: keep bucket as deployed, or declare the change intended with the pull-request "
        f"label `{INTENDED_LABEL}`"
    )
    assert gate(pairs, intended=True) == []
    assert json.loads(render_json(pairs))["protected"] == {"blocked": 1, "intended": False, "gateFails": True}
    assert json.loads(render_json(pairs, intended=True))["protected"]["gateFails"] is False
    assert "declared intended" in render_markdown(pairs, intended=True)


def test_deleting_a_protected_resource_is_blocked(plans):
    prod = plans["prod"]
    after = copy.deepcopy(prod)
    after.resources = [r for r in after.resources if r.name != "lake-key"]
    (r,) = [r for r in diff(prod, after).resources if r.name == "lake-key"]
    assert (r.action, r.protection) == ("delete", "protected")
    (line,) = gate([Pair("prod", diff(prod, after), NO_DELTA)], intended=False)
    assert "lake-key: delete; blocked at apply: protected; fix: keep lake-key, or declare" in line


def test_unprotecting_in_the_same_change_leaves_only_the_retained_resource(plans):
    # Pulumi replaces a resource whose new program drops `protect` (it checks both sides), but
    # the deployed state's `retainOnDelete` leaves the old bucket behind, whatever the program now
    # says: the gate still stops it.
    prod = plans["prod"]
    after = edited(prod, "lake-raw-bucket", bucket="acme-data-prod-raw-renamed")
    after.named("lake-raw-bucket").protect = False
    after.named("lake-raw-bucket").retainOnDelete = False
    (r,) = [r for r in diff(prod, after).resources if r.name == "lake-raw-bucket"]
    assert (r.action, r.protection) == ("replace", "retained")
    assert "retained at apply" in gate([Pair("prod", diff(prod, after), NO_DELTA)], intended=False)[0]

    # Deployed neither protected nor retained: reported at risk, not blocked.
    before = copy.deepcopy(prod)
    before.named("lake-raw-bucket").protect = False
    before.named("lake-raw-bucket").retainOnDelete = False
    (r,) = [r for r in diff(before, after).resources if r.name == "lake-raw-bucket"]
    assert (r.action, r.protection) == ("replace", "")
    assert r.at_risk  # still the lake's objects
    assert gate([Pair("prod", diff(before, after), NO_DELTA)], intended=False) == []


def test_updating_a_protected_resource_passes_the_gate(plans):
    prod = plans["prod"]
    after = copy.deepcopy(prod)
    after.named("lake-raw-bucket").inputs["tags"]["team"] = "platform"
    pairs = [pair(prod, after)]
    (r,) = pairs[0].diff.resources
    assert (r.action, r.protection, r.at_risk) == ("update", "", "")
    assert gate(pairs, intended=False) == []
    assert "Data or availability at risk" not in render_markdown(pairs)


def test_the_gate_from_the_command_line(plans, monkeypatch, capsys):
    prod = plans["prod"]
    renamed = edited(prod, "lake-raw-bucket", bucket="acme-data-prod-raw-renamed")
    monkeypatch.setattr(cli, "build_plans", lambda stacks, root, jobs=None: {"prod": prod, "edited": renamed})
    assert cli.main(["diff", "prod", "edited", "--fail-on-protected"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("protected: prod -> edited: aws:s3/bucket:Bucket lake-raw-bucket: replace")
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert cli.main(["diff", "prod", "edited", "--fail-on-protected", "--protected-change-intended"]) == 0
    assert cli.main(["diff", "prod", "edited"]) == 0  # without the gate, only the report
    unchanged = {"prod": prod, "edited": prod}
    monkeypatch.setattr(cli, "build_plans", lambda stacks, root, jobs=None: unchanged)
    assert cli.main(["diff", "prod", "edited", "--fail-on-protected"]) == 0


@pytest.fixture
def one_stack_changed(plans) -> list[Pair]:
    """dev's system nodes changed as in a pull request; test and prod untouched."""
    dev = plans["dev"]
    after = edited(dev, "cluster-system-nodes", instanceTypes=["m6i.large"])
    plans_ = [(dev, after), (plans["test"], plans["test"]), (plans["prod"], plans["prod"])]
    return [
        Pair(a.stack, diff(a, b), delta) for (a, b), delta in zip(plans_, deltas(ROOT, plans_), strict=True)
    ]


def test_markdown_for_a_one_stack_change_has_the_summary_and_that_stack_only(one_stack_changed):
    md = render_markdown(one_stack_changed)
    lines = md.splitlines()
    assert lines[0] == "### Environment diff"
    table = [line for line in lines if line.startswith("| `")]
    assert [row.split(" | ")[0] for row in table] == ["| `dev`", "| `test`", "| `prod`"]
    sections = [line for line in lines if line.startswith("#### ")]
    assert sections == ["#### `dev` → `dev`: 1 resource differs"]
    assert "No differences in `test`, `prod`." in md
    assert "<b>cluster</b>: 1 resource differs" in md
    assert "**cluster-system-nodes**: replace (forced by instanceTypes)" in md
    assert "1 resources" not in md


def test_text_markdown_and_json_carry_the_same_facts(one_stack_changed):
    doc = json.loads(render_json(one_stack_changed))
    md, text = render_markdown(one_stack_changed), render_text(one_stack_changed)
    for row in doc["summary"]:
        cells = [
            row["changes"],
            row["create"],
            row["update"],
            row["replace"],
            row["delete"],
            row["atRisk"],
            row["blocked"],
            f"{row['costPerMonthChange']:+,.2f}",
            f"{row['deployMinutesChange']:+.1f} min",
        ]
        assert f"| `{row['stack']}` | {' | '.join(map(str, cells))} |" in md
        assert text.splitlines()[[r["stack"] for r in doc["summary"]].index(row["stack"]) + 1].split() == [
            row["stack"],
            *" ".join(map(str, cells)).split(),
        ]
    dev = doc["stacks"][0]
    (r,) = dev["resources"]
    assert (r["action"], r["forcedBy"]) == ("replace", ["instanceTypes"]) and r["atRisk"]
    assert "cluster-system-nodes: replace (forced by instanceTypes)" in text
    assert doc["summary"][0]["atRisk"] == 1 and "data or availability at risk" in text


def test_a_change_the_service_refuses_is_reported_as_failing_at_apply(plans):
    dev = plans["dev"]
    pairs = [pair(dev, edited(dev, "cluster-storage-class", reclaimPolicy="Retain"))]
    line = "**cluster-storage-class**: update; fails at apply: reclaimPolicy cannot change in place"
    assert line in render_markdown(pairs)
    (r,) = json.loads(render_json(pairs))["stacks"][0]["resources"]
    assert r["refusedAtApply"] == ["reclaimPolicy"] and r["changes"][0]["effect"] == "refused"
    # A replacement replaces the object whole: nothing is refused then.
    replaced = edited(
        dev, "cluster-storage-class", reclaimPolicy="Retain", provisioner="other.csi.example.com"
    )
    md = render_markdown([pair(dev, replaced)])
    assert "fails at apply" not in md and "refused" not in md
