"""The store's checks see the data: ``db check`` replays the decision log against each
crime's holder, the allocation intervals, the policy and the matrix, and names every
disagreement; ``verify`` refuses an empty log on a store that holds data, and ``verify
--anchor FILE`` catches a cut tail or a rewritten chain against a head kept outside the
store. Each story edits the store behind caseload's back, as an attacker would."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers.force import add_teams


@pytest.fixture
def tamper(db_url: str, sql) -> Callable[..., list[tuple[Any, ...]]]:  # type: ignore[no-untyped-def]
    """Change the store behind caseload's back: the sqlite3 module on SQLite, SQL on PostgreSQL.

    The attacker owns the tables, so the append-only triggers (store.guards) are put out
    of the way for the statement and put back after it: the replay must see the edit,
    and verify finds the guards in place."""
    if "://" in db_url:

        def _postgresql(statement: str, **params: Any) -> list[tuple[Any, ...]]:
            for table in GUARDED:
                sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            try:
                return sql(statement, **params)  # type: ignore[no-any-return]
            finally:
                for table in GUARDED:
                    sql(f"ALTER TABLE {table} ENABLE TRIGGER USER")

        return _postgresql

    def _sqlite(statement: str, **params: Any) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(db_url)
        try:
            with conn:
                triggers = conn.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
                ).fetchall()
                for name, _ in triggers:
                    conn.execute(f"DROP TRIGGER {name}")
                found = conn.execute(statement, params).fetchall()
                for _, create in triggers:
                    conn.execute(create)
                return found
        finally:
            conn.close()

    return _sqlite


GUARDED = ("log_entry", "allocation")


@pytest.fixture
def worked(store):  # type: ignore[no-untyped-def]
    """A store with a short history of every kind the replay reads: allocations, a
    transfer, an unassign, a finalisation and a reopening, a policy and a matrix change."""
    add_teams(store, "Lewisham CID")
    for collar in ("AB1", "AB2"):
        result = store("officer", "add", collar, "--name", f"Officer {collar}",
                       "--team", "Lewisham CID", "-a", "PIP2", "--since", "2015-01-01")  # fmt: skip
        assert result.exit_code == 0, result.output
    for ref in ("CR/1", "CR/2", "CR/3"):
        result = store("crime", "add", ref, "--type", "Burglary", "--team", "Lewisham CID",
                       "--reported", "2026-11-02")  # fmt: skip
        assert result.exit_code == 0, result.output
    steps = [
        ("assign", "CR/1", "AB1", "-r", "first"),
        ("assign", "CR/2", "AB1", "-r", "first"),
        ("assign", "CR/3", "AB2", "-r", "first"),
        ("assign", "CR/2", "AB2", "-r", "moved"),
        ("unassign", "CR/3", "-r", "back to the queue"),
        ("crime", "finalise", "CR/1", "--outcome", "18", "--on", "2026-11-20"),
        ("crime", "reopen", "CR/1", "--on", "2026-11-21", "--reason", "new evidence"),
        ("policy", "set", "inexperienced_limit", "20"),
        ("matrix", "set", "Robbery", "PIP2"),
    ]
    for step in steps:
        result = store(*step)
        assert result.exit_code == 0, (step, result.output)
    return store


def _check_fails(run, *expected: str) -> str:  # type: ignore[no-untyped-def]
    result = run("db", "check")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    flowed = " ".join(result.stdout.split())  # a long example wraps inside its table cell
    for text in expected:
        assert text in flowed, result.stdout
    return str(result.stdout)


def test_a_store_worked_only_through_caseload_passes_the_replay(worked) -> None:  # type: ignore[no-untyped-def]
    result = worked("db", "check")
    assert result.exit_code == 0, result.output
    assert "passed all" in result.stderr
    assert worked("verify").exit_code == 0


def test_a_holder_edited_with_its_interval_is_named(worked, tamper) -> None:  # type: ignore[no-untyped-def]
    """Someone moves CR/1 to AB2 by editing its open interval and crime.holder_id
    together: the old invariants agree with each other, and the log is intact, but the
    replay names the crime, what the log says and what the store says."""
    tamper(
        "UPDATE allocation SET officer_id = (SELECT id FROM officer WHERE collar = 'AB2') "
        "WHERE end_at IS NULL AND crime_id = (SELECT id FROM crime WHERE reference = 'CR/1')"
    )
    tamper(
        "UPDATE crime SET holder_id = (SELECT id FROM officer WHERE collar = 'AB2') "
        "WHERE reference = 'CR/1'"
    )
    out = _check_fails(
        worked,
        "crime holder differs from the decision log",
        "CR/1: the log says AB1, the store says AB2",
        "allocation decision without its interval",
        "CR/1 to AB1",
    )
    assert "CR/2" not in out and "CR/3" not in out
    assert worked("verify").exit_code == 0  # the log itself was not touched


def test_a_crime_unassigned_in_the_log_but_held_in_the_data_is_named(worked, tamper) -> None:  # type: ignore[no-untyped-def]
    tamper(
        "UPDATE crime SET holder_id = (SELECT id FROM officer WHERE collar = 'AB1') "
        "WHERE reference = 'CR/3'"
    )
    _check_fails(worked, "CR/3: the log says unallocated, the store says AB1")


def test_a_past_interval_rewritten_is_named(worked, tamper) -> None:  # type: ignore[no-untyped-def]
    """CR/2 went AB1 then AB2; its closed interval is re-pointed at AB2 so that a past
    day's workload would show AB2 holding it all along."""
    tamper(
        "UPDATE allocation SET officer_id = (SELECT id FROM officer WHERE collar = 'AB2') "
        "WHERE end_at IS NOT NULL AND crime_id = (SELECT id FROM crime WHERE reference = 'CR/2')"
    )
    _check_fails(worked, "allocation decision without its interval", "CR/2 to AB1")


