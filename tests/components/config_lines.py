"""The full lines a config test case expects (file, key, value, message and fix: everything a user
reads), kept in config_rule_lines.json by case. A changed wording is a change to what users see:
`DATAOPS_UPDATE_LINES=1 python3 tasks.py test tests/components` rewrites the file from the code,
and the review of that diff is the review of the new wording."""

from __future__ import annotations

import json
import os
from pathlib import Path

FILE = Path(__file__).with_name("config_rule_lines.json")
_EXPECTED: dict[str, list[str]] = json.loads(FILE.read_text())


def assert_lines(case: str, lines: list[str]) -> None:
    if os.environ.get("DATAOPS_UPDATE_LINES") == "1":
        _EXPECTED[case] = list(lines)
        FILE.write_text(json.dumps(dict(sorted(_EXPECTED.items())), indent=2, ensure_ascii=False) + "\n")
        return
    assert case in _EXPECTED, (
        f"{case}: no lines recorded in {FILE.name} (DATAOPS_UPDATE_LINES=1 records them)"
    )
    assert list(lines) == _EXPECTED[case], f"{case}: the lines differ from {FILE.name}"
