"""Malformed and dangerous stack files, as a careless or hostile user writes them: each is fed
to `plan --config` and (for the project's own stacks) to `validate` through the CLI entry point,
and must exit 2 with short, one-line-per-problem errors that name the key, and no traceback.
Alias bombs and huge files are refused before they cost time or memory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from dataops.cli import main
from dataops.plan import ROOT

ADMIN = "arn:aws:iam::111122223333:role/break-glass"
DIGEST = "sha256:" + "a" * 64
CONNECTION = "arn:aws:codeconnections:eu-west-1:111122223333:connection/6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"


def shipped(stack: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]


def edit(stack: str, **changes: Any) -> str:
    """The shipped stack file with `changes` (camelCase keys; a dotted key edits one setting of a
    section; None removes the key)."""
    config = shipped(stack)
    for key, value in changes.items():
        section, _, field = key.partition(".")
        full = f"dataops-platform:{section}"
        if field:
            config[full] = {**(config.get(full) or {}), field: value}
        elif value is None:
            config.pop(full, None)
        else:
            config[full] = value
    return yaml.safe_dump({"config": config}, sort_keys=False)


BOMB = textwrap.dedent("""\
    config:
      dataops-platform:environment: dev
      a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]
      b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
      c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
      d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
      e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
      f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
      g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
      h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
      dataops-platform:tags: {big: *h}