def test_an_edited_policy_setting_is_named(worked, tamper) -> None:  # type: ignore[no-untyped-def]
    tamper("UPDATE policy_setting SET value = '40' WHERE name = 'inexperienced_limit'")
    tamper("INSERT INTO policy_setting (name, value) VALUES ('limit_mode', 'warn')")
    _check_fails(
        worked,
        "policy setting differs from the decision log",
        "inexperienced_limit: the log says 20, the store says 40",
        "limit_mode: warn is not in the log",
    )


def test_a_deleted_policy_row_and_an_edited_matrix_entry_are_named(worked, tamper) -> None:  # type: ignore[no-untyped-def]
    tamper("DELETE FROM policy_setting")
    tamper("UPDATE matrix_entry SET required_level = 'PIP1' WHERE type_key = 'robbery'")
    _check_fails(
        worked,
        "inexperienced_limit: the log says 20, the store has no row",
        "matrix entry differs from the decision log",
        "Robbery: the log says PIP2, the store says PIP1",
    )


def test_data_deleted_while_the_log_stays_is_named(worked, tamper) -> None:  # type: ignore[no-untyped-def]
    for table in ("allocation", "finalisation", "crime", "absence", "officer_history", "officer"):
        tamper(f"DELETE FROM {table}")
    _check_fails(
        worked,
        "crime in the decision log missing from the store",
        "CR/1 (",
        "officer in the decision log missing from the store",
        "AB1 (",
    )


def test_an_empty_log_on_a_store_that_holds_data_is_refused(worked, tamper) -> None:  # type: ignore[no-untyped-def]
    tamper("DELETE FROM log_entry")
    result = worked("verify")
    assert result.exit_code == 1, result.output
    assert result.stdout == "broken 1\n"
    assert "empty, but the store holds 3 crimes, 2 officers, 4 allocation intervals" in (
        result.stderr
    )
    assert "Traceback" not in result.output


def test_an_empty_store_with_an_empty_log_still_verifies(store) -> None:  # type: ignore[no-untyped-def]
    result = store("verify")
    assert result.exit_code == 0, result.output
    assert "empty: nothing to verify" in result.stderr


def test_the_anchor_is_written_then_checked_and_advanced(worked, tmp_path) -> None:  # type: ignore[no-untyped-def]
    anchor = tmp_path / "anchor.json"
    first = worked("verify", "--anchor", str(anchor))
    assert first.exit_code == 0, first.output
    kept = json.loads(anchor.read_text())
    head = int(first.stdout.split()[1])
    assert kept["entries"] == head and first.stdout.split()[2] == kept["head_hash"]
    assert f"Recorded the head, entry {head}, in the anchor" in first.stderr
    assert worked("assign", "CR/3", "AB1", "-r", "again").exit_code == 0
    second = worked("verify", "--anchor", str(anchor))
    assert second.exit_code == 0, second.output
    assert f"(it was at entry {head})" in second.stderr
    assert json.loads(anchor.read_text())["entries"] == head + 1


def test_the_anchor_catches_a_cut_tail(worked, tamper, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The newest entries deleted leave a chain that is intact on its own; the anchor
    written by last night's verify says how long it was."""
    anchor = tmp_path / "anchor.json"
    assert worked("verify", "--anchor", str(anchor)).exit_code == 0
    entries = json.loads(anchor.read_text())["entries"]
    tamper("DELETE FROM log_entry WHERE id > :n", n=entries - 2)
    assert worked("verify").exit_code == 0  # on its own the cut is invisible
    result = worked("verify", "--anchor", str(anchor))
    assert result.exit_code == 1, result.output
    assert result.stdout == f"broken {entries - 1}\n"
    assert f"entries {entries - 1}-{entries} were removed from its end" in result.stderr
    assert json.loads(anchor.read_text())["entries"] == entries  # not advanced


def test_the_anchor_catches_a_cut_made_permanent_by_later_decisions(
    worked, tamper, tmp_path
) -> None:
    """After the cut, new decisions chain onto it and the log is as long as before: the
    entry at the anchor's position no longer has the recorded hash."""
    anchor = tmp_path / "anchor.json"
    assert worked("verify", "--anchor", str(anchor)).exit_code == 0
    entries = json.loads(anchor.read_text())["entries"]
    tamper("DELETE FROM log_entry WHERE id > :n", n=entries - 2)
    for step in (("assign", "CR/3", "AB1", "-r", "x"), ("unassign", "CR/3", "-r", "y")):
        assert worked(*step).exit_code == 0
    assert worked("verify").exit_code == 0
    result = worked("verify", "--anchor", str(anchor))
    assert result.exit_code == 1, result.output
    assert result.stdout == f"broken {entries}\n"
    assert f"entry {entries} no longer has the hash the anchor recorded" in result.stderr


def test_a_bad_anchor_file_or_folder_is_refused(worked, tmp_path) -> None:  # type: ignore[no-untyped-def]
    garbage = tmp_path / "anchor.json"
    garbage.write_text("not json")
    result = worked("verify", "--anchor", str(garbage))
    assert result.exit_code == 2, result.output
    assert "is not a caseload anchor file" in result.stderr
    assert garbage.read_text() == "not json"
    missing = worked("verify", "--anchor", str(tmp_path / "no-such-folder" / "a.json"))
    assert missing.exit_code == 2, missing.output
    assert "does not exist" in missing.stderr
