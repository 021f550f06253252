"""The allocation matrix: which accreditation each crime type requires."""

from __future__ import annotations

import json

from tests.helpers.cli import Runner


def test_set_list_and_change_are_logged(store: Runner, sql) -> None:
    assert store("matrix", "set", "Robbery", "pip2").exit_code == 0
    assert store("matrix", "set", "Burglary", "PIP1").exit_code == 0
    assert store("matrix", "set", "robbery", "PIP3").exit_code == 0
    rows = json.loads(store("matrix", "list", "-f", "json").stdout)
    assert rows == [
        {"crime_type": "Burglary", "risk": "", "required_level": "PIP1"},
        {"crime_type": "robbery", "risk": "", "required_level": "PIP3"},
    ]
    details = [
        json.loads(d)
        for (d,) in sql("SELECT detail FROM log_entry WHERE kind = 'matrix' ORDER BY id")
    ]
    assert details[-1] == {"crime_type": "robbery", "old": "PIP2", "new": "PIP3"}


def test_bad_level_is_exit_2(store: Runner) -> None:
    result = store("matrix", "set", "Robbery", "PIP7")
    assert result.exit_code == 2
    assert "not an accreditation level" in result.output
