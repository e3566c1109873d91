"""The config model: each class of bad input gives one line naming file, key, value and fix."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from components.config import ConfigError, StackConfig
from dataops.plan import ROOT, PlanError, load_config
from dataops.stack_files import OFFLINE_SECRET
from tests.conftest import CONFIGS, SHIPPED

LINE = re.compile(
    r"^(?P<file>[\w.-]+\.yaml): (?P<key>\S+) = (?P<value>.+?): (?P<message>.+); fix: (?P<fix>.+)$"
)


def problems(tmp_path: Path, stack: str, text: str) -> list[str]:
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(PlanError) as info:
        load_config(stack, ROOT, path)
    for line in info.value.lines:
        assert LINE.match(line), f"not in the one-line format: {line}"
        assert "Traceback" not in line
    return info.value.lines


def only(lines: list[str], key: str) -> str:
    hits = [line for line in lines if LINE.match(line)["key"] == key]
    assert len(hits) == 1, f"expected one problem for {key}, got {lines}"
    return hits[0]


@pytest.mark.parametrize("stack", SHIPPED)
def test_shipped_stack_files_validate(stack):
    _, cfg = load_config(stack)
    assert isinstance(cfg, StackConfig)


def test_defaults_are_the_safe_choice():
    _, cfg = load_config("test")
    assert cfg.lake.role == "consumer"
    assert cfg.workspace.force_destroy is False
    assert list(cfg.access.write) == []
    assert StackConfig.model_fields["deletion_protection"].default is True
    assert StackConfig.model_fields["data_classification"].default == "confidential"


def test_every_setting_has_a_description():
    from components import config as c

    models = [
        c.StackConfig,
        c.LakeConfig,
        c.ZoneConfig,
        c.TransitionConfig,
        c.ObjectLockConfig,
        c.AccessConfig,
        c.WorkspaceConfig,
    ]
    missing = [f"{m.__name__}.{n}" for m in models for n, f in m.model_fields.items() if not f.description]
    assert missing == []


def test_shared_values_come_from_pulumi_yaml_and_stack_files_set_only_differences():
    files, cfg = load_config("dev")
    assert files.source.origins["dataops-platform:owner"] == "Pulumi.yaml"
    assert files.source.origins["dataops-platform:environment"] == "Pulumi.dev.yaml"
    assert cfg.owner == "data-platform"


def test_unknown_top_level_key(tmp_path):
    line = only(
        problems(
            tmp_path,
            "dev",
            """
        config:
          dataops-platform:environment: dev
          dataops-platform:deletionProtection: false
          dataops-platform:lake: {role: consumer, ownerStack: prod}
          dataops-platform:workspce: {enabled: true}
    """,
        ),
        "dataops-platform:workspce",
    )
    assert line.startswith("Pulumi.dev.yaml: ")
    assert "unknown key" in line and "workspace" in line  # the hint lists the known keys


def test_unknown_nested_key_names_the_full_path(tmp_path):
    line = only(
        problems(
            tmp_path,
            "prod",
            """
        config:
          dataops-platform:environment: prod
          dataops-platform:lake:
            role: owner
            zones:
              raw: {noncurrentVersionExpiry: 3}
    """,
        ),
        "dataops-platform:lake.zones.raw.noncurrentVersionExpiry",
    )
    assert "noncurrentVersionExpirationDays" in line


def test_wrong_types(tmp_path):
    lines = problems(
        tmp_path,
        "dev",
        """
        config:
          dataops-platform:environment: dev
          dataops-platform:deletionProtection: maybe
          dataops-platform:lake: {role: consumer, ownerStack: prod}
          dataops-platform:workspace: {expireObjectsAfterDays: "thirty"}
          dataops-platform:access: {read: curated}
    """,
    )
    assert "true or false" in only(lines, "dataops-platform:deletionProtection")
    assert "whole number" in only(lines, "dataops-platform:workspace.expireObjectsAfterDays")
    assert "list" in only(lines, "dataops-platform:access.read")


def test_out_of_range_values(tmp_path):
    lines = problems(
        tmp_path,
        "prod",
        """
        config:
          dataops-platform:environment: prod
          dataops-platform:lake:
            role: owner
            kmsDeletionWindowDays: 3
            zones:
              raw: {abortIncompleteMultipartDays: -2}
    """,
    )
    assert ">= 7" in only(lines, "dataops-platform:lake.kmsDeletionWindowDays")
    line = only(lines, "dataops-platform:lake.zones.raw.abortIncompleteMultipartDays")
    assert "= -2:" in line and ">= 1" in line


def test_not_an_allowed_value(tmp_path):
    line = only(
        problems(
            tmp_path,
            "dev",
            """
        config:
          dataops-platform:environment: staging
    """,
        ),
        "dataops-platform:environment",
    )
    assert "'prod'" in line


def test_missing_required_key(tmp_path):
    line = only(
        problems(
            tmp_path,
            "dev",
            """
        config:
          dataops-platform:lake: {role: consumer, ownerStack: prod}
    """,
        ),
        "dataops-platform:environment",
    )
    assert "(not set)" in line


def test_prod_without_deletion_protection(tmp_path):
    line = only(
        problems(
            tmp_path,
            "prod",
            """
        config:
          dataops-platform:environment: prod
          dataops-platform:deletionProtection: false
          dataops-platform:lake: {role: owner}
    """,
        ),
        "dataops-platform:deletionProtection",
    )
    assert "set dataops-platform:deletionProtection to true" in line


def test_object_lock_on_a_stack_that_allows_teardown(tmp_path):
    line = only(
        problems(
            tmp_path,
            "dev",
            """
        config:
          dataops-platform:environment: dev
          dataops-platform:deletionProtection: false
          dataops-platform:lake:
            role: owner
            objectLock: {mode: GOVERNANCE, retentionDays: 30}
    """,
        ),
        "dataops-platform:lake.objectLock",
    )
    assert "teardown" in line


def test_force_destroy_only_in_sandboxes(tmp_path):
    line = only(
        problems(
            tmp_path,
            "dev",
            """
        config:
          dataops-platform:environment: dev
          dataops-platform:deletionProtection: false
          dataops-platform:lake: {role: consumer, ownerStack: prod}
          dataops-platform:workspace: {forceDestroy: true}
    """,
        ),
        "dataops-platform:workspace.forceDestroy",
    )
    assert "sandbox" in line


def test_force_destroy_needs_the_second_opt_in_too(tmp_path):
    # a sandbox asking for forceDestroy must also allow teardown: two opt-ins
    line = only(
        problems(
            tmp_path,
            "sandbox-ana",
            """
        config:
          dataops-platform:environment: sandbox
          dataops-platform:lake: {role: consumer, ownerStack: prod}
          dataops-platform:workspace: {forceDestroy: true}
    """,
        ),
        "dataops-platform:workspace.forceDestroy",
    )
    assert "deletionProtection" in line


def test_consumers_never_write_to_the_lake_and_must_name_the_owner(tmp_path):
    lines = problems(
        tmp_path,
        "dev",
        """
        config:
          dataops-platform:environment: dev
          dataops-platform:lake: {role: consumer}
          dataops-platform:access: {write: [curated]}
    """,
    )
    assert "workspace" in only(lines, "dataops-platform:access.write")
    assert "(not set)" in only(lines, "dataops-platform:lake.ownerStack")


def test_consumers_do_not_configure_the_owners_buckets(tmp_path):
    line = only(
        problems(
            tmp_path,
            "dev",
            """
        config:
          dataops-platform:environment: dev
          dataops-platform:lake:
            role: consumer
            ownerStack: prod
            objectLock: {mode: GOVERNANCE, retentionDays: 1}
    """,
        ),
        "dataops-platform:lake.objectLock",
    )
    assert "owner stack" in line


def test_sandboxes_never_own_the_lake(tmp_path):
    line = only(
        problems(
            tmp_path,
            "sandbox-x",
            """
        config:
          dataops-platform:environment: sandbox
          dataops-platform:lake: {role: owner}
    """,
        ),
        "dataops-platform:lake.role",
    )
    assert "consumer" in line


def test_reading_a_zone_the_lake_does_not_have(tmp_path):
    line = only(
        problems(
            tmp_path,
            "prod",
            """
        config:
          dataops-platform:environment: prod
          dataops-platform:lake: {role: owner, zones: {raw: {}}}
          dataops-platform:access: {read: [raw, gold]}
    """,
        ),
        "dataops-platform:access.read",
    )
    assert "gold" in line and "raw" in line


def test_lifecycle_transitions_follow_s3_rules(tmp_path):
    lines = problems(
        tmp_path,
        "prod",
        """
        config:
          dataops-platform:environment: prod
          dataops-platform:lake:
            role: owner
            zones:
              raw:
                transitions:
                  - {days: 10, storageClass: STANDARD_IA}
                  - {days: 5, storageClass: GLACIER}
    """,
    )
    assert any("30 days" in line for line in lines)
    assert any("increasing order" in line for line in lines)


def test_bucket_names_must_fit_in_63_characters(tmp_path):
    line = only(
        problems(
            tmp_path,
            "prod",
            """
        config:
          dataops-platform:environment: prod
          dataops-platform:namePrefix: a-very-long-prefix-x
          dataops-platform:lake:
            role: owner
            zones: {exceptionally-lon: {}}
    """,
        ),
        "dataops-platform:namePrefix",
    )
    assert "63" in line


def test_platform_tags_cannot_be_overridden(tmp_path):
    line = only(
        problems(
            tmp_path,
            "dev",
            """
        config:
          dataops-platform:environment: dev
          dataops-platform:deletionProtection: false
          dataops-platform:lake: {role: consumer, ownerStack: prod}
          dataops-platform:tags: {owner: someone-else}
    """,
        ),
        "dataops-platform:tags.owner",
    )
    assert "ownerStack" not in line


def test_unknown_namespace_and_bad_region(tmp_path):
    lines = problems(
        tmp_path,
        "dev",
        """
        config:
          aws:region: mars-1
          dataops:environment: dev
          dataops-platform:environment: dev
          dataops-platform:deletionProtection: false
          dataops-platform:lake: {role: consumer, ownerStack: prod}
    """,
    )
    assert "eu-west-1" in only(lines, "aws:region")
    assert "unknown namespace" in only(lines, "dataops:environment")


def test_every_problem_is_reported_at_once(tmp_path):
    lines = problems(
        tmp_path,
        "prod",
        """
        config:
          dataops-platform:environment: prod
          dataops-platform:lake:
            role: owner
            zones: {raw: {abortIncompleteMultipartDays: 0, noncurrentVersionExpirationDays: "x"}}
          dataops-platform:bogus: 1
    """,
    )
    assert len(lines) == 3


def test_program_run_reports_bad_config_without_traceback(monkeypatch):
    """Under `pulumi up` the same validation raises pulumi.RunError (printed without a traceback)."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    from components.config import load_stack_config

    monkeypatch.setattr(pulumi, "get_stack", lambda: "prod")
    monkeypatch.setattr(pulumi, "get_project", lambda: "dataops-platform")
    token = runtime_config.CONFIG.set(
        {
            "aws:region": "eu-west-1",
            "dataops-platform:environment": "prod",
            "dataops-platform:owner": "o",
            "dataops-platform:costCenter": "c",
            "dataops-platform:deletionProtection": "false",
            "dataops-platform:lake": '{"role": "owner"}',
        }
    )
    try:
        with pytest.raises(pulumi.RunError) as info:
            load_stack_config()
    finally:
        runtime_config.CONFIG.reset(token)
    assert "Pulumi.prod.yaml: dataops-platform:deletionProtection = false" in str(info.value)


