"""Reading the project's YAML files: the fast parser reads them as `yaml.safe_load` does."""

from __future__ import annotations

import pytest
import yaml

from dataops.plan import ROOT
from dataops.stack_files import parse_yaml

SHIPPED = sorted([*ROOT.glob("Pulumi*.yaml"), ROOT / "parity.yaml", *ROOT.glob("estimates/*.yaml")])


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_file_reads_as_safe_load_reads_it(path):
    text = path.read_text(encoding="utf-8")
    assert parse_yaml(text) == yaml.safe_load(text)


@pytest.mark.parametrize(
    "text",
    [
        "config:\n  a: 1\n b: 2\n",  # a key out of line
        "\tconfig: {}\n",  # a tab as indentation
        "config: *nope\n",  # an alias never defined
        "config: [1, 2\n",  # an unclosed list
    ],
)
def test_a_broken_file_fails_with_the_error_safe_load_gives(text):
    with pytest.raises(yaml.YAMLError) as expected:
        yaml.safe_load(text)
    with pytest.raises(yaml.YAMLError) as got:
        parse_yaml(text)
    assert str(got.value) == str(expected.value)


def test_a_document_only_the_pure_python_parser_accepts_still_reads():
    text = "%YAML 1.3\n---\nconfig: {}\n"  # libyaml refuses a YAML version it does not know
    assert parse_yaml(text) == yaml.safe_load(text) == {"config": {}}
