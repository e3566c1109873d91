"""The README documents every config key, and CI runs the README's test command."""

from __future__ import annotations

from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from components import config as c
from dataops.plan import ROOT

README = (ROOT / "README.md").read_text()
SECTIONS = {
    "lake": c.LakeConfig,
    "access": c.AccessConfig,
    "workspace": c.WorkspaceConfig,
    "cluster": c.ClusterConfig,
    "image": c.ImageConfig,
    "sandbox": c.SandboxConfig,
    "ci": c.CiConfig,
}
NESTED = [
    c.RunnerConfig,
    c.ZoneConfig,
    c.TransitionConfig,
    c.ObjectLockConfig,
    c.NetworkConfig,
    c.NodeGroupConfig,
    c.ExistingClusterConfig,
    c.TeamConfig,
    c.QuotaConfig,
]


def test_every_config_key_is_documented():
    missing = [
        to_camel(n)
        for n in c.StackConfig.model_fields
        if to_camel(n) not in SECTIONS and f"`{to_camel(n)}`" not in README
    ]
    for section, model in SECTIONS.items():
        missing += [
            f"{section}.{to_camel(n)}"
            for n in model.model_fields
            if f"`{section}.{to_camel(n)}" not in README
        ]
    for model in NESTED:
        missing += [
            f"{model.__name__}.{to_camel(n)}" for n in model.model_fields if f"`{to_camel(n)}`" not in README
        ]
    assert missing == []
    assert all(issubclass(m, BaseModel) for m in NESTED)


def test_ci_runs_the_readme_test_command():
    command = "python3 tasks.py test"
    assert command in README
    assert command in (ROOT / ".ci" / "run").read_text()


def test_first_deploy_creates_the_stack_before_its_secret_and_commits_it_before_the_bootstrap():
    section = README[README.index("## First deploy") : README.index("### On a laptop")]
    order = [
        section.index("pulumi stack init"),
        section.index("pulumi config set --secret oauthClientSecret"),
        section.index("git commit"),
        section.index("pulumi up --stack prod --exclude"),
        section.index("DATAOPS_RUNNERS=true"),
    ]
    assert order == sorted(order)
