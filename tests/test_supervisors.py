"""Who supervises whom: an officer's supervisor (officer update --supervisor, the officers
import's supervisor column), checked and logged; workload --supervisors shows each
supervisor's officers with their live crimes and reviews due and overdue."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timedelta

import pytest

from tests.helpers.cli import Runner
from tests.helpers.force import add_crimes, add_officer, allocate_refs
from tests.helpers.store import log_entries, writing

TODAY = date.today()


@pytest.fixture
def force(store: Runner, db_url: str) -> Runner:
    """DS1 supervises nobody yet; AB1 holds CR/1..CR/3 (reported 40 days ago, never
    reviewed), CD2 holds CR/4."""
    with writing(db_url) as conn:
        add_officer(conn, "DS1", name="Dee Sharp", rank="DS")
        add_officer(conn, "AB1", name="Ann Bell", rank="DC")
        add_officer(conn, "CD2", name="Cal Dunn", rank="DC")
        add_crimes(conn, 4, reported_on=TODAY - timedelta(days=40))
    allocate_refs(db_url, ["CR/1", "CR/2", "CR/3"], "AB1")
    allocate_refs(db_url, ["CR/4"], "CD2")
    return store


def supervisor_of(sql, collar: str) -> str | None:  # type: ignore[no-untyped-def]
    rows = sql(
        "SELECT b.collar FROM officer o LEFT JOIN officer b ON b.id = o.supervisor_id "
        "WHERE o.collar = :c",
        c=collar,
    )
    return rows[0][0]  # type: ignore[no-any-return]


def test_officer_update_sets_checks_and_logs_the_supervisor(force: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    done = force("officer", "update", "ab1", "--supervisor", "ds1")
    assert done.exit_code == 0, done.output
    assert "Updated AB1: supervisor none -> DS1." in done.stderr
    assert supervisor_of(sql, "AB1") == "DS1"
    entry = log_entries(sql, "officer-update")[-1]
    assert (entry["collar"], entry["detail"]) == ("AB1", {"supervisor": ["", "DS1"]})
    shown = json.loads(force("officer", "show", "AB1", "--format", "json").stdout)
    assert shown["supervisor"] == "DS1"

    for bad, words in (("XX9", "no officer with collar XX9"), ("AB1", "their own supervisor")):
        refused = force("officer", "update", "AB1", "--supervisor", bad, "--rank", "DS")
        assert refused.exit_code == 2
        assert words in refused.stderr
    assert supervisor_of(sql, "AB1") == "DS1"
    assert sql("SELECT rank FROM officer WHERE collar = 'AB1'") == [("DC",)]  # nothing written

    cleared = force("officer", "update", "AB1", "--supervisor", "none")
    assert cleared.exit_code == 0, cleared.output
    assert supervisor_of(sql, "AB1") is None


def test_the_officers_import_reads_a_supervisor_column(store: Runner, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    store("team", "add", "Lewisham CID")
    path = tmp_path / "officers.csv"
    header = "collar,name,team,accreditation,investigator_since,rank,supervisor\n"
    path.write_text(
        header + "AB1,Ann Bell,Lewisham CID,PIP2,2015-01-01,DC,DS1\n"
        "DS1,Dee Sharp,Lewisham CID,PIP2,2010-01-01,DS,\n"  # a later row of the same file
    )
    result = store("import", "officers", str(path))
    assert result.exit_code == 0, result.output
    assert (supervisor_of(sql, "AB1"), supervisor_of(sql, "DS1")) == ("DS1", None)
    listed = csv.DictReader(io.StringIO(store("officer", "list", "--format", "csv").stdout))
    assert {row["collar"]: row["supervisor"] for row in listed} == {"AB1": "DS1", "DS1": ""}

    # a supervisor change alone is an update, logged
    path.write_text(
        header + "AB1,Ann Bell,Lewisham CID,PIP2,2015-01-01,DC,\n"
        "DS1,Dee Sharp,Lewisham CID,PIP2,2010-01-01,DS,AB1\n"
    )
    result = store("import", "officers", str(path))
    assert result.exit_code == 0, result.output
    assert "0 new, 2 updated, 0 unchanged" in result.stderr
    assert (supervisor_of(sql, "AB1"), supervisor_of(sql, "DS1")) == (None, "AB1")

    path.write_text(
        header + "AB1,Ann Bell,Lewisham CID,PIP2,2015-01-01,DC,AB1\n"
        "DS1,Dee Sharp,Lewisham CID,PIP2,2010-01-01,DS,ZZ9\n"
    )
    bad = store("import", "officers", str(path))
    assert bad.exit_code == 2
    assert "line 2, column supervisor: AB1 cannot be their own supervisor" in bad.stderr
    assert "line 3, column supervisor: there is no officer with collar ZZ9" in bad.stderr
    assert (supervisor_of(sql, "AB1"), supervisor_of(sql, "DS1")) == (None, "AB1")


def test_workload_by_supervisor_counts_reviews_due_and_overdue(force: Runner, db_url: str) -> None:
    from caseload.domain.inputs import ReviewCreate
    from caseload.store.supervision import record_review

    for collar in ("AB1", "CD2"):
        assert force("officer", "update", collar, "--supervisor", "DS1").exit_code == 0
    with writing(db_url) as conn:
        # CR/1 reviewed 25 days ago: due within the week (28); CR/2 reviewed 2 days ago: not
        # due; CR/3 never reviewed (40 days): overdue; CR/4 reviewed 10 days ago, high risk
        # (7 days): overdue.
        for ref, days in (("CR/1", 25), ("CR/2", 2), ("CR/4", 10)):
            day = TODAY - timedelta(days=days)
            data = ReviewCreate(note="Reviewed", reviewed_on=day)
            record_review(conn, ref, data, actor="DS Sharp", at=datetime.combine(day, time(9)))
    assert force("crime", "risk", "CR/4", "high", "--reason", "DASH").exit_code == 0

    rows = json.loads(force("workload", "--supervisors", "--format", "json").stdout)
    got = {
        r["collar"]: (r["supervisor"], r["live"], r["reviews_due"], r["reviews_overdue"])
        for r in rows
    }
    assert got == {"AB1": ("DS1", 3, 1, 1), "CD2": ("DS1", 1, 0, 1)}
    # the audit agrees on what is overdue
    audit = json.loads(force("audit", "--format", "json").stdout)
    overdue = sorted(f["reference"] for f in audit["findings"] if f["code"] == "review-overdue")
    assert overdue == ["CR/3", "CR/4"]

    table = force("workload", "--supervisors")
    assert table.exit_code == 0, table.output
    assert "Supervisor totals" in table.stderr
    total = [
        line for line in table.stdout.splitlines() if line.startswith("DS1") and "Sharp" in line
    ]
    assert total and total[-1].split()[-4:] == ["2", "4", "1", "2"]
    assert force("workload", "--supervisors", "--officer", "AB1").exit_code == 2
