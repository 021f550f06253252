"""A supervisor runs ``caseload due`` (often from cron) to see what falls due this week.

One force laid down around Easter 2026 and read as of Wednesday 1 April 2026, every
date worked out by hand (Good Friday 3 April and Easter Monday 6 April are not working
days). Each kind of duty: in the window, overdue, just outside; per-team values; the
order; the scopes; exit codes; the formats; and the overdue rows agree with the audit.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import pytest

from caseload.domain.due import COLUMNS, first_experienced_day
from tests.helpers.cli import Runner
from tests.helpers.force import Force, at

AS_OF = "2026-04-01"  # a Wednesday
HELD = datetime(2026, 3, 2, 9)


@pytest.fixture
def force(store: Runner, db_url: str, sql: Callable[..., Any]) -> Iterator[Force]:
    built = Force(db_url)
    # Right 4 covers crimes reported from 28 March 2026 (the day referrals began).
    sql("UPDATE duty_start SET start_on = :d WHERE duty = 'victim-referral'", d="2026-03-28")
    built.officer("AB0001", name="Sam Patel")
    built.officer("CD0002", name="Ann Lee")  # holds nothing
    built.officer("EF0003", name="Eve Ford", since=date(2024, 4, 5))  # experienced 5 April
    built.officer("GH0004", name="Gus Hill", since=date(2024, 4, 5), trainee=True)
    built.officer("IJ0005", name="Ida Jones", since=date(2024, 5, 1))  # 1 May: outside
    built.officer("KL0006", name="Kit Lowe", team="Greenwich CID")

    # Reviews (and routine victim updates, every 28 days by default).
    built.crime("CR/R1", reported=date(2026, 3, 1))
    built.review("CR/R1", date(2026, 3, 5))  # review due 2 April
    built.update("CR/R1", date(2026, 3, 5))  # update due 2 April
    built.crime("CR/R2", reported=date(2026, 2, 1))  # never reviewed: due 1 March
    built.update("CR/R2", date(2026, 3, 30))
    built.crime("CR/R3", reported=date(2026, 3, 1))
    built.review("CR/R3", date(2026, 3, 25), next_due=date(2026, 4, 5))  # sooner: 5 April
    built.update("CR/R3", date(2026, 3, 25))
    built.crime("CR/R4", reported=date(2026, 3, 1))
    built.review("CR/R4", date(2026, 3, 20))  # due 17 April: outside
    built.update("CR/R4", date(2026, 3, 20))
    built.every("CR/R4", 10)  # agreed every 10 days: update due 30 March, overdue
    built.assign(["CR/R1", "CR/R2", "CR/R3", "CR/R4"], "AB0001", HELD)
    built.crime("CR/G1", reported=date(2026, 3, 20), team="Greenwich CID")  # never reviewed
    built.update("CR/G1", date(2026, 3, 30))
    built.assign("CR/G1", "KL0006", at(date(2026, 3, 20), 10))

    # Right 6: told within 5 working days (1 for an enhanced-service victim).
    built.crime("CR/N1", reported=date(2026, 3, 2))
    built.crime("CR/N2", reported=date(2026, 3, 2), enhanced=True)
    built.crime("CR/N3", reported=date(2026, 3, 2))
    for ref in ("CR/N1", "CR/N2", "CR/N3"):
        built.review(ref, date(2026, 3, 20))
        built.update(ref, date(2026, 3, 20))
    built.event("CR/N1", "arrested", date(2026, 3, 31))  # Tue: due Thu 9 April
    built.event("CR/N2", "charged", date(2026, 3, 26))  # Thu: due Fri 27 March
    built.event("CR/N3", "interviewed", date(2026, 3, 30))
    built.update("CR/N3", date(2026, 3, 31))  # told: no duty left
    built.assign(["CR/N1", "CR/N2", "CR/N3"], "AB0001", HELD)

    # Right 4 and unallocated crimes (2 days); referrals cover crimes from 28 March.
    built.crime("CR/F1", reported=date(2026, 3, 30))  # Mon: referral due Wed 1 April
    built.crime("CR/U1", reported=date(2026, 3, 31))  # Tue: referral due Thu 2 April
    built.assign("CR/F1", "AB0001", at(date(2026, 3, 30), 10))
    built.crime("CR/U2", reported=date(2026, 3, 20))  # unallocated since: due 22 March
    yield built
    built.close()


def due(run: Runner, *args: str, code: int = 0) -> list[dict[str, Any]]:
    result = run("due", "--as-of", AS_OF, "-f", "json", *args)
    assert result.exit_code == code, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def of(rows: list[dict[str, Any]], kind: str) -> dict[str, tuple[str, int]]:
    """kind's rows: crime (or collar) -> (due_on, days_left)."""
    return {
        r["reference"] or r["collar"]: (r["due_on"], r["days_left"])
        for r in rows
        if r["kind"] == kind
    }


