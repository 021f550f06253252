"""A supervisor grades a crime's risk (standard, medium, high): kept with history, logged,
shown by crime show, crime list, workload and suggest, and read from an import."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest

from tests.helpers.cli import Runner
from tests.helpers.force import (
    add_crimes,
    add_officer,
    add_teams,
    pip1_holder_and_pip2_spare,
)
from tests.helpers.store import log_entries, writing

TODAY = date.today()


@pytest.fixture
def force(store: Runner, db_url: str) -> Runner:
    pip1_holder_and_pip2_spare(db_url)
    return store


def test_crime_risk_records_the_grade_with_history_and_logs_it(force: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    result = force("crime", "risk", "CR/1", "high", "--reason", "DASH: high")
    assert result.exit_code == 0, result.output
    assert "CR/1 is now high risk (was standard)." in result.stderr
    result = force("crime", "risk", "CR/1", "Medium", "--reason", "bail conditions set")
    assert result.exit_code == 0, result.output

    assert sql("SELECT risk FROM crime WHERE reference = 'CR/1'") == [("medium",)]
    intervals = sql(
        "SELECT r.grade, r.end_at IS NULL, r.reason FROM crime_risk r "
        "JOIN crime c ON c.id = r.crime_id WHERE c.reference = 'CR/1' ORDER BY r.id"
    )
    assert intervals == [("high", False, "DASH: high"), ("medium", True, "bail conditions set")]
    entries = log_entries(sql, "crime-risk")
    assert [(e["crime_ref"], e["collar"], e["reason"]) for e in entries] == [
        ("CR/1", "AB1", "DASH: high"),
        ("CR/1", "AB1", "bail conditions set"),
    ]
    assert entries[1]["detail"] == {"old": "high", "new": "medium"}

    shown = json.loads(force("crime", "show", "CR/1", "--format", "json").stdout)
    assert shown["risk"] == "medium"
    assert [g["grade"] for g in shown["risk_grades"]] == ["high", "medium"]
    assert shown["risk_grades"][1]["to"] is None


def test_crime_risk_refuses_bad_input_and_writes_nothing(force: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    bad = force("crime", "risk", "CR/1", "severe", "--reason", "x")
    assert bad.exit_code == 2
    assert "not a risk grade (standard, medium or high)" in bad.stderr
    assert force("crime", "risk", "CR/9", "high", "--reason", "x").exit_code == 2
    assert force("crime", "risk", "CR/1", "high").exit_code == 2  # --reason is required
    same = force("crime", "risk", "CR/1", "standard", "--reason", "x")
    assert same.exit_code == 2
    assert "already graded standard risk" in same.stderr
    assert sql("SELECT count(*) FROM crime_risk") == [(0,)]
    assert log_entries(sql, "crime-risk") == []


def test_listings_workload_and_suggest_show_the_grade(force: Runner) -> None:
    force("crime", "risk", "CR/1", "high", "--reason", "DASH")
    force("crime", "risk", "CR/2", "medium", "--reason", "DASH")
    force("crime", "risk", "CR/3", "high", "--reason", "DASH")

    listed = csv.DictReader(io.StringIO(force("crime", "list", "--format", "csv").stdout))
    assert {row["reference"]: row["risk"] for row in listed} == {
        "CR/1": "high",
        "CR/2": "medium",
        "CR/3": "high",
    }
    only = force("crime", "list", "--risk", "high", "--format", "csv").stdout
    assert [row["reference"] for row in csv.DictReader(io.StringIO(only))] == ["CR/1", "CR/3"]

    rows = {r["collar"]: r for r in json.loads(force("workload", "--format", "json").stdout)}
    assert (rows["AB1"]["live_medium_risk"], rows["AB1"]["live_high_risk"]) == (1, 1)
    assert (rows["CD2"]["live_medium_risk"], rows["CD2"]["live_high_risk"]) == (0, 0)
    as_csv = csv.DictReader(io.StringIO(force("workload", "--format", "csv").stdout))
    assert {r["collar"]: r["live_high_risk"] for r in as_csv} == {"AB1": "1", "CD2": "0"}
    # before today the grades were not yet set: a past day's workload has them standard
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    past = json.loads(force("workload", "--as-of", yesterday, "--format", "json").stdout)
    assert {r["collar"]: r["live_high_risk"] for r in past} == {"AB1": 0, "CD2": 0}

    table = force("workload", env={"COLUMNS": "80"})
    assert table.exit_code == 0, table.output
    assert max(len(line) for line in table.stdout.splitlines()) <= 80

    suggested = force("suggest", "CR/3")
    assert "Who could take CR/3 (Burglary, high risk, needs PIP1, Lewisham CID)" in (
        suggested.stderr
    )


def test_import_reads_the_risk_column_blank_standard(store: Runner, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    add_teams(store, "Lewisham CID")
    path = tmp_path / "crimes.csv"
    path.write_text(
        "reference,crime_type,reported_on,team,risk\n"
        "R1,Burglary,2026-01-05,Lewisham CID,high\n"
        "R2,Burglary,2026-01-05,Lewisham CID,\n"
        "R3,Burglary,2026-01-05,Lewisham CID,Medium\n"
    )
    result = store("import", "crimes", str(path))
    assert result.exit_code == 0, result.output
    assert sql("SELECT reference, risk FROM crime ORDER BY reference") == [
        ("R1", "high"),
        ("R2", "standard"),
        ("R3", "medium"),
    ]
    # graded from the day each was reported
    assert sql(
        "SELECT c.reference, r.grade FROM crime_risk r JOIN crime c ON c.id = r.crime_id "
        "ORDER BY c.reference"
    ) == [("R1", "high"), ("R3", "medium")]
    past = csv.DictReader(
        io.StringIO(store("export", "crimes", "--as-of", "2026-01-06", "-o", "-").stdout)
    )
    assert {row["reference"]: row["risk"] for row in past} == {
        "R1": "high",
        "R2": "standard",
        "R3": "medium",
    }

    # blank keeps an existing crime's grade; a new grade is a logged change from now
    path.write_text(
        "reference,crime_type,reported_on,team,risk\n"
        "R1,Burglary,2026-01-05,Lewisham CID,\n"
        "R2,Burglary,2026-01-05,Lewisham CID,high\n"
    )
    result = store("import", "crimes", str(path))
    assert result.exit_code == 0, result.output
    assert sql("SELECT reference, risk FROM crime ORDER BY reference")[:2] == [
        ("R1", "high"),
        ("R2", "high"),
    ]
    updates = log_entries(sql, "crime-update")
    assert [(e["crime_ref"], e["detail"]["risk"]) for e in updates] == [
        ("R2", ["standard", "high"])
    ]

    path.write_text("reference,crime_type,reported_on,team,risk\nR9,Burglary,2026-01-05,X,grave\n")
    bad = store("import", "crimes", str(path))
    assert bad.exit_code == 2
    assert "line 2, column risk: 'grave' is not a risk grade" in bad.stderr


# --- reviews by risk ---------------------------------------------------------------------


def review_findings(run: Runner, *args: str) -> dict[str, dict]:  # type: ignore[type-arg]
    result = run("audit", "--format", "json", *args)
    assert result.exit_code in (0, 1), result.output
    return {
        f["reference"]: f
        for f in json.loads(result.stdout)["findings"]
        if f["code"] == "review-overdue"
    }


@pytest.fixture
def reviewed(store: Runner, db_url: str) -> Runner:
    """CR/1..CR/3 reported 40 days ago, each reviewed 20 days ago; CR/1 graded high 15 days
    ago and lowered to standard 5 days ago; CR/2 graded medium 15 days ago."""
    from datetime import datetime, time

    from caseload.domain.inputs import ReviewCreate
    from caseload.store.risk import set_risk
    from caseload.store.supervision import record_review

    def ago(n: int) -> datetime:
        return datetime.combine(TODAY - timedelta(days=n), time(9))

    with writing(db_url) as conn:
        add_officer(conn, "AB1", name="Ann Bell", rank="DC", accreditation="PIP2")
        add_crimes(conn, 3, reported_on=TODAY - timedelta(days=40))
        for ref in ("CR/1", "CR/2", "CR/3"):
            data = ReviewCreate(note="Lines of enquiry set", reviewed_on=ago(20).date())
            record_review(conn, ref, data, actor="DS Green", at=ago(20))
        set_risk(conn, "CR/1", "high", reason="DASH high", actor="DS Green", at=ago(15))
        set_risk(conn, "CR/2", "medium", reason="DASH medium", actor="DS Green", at=ago(15))
        set_risk(conn, "CR/1", "standard", reason="suspect remanded", actor="DS Green", at=ago(5))
    return store


def test_the_audit_uses_each_days_grade_for_review_overdue(reviewed: Runner) -> None:
    def day(n: int) -> str:
        return (TODAY - timedelta(days=n)).isoformat()

    # 16 days ago: every crime standard, reviewed 4 days before
    assert review_findings(reviewed, "--as-of", day(16)) == {}
    # 10 days ago: CR/1 high (7 days), CR/2 medium (14): only CR/1 is overdue, since the
    # day after its 7 days ran out
    found = review_findings(reviewed, "--as-of", day(10))
    assert set(found) == {"CR/1"}
    assert found["CR/1"]["since"] == day(12)
    assert "review every 7 days (high risk)" in found["CR/1"]["detail"]
    # today: CR/1 is standard again (20 days < 28); CR/2 medium and 20 days > 14
    found = review_findings(reviewed)
    assert set(found) == {"CR/2"}
    assert found["CR/2"]["since"] == day(5)
    assert "review every 14 days (medium risk)" in found["CR/2"]["detail"]


def test_a_grade_raised_after_the_interval_ran_out_is_overdue_from_that_day(
    reviewed: Runner,
) -> None:
    assert reviewed("crime", "risk", "CR/3", "high", "--reason", "DASH high").exit_code == 0
    found = review_findings(reviewed)
    assert found["CR/3"]["since"] == TODAY.isoformat()
    shown = json.loads(reviewed("crime", "show", "CR/3", "--format", "json").stdout)
    assert shown["review_every_days"] == 7
    assert shown["next_review_due"] == (TODAY - timedelta(days=1)).isoformat()


def test_review_intervals_are_policy_and_crime_show_uses_the_grade(reviewed: Runner) -> None:
    shown = json.loads(reviewed("crime", "show", "CR/2", "--format", "json").stdout)
    assert shown["review_every_days"] == 14
    assert shown["next_review_due"] == (TODAY - timedelta(days=6)).isoformat()
    assert reviewed("policy", "set", "review_days_medium", "21").exit_code == 0
    assert review_findings(reviewed) == {}
    shown = json.loads(reviewed("crime", "show", "CR/2", "--format", "json").stdout)
    assert shown["next_review_due"] == (TODAY + timedelta(days=1)).isoformat()
    recorded = reviewed("review", "CR/2", "--note", "Reviewed")
    assert recorded.exit_code == 0, recorded.output
    assert "(review_days_medium: 21 days)" in recorded.stderr
    assert reviewed("policy", "set", "review_days_high", "0").exit_code == 2