def test_config_error_lists_problems():
    from components.config import Problem

    err = ConfigError([Problem("f.yaml", "k", 1, "bad", "fix it")])
    assert str(err) == "f.yaml: k = 1: bad; fix: fix it"


DEV = textwrap.dedent("""
    config:
      dataops-platform:environment: dev
      dataops-platform:deletionProtection: false
      dataops-platform:lake: {role: consumer, ownerStack: prod}
      dataops-platform:notebooks: {enabled: false}
""")


def test_unknown_kubernetes_version(tmp_path):
    line = only(
        problems(
            tmp_path,
            "dev",
            DEV
            + "  dataops-platform:cluster: {adminRoles: ['arn:aws:iam::111122223333:role/break-glass'], kubernetesVersion: '1.19'}\n",
        ),
        "dataops-platform:cluster.kubernetesVersion",
    )
    assert "1.35" in line


def test_vpc_must_be_private_and_service_range_must_not_overlap(tmp_path):
    lines = problems(
        tmp_path,
        "dev",
        DEV
        + """  dataops-platform:cluster:
        adminRoles: ['arn:aws:iam::111122223333:role/break-glass']
        network: {vpcCidr: 8.8.0.0/16, serviceCidr: 8.8.128.0/17}
    """,
    )
    assert "private" in only(lines, "dataops-platform:cluster.network.vpcCidr")
    lines = problems(
        tmp_path,
        "dev",
        DEV
        + """  dataops-platform:cluster:
        adminRoles: ['arn:aws:iam::111122223333:role/break-glass']
        network: {vpcCidr: 10.40.0.0/16, serviceCidr: 10.40.128.0/17}
    """,
    )
    assert "overlaps the VPC range 10.40.0.0/16" in only(
        lines, "dataops-platform:cluster.network.serviceCidr"
    )