def absence(run: Runner, collar: str, start: str, end: str) -> None:
    result = run(
        "officer", "absence", "add", collar, "--from", start, "--to", end,
        "--kind", "leave", "--reason", "annual leave",
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def test_every_kind_of_duty_falls_due_on_the_day_worked_out_by_hand(
    force: Force, store: Runner
) -> None:
    assert store("policy", "set", "review_days", "14", "--team", "Greenwich CID").exit_code == 0
    absence(store, "AB0001", "2026-04-06", "2026-04-08")  # holds 8 live crimes: due 6 April
    absence(store, "CD0002", "2026-04-03", "2026-04-04")  # holds none: no duty
    absence(store, "AB0001", "2026-04-09", "2026-04-09")  # starts after the window
    rows = due(store)
    assert all(list(row) == list(COLUMNS) for row in rows)
    assert of(rows, "review") == {
        "CR/R2": ("2026-03-01", -31),  # never reviewed since reported 1 February
        "CR/R1": ("2026-04-02", 1),  # 5 March + 28
        "CR/G1": ("2026-04-03", 2),  # Greenwich: 20 March + 14
        "CR/R3": ("2026-04-05", 4),  # the next-review date, before 25 March + 28
    }
    assert of(rows, "victim-update") == {
        "CR/R4": ("2026-03-30", -2),  # agreed every 10 days from 20 March
        "CR/R1": ("2026-04-02", 1),
    }
    assert of(rows, "notification") == {"CR/N2": ("2026-03-27", -5)}  # N1: 9 April
    assert of(rows, "referral") == {"CR/F1": ("2026-04-01", 0), "CR/U1": ("2026-04-02", 1)}
    assert of(rows, "unallocated") == {
        "CR/U2": ("2026-03-22", -10),
        "CR/U1": ("2026-04-02", 1),
    }
    assert of(rows, "absence") == {"AB0001": ("2026-04-06", 5)}
    assert of(rows, "experienced") == {"EF0003": ("2026-04-05", 4)}
    assert len(rows) == 13

    by = {(r["kind"], r["reference"] or r["collar"]): r for r in rows}
    assert by["notification", "CR/N2"]["action"] == (
        "Tell the victim: suspect charged on 2026-03-26 (1 working day, enhanced)."
    )
    assert by["absence", "AB0001"]["action"] == (
        "Hand over 8 live crimes before leave from 2026-04-06 to 2026-04-08 "
        "(caseload handover AB0001)."
    )
    assert by["experienced", "EF0003"]["action"].endswith("the limit of 25 no longer applies.")
    assert by["review", "CR/G1"] | {"action": None} == {
        "kind": "review",
        "due_on": "2026-04-03",
        "days_left": 2,
        "team": "Greenwich CID",
        "collar": "KL0006",
        "name": "Kit Lowe",
        "reference": "CR/G1",
        "action": None,
    }
    assert by["unallocated", "CR/U2"]["collar"] is None

    # Overdue first, then by date; the same day by kind, team, officer, crime.
    keys = [(r["due_on"], r["kind"]) for r in rows]
    assert [d for d, _ in keys] == sorted(d for d, _ in keys)
    assert keys[:5] == [
        ("2026-03-01", "review"),
        ("2026-03-22", "unallocated"),
        ("2026-03-27", "notification"),
        ("2026-03-30", "victim-update"),
        ("2026-04-01", "referral"),
    ]


def test_the_window_is_as_long_as_asked(force: Force, store: Runner) -> None:
    # Right 6 counts working days past Good Friday and Easter Monday: 9 April.
    assert "CR/N1" not in of(due(store), "notification")
    assert of(due(store, "--days", "8"), "notification")["CR/N1"] == ("2026-04-09", 8)
    # --days 0: the as-of day alone, and every overdue duty however old.
    today = due(store, "--days", "0")
    assert {r["days_left"] for r in today} <= {0} | set(range(-400, 0))
    assert ("CR/F1", 0) in [(r["reference"], r["days_left"]) for r in today]
    assert "CR/R2" in of(today, "review")
    result = store("due", "--days", "-1")
    assert result.exit_code == 2 and "--days" in result.output


def test_team_values_apply_to_each_teams_crimes(force: Force, store: Runner) -> None:
    assert "CR/G1" not in of(due(store), "review")  # 20 March + 28: 17 April
    store("policy", "set", "notify_working_days", "7", "--team", "Lewisham CID")
    assert "CR/N1" not in of(due(store, "--days", "8"), "notification")  # 7 days: 13 April
    store("policy", "set", "unallocated_days", "20", "--team", "Lewisham CID")
    assert of(due(store), "unallocated") == {}  # U1: 20 April; U2: 9 April
    store("policy", "set", "inexperienced_months", "25", "--team", "Lewisham CID")
    assert of(due(store), "experienced") == {}  # EF0003: 5 May


def test_scopes_and_the_duties_met(force: Force, store: Runner) -> None:
    mine = due(store, "--officer", "ab0001")
    assert {r["collar"] for r in mine} == {"AB0001"}
    assert "unallocated" not in {r["kind"] for r in mine}
    greenwich = due(store, "--team", "greenwich cid")
    assert [(r["kind"], r["reference"]) for r in greenwich] == []  # G1: 17 April at 28 days
    assert of(due(store, "--team", "Lewisham CID"), "unallocated") == {
        "CR/U2": ("2026-03-22", -10),
        "CR/U1": ("2026-04-02", 1),
    }
    # Doing the duty takes it off the list.
    force.review("CR/R2", date(2026, 3, 31))
    force.finalise("CR/R1", date(2026, 3, 31))
    rows = due(store)
    assert "CR/R2" not in of(rows, "review") and "CR/R1" not in of(rows, "review")
    assert "CR/R1" not in of(rows, "victim-update")


def test_fail_on_overdue_exits_1_for_cron(force: Force, store: Runner) -> None:
    due(store, "--fail-on-overdue", code=1)
    due(store, code=0)
    # Greenwich has nothing overdue (nothing at all in the window).
    due(store, "--team", "Greenwich CID", "--fail-on-overdue", code=0)
    result = store("due", "--as-of", AS_OF, "--fail-on-overdue")
    assert result.exit_code == 1
    assert "11 duties: 4 overdue, 1 due today, 6 later in the window." in result.stderr


def test_unknown_team_or_officer_is_refused_naming_the_nearest(force: Force, store: Runner) -> None:
    result = store("due", "--team", "Lewisham CDI")
    assert result.exit_code == 2 and "did you mean 'Lewisham CID'?" in result.stderr
    assert result.stdout == ""
    result = store("due", "--officer", "AB0011")
    assert result.exit_code == 2 and "did you mean AB0001?" in result.stderr
    assert store("due", "--as-of", "2099-01-01").exit_code == 2


def test_overdue_rows_are_what_the_audit_finds(force: Force, store: Runner) -> None:
    absence(store, "AB0001", "2026-04-06", "2026-04-08")
    rows = due(store)
    audit = store("audit", "--as-of", AS_OF, "-f", "json")
    by_code = json.loads(audit.stdout)["counts"]["by_code"]
    late = [r["kind"] for r in rows if r["days_left"] < 0]
    assert {
        "review": by_code["review-overdue"],
        "victim-update": by_code["victim-update-overdue"],
        "notification": by_code["victim-notify-overdue"],
        "referral": by_code["victim-referral-overdue"],
        "unallocated": by_code["unallocated"],
    } == {kind: late.count(kind) for kind in ("review", "victim-update", "notification",
                                              "referral", "unallocated")}  # fmt: skip
    assert sum(by_code[c] for c in ("review-overdue", "unallocated")) == 2


def test_csv_and_table(force: Force, store: Runner) -> None:
    result = store("due", "--as-of", AS_OF, "-f", "csv")
    assert result.exit_code == 0
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(table[0]) == list(COLUMNS) and len(table) == 11
    assert table[0]["kind"] == "review" and table[0]["days_left"] == "-31"
    result = store("due", "--as-of", AS_OF, env={"COLUMNS": "200"})
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["kind", "due", "on"]
    assert "CR/R2" in lines[2] and "-31" in lines[2]


def test_as_a_cron_job(force: Force, shell: Callable[..., Any]) -> None:
    done = shell("due", "--as-of", "01/04/2026", "--days", "8", "-f", "csv", "--fail-on-overdue")
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines()[0] == ",".join(COLUMNS)
    assert "notification,2026-04-09,8,Lewisham CID,AB0001,Sam Patel,CR/N1," in done.stdout


def test_first_experienced_day_follows_the_rule_at_month_ends() -> None:
    assert first_experienced_day(date(2024, 4, 5), 24) == date(2026, 4, 5)
    # 31 August + 6 months: not 28 February (five whole months then), but 1 March.
    assert first_experienced_day(date(2025, 8, 31), 6) == date(2026, 3, 1)
    assert first_experienced_day(date(2024, 2, 29), 12) == date(2025, 3, 1)


def test_a_supervisors_duties_are_those_of_the_officers_they_supervise(
    force: Force, store: Runner
) -> None:
    for collar in ("AB0001", "EF0003", "KL0006"):
        result = store("officer", "update", collar, "--supervisor", "CD0002")
        assert result.exit_code == 0, result.output
    absence(store, "AB0001", "2026-04-06", "2026-04-08")
    force.crime("CR/S1", reported=date(2026, 2, 1))  # the supervisor's own: review overdue
    force.assign("CR/S1", "CD0002", HELD)
    everything = due(store)
    assert "CR/S1" in of(everything, "review")
    theirs = due(store, "--supervisor", "cd0002")
    # every duty of the crimes the three hold and of the three themselves, in the same order
    assert theirs == [r for r in everything if r["collar"] in {"AB0001", "EF0003", "KL0006"}]
    assert {r["collar"] for r in theirs} == {"AB0001", "EF0003"}  # KL0006: nothing due yet
    assert {"review", "victim-update", "notification", "referral", "absence", "experienced"} == {
        r["kind"] for r in theirs
    }  # and no unallocated crime, nor the supervisor's own
    assert due(store, "--supervisor", "AB0001") == []  # supervises nobody
    # with --team: only the supervised officers' duties in that team
    greenwich = due(store, "--supervisor", "CD0002", "--team", "Greenwich CID", "--days", "20")
    assert [(r["kind"], r["collar"], r["reference"]) for r in greenwich] == [
        ("review", "KL0006", "CR/G1")
    ]
    # --officer narrows it to one of them
    mine = due(store, "--supervisor", "CD0002", "--officer", "EF0003")
    assert [(r["kind"], r["collar"]) for r in mine] == [("experienced", "EF0003")]
    result = store("due", "--as-of", AS_OF, "--supervisor", "CD0002", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Due for the officers CD0002 supervises: overdue, and up to 2026-04-08" in result.stderr


def test_an_unknown_supervisor_is_refused_naming_the_nearest(force: Force, store: Runner) -> None:
    result = store("due", "--supervisor", "CD0020")
    assert result.exit_code == 2 and "did you mean CD0002?" in result.stderr
    assert result.stdout == ""
    result = store("due", "--help")
    assert result.exit_code == 0
    assert "--supervisor" in result.stdout and "supervises" in result.stdout


def test_the_order_and_every_cell_are_the_domain_rules(force: Force, store: Runner) -> None:
    """The query works out due dates, days left, actions and the order in SQL: they are
    exactly what ``domain.due.duty`` and ``domain.due.ordered`` make of the audit's rows,
    with teams whose names differ in case only from their order in byte order."""
    from caseload.domain.due import duty, ordered
    from caseload.domain.values import parse_date
    from caseload.store.audit import Audit
    from caseload.store.due import Due
    from caseload.store.reference import load_policy

    for team in ("alpha Team", "Beta team", "beta, Team"):
        collar = {"alpha Team": "MN0001", "Beta team": "MN0002", "beta, Team": "MN0003"}[team]
        force.officer(collar, name="Mo Nash", team=team)
        force.crime(f"CR/{collar}", reported=date(2026, 3, 4), team=team)
        force.assign(f"CR/{collar}", collar, HELD)
        force.event(f"CR/{collar}", "charged", date(2026, 3, 26))
        force.event(f"CR/{collar}", "arrested", date(2026, 3, 26))
    force.crime("CR/UX", reported=date(2026, 3, 4), team="alpha Team")  # unallocated
    absence(store, "AB0001", "2026-04-06", "2026-04-08")
    day = date.fromisoformat(AS_OF)
    with force.store.read() as conn:
        found = Due(conn, load_policy(conn), 7, as_of=day)
        audit: Audit = found.audit
        before = found.before
        expected = list(found.officer_duties())
        for kind, query in (
            ("notification", audit.notify_rows(before)),
            ("referral", audit.referral_rows(before)),
            ("review", audit.review_rows(before)),
            ("victim-update", audit.victim_update_rows(before)),
            ("unallocated", audit.unallocated_rows(before)),
        ):
            assert query is not None
            result = conn.execute(query)
            keys = list(result.keys())
            expected += [duty(kind, dict(zip(keys, row, strict=True)), day) for row in result]
    rows = due(store)
    assert rows == [
        {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()}
        for row in ordered(expected)
    ]
    assert len(rows) == 27  # the 13 of the first test, 4 a team's crime, 3 for CR/UX, 2 more
    teams = [r["team"] for r in rows if r["kind"] == "review" and "MN" in r["reference"]]
    assert teams == ["alpha Team", "Beta team", "beta, Team"]  # case aside; ' ' before ','
    notified = [
        r["action"] for r in rows if r["reference"] == "CR/MN0001" and r["kind"] == "notification"
    ]
    assert notified == sorted(notified) and len(notified) == 2
    assert parse_date(rows[0]["due_on"]) == date(2026, 3, 1)


def test_csv_neutralises_what_a_spreadsheet_would_run(force: Force, store: Runner) -> None:
    force.officer("OP0001", name='=HYPERLINK("http://x")', team="+Team, North")
    force.crime("-CR/1", reported=date(2026, 2, 1), team="+Team, North")
    force.assign("-CR/1", "OP0001", HELD)
    result = store("due", "--as-of", AS_OF, "-f", "csv", "--team", "+Team, North")
    assert result.exit_code == 0, result.output
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["kind"], r["team"], r["name"], r["reference"], r["days_left"]) for r in table] == [
        ("review", "'+Team, North", '\'=HYPERLINK("http://x")', "'-CR/1", "-31"),
        ("victim-update", "'+Team, North", '\'=HYPERLINK("http://x")', "'-CR/1", "-31"),
    ]
    assert table[1]["action"] == "Update the victim (none yet; every 28 days, default)."
    # JSON keeps the values as they are
    rows = due(store, "--team", "+Team, North")
    assert [r["name"] for r in rows] == ['=HYPERLINK("http://x")'] * 2


