"""A supervisor reads the decision log: for a crime, for an officer, or everything."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from tests.helpers.cli import Runner
from tests.helpers.force import add_crimes, add_officer
from tests.helpers.store import writing


@pytest.fixture
def decided(store: Runner, db_url: str) -> Runner:
    """CR/1: allocated to XY9, transferred to AB1, unassigned. CR/2: PIP2 to XY9 overridden."""
    with writing(db_url) as conn:
        add_officer(conn, "XY9", accreditation="PIP1", since=date.today() - timedelta(days=100))
        add_officer(conn, "AB1", name="Ann Bell", rank="DC")
        add_crimes(conn, 1)
        add_crimes(conn, 1, prefix="CR/", level="PIP2", start=2)
    steps = [
        ("assign", "CR/1", "XY9", "--reason", "first in"),
        ("assign", "CR/1", "AB1", "--reason", "needs a DC", "--actor", "DS Khan"),
        ("unassign", "CR/1", "--reason", "wrong team"),
        ("assign", "CR/2", "XY9", "--reason", "only one free", "--override", "DI agreed"),
        ("policy", "set", "limit_mode", "block", "--reason", "inspection"),
    ]
    for step in steps:
        result = store(*step)
        assert result.exit_code == 0, result.output
    return store


def history(run: Runner, *args: str) -> list[dict]:  # type: ignore[type-arg]
    result = run("history", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_a_crimes_history_newest_first(decided: Runner) -> None:
    rows = history(decided, "CR/1")
    assert [(r["kind"], r["officer"], r["actor"], r["reason"]) for r in rows] == [
        ("unassign", "AB1", "test-supervisor", "wrong team"),
        ("transfer", "AB1", "DS Khan", "needs a DC"),
        ("allocate", "XY9", "test-supervisor", "first in"),
        ("crime-add", None, "setup", ""),
    ]
    assert rows[1]["detail"]["from"] == "XY9"


def test_an_officers_history_shows_overrides(decided: Runner) -> None:
    rows = history(decided, "--officer", "xy9", "--kind", "allocate")
    assert [r["crime"] for r in rows] == ["CR/2", "CR/1"]
    override = rows[0]["detail"]
    assert override["override"] == "DI agreed"
    assert override["warnings"] == [
        "TDC Jones (XY9) is accredited to PIP1 but the crime needs PIP2"
    ]


def test_everything_includes_policy_changes_and_respects_limit(decided: Runner) -> None:
    rows = history(decided)
    assert rows[0]["kind"] == "policy"
    assert rows[0]["detail"] == {"setting": "limit_mode", "old": "warn", "new": "block"}
    assert len(history(decided, "--limit", "2")) == 2


def test_table_output_summarises_the_detail(decided: Runner) -> None:
    result = decided("history", "CR/2", "--format", "plain")
    assert result.exit_code == 0
    line = next(line for line in result.stdout.splitlines() if " allocate " in line)
    assert "override: DI agreed" in line
    assert "warnings: TDC Jones (XY9) is accredited to PIP1" in line
    everything = decided("history", "--format", "plain").stdout
    assert "limit_mode: warn -> block" in everything


def test_unknown_crime_or_officer_exits_2(decided: Runner) -> None:
    result = decided("history", "CR/404")
    assert result.exit_code == 2
    assert "no crime with reference CR/404" in result.stderr
    result = decided("history", "--officer", "ZZ9")
    assert result.exit_code == 2
    assert "no officer with collar ZZ9" in result.stderr
