"""A supervisor records crimes, filters the list, finalises and reopens them."""

from __future__ import annotations

import json

import pytest

from tests.helpers.cli import Runner
from tests.helpers.force import add_teams


@pytest.fixture
def crimes(store: Runner) -> Runner:
    add_teams(store, "Lewisham CID", "Greenwich CID")
    assert store("matrix", "set", "Burglary", "PIP2").exit_code == 0
    for ref, kind, team, reported in [
        ("CR/1", "Burglary", "Lewisham CID", "01/10/2026"),
        ("CR/2", "Shoplifting", "Lewisham CID", "2026-10-15"),
        ("CR/3", "Robbery", "Greenwich CID", "2026-11-01"),
    ]:
        result = store("crime", "add", ref, "--type", kind, "--team", team, "--reported", reported)
        assert result.exit_code == 0, result.output
    return store


def refs(result) -> list[str]:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return [row["reference"] for row in json.loads(result.stdout)]


def test_required_level_comes_from_the_matrix_or_defaults(crimes: Runner) -> None:
    rows = {r["reference"]: r for r in json.loads(crimes("crime", "list", "-f", "json").stdout)}
    assert rows["CR/1"]["required_level"] == "PIP2"
    assert rows["CR/2"]["required_level"] == "PIP1"
    assert refs(crimes("crime", "list", "--defaulted", "-f", "json")) == ["CR/2", "CR/3"]


def test_unknown_type_warns_on_add(store: Runner) -> None:
    add_teams(store, "T")
    result = store(
        "crime", "add", "CR/9", "--type", "Drugs", "--team", "T", "--reported", "2026-11-01"
    )
    assert result.exit_code == 0
    assert "not in the allocation matrix" in result.stderr


def test_list_filters(crimes: Runner) -> None:
    assert refs(crimes("crime", "list", "--team", "lewisham cid", "-f", "json")) == ["CR/1", "CR/2"]
    assert refs(crimes("crime", "list", "--level", "pip2", "-f", "json")) == ["CR/1"]
    assert refs(crimes("crime", "list", "--type", "robbery", "-f", "json")) == ["CR/3"]
    assert refs(crimes("crime", "list", "--reported-after", "10/10/2026", "-f", "json")) == [
        "CR/2",
        "CR/3",
    ]
    assert refs(crimes("crime", "list", "--reported-before", "2026-10-15", "-f", "json")) == [
        "CR/1",
        "CR/2",
    ]
    assert refs(crimes("crime", "list", "--unallocated", "-f", "json")) == ["CR/1", "CR/2", "CR/3"]
    assert refs(crimes("crime", "list", "--limit", "1", "-f", "json")) == ["CR/1"]


def test_finalise_needs_an_outcome_and_reopen_makes_it_live(crimes: Runner, sql) -> None:
    missing = crimes("crime", "finalise", "CR/1")
    assert missing.exit_code == 2
    bad = crimes("crime", "finalise", "CR/1", "--outcome", "99")
    assert bad.exit_code == 2
    assert "not a Home Office outcome type" in bad.output
    done = crimes("crime", "finalise", "CR/1", "--outcome", "18", "--on", "20/11/2026")
    assert done.exit_code == 0, done.output
    assert "no suspect identified" in done.stderr
    assert refs(crimes("crime", "list", "--finalised", "-f", "json")) == ["CR/1"]
    assert refs(crimes("crime", "list", "--live", "-f", "json")) == ["CR/2", "CR/3"]
    again = crimes("crime", "finalise", "CR/1", "--outcome", "1")
    assert again.exit_code == 2
    assert "already finalised" in again.stderr
    reopened = crimes("crime", "reopen", "CR/1", "--reason", "new evidence", "--on", "2026-11-25")
    assert reopened.exit_code == 0, reopened.output
    assert refs(crimes("crime", "list", "--live", "-f", "json")) == ["CR/1", "CR/2", "CR/3"]
    rows = sql("SELECT finalised_on, outcome, reopened_on FROM finalisation")
    assert [tuple(str(v) for v in row) for row in rows] == [("2026-11-20", "18", "2026-11-25")]


def test_finalising_before_report_is_refused(crimes: Runner) -> None:
    result = crimes("crime", "finalise", "CR/3", "--outcome", "1", "--on", "2026-10-01")
    assert result.exit_code == 2
    assert "before it was reported" in result.stderr


def test_show_a_crime_and_unknown_crime(crimes: Runner) -> None:
    result = crimes("crime", "show", "CR/1", "-f", "json")
    assert result.exit_code == 0
    shown = json.loads(result.stdout)
    assert shown["reference"] == "CR/1"
    assert shown["allocations"] == []
    missing = crimes("crime", "show", "CR/404")
    assert missing.exit_code == 2
    assert missing.stderr.strip() == "Error: There is no crime with reference CR/404."
    blank = crimes("crime", "show", "  ")
    assert blank.exit_code == 2
    assert (
        blank.stderr.strip() == "Error: The crime reference is blank; give the crime's reference."
    )


def test_duplicate_reference_is_refused(crimes: Runner, sql) -> None:
    result = crimes(
        "crime", "add", "CR/1", "--type", "Drugs", "--team", "T", "--reported", "2026-11-01"
    )
    assert result.exit_code == 2
    assert sql("SELECT count(*) FROM crime")[0][0] == 3
