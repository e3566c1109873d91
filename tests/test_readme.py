"""The README documents every config key, and CI runs the README's test command."""

from __future__ import annotations

from pydantic.alias_generators import to_camel

from components import config as c
from dataops.plan import ROOT

README = (ROOT / "README.md").read_text()


def test_every_config_key_is_documented():
    sections = {"lake": c.Lake, "access": c.Access, "workspace": c.Workspace}
    missing = [
        to_camel(n)
        for n in c.StackConfig.model_fields
        if f"`{to_camel(n)}" not in README
        and to_camel(n) not in sections
        and f"`{to_camel(n)}`" not in README
    ]
    for section, model in sections.items():
        missing += [
            f"{section}.{to_camel(n)}"
            for n in model.model_fields
            if f"`{section}.{to_camel(n)}" not in README
        ]
    missing += [to_camel(n) for n in c.Zone.model_fields if f"`{to_camel(n)}`" not in README]
    assert missing == []


def test_ci_runs_the_readme_test_command():
    command = "python3 tasks.py test"
    assert command in README
    assert command in (ROOT / ".ci" / "run").read_text()
