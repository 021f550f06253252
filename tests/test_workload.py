"""A supervisor looks at who holds how much, now and on a past day."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta

import pytest

from tests.helpers.cli import Runner
from tests.helpers.force import add_crimes, add_officer, allocate_refs
from tests.helpers.store import writing


def workload_rows(run: Runner, *args: str) -> dict[str, dict]:  # type: ignore[type-arg]
    result = run("workload", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return {row["collar"]: row for row in json.loads(result.stdout)}


@pytest.fixture
def force(store: Runner, db_url: str) -> Runner:
    """XY9: inexperienced TDC, PIP1, 26 live. AB1: DC PIP2, capacity 3. LV1: on leave, PIP1."""
    with writing(db_url) as conn:
        add_officer(conn, "XY9", accreditation="PIP1", since=date.today() - timedelta(days=400))
        add_officer(conn, "AB1", name="Ann Bell", rank="DC", capacity=3)
        add_officer(conn, "LV1", name="Lee Vance", rank="DC", accreditation="PIP1", status="leave")
        add_officer(conn, "OT1", name="Oli Tan", rank="DC", team="Croydon CID")
        add_crimes(conn, 30)
        add_crimes(conn, 3, prefix="SX/", level="PIP2")
        add_crimes(conn, 1, prefix="MJ/", level="PIP3")
    allocate_refs(db_url, [f"CR/{n}" for n in range(1, 27)], "XY9")
    allocate_refs(db_url, ["SX/1", "SX/2", "CR/27"], "AB1")
    allocate_refs(db_url, ["MJ/1"], "AB1", override="SIO on leave")
    allocate_refs(db_url, ["CR/28"], "LV1")
    return store


def test_one_row_per_officer_with_counts_limit_headroom_and_flags(force: Runner) -> None:
    rows = workload_rows(force)
    assert set(rows) == {"XY9", "AB1", "LV1", "OT1"}
    xy9 = rows["XY9"]
    assert xy9 == {
        "collar": "XY9",
        "name": "Sam Jones",
        "team": "Lewisham CID",
        "rank": "TDC",
        "accreditation": "PIP1",
        "status": "active",
        "inexperienced": True,
        "live": 26,
        "live_pip1": 26,
        "live_pip2": 0,
        "live_pip3": 0,
        "live_pip4": 0,
        "live_medium_risk": 0,
        "live_high_risk": 0,
        "capacity": None,
        "limit": 25,
        "headroom": -1,
        "weighted_load": 26,
        "flags": "over-limit",
    }
    ab1 = rows["AB1"]
    assert (ab1["live"], ab1["live_pip1"], ab1["live_pip2"], ab1["live_pip3"]) == (4, 1, 2, 1)
    assert ab1["weighted_load"] == 1 + 2 * 2 + 3
    assert (ab1["inexperienced"], ab1["limit"], ab1["headroom"]) == (False, None, -1)
    assert ab1["flags"] == "over-capacity mismatch"
    assert rows["LV1"]["flags"] == "unavailable"
    assert (rows["OT1"]["live"], rows["OT1"]["headroom"], rows["OT1"]["flags"]) == (0, None, "")


def test_most_overloaded_first(force: Runner) -> None:
    result = force("workload", "--format", "csv")
    order = [row["collar"] for row in csv.DictReader(io.StringIO(result.stdout))]
    # XY9 and AB1 are both one past a ceiling; XY9 carries more weight.
    assert order == ["XY9", "AB1", "LV1", "OT1"]


def test_weights_come_from_policy(force: Runner) -> None:
    force("policy", "set", "weight_pip3", "10")
    assert workload_rows(force)["AB1"]["weighted_load"] == 1 + 2 * 2 + 10


def test_table_formats_end_with_team_totals_and_csv_does_not(force: Runner) -> None:
    result = force("workload", "--format", "plain")
    assert result.exit_code == 0
    assert "Team totals" in result.stderr  # titles are messages; stdout holds the tables
    totals = result.stdout.split("\n\n", 1)[1].splitlines()
    lewisham = next(line for line in totals if line.startswith("Lewisham CID"))
    assert lewisham.split()[2:5] == ["3", "31", "28"]  # officers, live, live_pip1
    assert any(line.startswith("Croydon CID") for line in totals)
    csv_text = force("workload", "--format", "csv").stdout
    assert "Team totals" not in csv_text
    assert len(list(csv.DictReader(io.StringIO(csv_text)))) == 4


def test_team_and_officer_filters(force: Runner) -> None:
    assert set(workload_rows(force, "--team", "croydon cid")) == {"OT1"}
    assert set(workload_rows(force, "--officer", "ab1")) == {"AB1"}
    result = force("workload", "--officer", "ZZ1")
    assert result.exit_code == 2
    assert "no officer with collar ZZ1" in result.stderr
    result = force("workload", "--team", "Nowhere")
    assert result.exit_code == 2
    assert "no team called 'Nowhere'" in result.stderr


def test_one_officer_is_filtered_in_sql(force: Runner, db_url: str) -> None:
    from sqlalchemy import event

    from caseload.store.reference import load_policy
    from caseload.store.workload import workload

    statements: list[str] = []
    with writing(db_url) as conn:
        event.listen(conn, "before_cursor_execute", lambda *a: statements.append(a[2]))
        rows = workload(conn, load_policy(conn), collar="AB1")
    assert [row["collar"] for row in rows] == ["AB1"]
    (query,) = [s for s in statements if "count(*)" in s]
    # the grouped count and the officer rows (the officers as they stand today: "o")
    assert query.count("o.collar =") == 2


def test_chart_marks_the_limit_and_flags(force: Runner) -> None:
    result = force("workload", "--chart", "--team", "Lewisham CID")
    assert result.exit_code == 0
    assert result.stderr.startswith("Live crimes")  # the title is a message
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert "|" in lines["XY9"] and "#" in lines["XY9"]
    assert lines["XY9"].rstrip().endswith("26 / 25  over-limit")
    assert lines["LV1"].rstrip().endswith("1  unavailable")
    assert lines["XY9"].count("#") > lines["AB1"].count("#")


def test_as_of_rebuilds_a_past_day_from_the_history(store: Runner, db_url: str) -> None:
    from caseload.domain.inputs import CrimeFinalise
    from caseload.store.crimes import finalise

    with writing(db_url) as conn:
        # Two years in on 2026-02-01: inexperienced in January, not in March.
        add_officer(conn, "XY9", accreditation="PIP1", since=date(2024, 2, 1))
        add_officer(conn, "AB1", name="Ann Bell", rank="DC")
        add_crimes(conn, 3, reported_on=date(2026, 1, 5))
        add_crimes(conn, 1, reported_on=date(2026, 3, 12), start=4)
    allocate_refs(db_url, ["CR/1", "CR/2", "CR/3"], "XY9", at=datetime(2026, 1, 10, 9))
    allocate_refs(db_url, ["CR/1"], "AB1", at=datetime(2026, 3, 10, 17))
    allocate_refs(db_url, ["CR/4"], "AB1", at=datetime(2026, 3, 12, 9))
    with writing(db_url) as conn:
        done = CrimeFinalise(outcome=18, finalised_on=date(2026, 3, 20))
        finalise(conn, "CR/2", done, actor="a", at=datetime(2026, 3, 20))

    def live(as_of: str) -> dict[str, int]:
        return {c: r["live"] for c, r in workload_rows(store, "--as-of", as_of).items()}

    assert live("2026-01-09") == {"XY9": 0, "AB1": 0}
    assert live("10/01/2026") == {"XY9": 3, "AB1": 0}
    assert live("2026-03-09") == {"XY9": 3, "AB1": 0}
    assert live("2026-03-10") == {"XY9": 2, "AB1": 1}  # transferred at 17:00 that day
    assert live("2026-03-12") == {"XY9": 2, "AB1": 2}
    assert live("2026-03-20") == {"XY9": 1, "AB1": 2}  # CR/2 finalised that day
    assert {c: r["live"] for c, r in workload_rows(store).items()} == {"XY9": 1, "AB1": 2}

    assert workload_rows(store, "--as-of", "2026-01-31")["XY9"]["inexperienced"] is True
    assert workload_rows(store, "--as-of", "2026-01-31")["XY9"]["limit"] == 25
    assert workload_rows(store, "--as-of", "2026-02-01")["XY9"]["inexperienced"] is False
    result = store("workload", "--as-of", "2026-03-10", "--format", "plain")
    assert "Workload at the end of 2026-03-10" in result.stderr


def test_the_reports_rules_agree_with_the_domain_rules(store: Runner, db_url: str) -> None:
    """Inexperience, limit, headroom and flags are computed by SQL for the whole force;
    officer by officer they must say what domain.officers and domain.rules say."""
    from dateutil.relativedelta import relativedelta

    from caseload.domain.officers import is_inexperienced, whole_months_between
    from caseload.domain.policy import Policy
    from caseload.domain.rules import over_limit

    today = date.today()
    policy = Policy()
    two_years = today - relativedelta(years=2)
    starts = [two_years - timedelta(days=1), two_years, two_years + timedelta(days=1)]
    officers = []
    with writing(db_url) as conn:
        n = 0
        for trainee in (False, True):
            for since in starts:
                for capacity, status, held in (
                    (None, "active", 26),
                    (3, "leave", 4),
                    (30, "active", 2),
                ):
                    collar = f"RU{n}"
                    add_officer(
                        conn,
                        collar,
                        since=since,
                        trainee=trainee,
                        capacity=capacity,
                        status=status,
                        accreditation="PIP1",
                    )
                    refs = add_crimes(
                        conn, held, prefix=f"{collar}/", level="PIP1" if n % 2 else "PIP2"
                    )
                    officers.append((collar, trainee, since, capacity, status, refs, n % 2 == 0))
                    n += 1
    for collar, *_, refs, _mismatch in officers:
        allocate_refs(db_url, refs, collar, override="rule check")
    rows = workload_rows(store)
    for collar, trainee, since, capacity, status, refs, mismatch in officers:
        row = rows[collar]
        inexperienced = is_inexperienced(
            trainee=trainee,
            investigator_since=since,
            on=today,
            inexperienced_months=policy.inexperienced_months,
        )
        assert row["inexperienced"] is inexperienced, (
            collar,
            since,
            whole_months_between(since, today),
        )
        limit = policy.inexperienced_limit if inexperienced else None
        assert row["limit"] == limit
        ceiling = (
            capacity if limit is None else (limit if capacity is None else min(limit, capacity))
        )
        assert row["headroom"] == (None if ceiling is None else ceiling - len(refs))
        expected_flags = [
            *(["over-limit"] if limit is not None and over_limit(len(refs), limit) else []),
            *(["over-capacity"] if capacity is not None and len(refs) > capacity else []),
            *(["mismatch"] if mismatch else []),
            *(["unavailable"] if status != "active" else []),
        ]
        assert row["flags"] == " ".join(expected_flags), collar
