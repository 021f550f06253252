"""Issue 14, items 4, 5 and 8: values the validators used to accept and then crash on,
dates of things that happened set in the future, and smaller untrue messages.

Every refusal is exit 2 with one sentence and leaves the store as it was."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import caseload_exe
from tests.helpers.store import drop_guards

TEAM = "Lewisham CID"
TOMORROW = (date.today() + timedelta(days=1)).isoformat()


@pytest.fixture
def force(store, tmp_path):  # type: ignore[no-untyped-def]
    """One officer (AB1) holding one live crime (CR/1) reported 2026-01-05."""
    officers = tmp_path / "o.csv"
    officers.write_text(
        "collar,name,team,accreditation,investigator_since\n"
        "AB1,Ann Bee,Lewisham CID,PIP2,2015-01-01\n"
    )
    assert store("import", "officers", str(officers)).exit_code == 0
    added = store("crime", "add", "CR/1", "--type", "Burglary", "--team", TEAM,
                  "--reported", "2026-01-05")  # fmt: skip
    assert added.exit_code == 0, added.output
    assert store("assign", "CR/1", "AB1", "--reason", "test").exit_code == 0
    return store


def counts(sql: Any) -> tuple[Any, ...]:
    return tuple(
        sql(f"SELECT count(*) FROM {t}")[0][0]
        for t in ("officer", "crime", "allocation", "finalisation", "policy_setting", "log_entry")
    )


def refused(result: Any, *words: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    if lines[-1].startswith("  See 'caseload "):  # a usage error's pointer to --help
        lines.pop()
    message = lines[-1]
    assert message.startswith("Error: "), message
    for word in words:
        assert word in message, message
    return message


# --- item 4: every number and date bounded ------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "value", "words"),
    [
        ("inexperienced_months", "100000", "between 0 and 600"),
        ("review_days", "99999", "between 1 and 3650"),
        ("inexperienced_limit", "99999999999999999999", "between 1 and 100000"),
        ("inexperienced_limit", "\u00b2", "must be a whole number, not '\u00b2'"),
        ("unallocated_days", "\u0663", "must be a whole number"),
    ],
)
def test_policy_values_outside_what_the_product_uses_are_refused(  # type: ignore[no-untyped-def]
    force, sql, setting, value, words
) -> None:
    before = counts(sql)
    message = refused(force("policy", "set", setting, value), words)
    assert "invalid literal" not in message
    assert counts(sql) == before


def test_the_largest_accepted_months_still_works_everywhere(force) -> None:  # type: ignore[no-untyped-def]
    assert force("policy", "set", "inexperienced_months", "600").exit_code == 0
    for args in (
        ["workload"],
        ["audit", "--as-of", "1900-01-01"],
        ["workload", "--as-of", "1900-01-01"],
        ["export", "crimes", "-o", "-", "--as-of", "1900-01-01"],
        ["officer", "show", "AB1"],
    ):
        result = force(*args)
        assert result.exit_code in (0, 1), (args, result.output)
        assert "Traceback" not in result.output


@pytest.mark.parametrize("day", ["0001-01-01", "0002-01-01", "1899-12-31", "9999-12-31"])
@pytest.mark.parametrize("command", [["workload"], ["audit"], ["export", "crimes", "-o", "-"]])
def test_as_of_outside_the_years_caseload_handles(force, sql, command, day) -> None:  # type: ignore[no-untyped-def]
    before = counts(sql)
    result = force(*command, "--as-of", day)
    refused(result, "outside the dates caseload handles (1900-01-01 to 2199-12-31)")
    assert counts(sql) == before


@pytest.mark.parametrize(
    "args",
    [
        ["history", "-n", "99999999999999999999"],
        ["crime", "list", "--limit", "99999999999999999999"],
        ["audit", "trend", "--last", "99999999999999999999"],
        ["suggest", "CR/1", "--top", "99999999999999999999"],
    ],
)
def test_huge_row_counts_are_refused(force, args) -> None:  # type: ignore[no-untyped-def]
    refused(force(*args), "1000000000")


def test_the_largest_row_count_is_accepted(force) -> None:  # type: ignore[no-untyped-def]
    assert force("history", "-n", "1000000000").exit_code == 0
    listed = force("crime", "list", "--limit", "1000000000", "--format", "json")
    assert listed.exit_code == 0, listed.output


def test_dates_in_files_are_bounded_too(force, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    before = counts(sql)
    path = tmp_path / "c.csv"
    path.write_text(
        "reference,crime_type,reported_on,team\n"
        "CR/2,Burglary,0002-01-01,Lewisham CID\n"
        "CR/3,Burglary,1899-12-31,Lewisham CID\n"
    )
    result = force("import", "crimes", str(path))
    assert result.exit_code == 2, result.output
    assert "line 2, column reported_on" in result.stderr
    assert "outside the dates caseload handles" in result.stderr
    assert "line 3" in result.stderr
    assert counts(sql) == before


def test_a_stored_value_beyond_the_bounds_is_a_store_problem(force, sql) -> None:  # type: ignore[no-untyped-def]
    """A value an older version accepted (inexperienced_months up to 100000) is named, not
    crashed on: exit 4 with the way out; policy set repairs it."""
    force("policy", "set", "inexperienced_months", "30")
    sql("UPDATE policy_setting SET value = '100000' WHERE name = 'inexperienced_months'")
    for args in (
        ["workload"],
        ["audit"],
        ["officer", "show", "AB1"],
        ["policy", "show"],
    ):
        result = force(*args)
        assert result.exit_code == 4, (args, result.output)
        assert "policy setting inexperienced_months holds '100000'" in result.stderr
        assert "caseload policy set inexperienced_months" in result.stderr
    fixed = force("policy", "set", "inexperienced_months", "24")
    assert fixed.exit_code == 0, fixed.output
    assert force("workload").exit_code == 0


# --- item 5: dates of things that happened are not after today ------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["crime", "add", "CR/9", "--type", "Burglary", "--team", TEAM, "--reported", TOMORROW],
        ["crime", "finalise", "CR/1", "--outcome", "18", "--on", TOMORROW],
        [
            "officer",
            "add",
            "ZZ9",
            "--name",
            "Zed",
            "--team",
            TEAM,
            "-a",
            "PIP1",
            "--since",
            TOMORROW,
        ],  # fmt: skip
        [
            "officer",
            "add",
            "ZZ9",
            "--name",
            "Zed",
            "--team",
            TEAM,
            "-a",
            "PIP1",
            "--since",
            "9999-12-31",
        ],  # fmt: skip
        ["officer", "update", "AB1", "--since", TOMORROW],
        ["review", "CR/1", "-m", "looked", "--on", TOMORROW],
        ["event", "CR/1", "arrested", "--on", TOMORROW],
    ],
    ids=[
        "crime add",
        "finalise",
        "officer add",
        "officer add 9999",
        "officer update",
        "review",
        "event",
    ],  # fmt: skip
)
def test_a_date_that_has_not_happened_yet_is_refused(force, sql, args) -> None:  # type: ignore[no-untyped-def]
    before = counts(sql)
    refused(force(*args), "is in the future")
    assert counts(sql) == before
    assert sql("SELECT count(*) FROM crime WHERE finalised_on IS NULL") == [(1,)]


def test_reopen_cannot_be_dated_in_the_future(force, sql) -> None:  # type: ignore[no-untyped-def]
    assert force("crime", "finalise", "CR/1", "--outcome", "18").exit_code == 0
    before = counts(sql)
    refused(force("crime", "reopen", "CR/1", "--on", TOMORROW, "--reason", "x"), "in the future")
    assert counts(sql) == before


@pytest.mark.parametrize(
    ("kind", "text", "column"),
    [
        (
            "officers",
            f"collar,name,team,accreditation,investigator_since\nZZ1,Zed,{TEAM},PIP1,{TOMORROW}\n",
            "investigator_since",
        ),  # fmt: skip
        (
            "crimes",
            f"reference,crime_type,reported_on,team\nCR/5,Burglary,{TOMORROW},{TEAM}\n",
            "reported_on",
        ),  # fmt: skip
        (
            "crimes",
            f"reference,crime_type,reported_on,team,finalised_on,outcome\n"
            f"CR/5,Burglary,2026-01-02,{TEAM},{TOMORROW},18\n",
            "finalised_on",
        ),  # fmt: skip
        (
            "crimes",
            f"reference,crime_type,reported_on,team,holder,allocated_on\n"
            f"CR/5,Burglary,2026-01-02,{TEAM},AB1,{TOMORROW} 10:00\n",
            "allocated_on",
        ),  # fmt: skip
    ],
)
def test_files_use_the_same_rule(force, sql, tmp_path, kind, text, column) -> None:  # type: ignore[no-untyped-def]
    before = counts(sql)
    path = tmp_path / "f.csv"
    path.write_text(text)
    result = force("import", kind, str(path))
    assert result.exit_code == 2, result.output
    assert f"line 2, column {column}: {TOMORROW} is in the future" in result.stderr
    assert counts(sql) == before


def test_today_is_not_the_future(force) -> None:  # type: ignore[no-untyped-def]
    today = date.today().isoformat()
    added = force("crime", "add", "CR/7", "--type", "Burglary", "--team", TEAM, "--reported", today)
    assert added.exit_code == 0, added.output


# --- item 8: smaller lies and gaps ---------------------------------------------------------


def test_review_next_later_than_the_rule_says_the_date_that_applies(force) -> None:  # type: ignore[no-untyped-def]
    today = date.today()
    rule = (today + timedelta(days=28)).isoformat()
    result = force("review", "CR/1", "-m", "looked", "--next", "2099-01-01")
    assert result.exit_code == 0, result.output
    assert f"next review due by {rule}, not 2099-01-01" in result.stderr
    assert "review_days rule (28 days) comes first" in result.stderr
    shown = json.loads(force("crime", "show", "CR/1", "--format", "json").stdout)
    assert shown["next_review_due"] == rule
    sooner = (today + timedelta(days=7)).isoformat()
    result = force("review", "CR/1", "-m", "looked", "--next", sooner)
    assert f"next review due by {sooner} (as asked)" in result.stderr
    assert (
        json.loads(force("crime", "show", "CR/1", "--format", "json").stdout)["next_review_due"]
        == sooner
    )


def test_a_latin_1_file_names_the_line(force, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    lines = ["reference,crime_type,reported_on,team"]
    lines += [f"CR/{i},Burglary,2026-01-02,{TEAM}" for i in range(10, 3010)]
    lines[2500] = f"CR/X,Cambriolage \u00e9,2026-01-02,{TEAM}"
    path = tmp_path / "latin1.csv"
    path.write_bytes("\n".join(lines).encode("latin-1"))
    before = counts(sql)
    message = refused(force("import", "crimes", str(path)))
    assert "is not UTF-8 text: line 2501 holds a byte that is not UTF-8" in message
    assert "line 0" not in message
    assert counts(sql) == before


def _officers_csv(tmp_path: Path) -> Path:
    path = tmp_path / "more.csv"
    path.write_text(
        "collar,name,team,accreditation,investigator_since\n"
        "CD2,Cal Dee,Lewisham CID,PIP1,2016-01-01\n"
    )
    return path


@pytest.mark.sqlite_only
def test_import_from_a_pipe_and_a_fifo(force, sql, db_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``<(cat f)``, ``/dev/stdin`` and a FIFO are read as streams (as a user's shell runs
    them: a subprocess), not called empty, and a FIFO does not hang."""
    source = _officers_csv(tmp_path)
    env = {**os.environ, "CASELOAD_DB": db_url}
    piped = subprocess.run(
        ["bash", "-c", f'"$0" import officers <(cat {source})', *caseload_exe()],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    assert "1 new" in piped.stderr
    with source.open("rb") as stdin:
        dev = subprocess.run(
            [*caseload_exe(), "import", "officers", "/dev/stdin"],
            stdin=stdin, capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip
    assert dev.returncode == 0, dev.stderr
    assert "1 unchanged" in dev.stderr
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    writer = subprocess.Popen(["bash", "-c", f"cat {source} > {fifo}"])
    try:
        fed = subprocess.run(
            [*caseload_exe(), "import", "officers", str(fifo)],
            capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip
    finally:
        writer.wait(timeout=60)
    assert fed.returncode == 0, fed.stderr
    assert "1 unchanged" in fed.stderr
    assert sql("SELECT count(*) FROM officer") == [(2,)]


def test_verify_names_two_swapped_entries(force, sql, db_url) -> None:  # type: ignore[no-untyped-def]
    for reason in ("a", "b", "c"):
        force("policy", "set", "review_days", str(20 + len(reason) + ord(reason) % 7))
    rows = sql("SELECT id FROM log_entry ORDER BY id")
    assert len(rows) >= 4
    first, second = rows[1][0], rows[2][0]
    # Swap every field of the two entries but their ids: what "swapping two rows" does
    # (as the tables' owner can, the append-only triggers out of the way first).
    drop_guards(sql, db_url)
    sql(f"UPDATE log_entry SET id = -1 WHERE id = {first}")
    sql(f"UPDATE log_entry SET id = {first} WHERE id = {second}")
    sql(f"UPDATE log_entry SET id = {second} WHERE id = -1")
    result = force("verify")
    assert result.exit_code == 1, result.output
    assert f"entries {first} and {second} were swapped" in result.stderr
    assert "inserted" not in result.stderr


def test_alembic_version_with_two_rows_is_refused(force, sql) -> None:  # type: ignore[no-untyped-def]
    (label,) = sql("SELECT version_num FROM alembic_version")[0]
    sql("INSERT INTO alembic_version (version_num) VALUES ('0001')")
    for args in (
        ["workload"],
        ["workload", "--officer", "AB1"],
        ["assign", "CR/1", "AB1", "-r", "x"],
    ):
        result = force(*args)
        assert result.exit_code == 4, (args, result.output)
        assert "names 2 schema revisions" in result.stderr
    assert sql("SELECT count(*) FROM alembic_version") == [(2,)]
    assert label


def test_a_label_that_does_not_match_the_schema_is_refused(force, sql) -> None:  # type: ignore[no-untyped-def]
    sql("DROP TABLE victim_update")
    result = force("workload")
    assert result.exit_code == 4, result.output
    assert "lacks its table victim_update" in result.stderr