def test_teams_sort_case_aside_beyond_ascii_too(force: Force, store: Runner) -> None:
    """SQL lower-cases ASCII letters only; with names it would order otherwise than
    Python's lower-casing, the teams are ranked in Python instead."""
    for n, team in enumerate(("\u00c9b team", "\u00e9a team", "Zed team")):
        force.officer(f"QR000{n}", name="Quin Ray", team=team)
        force.crime(f"CR/Q{n}", reported=date(2026, 3, 4), team=team)
        force.assign(f"CR/Q{n}", f"QR000{n}", HELD)
    rows = due(store)
    teams = [r["team"] for r in rows if r["kind"] == "review" and r["reference"].startswith("CR/Q")]
    assert teams == ["Zed team", "\u00e9a team", "\u00c9b team"]


def test_csv_on_sqlite_takes_the_joined_rows_path(force: Force, db_url: str) -> None:
    """The whole query binds only ints and text, so SQLite's cursor gives it straight
    (``cli.due._csv_lines``); a value it cannot bind would silently take the slow path."""
    from caseload.store.bulk import driver_statement
    from caseload.store.due import Due
    from caseload.store.reference import load_policy

    with force.store.read() as conn:
        found = Due(conn, load_policy(conn), 7, as_of=date.fromisoformat(AS_OF))
        statement = driver_statement(conn, found.query(lines=True))
        if conn.dialect.name == "sqlite":
            assert statement is not None
            assert len(list(conn.connection.driver_connection.execute(*statement))) == 11
        assert len(conn.execute(found.query()).all()) == 11