""")
SMALL_BOMB = textwrap.dedent("""\
    config:
      a: &a ["xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "x", "x"]
      b: &b [*a, *a, *a, *a, *a, *a, *a, *a]
      c: &c [*b, *b, *b, *b, *b, *b, *b, *b]
      d: &d [*c, *c, *c, *c, *c, *c, *c, *c]
      dataops-platform:namePrefix: *d
""")

# A well-formed dataset declaration the cases below break one way each.
_DATASET = {
    "name": "events",
    "zone": "curated",
    "prefix": "a/",
    "owner": "a-team",
    "columns": [{"name": "id", "type": "string"}],
}

# (stack, stack file text, what stderr must name, checked by validate too)
CASES: dict[str, tuple[str, str, str, bool]] = {
    # --- the file itself ----------------------------------------------------------------------
    "not yaml": ("dev", "config: [1, 2\n", "Pulumi.dev.yaml: line", True),
    "tab indentation": (
        "dev",
        "config:\n\tdataops-platform:environment: dev\n",
        "Pulumi.dev.yaml: line",
        True,
    ),
    "a list, not a file of settings": ("dev", "- config\n", "Pulumi.dev.yaml: expected a mapping", True),
    "unknown top-level key": ("dev", "confg: {}\n", "Pulumi.dev.yaml: confg: unknown top-level key", True),
    "config is a list": ("dev", "config: [a, b]\n", "config: expected a mapping", True),
    "duplicate key": (
        "dev",
        edit("dev") + "  dataops-platform:environment: prod\n",
        "duplicate key 'dataops-platform:environment'",
        True,
    ),
    "bare and namespaced key": (
        "dev",
        edit("dev") + "  environment: dev\n",
        "dataops-platform:environment is set twice",
        True,
    ),
    "alias bomb": ("dev", BOMB, "Pulumi.dev.yaml: expands to more than", True),
    "small alias bomb": ("dev", SMALL_BOMB, "dataops-platform:namePrefix", True),
    "unknown namespace": ("dev", edit("dev") + "  foo:bar: 1\n", "foo:bar", True),
    "misspelt key": ("dev", edit("dev", workspce={"enabled": True}), "dataops-platform:workspce", True),
    "not utf-8": ("dev", "config:\n  dataops-platform:owner: caf\udce9\n", "not UTF-8", True),
    # --- values of the wrong kind ---------------------------------------------------------------
    "unknown environment": ("dev", edit("dev", environment="staging"), "dataops-platform:environment", True),
    "protection not a boolean": ("dev", edit("dev", deletionProtection="maybe"), "deletionProtection", True),
    "a list for a name": ("dev", edit("dev", namePrefix=["a", "b"]), "dataops-platform:namePrefix", True),
    "version as a number": (
        "dev",
        edit("dev", **{"cluster.kubernetesVersion": 1.3}),
        "kubernetesVersion",
        True,
    ),
    "lake as a word": ("dev", edit("dev", lake="consumer"), "dataops-platform:lake", True),
    "a string for a number": (
        "dev",
        edit("dev", **{"workspace.expireObjectsAfterDays": "30"}),
        "expireObjectsAfterDays",
        True,
    ),
    "negative days": (
        "prod",
        edit("prod", **{"lake.accessLogRetentionDays": -1}),
        "dataops-platform:lake.accessLogRetentionDays",
        True,
    ),
    "huge value echoed": ("dev", edit("dev", owner="x" * 5000), "dataops-platform:owner", True),
    # --- the lake ---------------------------------------------------------------------------------
    "transitions out of order": (
        "prod",
        edit(
            "prod",
            **{
                "lake.zones": {
                    "raw": {
                        "transitions": [
                            {"days": 90, "storageClass": "GLACIER"},
                            {"days": 30, "storageClass": "STANDARD_IA"},
                        ]
                    }
                }
            },
        ),
        "lake.zones.raw.transitions[1].days",
        True,
    ),
    "infrequent access too early": (
        "prod",
        edit(
            "prod", **{"lake.zones": {"raw": {"transitions": [{"days": 7, "storageClass": "STANDARD_IA"}]}}}
        ),
        "lake.zones.raw.transitions[0].days",
        True,
    ),
    "no noncurrent retention": (
        "prod",
        edit("prod", **{"lake.zones": {"raw": {"noncurrentVersionExpirationDays": 0}}}),
        "noncurrentVersionExpirationDays",
        True,
    ),
    "bad object lock mode": (
        "prod",
        edit("prod", **{"lake.objectLock": {"mode": "STRICT", "retentionDays": 30}}),
        "lake.objectLock.mode",
        True,
    ),
    "object lock on a teardown stack": (
        "prod",
        edit(
            "prod",
            deletionProtection=False,
            environment="test",
            **{"lake.objectLock": {"mode": "GOVERNANCE", "retentionDays": 1}},
        ),
        "dataops-platform:lake.objectLock",
        True,
    ),
    "a dataset in a zone the lake lacks": (
        "prod",
        edit("prod", **{"lake.datasets": [{**_DATASET, "zone": "gold"}]}),
        'dataops-platform:lake.datasets[0].zone = "gold": not a zone of the lake',
        True,
    ),
    "a quality rule on a column the dataset lacks": (
        "prod",
        edit("prod", **{"lake.datasets": [{**_DATASET, "rules": [{"rule": "IsUnique", "column": "idd"}]}]}),
        'dataops-platform:lake.datasets[0].rules[0].column = "idd": not a column',
        True,
    ),
    "two datasets over the same objects": (
        "prod",
        edit("prod", **{"lake.datasets": [_DATASET, {**_DATASET, "name": "other", "prefix": "a/b/"}]}),
        'dataops-platform:lake.datasets[1].prefix = "a/b/": overlaps',
        True,
    ),
    "consumer writes the lake": (
        "dev",
        edit("dev", access={"write": ["raw"]}),
        "dataops-platform:access.write",
        True,
    ),
    "consumer configures zones": (
        "dev",
        edit("dev", **{"lake.zones": {"raw": {}}}),
        "dataops-platform:lake.zones",
        True,
    ),
    "owner names an owner": (
        "prod",
        edit("prod", **{"lake.ownerStack": "dev"}),
        "dataops-platform:lake.ownerStack",
        True,
    ),
    "consumer without owner": (
        "dev",
        edit("dev", lake={"role": "consumer"}),
        "dataops-platform:lake.ownerStack",
        True,
    ),
    "reads a zone the lake lacks": (
        "dev",
        edit("dev", access={"read": ["gold"]}),
        "dataops-platform:access.read",
        True,
    ),
    "trusts a whole account": (
        "dev",
        edit("dev", access={"trustedPrincipals": ["arn:aws:iam::999999999999:root"]}),
        "access.trustedPrincipals",
        True,
    ),
    "force-destroys outside a sandbox": (
        "dev",
        edit("dev", **{"workspace.forceDestroy": True}),
        "workspace.forceDestroy",
        True,
    ),
    "prod without protection": (
        "prod",
        edit("prod", deletionProtection=False),
        "dataops-platform:deletionProtection",
        True,
    ),
    "second lake owner": (
        "dev",
        edit(
            "dev",
            lake={"role": "owner"},
            access={"read": ["raw"], "write": ["raw"]},
            workspace={"enabled": False},
        ),
        "lake.role",
        True,
    ),
    # --- names and tags ---------------------------------------------------------------------------
    "punycode prefix": ("dev", edit("dev", namePrefix="xn--data"), "dataops-platform:namePrefix", True),
    "sthree prefix": ("dev", edit("dev", namePrefix="sthree-data"), "dataops-platform:namePrefix", True),
    "double hyphen prefix": ("dev", edit("dev", namePrefix="data--ops"), "dataops-platform:namePrefix", True),
    "uppercase prefix": ("dev", edit("dev", namePrefix="DataOps"), "dataops-platform:namePrefix", True),
    "bucket name too long": (
        "prod",
        edit(
            "prod",
            namePrefix="a-very-long-prefix-x",
            **{"lake.zones": {"abcdefghijklmnop": {}}},
            access={"read": ["abcdefghijklmnop"]},
        ),
        "dataops-platform:namePrefix",
        True,
    ),
    "overrides a platform tag": (
        "dev",
        edit("dev", tags={"owner": "me"}),
        "dataops-platform:tags.owner",
        True,
    ),
    "aws: tag": (
        "dev",
        edit("dev", tags={"aws:createdBy": "me"}),
        "dataops-platform:tags.aws:createdBy",
        True,
    ),
    "too many tags": (
        "dev",
        edit("dev", tags={f"t{i}": "v" for i in range(45)}),
        "dataops-platform:tags",
        True,
    ),
    "tag value too long": ("dev", edit("dev", tags={"note": "v" * 300}), "dataops-platform:tags.note", True),
    # --- the cluster -------------------------------------------------------------------------------
    "unknown kubernetes version": (
        "dev",
        edit("dev", **{"cluster.kubernetesVersion": "1.20"}),
        "cluster.kubernetesVersion",
        True,
    ),
    "public vpc range": (
        "dev",
        edit("dev", **{"cluster.network": {"vpcCidr": "8.8.0.0/16"}}),
        "cluster.network.vpcCidr",
        True,
    ),
    "vpc too small": (
        "dev",
        edit("dev", **{"cluster.network": {"vpcCidr": "10.40.0.0/24"}}),
        "cluster.network.vpcCidr",
        True,
    ),
    "service range inside the vpc": (
        "dev",
        edit("dev", **{"cluster.network": {"vpcCidr": "10.40.0.0/16", "serviceCidr": "10.40.0.0/20"}}),
        "cluster.network.serviceCidr",
        True,
    ),
    "endpoint open to the internet": (
        "dev",
        edit("dev", **{"cluster.publicAccessCidrs": ["0.0.0.0/0"]}),
        "cluster.publicAccessCidrs",
        True,
    ),
    "public endpoint in prod": (
        "prod",
        edit("prod", **{"cluster.publicAccessCidrs": ["203.0.113.0/24"]}),
        "cluster.publicAccessCidrs",
        True,
    ),
    "vpn range into prod": (
        "prod",
        edit("prod", **{"cluster.privateAccessCidrs": ["10.100.0.0/16"]}),
        "cluster.privateAccessCidrs",
        True,
    ),
    "sizes out of order": (
        "dev",
        edit(
            "dev",
            **{
                "cluster.systemNodes": {
                    "instanceTypes": ["m6i.large"],
                    "minSize": 3,
                    "desiredSize": 1,
                    "maxSize": 2,
                }
            },
        ),
        "cluster.systemNodes",
        True,
    ),
    "instance type that does not exist": (
        "dev",
        edit(
            "dev",
            **{
                "cluster.systemNodes": {
                    "instanceTypes": ["m6i.lrage"],
                    "minSize": 1,
                    "desiredSize": 1,
                    "maxSize": 2,
                }
            },
        ),
        "cluster.systemNodes.instanceTypes",
        True,
    ),
    "no system node": (
        "dev",
        edit(
            "dev",
            **{
                "cluster.systemNodes": {
                    "instanceTypes": ["m6i.large"],
                    "minSize": 0,
                    "desiredSize": 0,
                    "maxSize": 2,
                }
            },
        ),
        "cluster.systemNodes.minSize",
        True,
    ),
    "admin by bare name": (
        "dev",
        edit("dev", **{"cluster.adminRoles": ["platform-admin"]}),
        "cluster.adminRoles",
        True,
    ),
    "no admin": ("dev", edit("dev", **{"cluster.adminRoles": []}), "cluster.adminRoles", True),
    "existing without a way in": ("dev", edit("dev", cluster={"mode": "existing"}), "cluster.existing", True),
    "prod hosts sandboxes": (
        "prod",
        edit("prod", **{"cluster.hostSandboxes": True}),
        "cluster.hostSandboxes",
        True,
    ),
    "no way into the endpoint": (
        "dev",
        edit("dev", ci={"runner": {"enabled": False}}),
        "ci.runner.enabled",
        True,
    ),
    "connection not a connection": (
        "dev",
        edit("dev", ci={"repository": "o/r", "connectionArn": "arn:aws:iam::111122223333:role/x"}),
        "ci.connectionArn",
        True,
    ),
    "team name not a label": (
        "dev",
        edit("dev", teams=[{"name": "Data_Science"}]),
        "dataops-platform:teams",
        True,
    ),
    "quota cpu not a quantity": (
        "dev",
        edit("dev", teams=[{"name": "ds", "quota": {"cpu": "lots"}}]),
        "teams[0].quota.cpu",
        True,
    ),
    # --- image --------------------------------------------------------------------------------------
    "image by tag": ("dev", edit("dev", image={"digest": "latest"}), "dataops-platform:image.digest", True),
    "test without a digest": ("test", edit("test", image=None), "dataops-platform:image.digest", True),
    "repository with a tag": (
        "test",
        edit("test", image={"digest": DIGEST, "repository": "repo:1.0"}),
        "image.repository",
        True,
    ),
    # --- notebooks ------------------------------------------------------------------------------------
    "anyone can log in to prod": (
        "prod",
        edit("prod", **{"notebooks.authenticator": "dummy"}),
        "notebooks.authenticator",
        True,
    ),
    "every GitHub user": (
        "dev",
        edit("dev", **{"notebooks.oauth": {"clientId": "x", "allowedOrganizations": []}}),
        "notebooks.oauth.allowedOrganizations",
        True,
    ),
    "plain http identity provider": (
        "dev",
        edit(
            "dev",
            **{
                "notebooks.authenticator": "generic-oauth",
                "notebooks.oauth": {
                    "clientId": "x",
                    "authorizeUrl": "http://idp/a",
                    "tokenUrl": "https://idp/t",
                    "userdataUrl": "https://idp/u",
                },
            },
        ),
        "notebooks.oauth.authorizeUrl",
        True,
    ),
    "bad hostname": ("dev", edit("dev", **{"notebooks.hostname": "not a host"}), "notebooks.hostname", True),
    "guarantee above limit": (
        "dev",
        edit(
            "dev",
            **{
                "notebooks.profiles": [
                    {"name": "s", "cpuGuarantee": 4, "cpuLimit": 2, "memGuarantee": "1G", "memLimit": "2G"}
                ]
            },
        ),
        "notebooks.profiles[0].cpuGuarantee",
        True,
    ),
    "memory not a size": (
        "dev",
        edit(
            "dev",
            **{
                "notebooks.profiles": [
                    {"name": "s", "cpuGuarantee": 1, "cpuLimit": 2, "memGuarantee": "lots", "memLimit": "2G"}
                ]
            },
        ),
        "notebooks.profiles[0].memGuarantee",
        True,
    ),
    "gpu without gpus": (
        "dev",
        edit(
            "dev",
            **{
                "notebooks.profiles": [
                    {
                        "name": "g",
                        "cpuGuarantee": 1,
                        "cpuLimit": 2,
                        "memGuarantee": "1G",
                        "memLimit": "2G",
                        "gpus": 1,
                    }
                ]
            },
        ),
        "notebooks.profiles[0].gpus",
        True,
    ),
    # --- secrets ---------------------------------------------------------------------------------------
    "oauth secret in plain text": (
        "dev",
        edit("dev", oauthClientSecret="hunter2"),
        "dataops-platform:oauthClientSecret",
        True,
    ),
    "kubeconfig in plain text": (
        "dev",
        edit("dev", kubeconfig="apiVersion: v1", cluster={"mode": "existing", "existing": {"context": "c"}}),
        "dataops-platform:kubeconfig",
        True,
    ),
    # --- the local stack ----------------------------------------------------------------------------------
    "local with a digest": (
        "local",
        edit("local", image={"digest": DIGEST}),
        "dataops-platform:image.digest",
        True,
    ),
    "local ports collide": (
        "local",
        edit("local", local={"notebookPort": 4566}),
        "dataops-platform:local.lakePort",
        True,
    ),
    # --- sandboxes (not among the project's stacks: plan only) --------------------------------------------
    "sandbox named like dev": ("sandbox-x", edit("dev"), "dataops-platform:environment", False),
    "sandbox on prod": ("sandbox-x", "SANDBOX:hostStack=prod", "dataops-platform:sandbox.hostStack", False),
    "huge sandbox server": (
        "sandbox-x",
        "SANDBOX:notebookCpu=64",
        "dataops-platform:sandbox.notebookCpu",
        False,
    ),
    "sandbox server of a terabyte": (
        "sandbox-x",
        "SANDBOX:notebookMemory=1Ti",
        "dataops-platform:sandbox.notebookMemory",
        False,
    ),
}


def sandbox_file(change: str) -> str:
    key, _, value = change.removeprefix("SANDBOX:").partition("=")
    config = yaml.safe_load((ROOT / "sandboxes" / "template.yaml").read_text())["config"]
    config["dataops-platform:owner"] = "alice@example.com"
    config["dataops-platform:sandbox"] |= {
        "createdAt": "2026-11-28T18:00:00Z",
        "expiresAt": "2026-11-30T18:00:00Z",
        key: value,
    }
    return yaml.safe_dump({"config": config})


def write(path: Path, text: str) -> None:
    if "\udce9" in text:  # an undecodable byte where the text says so
        path.write_bytes(text.encode("utf-8", "surrogateescape").replace(b"caf\xed\xb3\xa9", b"caf\xe9"))
    else:
        path.write_text(text)


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def assert_refused(code: int, err: str, expected: str) -> None:
    assert code == 2, err
    assert expected in err, err
    assert "Traceback" not in err
    assert len(err.encode()) < 4096, f"{len(err.encode())} bytes of errors"
    assert all(line.startswith("error: ") for line in err.splitlines()), err


def test_there_are_at_least_sixty_cases():
    assert len(CASES) >= 60


@pytest.mark.parametrize("case", sorted(CASES))
def test_plan_refuses_it(tmp_path, capsys, case):
    stack, text, expected, _ = CASES[case]
    path = tmp_path / f"Pulumi.{stack}.yaml"
    write(path, sandbox_file(text) if text.startswith("SANDBOX:") else text)
    assert_refused(*run_cli(capsys, "plan", "--stack", stack, "--config", str(path)), expected)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of what `validate` reads: the project and stack files and the sandbox template."""
    root = tmp_path_factory.mktemp("project")
    for path in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(path, root / path.name)
    (root / "sandboxes").mkdir()
    shutil.copy(ROOT / "sandboxes" / "template.yaml", root / "sandboxes" / "template.yaml")
    return root


@pytest.mark.parametrize("case", sorted(c for c, v in CASES.items() if v[3]))
def test_validate_refuses_it(project, capsys, case):
    stack, text, expected, _ = CASES[case]
    path = project / f"Pulumi.{stack}.yaml"
    original = path.read_text()
    try:
        write(path, text)
        code, err = run_cli(capsys, "--root", str(project), "validate")
    finally:
        path.write_text(original)
    assert_refused(code, err, expected)
    # one broken stack is reported once, not as follow-on errors in the stacks that read it
    others = [
        line
        for line in err.splitlines()
        if f"Pulumi.{stack}.yaml" not in line and "Pulumi.*.yaml" not in line
    ]
    assert others == [], others


def test_validate_accepts_the_project(project, capsys):
    code, err = run_cli(capsys, "--root", str(project), "validate")
    assert code == 0, err


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"test": "10.40.0.0/16"},
            "Pulumi.test.yaml: dataops-platform:cluster.network.vpcCidr = '10.40.0.0/16': overlaps dev",
        ),
        ({"test": "10.42.128.0/17"}, "overlaps prod"),
    ],
)
def test_validate_refuses_overlapping_vpcs(project, capsys, change, expected):
    ((stack, cidr),) = change.items()
    path = project / f"Pulumi.{stack}.yaml"
    original = path.read_text()
    try:
        path.write_text(edit(stack, **{"cluster.network": {"vpcCidr": cidr}}))
        code, err = run_cli(capsys, "--root", str(project), "validate")
    finally:
        path.write_text(original)
    assert_refused(code, err, expected)


