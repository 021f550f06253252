"""A supervisor corrects a crime without importing it again: ``crime update`` changes its
type, team, report date, required level or enhanced flag, logs old and new values, keeps
the accreditation rule for its holder, and says when a held crime moves teams."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Runner, add_teams


@pytest.fixture
def held(store: Runner) -> Runner:
    """CR/1 (Burglary, PIP1, Lewisham CID) held by PC Jones (QX1, PIP1); CR/2 unallocated."""
    add_teams(store, "Lewisham CID", "Greenwich CID")
    steps = [
        ("officer", "add", "QX1", "--name", "Sam Jones", "--rank", "PC", "--team",
         "Lewisham CID", "-a", "PIP1", "--since", "2015-01-01"),
        ("crime", "add", "CR/1", "--type", "Burglary", "--team", "Lewisham CID",
         "--reported", "2026-01-05", "--level", "PIP1"),
        ("crime", "add", "CR/2", "--type", "Burglary", "--team", "Lewisham CID",
         "--reported", "2026-01-05"),
        ("assign", "CR/1", "QX1", "--reason", "volume"),
    ]  # fmt: skip
    for step in steps:
        result = store(*step)
        assert result.exit_code == 0, (step, result.output)
    return store


def crime(run: Runner, ref: str) -> dict[str, Any]:
    result = run("crime", "show", ref, "-f", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def updates(sql) -> list[tuple[str, str, dict[str, Any]]]:  # type: ignore[no-untyped-def]
    rows = sql("SELECT crime_ref, reason, detail FROM log_entry WHERE kind = 'crime-update'")
    return [(ref, reason, json.loads(detail)) for ref, reason, detail in rows]


def test_a_correction_is_made_and_logged_with_old_and_new_values(held: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    result = held(
        "crime", "update", "CR/2", "--type", "Robbery", "--reported", "03/01/2026",
        "--enhanced", "--reason", "typed from the wrong report",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        "Updated CR/2: crime_type Burglary -> Robbery, reported_on 2026-01-05 -> 2026-01-03, "
        "victim_enhanced no -> yes." in result.stderr
    )
    record = crime(held, "CR/2")
    assert (record["crime_type"], record["reported_on"], record["victim_enhanced"]) == (
        "Robbery",
        "2026-01-03",
        True,
    )
    assert updates(sql) == [
        (
            "CR/2",
            "typed from the wrong report",
            {
                "crime_type": ["Burglary", "Robbery"],
                "reported_on": ["2026-01-05", "2026-01-03"],
                "victim_enhanced": [False, True],
            },
        )
    ]
    same = held("crime", "update", "CR/2", "--type", "Robbery", "--reason", "again")
    assert same.exit_code == 0
    assert "nothing changed" in same.stderr
    assert len(updates(sql)) == 1


def test_a_level_above_the_holders_accreditation_is_refused_in_block_mode(
    held: Runner,
    sql,  # type: ignore[no-untyped-def]
) -> None:
    refused = held("crime", "update", "CR/1", "--level", "PIP2", "--reason", "sexual offence")
    assert refused.exit_code == 3, refused.output
    assert "PC Jones (QX1) is accredited to PIP1 but the crime needs PIP2" in refused.stderr
    assert "--override" in refused.stderr
    assert crime(held, "CR/1")["required_level"] == "PIP1"
    assert updates(sql) == []

    allowed = held(
        "crime", "update", "CR/1", "--level", "PIP2", "--reason", "sexual offence",
        "--override", "DI agreed until Monday",
    )  # fmt: skip
    assert allowed.exit_code == 0, allowed.output
    assert "Warning: PC Jones (QX1) is accredited to PIP1 but the crime needs PIP2." in (
        allowed.stderr
    )
    [(_, _, detail)] = updates(sql)
    assert detail["required_level"] == ["PIP1", "PIP2"]
    assert detail["override"] == "DI agreed until Monday"
    audit = json.loads(held("audit", "-f", "json").stdout)
    assert "accreditation-mismatch" in {f["code"] for f in audit["findings"]}


def test_in_warn_mode_a_level_above_the_holders_only_warns(held: Runner) -> None:
    assert held("policy", "set", "accreditation_mode", "warn").exit_code == 0
    result = held("crime", "update", "CR/1", "--level", "PIP3", "--reason", "homicide")
    assert result.exit_code == 0, result.output
    assert "Warning: PC Jones (QX1) is accredited to PIP1 but the crime needs PIP3." in (
        result.stderr
    )
    assert crime(held, "CR/1")["required_level"] == "PIP3"


def test_moving_a_held_crime_to_another_team_keeps_its_holder_and_says_so(held: Runner) -> None:
    result = held("crime", "update", "CR/1", "--team", "greenwich cid", "--reason", "boundary")
    assert result.exit_code == 0, result.output
    assert "Updated CR/1: team Lewisham CID -> Greenwich CID." in result.stderr
    assert (
        "Warning: CR/1 is held by QX1, who stays its holder but is in Lewisham CID, "
        "not Greenwich CID" in result.stderr
    )
    record = crime(held, "CR/1")
    assert (record["team"], record["holder"]) == ("Greenwich CID", "QX1")
    moved = held("crime", "update", "CR/2", "--team", "Greenwich CID", "--reason", "boundary")
    assert "Warning" not in moved.stderr  # unallocated: nobody to warn about


def test_a_new_type_keeps_the_level_and_says_what_the_matrix_would_give(held: Runner) -> None:
    assert held("matrix", "set", "Robbery", "PIP2").exit_code == 0
    result = held("crime", "update", "CR/2", "--type", "Robbery", "--reason", "recoded")
    assert result.exit_code == 0, result.output
    assert "the allocation matrix gives PIP2 for Robbery; CR/2 keeps PIP1" in result.stderr
    assert crime(held, "CR/2")["required_level"] == "PIP1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("CR/9", "--type", "Robbery"), "no crime with reference CR/9"),
        (("CR/1",), "Nothing to change"),
        (("CR/1", "--team", "Lewisham CDI"), "did you mean 'Lewisham CID'?"),
        (("CR/1", "--reported", "2099-01-01"), "in the future"),
        (("CR/1", "--level", "PIP9"), "PIP9"),
    ],
)
def test_bad_corrections_exit_2_and_change_nothing(
    held: Runner,
    sql,  # type: ignore[no-untyped-def]
    args: tuple[str, ...],
    message: str,
) -> None:
    result = held("crime", "update", *args, "--reason", "fix")
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert updates(sql) == []


def test_a_report_date_after_the_crimes_records_is_refused(held: Runner) -> None:
    assert held("review", "CR/1", "-m", "first look", "--on", "2026-01-10").exit_code == 0
    result = held("crime", "update", "CR/1", "--reported", "2026-01-12", "--reason", "fix")
    assert result.exit_code == 2
    assert "has records dated 2026-01-10" in result.stderr