def test_public_endpoint_cidrs(tmp_path):
    lines = problems(
        tmp_path,
        "dev",
        DEV
        + """  dataops-platform:cluster:
        adminRoles: ['arn:aws:iam::111122223333:role/break-glass']
        publicAccessCidrs: [0.0.0.0/0, 203.0.113.0/24, 203.0.113.128/25, not-a-cidr]
    """,
    )
    joined = "\n".join(lines)
    assert "whole internet" in joined and "overlaps 203.0.113.0/24" in joined and "not a CIDR" in joined
    assert all(LINE.match(line)["key"] == "dataops-platform:cluster.publicAccessCidrs" for line in lines)


def test_node_group_min_above_max(tmp_path):
    line = only(
        problems(
            tmp_path,
            "dev",
            DEV
            + """  dataops-platform:cluster:
        adminRoles: ['arn:aws:iam::111122223333:role/break-glass']
        notebookNodes: {instanceTypes: [r6i.xlarge], minSize: 4, desiredSize: 4, maxSize: 2}
    """,
        ),
        "dataops-platform:cluster.notebookNodes",
    )
    assert "minSize <= desiredSize <= maxSize" in line


def test_prod_cluster_rules(tmp_path):
    lines = problems(
        tmp_path,
        "prod",
        """
        config:
          dataops-platform:environment: prod
          dataops-platform:lake: {role: owner}
          dataops-platform:image: {digest: "sha256:0b5a2c1e7f9d0b3a6c8e1f4d7b0a3c6e9f2d5b8a1c4e7f0a4f1d2b7c9a0e6f3d"}
          dataops-platform:cluster:
            adminRoles: ['arn:aws:iam::111122223333:role/break-glass']
            publicAccessCidrs: [203.0.113.0/24]
            logTypes: [audit]
    """,
    )
    assert "private only" in only(lines, "dataops-platform:cluster.publicAccessCidrs")
    assert "3" in only(lines, "dataops-platform:cluster.network.availabilityZones")
    assert "perAz" in only(lines, "dataops-platform:cluster.network.natGateways")
    assert "every control-plane log type" in only(lines, "dataops-platform:cluster.logTypes")


