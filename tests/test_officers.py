"""A supervisor records officers, lists them, changes their details and status."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.helpers.cli import Runner
from tests.helpers.force import add_teams


def add_patel(run: Runner, *extra: str) -> None:
    if "Lewisham CID" not in run("team", "list", "-f", "csv").stdout:
        add_teams(run, "Lewisham CID")
    result = run(
        "officer",
        "add",
        "ab1234",
        "--name",
        "Asha Patel",
        "--team",
        "Lewisham CID",
        "--accreditation",
        "PIP2",
        "--since",
        "01/03/2020",
        "--rank",
        "dc",
        *extra,
    )
    assert result.exit_code == 0, result.output


def officer_count(sql) -> int:  # type: ignore[no-untyped-def]
    return int(sql("SELECT count(*) FROM officer")[0][0])


def test_add_then_list_shows_the_officer_upper_cased(store: Runner) -> None:
    add_patel(store)
    result = store("officer", "list", "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows == [
        {
            "collar": "AB1234",
            "name": "Asha Patel",
            "team": "Lewisham CID",
            "rank": "DC",
            "accreditation": "PIP2",
            "investigator_since": "2020-03-01",
            "status": "active",
            "capacity": "",
            "trainee": "no",
            "supervisor": "",
        }
    ]


def test_a_team_named_in_any_case_is_the_same_team(store: Runner) -> None:
    add_patel(store)
    store(
        "officer",
        "add",
        "CD5678",
        "--name",
        "Ben Cole",
        "--team",
        "lewisham cid",
        "-a",
        "PIP1",
        "--since",
        "2024-01-10",
        "--trainee",
    )
    result = store("team", "list", "--format", "json")
    teams = json.loads(result.stdout)
    assert [t["team"] for t in teams] == ["Lewisham CID"]
    assert teams[0]["officers"] == 2


def test_duplicate_collar_is_refused_case_insensitively(store: Runner, sql) -> None:
    add_patel(store)
    result = store(
        "officer",
        "add",
        "AB1234",
        "--name",
        "Someone Else",
        "--team",
        "X",
        "-a",
        "PIP1",
        "--since",
        "2020-01-01",
    )
    assert result.exit_code == 2
    assert "already exists" in result.stderr
    assert "Traceback" not in result.output
    assert officer_count(sql) == 1


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--accreditation", "PIP9", "not an accreditation level"),
        ("--since", "31/02/2020", "not a real date"),
        ("--since", "soon", "not a date"),
    ],
)
def test_bad_values_exit_2_and_write_nothing(
    store: Runner, sql, option: str, value: str, message: str
) -> None:
    args = {"--accreditation": "PIP1", "--since": "2020-01-01"}
    args[option] = value
    result = store(
        "officer",
        "add",
        "ZZ1",
        "--name",
        "Zed",
        "--team",
        "T",
        "--accreditation",
        args["--accreditation"],
        "--since",
        args["--since"],
    )
    assert result.exit_code == 2
    assert message in result.output
    assert officer_count(sql) == 0


def test_show_reports_experience_and_live_count(store: Runner) -> None:
    add_teams(store, "Greenwich CID")
    store(
        "officer",
        "add",
        "TD1",
        "--name",
        "Tia Dunn",
        "--team",
        "Greenwich CID",
        "-a",
        "PIP1",
        "--since",
        "2026-01-05",
        "--rank",
        "TDC",
    )
    result = store("officer", "show", "td1", "--format", "json")
    assert result.exit_code == 0
    record = json.loads(result.stdout)
    assert record["collar"] == "TD1"
    assert record["inexperienced"] is True
    assert record["experienced_from"] == "2028-01-05"
    assert record["live"] == 0
    assert record["limit"] == 25


def test_unknown_officer_is_exit_2(store: Runner) -> None:
    result = store("officer", "show", "NOPE1")
    assert result.exit_code == 2
    assert result.stderr.strip() == "Error: There is no officer with collar NOPE1."


def test_update_and_status_are_logged_and_never_delete(store: Runner, sql) -> None:
    add_patel(store)
    result = store("officer", "update", "AB1234", "--accreditation", "PIP3", "--capacity", "20")
    assert result.exit_code == 0, result.output
    assert "accreditation PIP2 -> PIP3" in result.stderr
    assert "capacity none -> 20" in result.stderr  # as a supervisor says it, not "None"
    assert store("officer", "status", "AB1234", "leave").stderr == "AB1234 is now on leave.\n"
    result = store("officer", "status", "AB1234", "left", "--reason", "retired")
    assert result.exit_code == 0
    listed = store("officer", "list", "--status", "left", "--format", "json")
    assert [o["collar"] for o in json.loads(listed.stdout)] == ["AB1234"]
    assert json.loads(listed.stdout)[0]["capacity"] == 20
    kinds = [k for (k,) in sql("SELECT kind FROM log_entry ORDER BY id")]
    assert kinds == [
        "team-add",
        "officer-add",
        "officer-update",
        "officer-status",
        "officer-status",
    ]
    assert officer_count(sql) == 1


def test_bad_status_and_empty_update(store: Runner) -> None:
    add_patel(store)
    assert store("officer", "status", "AB1234", "retired").exit_code == 2
    result = store("officer", "update", "AB1234")
    assert result.exit_code == 2
    assert "Nothing to change" in result.stderr
