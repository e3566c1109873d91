"""Rules of `cluster.network` (components/config/rules/network.py): a created VPC's keys, or an
existing VPC's subnets, never both; each rule met and broken, one condition at a time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from dataops.plan import ROOT, PlanError, load_config
from tests.components.config_lines import assert_lines
from tests.components.test_config import LINE

VPC = "vpc-0a1b2c3d4e5f60718"
PRIVATE = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]
THREE = [*PRIVATE, "subnet-0a1b2c3d4e5f60003"]
PUBLIC = ["subnet-0a1b2c3d4e5f60011", "subnet-0a1b2c3d4e5f60012"]
ADMIN = "arn:aws:iam::111122223333:role/break-glass"


def config(
    network: dict,
    *,
    stack: str = "test",
    mode: str | None = None,
    scheme: str | None = None,
) -> dict:
    """The shipped stack file with `cluster.network` (and the cluster mode, hub scheme) replaced."""
    doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    cluster = doc["config"]["dataops-platform:cluster"]
    cluster["network"] = network
    if mode == "existing":
        cluster["mode"] = "existing"
        cluster["existing"] = {"context": "corp"}
        doc["config"]["dataops-platform:notebooks"].pop("hostedZone", None)
        doc["config"]["dataops-platform:ci"] = {"runner": {"enabled": False}}
    if scheme is not None:
        doc["config"]["dataops-platform:notebooks"]["scheme"] = scheme
    return doc


def problems(tmp_path: Path, doc: dict, stack: str = "test") -> dict[str, str]:
    """Key -> the line about it ({} when the file validates)."""
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(doc))
    try:
        load_config(stack, ROOT, path)
    except PlanError as exc:
        out = {}
        for line in exc.lines:
            match = LINE.match(line)
            assert match, f"not in the one-line format: {line}"
            assert match["key"] not in out, f"two lines for one key: {exc.lines}"
            out[match["key"]] = line
        return out
    return {}


KEY = "dataops-platform:cluster.network"


def existing(private=PRIVATE, public=None, vpc=VPC) -> dict:
    out = {"vpcId": vpc, "privateSubnetIds": private}
    return out | ({"publicSubnetIds": public} if public is not None else {})


def test_an_existing_vpc_alone_validates(tmp_path):
    assert problems(tmp_path, config({"existing": existing(public=PUBLIC)})) == {}


@pytest.mark.parametrize("key", ["vpcCidr", "availabilityZones", "natGateways", "interfaceEndpoints"])
def test_keys_of_a_created_vpc_are_refused_beside_an_existing_one(tmp_path, key):
    value = {"vpcCidr": "10.41.0.0/16", "availabilityZones": 2, "natGateways": "single"}.get(key, False)
    found = problems(tmp_path, config({"existing": existing(), key: value}))
    assert list(found) == [f"{KEY}.{key}"], found
    assert_lines(f"network: {key} beside an existing VPC", list(found.values()))


def test_a_service_range_may_go_with_an_existing_vpc(tmp_path):
    assert problems(tmp_path, config({"existing": existing(), "serviceCidr": "172.20.0.0/16"})) == {}
    # a created VPC's default range (10.x) says nothing about an existing VPC's
    assert problems(tmp_path, config({"existing": existing(), "serviceCidr": "10.40.0.0/20"})) == {}


def test_an_existing_cluster_cannot_be_placed_in_a_vpc(tmp_path):
    found = problems(tmp_path, config({"existing": existing()}, mode="existing"))
    assert f"{KEY}.existing" in found and "already has its network" in found[f"{KEY}.existing"]
    assert_lines("network: an existing cluster in a VPC", [found[f"{KEY}.existing"]])
    # half of it: an existing cluster without cluster.network.existing is fine
    assert f"{KEY}.existing" not in problems(tmp_path, config({}, mode="existing"))


@pytest.mark.parametrize(
    ("private", "public", "key", "message"),
    [
        ([PRIVATE[0], PRIVATE[0]], None, "privateSubnetIds", "listed twice"),
        (PRIVATE, [PUBLIC[0], PUBLIC[0]], "publicSubnetIds", "listed twice"),
        (PRIVATE, [PRIVATE[0], PUBLIC[0]], "publicSubnetIds", "also listed as a private subnet"),
        (PRIVATE, PUBLIC[:1], "publicSubnetIds", "two AZs at least"),
        ([PRIVATE[0]], None, "privateSubnetIds", "at least 2"),
        ([*THREE, "subnet-0a1b2c3d4e5f60004"], None, "privateSubnetIds", "at most 3"),
        (["subnet-XYZ", PRIVATE[1]], None, "privateSubnetIds[0]", "pattern"),
    ],
)
def test_subnet_lists(request, tmp_path, private, public, key, message):
    found = problems(tmp_path, config({"existing": existing(private, public)}))
    assert f"{KEY}.existing.{key}" in found, found
    assert message in found[f"{KEY}.existing.{key}"]
    assert_lines(f"network: {request.node.callspec.id}", list(found.values()))


def test_a_malformed_vpc_id_is_refused(tmp_path):
    found = problems(tmp_path, config({"existing": existing(vpc="vpc-1")}))
    assert list(found) == [f"{KEY}.existing.vpcId"], found


@pytest.mark.parametrize(
    ("scheme", "public", "refused"),
    [
        ("internet-facing", None, True),  # internet-facing without public subnets
        ("internet-facing", PUBLIC, False),
        ("internal", None, False),  # internal without public subnets
    ],
)
def test_an_internet_facing_hub_needs_public_subnets(request, tmp_path, scheme, public, refused):
    found = problems(tmp_path, config({"existing": existing(public=public)}, scheme=scheme))
    assert (f"{KEY}.existing.publicSubnetIds" in found) is refused, found
    assert_lines(f"network: hub {request.node.callspec.id}", list(found.values()))


def test_an_internet_facing_hub_without_a_zone_needs_no_public_subnets(tmp_path):
    doc = config({"existing": existing()}, scheme="internet-facing")
    doc["config"]["dataops-platform:notebooks"].pop("hostedZone")
    assert f"{KEY}.existing.publicSubnetIds" not in problems(tmp_path, doc)


@pytest.mark.parametrize(("private", "refused"), [(PRIVATE, True), (THREE, False)])
def test_prod_in_an_existing_vpc_spans_three_azs(tmp_path, private, refused):
    doc = config({"existing": existing(private, public=PUBLIC)}, stack="prod")
    found = problems(tmp_path, doc, stack="prod")
    assert (f"{KEY}.existing.privateSubnetIds" in found) is refused, found
    assert_lines(f"network: prod in {len(private)} private subnets", list(found.values()))
    # the created VPC's prod rules do not apply to a VPC the platform does not create
    assert f"{KEY}.availabilityZones" not in found and f"{KEY}.natGateways" not in found


def test_the_created_vpc_keeps_its_prod_rules(tmp_path):
    found = problems(tmp_path, config({"vpcCidr": "10.42.0.0/16"}, stack="prod"), stack="prod")
    assert {f"{KEY}.availabilityZones", f"{KEY}.natGateways"} <= set(found), found


def test_stacks_in_existing_vpcs_are_left_out_of_the_overlap_check(tmp_path):
    """Two stacks in one existing VPC share its range by design: no overlap reported."""
    from dataops import stacks

    root = tmp_path / "root"
    root.mkdir()
    for path in ROOT.glob("Pulumi*.yaml"):
        (root / path.name).write_text(path.read_text())
    for stack in ("dev", "test"):
        doc = config({"existing": existing(public=PUBLIC)}, stack=stack)
        (root / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(doc))
    lines = stacks.check_all(root)
    assert not [line for line in lines if "overlaps" in line], json.dumps(lines, indent=1)
    # sanity: the same two stacks with one created range each overlap
    for stack in ("dev", "test"):
        doc = config({"vpcCidr": "10.41.0.0/16"}, stack=stack)
        (root / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(doc))
    assert [line for line in stacks.check_all(root) if "overlaps" in line]