def test_mutable_image_tags_are_refused(tmp_path):
    lines = problems(
        tmp_path,
        "test",
        """
        config:
          dataops-platform:environment: test
          dataops-platform:deletionProtection: false
          dataops-platform:lake: {role: consumer, ownerStack: prod}
          dataops-platform:cluster: {adminRoles: ['arn:aws:iam::111122223333:role/break-glass']}
          dataops-platform:image: {digest: latest, repository: "quay.io/team/notebook:v1"}
    """,
    )
    assert "immutable digest" in only(lines, "dataops-platform:image.digest")
    assert "without tag" in only(lines, "dataops-platform:image.repository")


def test_test_and_prod_need_a_promoted_digest(tmp_path):
    line = only(
        problems(
            tmp_path,
            "test",
            """
        config:
          dataops-platform:environment: test
          dataops-platform:deletionProtection: false
          dataops-platform:lake: {role: consumer, ownerStack: prod}
          dataops-platform:cluster: {adminRoles: ['arn:aws:iam::111122223333:role/break-glass']}
    """,
        ),
        "dataops-platform:image.digest",
    )
    assert "(not set)" in line and "never a fresh build" in line


def test_existing_mode_needs_a_kubeconfig_or_context(tmp_path):
    line = only(
        problems(tmp_path, "dev", DEV + "  dataops-platform:cluster: {mode: existing}\n"),
        "dataops-platform:cluster.existing",
    )
    assert "kubeconfig" in line