def test_validate_refuses_a_sandbox_host_that_does_not_host_sandboxes(project, capsys):
    path = project / "sandboxes" / "template.yaml"
    original = path.read_text()
    try:
        path.write_text(original.replace("hostStack: dev", "hostStack: test"))
        code, err = run_cli(capsys, "--root", str(project), "validate")
    finally:
        path.write_text(original)
    assert_refused(code, err, "sandbox.hostStack = 'test': stack test does not host sandboxes")


# A fresh, small interpreter starts the CLI as its child, with the CPU limit, and reports the
# child's peak memory. (Measured from this test process, the child's peak would include this
# process's own: Linux keeps a process's peak across fork and exec.)
LAUNCHER = """
import os, resource, sys
limit = int(sys.argv[1])
pid = os.fork()
if pid == 0:
    resource.setrlimit(resource.RLIMIT_CPU, (limit, limit))
    os.execv(sys.executable, [sys.executable, "-m", "dataops", *sys.argv[2:]])
_, status, usage = os.wait4(pid, 0)
print(f"maxrss {usage.ru_maxrss * 1024}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def _limited(argv: list[str], cpu_seconds: int) -> tuple[int, str, int]:
    """Run the CLI with `cpu_seconds` of CPU (SIGXCPU kills it past that); (exit code, stderr,
    peak resident memory in bytes)."""
    result = subprocess.run(
        [sys.executable, "-c", LAUNCHER, str(cpu_seconds), *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "DATAOPS_PLAN_CACHE": "off"},
        timeout=60,
    )
    rss = int(result.stdout.rsplit("maxrss ", 1)[1])
    return result.returncode, result.stderr, rss


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("bomb", BOMB),
        ("huge", "config:\n" + "".join(f"  dataops-platform:k{i}: {'x' * 80}\n" for i in range(500_000))),
    ],
)
def test_bombs_and_huge_files_are_refused_cheaply(tmp_path, name, text):
    """The guard against a few bytes that expand to gigabytes (or a 44 MB file): the child has 2 s
    of CPU (SIGXCPU kills it past that) and must stay under 200 MB."""
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(text)
    code, err, rss = _limited(["plan", "--stack", "dev", "--config", str(path)], cpu_seconds=2)
    assert code == 2, (code, err)
    assert "Pulumi.dev.yaml: " in err and "Traceback" not in err and len(err) < 4096
    assert rss < 200 * 2**20, f"{rss / 2**20:.0f} MB"
