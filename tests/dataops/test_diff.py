"""`python -m dataops diff A B`: resources matched by logical name, stack names as noise."""

from __future__ import annotations

import json
import subprocess
import sys

from dataops.diff import diff
from dataops.diff_report import Delta, Pair, render_json, render_markdown, render_text
from dataops.plan import ROOT

NO_DELTA = Delta(0.0, 0.0, 0.0, 0.0, 0.0)


def report(d):
    return [Pair(f"{d.a} -> {d.b}", d, NO_DELTA)]


def test_a_stack_against_itself_has_no_difference(plans):
    d = diff(plans["dev"], plans["dev"])
    assert d.empty and "No differences." in render_markdown(report(d))


def test_test_against_prod_shows_real_differences_only(plans):
    d = diff(plans["test"], plans["prod"])
    by_name = {r.name: r for r in d.resources}
    # sizes differ, and prod protects its cluster: reported with their property paths
    system = {c.path: (c.a, c.b) for c in by_name["cluster-system-nodes"].changes}
    assert system["inputs.scalingConfig.minSize"] == (1, 3)
    assert by_name["cluster-notebooks-2-nodes"].status == "only-b"  # prod's third AZ
    assert {c.path for c in by_name["cluster-eks"].changes} >= {"inputs.deletionProtection", "protect"}
    # the lake lives only in prod, the workspace only in test
    assert by_name["lake-raw-bucket"].status == "only-b"
    assert by_name["access-workspace-bucket"].status == "only-a"
    # naming noise is gone: nothing differs just because of the stack name or generated ids
    text = render_text(report(d))
    assert "dataops-test" not in text and "dataops-prod" not in text
    assert "team-data-science-namespace" not in by_name
    assert "cluster-network-vpc" in by_name and [c.path for c in by_name["cluster-network-vpc"].changes] == [
        "inputs.cidrBlock"
    ]


def test_markdown_puts_the_summary_first_and_folds_details(plans):
    md = render_markdown(report(diff(plans["dev"], plans["prod"])), max_lines=5)
    lines = md.splitlines()
    assert lines[0] == "### Environment diff" and lines[2].startswith("| stack | changes |")
    assert lines[4].startswith("| `dev -> prod` | ")
    assert "<details><summary>" in md and "</details>" in md
    assert "_Trimmed:" in md


def test_components_are_named_once_and_counts_agree_in_number(plans):
    d = diff(plans["test"], plans["prod"])
    components = {r.component for r in d.resources}
    assert "cluster" in components and "Cluster cluster" not in components
    assert "lake (DataLake)" in components  # the type is kept where the name does not say it


def test_json_is_one_document_with_the_summary_and_every_stack(plans):
    doc = json.loads(render_json(report(diff(plans["dev"], plans["test"]))))
    assert set(doc) == {"summary", "protected", "stacks"}
    (stack,) = doc["stacks"]
    assert stack["counts"]["changed"] == sum(r["status"] == "changed" for r in stack["resources"])
    assert doc["summary"][0]["changes"] == len(stack["resources"])
    assert sum(stack["actions"].values()) == len(stack["resources"])


def test_cli_formats_and_unknown_stack():
    ok = subprocess.run(
        [sys.executable, "-m", "dataops", "diff", "dev", "test", "--format", "markdown"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ok.returncode == 0 and ok.stdout.startswith("### Environment diff\n")
    assert "| `dev -> test` |" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "dataops", "diff", "dev", "staging"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("error: Pulumi.staging.yaml: no such stack file")
    assert "Traceback" not in bad.stderr