def test_existing_mode_accepts_a_secret_kubeconfig(tmp_path):
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(
        textwrap.dedent(DEV) + "  dataops-platform:cluster: {mode: existing}\n"
        "  dataops-platform:kubeconfig:\n    secure: v1:AAAA\n"
    )
    _, cfg = load_config("dev", ROOT, path)
    assert cfg.cluster.mode == "existing"
    assert cfg.kubeconfig is not None and cfg.kubeconfig.get_secret_value() == OFFLINE_SECRET
    assert OFFLINE_SECRET not in repr(cfg) and "AAAA" not in repr(cfg)


def test_eks_mode_needs_an_admin_and_team_names_must_be_dns_labels(tmp_path):
    lines = problems(
        tmp_path, "dev", DEV + "  dataops-platform:teams: [{name: Data_Science}, {name: ok}, {name: ok}]\n"
    )
    assert "at least one IAM role" in only(lines, "dataops-platform:cluster.adminRoles")
    assert sum("dataops-platform:teams" in line for line in lines) == 2


def _validate(raw_stack: dict, secret_keys: tuple[str, ...]):
    from components.config import Source, validate

    raw = {"aws:region": "eu-west-1", "dataops-platform:owner": "o", "dataops-platform:costCenter": "c"}
    raw |= {f"dataops-platform:{k}": v for k, v in raw_stack.items()}
    return validate(
        raw,
        project="dataops-platform",
        stack="dev",
        source=Source("Pulumi.dev.yaml", {}),
        secret_keys=[f"dataops-platform:{k}" for k in secret_keys],
    )


EXISTING = {
    "environment": "dev",
    "deletionProtection": "false",
    "lake": '{"role": "consumer", "ownerStack": "prod"}',
    "notebooks": '{"enabled": false}',
}


def test_secret_values_are_never_parsed_or_echoed():
    # as the Pulumi CLI hands a decrypted secret to the program: a JSON kubeconfig stays text
    kubeconfig = '{"apiVersion": "v1", "token": "s3cr3t-token"}'
    cfg = _validate(EXISTING | {"kubeconfig": kubeconfig, "cluster": '{"mode": "existing"}'}, ("kubeconfig",))
    assert cfg.kubeconfig.get_secret_value() == kubeconfig and "s3cr3t-token" not in repr(cfg)
    with pytest.raises(ConfigError) as info:
        _validate(
            EXISTING | {"kubeconfig": kubeconfig, "cluster": '{"mode": "existing", "kubernetesVersion": 9}'},
            ("kubeconfig",),
        )
    assert "s3cr3t-token" not in str(info.value)


