"""No Dask version skew: the notebook, every scheduler and worker (which run the notebook image)
and the gateway server agree, and the tests ran what the image runs.

- the image lock pins dask, distributed and dask-gateway, and requirements.in asks for exactly
  those versions (a range would let a re-lock move one of them alone);
- dask == distributed (each pins the other exactly; a lock that disagrees was edited by hand);
- dask-gateway (the client) == the gateway chart's version, components/dask_gateway.py
  CHART_VERSION, which is also the gateway server's;
- the dev lock (requirements-dev.txt, what the tests run) pins the same three, and the gateway
  server the tests run (tests/test_dask_real.py) at the chart's version.

Each rule is also run on a skewed sample, so a parser that finds nothing cannot pass.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from components.dask_gateway import CHART_VERSION

ROOT = Path(__file__).resolve().parents[2]
IMAGE_LOCK = ROOT / "images" / "notebook" / "requirements.lock"
IMAGE_IN = ROOT / "images" / "notebook" / "requirements.in"
DEV_LOCK = ROOT / "requirements-dev.txt"

CLIENT = ("dask", "distributed", "dask-gateway")
SERVER = "dask-gateway-server"
# `name==version` or `name[extras]==version` at the start of a line: the form both uv and
# pip-compile write a pin in (hashes and `# via` lines are indented beneath it).
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>[^\s;\\]+)")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503


def pins(text: str) -> dict[str, str]:
    """Package -> exact version, for every `==` pin of a lock or requirements file."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if match := PIN.match(line):
            name = normalize(match["name"])
            if out.get(name, match["version"]) != match["version"]:
                raise ValueError(f"{name} is pinned twice: {out[name]} and {match['version']}")
            out[name] = match["version"]
    return out


def skew(image: dict[str, str], wanted: dict[str, str], dev: dict[str, str], chart: str) -> list[str]:
    """What disagrees between the image lock, its requirements.in, the dev lock and the chart."""
    problems = [f"the image lock does not pin {name}" for name in CLIENT if name not in image]
    problems += [
        f"requirements.in asks for {name} {wanted.get(name, 'as a range')}, the lock has {image.get(name)}"
        for name in CLIENT
        if wanted.get(name) != image.get(name)
    ]
    if image.get("dask") != image.get("distributed"):
        problems.append(f"dask {image.get('dask')} but distributed {image.get('distributed')}")
    if image.get("dask-gateway") != chart:
        problems.append(f"dask-gateway {image.get('dask-gateway')} but the gateway chart {chart}")
    problems += [
        f"the dev lock has {name} {dev.get(name)}, the image {image.get(name)}"
        for name in CLIENT
        if dev.get(name) != image.get(name)
    ]
    if dev.get(SERVER) != chart:
        problems.append(f"the dev lock's {SERVER} is {dev.get(SERVER)}, the chart {chart}")
    return problems


def test_the_image_the_tests_and_the_gateway_agree():
    image = pins(IMAGE_LOCK.read_text())
    assert len(image) > 40, "the image lock is truncated, or the parser missed its pins"
    assert skew(image, pins(IMAGE_IN.read_text()), pins(DEV_LOCK.read_text()), CHART_VERSION) == []


LOCK_SAMPLE = """\
# a header line: dask==1.0 in a comment is no pin
dask==2026.3.0 \\
    --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000
    # via
    #   -r requirements.in
    #   distributed
dask-gateway==2026.3.0 \\
    --hash=sha256:1111111111111111111111111111111111111111111111111111111111111111
Distributed==2026.3.0 \\
    --hash=sha256:2222222222222222222222222222222222222222222222222222222222222222
dask-gateway-server[kubernetes,local]==2026.3.0 ; python_version >= "3.10" \\
    --hash=sha256:3333333333333333333333333333333333333333333333333333333333333333
"""
GOOD = {"dask": "2026.3.0", "distributed": "2026.3.0", "dask-gateway": "2026.3.0"}


def test_the_parser_reads_pins_in_both_lock_formats():
    assert pins(LOCK_SAMPLE) == {**GOOD, SERVER: "2026.3.0"}
    assert pins("dask[dataframe]==2026.3.0\nbokeh>=3.1,<4\n") == {"dask": "2026.3.0"}
    with pytest.raises(ValueError, match="dask is pinned twice"):
        pins("dask==2026.3.0\ndask==2026.8.0\n")


SERVER_PIN = {SERVER: "2026.3.0"}


@pytest.mark.parametrize(
    ("image", "wanted", "dev", "problem"),
    [
        (
            {**GOOD, "distributed": "2026.8.0"},
            {**GOOD, "distributed": "2026.8.0"},
            GOOD,
            "distributed 2026.8.0",
        ),
        (
            {**GOOD, "dask-gateway": "2025.4.0"},
            {**GOOD, "dask-gateway": "2025.4.0"},
            GOOD,
            "the gateway chart",
        ),
        ({k: v for k, v in GOOD.items() if k != "dask"}, GOOD, GOOD, "does not pin dask"),
        (GOOD, {"dask": "2026.3.0", "distributed": "2026.3.0"}, GOOD, "dask-gateway as a range"),
        (GOOD, GOOD, {**GOOD, "dask": "2026.8.0"}, "the dev lock has dask 2026.8.0"),
    ],
    ids=["dask-vs-distributed", "client-vs-chart", "unpinned", "range-in-requirements.in", "dev-vs-image"],
)
def test_each_skew_is_caught(image, wanted, dev, problem):
    problems = skew(image, wanted, {**dev, **SERVER_PIN}, "2026.3.0")
    assert any(problem in p for p in problems), problems


def test_a_server_other_than_the_charts_is_caught():
    assert skew(GOOD, GOOD, {**GOOD, SERVER: "2025.4.0"}, "2026.3.0") == [
        f"the dev lock's {SERVER} is 2025.4.0, the chart 2026.3.0"
    ]
    assert skew(GOOD, GOOD, {**GOOD, **SERVER_PIN}, "2026.3.0") == []
