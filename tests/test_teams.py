"""A misspelt team never quietly becomes a new one: every command that names a team
refuses an unknown one (exit 2, nothing written) and suggests the nearest name; teams are
made with ``team add`` (or by an import, which says so) and renamed with ``team rename``."""

from __future__ import annotations

import json

import pytest

from caseload.domain.teams import near_misses, nearest
from tests.conftest import Runner, add_teams

TYPO = "Lewisham CDI"
HINT = "did you mean 'Lewisham CID'?"


@pytest.fixture
def force(store: Runner) -> Runner:
    add_teams(store, "Lewisham CID", "Greenwich CID")
    steps = [
        ("officer", "add", "QX2222", "--name", "Sam Jones", "--team", "Lewisham CID",
         "-a", "PIP2", "--since", "2015-01-01"),
        ("crime", "add", "CR/1", "--type", "Burglary", "--team", "Lewisham CID",
         "--reported", "2026-01-05"),
    ]  # fmt: skip
    for step in steps:
        result = store(*step)
        assert result.exit_code == 0, result.output
    return store


def teams(run: Runner) -> list[str]:
    result = run("team", "list", "-f", "json")
    assert result.exit_code == 0, result.output
    return [row["team"] for row in json.loads(result.stdout)]


@pytest.mark.parametrize(
    "args",
    [
        ("crime", "add", "CR/2", "--type", "Burglary", "--team", TYPO, "--reported", "2026-01-05"),
        ("officer", "add", "QX3", "--name", "Al Bo", "--team", TYPO, "-a", "PIP1",
         "--since", "2020-01-01"),
        ("officer", "update", "QX2222", "--team", "Lewisam CID"),
        ("officer", "list", "--team", TYPO),
        ("crime", "list", "--team", TYPO),
        ("workload", "--team", TYPO),
        ("audit", "--team", TYPO),
        ("audit", "trend", "--team", TYPO),
        ("export", "crimes", "-o", "-", "--team", TYPO),
        ("export", "workload", "-o", "-", "--team", TYPO),
        ("rebalance", "--team", TYPO),
        ("rebalance", "--team", TYPO, "--apply", "--reason", "even out"),
        ("team", "rename", TYPO, "Lewisham South"),
    ],
    ids=lambda args: " ".join(args[:2]),
)  # fmt: skip
def test_every_command_refuses_an_unknown_team(force: Runner, sql, args: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    before = sql("SELECT count(*) FROM log_entry")
    result = force(*args)
    assert result.exit_code == 2, result.output
    assert HINT in result.stderr
    assert result.stdout == ""
    assert teams(force) == ["Greenwich CID", "Lewisham CID"]
    assert sql("SELECT count(*) FROM log_entry") == before


def test_an_unknown_team_with_no_near_name_says_how_to_add_one(force: Runner) -> None:
    result = force("workload", "--team", "Bexley Volume Crime")
    assert result.exit_code == 2
    assert "There is no team called 'Bexley Volume Crime'" in result.stderr
    assert "caseload team add" in result.stderr
    assert "did you mean" not in result.stderr


def test_a_team_named_in_another_case_is_the_team(force: Runner) -> None:
    added = force(
        "crime", "add", "CR/2", "--type", "Burglary", "--team", "lewisham cid",
        "--reported", "2026-01-05",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "for Lewisham CID." in added.stderr
    listed = force("crime", "list", "--team", "LEWISHAM CID", "-f", "json")
    assert [r["team"] for r in json.loads(listed.stdout)] == ["Lewisham CID"] * 2
    assert teams(force) == ["Greenwich CID", "Lewisham CID"]


def test_team_add_is_logged_refuses_a_duplicate_and_warns_of_a_near_miss(
    store: Runner,
    sql,  # type: ignore[no-untyped-def]
) -> None:
    added = store("team", "add", "Lewisham CID")
    assert added.exit_code == 0, added.output
    assert "Added team Lewisham CID." in added.stderr
    again = store("team", "add", "lewisham cid")
    assert again.exit_code == 2
    assert "A team called 'Lewisham CID' already exists." in again.stderr
    near = store("team", "add", TYPO)
    assert near.exit_code == 0
    assert "close to the existing team 'Lewisham CID'" in near.stderr
    assert teams(store) == [TYPO, "Lewisham CID"]
    assert sql("SELECT kind, detail FROM log_entry ORDER BY id") == [
        ("team-add", '{"team": "Lewisham CID"}'),
        ("team-add", '{"team": "Lewisham CDI"}'),
    ]


def test_team_rename_keeps_officers_and_crimes_and_refuses_an_existing_name(
    force: Runner,
    sql,  # type: ignore[no-untyped-def]
) -> None:
    taken = force("team", "rename", "Lewisham CID", "greenwich cid")
    assert taken.exit_code == 2
    assert "A team called 'Greenwich CID' already exists" in taken.stderr
    renamed = force("team", "rename", "lewisham cid", "Lewisham South CID", "-r", "restructure")
    assert renamed.exit_code == 0, renamed.output
    assert "Renamed team Lewisham CID to Lewisham South CID." in renamed.stderr
    assert teams(force) == ["Greenwich CID", "Lewisham South CID"]
    workload = json.loads(force("workload", "--team", "Lewisham South CID", "-f", "json").stdout)
    assert [row["collar"] for row in workload] == ["QX2222"]
    crimes = json.loads(force("crime", "list", "-f", "json").stdout)
    assert [c["team"] for c in crimes] == ["Lewisham South CID"]
    history = force("history", "--kind", "team-rename", "--wide")
    assert "team: Lewisham CID -> Lewisham South CID" in history.stdout
    assert sql("SELECT reason FROM log_entry WHERE kind = 'team-rename'") == [("restructure",)]


def test_nearest_names_compare_case_insensitively() -> None:
    known = ["Lewisham CID", "Greenwich CID", "North CID"]
    assert nearest("lewisham cdi", known) == "Lewisham CID"
    assert nearest("LEWISAM CID", known) == "Lewisham CID"
    assert nearest("Lewisham CID", known) is None  # the same team is not a near miss
    assert nearest("Bexley", known) is None
    assert near_misses(["Grenwich CID", "Bexley"], known) == {"Grenwich CID": "Greenwich CID"}