@pytest.mark.parametrize("key", ["kubeconfig", "oauthClientSecret"])
def test_a_secret_in_plain_text_is_refused_and_not_echoed(tmp_path, key):
    text = DEV + f'  dataops-platform:{key}: "s3cr3t-value"\n'
    line = only(problems(tmp_path, "dev", text), f"dataops-platform:{key}")
    assert "plain text" in line and f"pulumi config set --secret {key}" in line
    assert "s3cr3t-value" not in line


def test_trusted_principals_must_be_roles_not_whole_accounts(tmp_path):
    line = only(
        problems(
            tmp_path,
            "dev",
            DEV + "  dataops-platform:access: {trustedPrincipals: ['arn:aws:iam::999999999999:root']}\n",
        ),
        "dataops-platform:access.trustedPrincipals",
    )
    assert "role ARN" in line


@pytest.mark.parametrize(
    ("extra", "refused"),
    [
        ("    scheme: internet-facing\n", True),
        ("    scheme: internet-facing\n    allowedCidrs: [0.0.0.0/0]\n", True),
        ("    scheme: internet-facing\n    allowedCidrs: [203.0.113.0/24]\n", False),
        ("    allowedCidrs: []\n", False),  # internal: the VPC and networks joined to it
    ],
)
def test_prod_hub_is_not_open_to_the_whole_internet(tmp_path, extra, refused):
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text((ROOT / "Pulumi.prod.yaml").read_text() + extra)
    if refused:
        assert "whole internet" in only(
            problems(tmp_path, "prod", path.read_text()), "dataops-platform:notebooks.allowedCidrs"
        )
    else:
        load_config("prod", ROOT, path)


@pytest.mark.parametrize(
    ("extra", "key", "message"),
    [
        (
            "    hostedZone: example.org\n",
            "dataops-platform:notebooks.hostname",
            "not a name in the hosted zone",
        ),
        ("    hostedZone: 'not a zone'\n", "dataops-platform:notebooks.hostedZone", "not a DNS zone"),
        ("    allowedCidrs: [10.0.0.0/33]\n", "dataops-platform:notebooks.allowedCidrs", "not a CIDR"),
    ],
)
def test_hub_endpoint_settings_are_checked(tmp_path, extra, key, message):
    text = (ROOT / "Pulumi.test.yaml").read_text().replace("    hostedZone: example.com\n", "") + extra
    assert message in only(problems(tmp_path, "test", text), key)


def test_yaml_dates_and_number_keys_are_reported_not_crashed(tmp_path):
    lines = problems(
        tmp_path,
        "dev",
        DEV + "  dataops-platform:tags: {created: 2024-01-01, 1: c}\n  dataops-platform:bogus: 1\n",
    )
    assert "unknown key" in only(lines, "dataops-platform:bogus")


def test_quota_and_profile_sizes_and_system_namespaces(tmp_path):
    extra = (
        "  dataops-platform:teams: [{name: a, quota: {cpu: lots, memory: 1TB}}]\n"
        "  dataops-platform:hubNamespace: kube-system\n"
        "  dataops-platform:notebooks:\n"
        "    authenticator: dummy\n"
        "    profiles: [{name: big, cpuGuarantee: 1, cpuLimit: 2, memGuarantee: 8G, memLimit: 4G}]\n"
    )
    lines = problems(
        tmp_path, "dev", DEV.replace("  dataops-platform:notebooks: {enabled: false}\n", "") + extra
    )
    assert "CPU quantity" in only(lines, "dataops-platform:teams[0].quota.cpu")
    assert "not a size" in only(lines, "dataops-platform:teams[0].quota.memory")
    assert "system namespace" in only(lines, "dataops-platform:hubNamespace")
    assert "exceeds the limit 4G" in only(lines, "dataops-platform:notebooks.profiles[0].memGuarantee")


