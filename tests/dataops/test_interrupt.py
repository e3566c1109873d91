"""Ctrl-C inside a command: the registered cleanups run (the newest first, each once, a second
Ctrl-C notwithstanding), then one line and exit 130; outside a command Python's own answer."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

from dataops import interrupt
from dataops.plan import ROOT

INTERRUPTED = """
import os, signal, time
from dataops import interrupt

def first():
    os.kill(os.getpid(), signal.SIGINT)  # pressed again while cleaning up
    time.sleep(0.2)
    os.write(1, b"first\\n")

def forgotten():
    os.write(1, b"forgotten, yet run\\n")

interrupt.when_interrupted(first)
interrupt.when_interrupted(forgotten)
interrupt.when_interrupted(lambda: os.write(1, b"second\\n"))
interrupt.forget(forgotten)
with interrupt.handled():
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(30)
print("not interrupted")
"""


def test_the_cleanups_run_newest_first_then_one_line_and_130():
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(INTERRUPTED)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        130,
        "second\nfirst\n",
        "error: interrupted\n",
    )


def test_outside_the_block_ctrl_c_is_pythons_own():
    before = signal.getsignal(signal.SIGINT)
    with interrupt.handled():
        assert signal.getsignal(signal.SIGINT) is interrupt._interrupted
    assert signal.getsignal(signal.SIGINT) is before