def test_a_number_where_text_is_expected_gets_a_quoting_hint(tmp_path):
    line = only(
        problems(
            tmp_path,
            "dev",
            DEV
            + "  dataops-platform:cluster: {adminRoles: ['arn:aws:iam::111122223333:role/break-glass'], kubernetesVersion: 1.30}\n",
        ),
        "dataops-platform:cluster.kubernetesVersion",
    )
    assert 'quote it, e.g. "1.30"' in line


def test_sandbox_rules(tmp_path):
    # Everything a sandbox must not be, at once: protected, writing the lake, reading raw data,
    # keeping its scratch, bringing its own cluster, teams or hub, and living too long.
    lines = problems(
        tmp_path,
        "sandbox-x",
        """
        config:
          dataops-platform:environment: sandbox
          dataops-platform:lake: {role: consumer, ownerStack: prod}
          dataops-platform:access: {read: [raw, curated], write: [curated]}
          dataops-platform:workspace: {forceDestroy: false}
          dataops-platform:cluster: {adminRoles: ['arn:aws:iam::111122223333:role/break-glass']}
          dataops-platform:teams: [{name: data-science}]
          dataops-platform:sandbox:
            createdAt: "2026-11-28T18:00:00Z"
            expiresAt: "2026-12-28T18:00:00Z"
            maxTtlHours: 72
    """,
    )
    assert "nothing in a sandbox is protected" in only(lines, "dataops-platform:deletionProtection")
    assert "never write into the shared lake" in only(lines, "dataops-platform:access.write")
    assert "curated zone only" in only(lines, "dataops-platform:access.read")
    assert "removable with the sandbox" in only(lines, "dataops-platform:workspace.forceDestroy")
    assert "host stack's cluster" in only(lines, "dataops-platform:cluster")
    assert "only its own namespace" in only(lines, "dataops-platform:teams")
    assert "hub belongs to the host stack" in only(lines, "dataops-platform:notebooks.enabled")
    assert "720 hours exceeds maxTtlHours (72)" in only(lines, "dataops-platform:sandbox.expiresAt")


def test_sandbox_needs_its_section_with_real_times(tmp_path):
    missing = problems(
        tmp_path,
        "sandbox-x",
        "config:\n  dataops-platform:environment: sandbox\n  dataops-platform:lake: {role: consumer, ownerStack: prod}\n",
    )
    assert "sandbox create" in only(missing, "dataops-platform:sandbox")
    bad = problems(
        tmp_path,
        "sandbox-x",
        """
        config:
          dataops-platform:environment: sandbox
          dataops-platform:deletionProtection: false
          dataops-platform:lake: {role: consumer, ownerStack: prod}
          dataops-platform:access: {read: [curated]}
          dataops-platform:workspace: {forceDestroy: true}
          dataops-platform:teams: []
          dataops-platform:notebooks: {enabled: false}
          dataops-platform:sandbox: {createdAt: "2026-11-28", expiresAt: "2026-11-27T00:00:00+00:00"}
    """,
    )
    assert "UTC offset" in only(bad, "dataops-platform:sandbox.createdAt")
    other = problems(
        tmp_path, "dev2", "config:\n  dataops-platform:environment: dev\n  dataops-platform:sandbox: {}\n"
    )
    assert "only sandbox stacks" in only(other, "dataops-platform:sandbox")


ADMIN = "arn:aws:iam::111122223333:role/break-glass"
CI_CASES = {
    # a bare name cannot become the ARN of a role under a path (IAM Identity Center)
    "bare admin name": (
        "  dataops-platform:cluster: {adminRoles: [platform-admin]}\n",
        "dataops-platform:cluster.adminRoles",
        "aws iam get-role --role-name platform-admin",
    ),
    "admin not a role": (
        "  dataops-platform:cluster: {adminRoles: ['arn:aws:iam::111122223333:user/alice']}\n",
        "dataops-platform:cluster.adminRoles",
        "not an IAM role ARN",
    ),
    "deploy role not an ARN": (
        f"  dataops-platform:cluster: {{adminRoles: ['{ADMIN}']}}\n"
        "  dataops-platform:ci: {repository: o/r, connectionArn: 'arn:aws:codeconnections:eu-west-1:111122223333:connection/6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f', deployRole: github-deploy}\n",
        "dataops-platform:ci.deployRole",
        "bare role name",
    ),
    "repository not owner/name": (
        f"  dataops-platform:cluster: {{adminRoles: ['{ADMIN}']}}\n"
        "  dataops-platform:ci: {repository: 'https://github.com/o/r', connectionArn: 'arn:aws:codeconnections:eu-west-1:111122223333:connection/6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f'}\n",
        "dataops-platform:ci.repository",
        "owner/name",
    ),
    "connection not a connection": (
        f"  dataops-platform:cluster: {{adminRoles: ['{ADMIN}']}}\n"
        "  dataops-platform:ci: {repository: o/r, connectionArn: 'arn:aws:iam::111122223333:role/x'}\n",
        "dataops-platform:ci.connectionArn",
        "list-connections",
    ),
    "runner without its connection": (
        f"  dataops-platform:cluster: {{adminRoles: ['{ADMIN}']}}\n"
        "  dataops-platform:ci: {repository: o/r}\n",
        "dataops-platform:ci.connectionArn",
        "ci.runner.enabled: false",
    ),
    "no way into the private endpoint": (
        f"  dataops-platform:cluster: {{adminRoles: ['{ADMIN}']}}\n"
        "  dataops-platform:ci: {runner: {enabled: false}}\n",
        "dataops-platform:ci.runner.enabled",
        "privateAccessCidrs",
    ),
    "public range as private access": (
        f"  dataops-platform:cluster: {{adminRoles: ['{ADMIN}'], privateAccessCidrs: [203.0.113.0/24]}}\n",
        "dataops-platform:cluster.privateAccessCidrs",
        "publicAccessCidrs",
    ),
}


@pytest.mark.parametrize("case", sorted(CI_CASES))
def test_ci_and_access_config_is_checked(tmp_path, case):
    text, key, fix = CI_CASES[case]
    line = only(problems(tmp_path, "dev", DEV + text), key)
    assert fix in line, line


def test_without_the_runner_a_vpn_range_is_a_way_in(tmp_path):
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(
        DEV
        + f"  dataops-platform:cluster: {{adminRoles: ['{ADMIN}'], privateAccessCidrs: [10.100.0.0/16]}}\n"
        + "  dataops-platform:ci: {runner: {enabled: false}}\n"
    )
    cfg = load_config("dev", ROOT, path)[1]
    assert not cfg.runs_runner and cfg.cluster.private_access_cidrs == ["10.100.0.0/16"]


@pytest.mark.parametrize(
    ("stack", "text", "key"),
    [
        ("prod", "privateAccessCidrs: [10.100.0.0/16]", "dataops-platform:cluster.privateAccessCidrs"),
        ("prod", "hostSandboxes: true", "dataops-platform:cluster.hostSandboxes"),
    ],
)
def test_prod_admits_its_runner_only_and_hosts_no_sandboxes(tmp_path, stack, text, key):
    shipped = (ROOT / "Pulumi.prod.yaml").read_text()
    edited = shipped.replace("  dataops-platform:cluster:\n", f"  dataops-platform:cluster:\n    {text}\n")
    assert edited != shipped
    assert "prod" in only(problems(tmp_path, stack, edited), key)


def test_only_dev_hosts_sandboxes_by_default():
    assert not any("hostSandboxes" in (ROOT / f"Pulumi.{s}.yaml").read_text() for s in SHIPPED)
    hosts = {stack: cfg.hosts_sandboxes for stack, cfg in CONFIGS.items()}
    assert hosts == {stack: cfg.environment == "dev" for stack, cfg in CONFIGS.items()}
