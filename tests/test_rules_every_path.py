"""Issue 13, items 1-4: every path that changes who holds what obeys the allocation rules.

A supervisor's team: a trainee (TR1, PIP1) at the limit with 25 live crimes, a PIP2
detective (DC1) with three PIP2 and two PIP1 crimes, an experienced PIP2 constable (EX1)
with 30, and unallocated crimes. Each story tries what an attacker (or a careless file)
would: import history that rewrites the past or hands out crimes past the rules, reopen
a crime onto a full caseload, raise a held crime's level, change an officer under their
caseload. Each asserts the exit code, the message and what the store then holds.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import Runner
from tests.helpers.force import add_crimes, add_officer, allocate_refs, set_policy
from tests.helpers.store import holder, writing

HEADER = "reference,holder,from,to,actor,reason\n"
CRIMES_HEADER = (
    "reference,crime_type,reported_on,team,required_level,holder,"
    "victim_enhanced,victim_category,finalised_on,outcome,risk\n"
)
SETUP_AT = datetime(2026, 1, 6, 9)


@pytest.fixture
def team(store: Runner, db_url: str) -> Runner:
    with writing(db_url) as conn:
        add_officer(
            conn,
            "TR1",
            name="Niamh Reid",
            accreditation="PIP1",
            since=date.today() - timedelta(days=200),
            trainee=True,
        )
        add_officer(conn, "DC1", name="Hannah Evans", rank="DC")
        add_officer(conn, "EX1", name="Ola Ade", rank="PC")
        add_crimes(conn, 27)  # CR/1..27, PIP1
        add_crimes(conn, 9, prefix="P2/", level="PIP2")  # P2/1..9
        add_crimes(conn, 30, prefix="EX/")
    allocate_refs(db_url, [f"CR/{n}" for n in range(1, 26)], "TR1", at=SETUP_AT)
    allocate_refs(db_url, ["P2/1", "P2/2", "P2/3"], "DC1", at=SETUP_AT)
    allocate_refs(db_url, ["P2/4", "P2/5"], "DC1", at=SETUP_AT)  # PIP2: DC1 is PIP2
    allocate_refs(db_url, [f"EX/{n}" for n in range(1, 31)], "EX1", at=SETUP_AT)
    set_policy(db_url, "limit_mode", "block")
    return store


def live(sql, collar: str) -> int:  # type: ignore[no-untyped-def]
    return int(
        sql(
            "SELECT count(*) FROM crime c JOIN officer o ON o.id = c.holder_id "
            "WHERE o.collar = :c AND c.finalised_on IS NULL",
            c=collar,
        )[0][0]
    )


def intervals(sql, ref: str) -> list[tuple[Any, ...]]:  # type: ignore[no-untyped-def]
    """(holder, from, to, actor, reason, override) of one crime, oldest first, as text."""
    rows = sql(
        "SELECT o.collar, a.start_at, a.end_at, a.actor, a.reason, a.override_reason "
        "FROM allocation a JOIN officer o ON o.id = a.officer_id JOIN crime c ON "
        "c.id = a.crime_id WHERE c.reference = :r ORDER BY a.start_at",
        r=ref,
    )
    return [(r[0], str(r[1])[:16], r[2] and str(r[2])[:16], *r[3:]) for r in rows]


def entries(sql, ref: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    rows = sql(
        "SELECT kind, actor, collar, reason, detail FROM log_entry WHERE crime_ref = :r "
        "ORDER BY id",
        r=ref,
    )
    return [
        {"kind": k, "actor": a, "collar": c, "reason": why, "detail": json.loads(d or "{}")}
        for k, a, c, why, d in rows
    ]


def totals(sql) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    return sql("SELECT count(*) FROM allocation")[0][0], sql("SELECT count(*) FROM log_entry")[0][0]


def csv_file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# --- item 1: import history adds to history, under the rules, never rewrites it ---------------


ATTACK = HEADER + (
    "CR/26,TR1,2026-02-01 10:00,,DS Evil,more work\nP2/9,TR1,2026-02-01 10:00,,DS Evil,more work\n"
)


def test_history_cannot_hand_out_crimes_past_the_rules(team: Runner, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    before = totals(sql)
    path = csv_file(tmp_path, "attack.csv", ATTACK)
    result = team("import", "history", path)
    assert result.exit_code == 3, result.output
    assert "Refused by policy: 2 of 2 allocations break a block-mode rule" in result.stderr
    assert "line 2: CR/26 to TR1: TDC Reid (TR1) is inexperienced and would hold 26" in (
        result.stderr
    )
    assert "line 3: P2/9 to TR1: TDC Reid (TR1) is accredited to PIP1 but the crime needs PIP2" in (
        result.stderr
    )
    assert "--override REASON" in result.stderr
    assert totals(sql) == before and live(sql, "TR1") == 25
    assert holder(sql, "CR/26") is None and holder(sql, "P2/9") is None

    result = team("import", "history", path, "--override", "DI Rowe agreed", "--reason", "legacy")
    assert result.exit_code == 0, result.output
    assert "Imported 2 allocation intervals: 2 new, 0 updated, 0 unchanged." in result.stderr
    assert "line 3: P2/9: TDC Reid (TR1) is accredited to PIP1 but the crime needs PIP2" in (
        result.stderr
    )
    assert live(sql, "TR1") == 27 and holder(sql, "P2/9") == "TR1"
    assert intervals(sql, "P2/9") == [
        ("TR1", "2026-02-01 10:00", None, "test-supervisor", "more work", "DI Rowe agreed")
    ]
    [entry] = entries(sql, "P2/9")[1:]  # after crime-add
    assert entry["kind"] == "allocate" and entry["actor"] == "test-supervisor"
    assert entry["collar"] == "TR1" and entry["reason"] == "more work"
    assert entry["detail"]["recorded_actor"] == "DS Evil"  # the file's actor: a detail only
    assert entry["detail"]["override"] == "DI Rowe agreed"
    assert "accreditation-mismatch" in entry["detail"]["codes"]


def test_history_never_rewrites_an_interval(team: Runner, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    past = HEADER + "CR/26,DC1,2026-01-05 10:00,2026-01-07 10:00,DS Green,initial\n"
    result = team("import", "history", csv_file(tmp_path, "past.csv", past))
    assert result.exit_code == 0, result.output
    assert "1 new, 0 updated, 0 unchanged" in result.stderr
    assert holder(sql, "CR/26") is None  # a past holding is not a current one
    [entry] = entries(sql, "CR/26")[1:]
    assert entry["kind"] == "past-holding" and entry["actor"] == "test-supervisor"
    assert entry["detail"] == {
        "start_at": "2026-01-05 10:00:00",
        "end_at": "2026-01-07 10:00:00",
        "recorded_actor": "DS Green",
    }
    result = team("import", "history", csv_file(tmp_path, "again.csv", past))
    assert "0 new, 0 updated, 1 unchanged" in result.stderr
    before = totals(sql)

    attempts = {
        # a past day's holder rewritten
        "rewrite.csv": (
            "CR/26,TR1,2026-01-05 10:00,2026-01-07 10:00,DS Evil,initial",
            "line 2, column holder: the store already holds this interval "
            "(DC1 until 2026-01-07 10:00:00) and the row differs",
        ),
        # a past holding stretched
        "stretch.csv": (
            "CR/26,DC1,2026-01-05 10:00,2026-01-09 10:00,DS Green,initial",
            "line 2, column to: the store already holds this interval",
        ),
        # the current holder replaced, at the same start
        "current.csv": (
            "CR/1,DC1,2026-01-06 09:00,,DS Evil,setup",
            "line 2, column holder: the store already holds this interval (TR1, now)",
        ),
        # the current holding closed by a file
        "close.csv": (
            "CR/1,TR1,2026-01-06 09:00,2026-01-08 09:00,DS Evil,setup",
            "line 2, column to: the store already holds this interval (TR1, now)",
        ),
        # a second current holder
        "second.csv": (
            "CR/1,DC1,2026-02-01 10:00,,DS Evil,x",
            "line 2, column to: the crime already has a current holder",
        ),
        # a past holding laid over the current one
        "overlap.csv": (
            "CR/1,DC1,2026-02-01 10:00,2026-02-02 10:00,DS Evil,x",
            "line 2, column from: the interval overlaps an interval the store holds",
        ),
        # ... or over the one already imported
        "overlap-past.csv": (
            "CR/26,DC1,2026-01-06 10:00,2026-01-08 10:00,DS Evil,x",
            "line 2, column from: the interval overlaps an interval the store holds",
        ),
    }
    for name, (row, message) in attempts.items():
        result = team("import", "history", csv_file(tmp_path, name, HEADER + row + "\n"))
        assert result.exit_code == 2, (name, result.output)
        assert message in result.stderr, (name, result.stderr)
        assert "nothing was imported" in result.stderr
    assert totals(sql) == before
    assert intervals(sql, "CR/26") == [
        ("DC1", "2026-01-05 10:00", "2026-01-07 10:00", "test-supervisor", "initial", None)
    ]
    assert intervals(sql, "CR/1") == [("TR1", "2026-01-06 09:00", None, "setup", "setup", None)]
    # The past day reads as it was.
    day = team("export", "crimes", "--as-of", "2026-01-06", "-o", "-")
    assert day.exit_code == 0, day.output
    rows = {line.split(",")[0]: line for line in day.stdout.splitlines()}
    assert ",DC1," in rows["CR/26"] and ",TR1," in rows["CR/1"]


def test_history_current_holding_is_an_allocation_and_files_overlap_in_themselves(
    team: Runner, sql, tmp_path
) -> None:
    both = HEADER + (
        "CR/27,DC1,2026-01-20 10:00,2026-01-25 10:00,DS Green,first\n"
        "CR/27,DC1,2026-01-24 10:00,,DS Green,second\n"
    )
    result = team("import", "history", csv_file(tmp_path, "both.csv", both))
    assert result.exit_code == 2
    assert "line 3, column from: the interval overlaps line 2's (from 2026-01-20" in result.stderr
    early = HEADER + "CR/27,DC1,2026-01-01 10:00,,DS Green,x\n"  # reported 2026-01-05
    result = team("import", "history", csv_file(tmp_path, "early.csv", early))
    assert result.exit_code == 2
    assert "line 2, column from: 2026-01-01 10:00:00 is before the crime was reported" in (
        result.stderr
    )
    good = HEADER + (
        "CR/27,EX1,2026-01-20 10:00,2026-01-25 10:00,DS Green,first\n"
        "CR/27,DC1,2026-01-25 10:00,,DS Green,second\n"
    )
    result = team("import", "history", csv_file(tmp_path, "good.csv", good))
    assert result.exit_code == 0, result.output
    assert holder(sql, "CR/27") == "DC1"
    assert [(e["kind"], e["collar"], e["actor"]) for e in entries(sql, "CR/27")[1:]] == [
        ("past-holding", "EX1", "test-supervisor"),
        ("allocate", "DC1", "test-supervisor"),
    ]


def test_history_refusal_as_a_user_types_it(team: Runner, sql, shell, tmp_path) -> None:  # type: ignore[no-untyped-def]
    before = totals(sql)
    result = shell("import", "history", "-", input=ATTACK)
    assert result.returncode == 3, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("Error: Refused by policy: 2 of 2 allocations")
    assert "Traceback" not in result.stderr
    assert totals(sql) == before and live(sql, "TR1") == 25


# --- item 2: reopening gives the crime back under the rules ------------------------------------


def test_reopen_onto_a_full_caseload_is_refused_overridden_or_unallocated(
    team: Runner, sql
) -> None:
    for ref in ("CR/25", "CR/24"):
        assert team("crime", "finalise", ref, "--outcome", "18").exit_code == 0
    for ref in ("CR/26", "CR/27"):
        assert team("assign", ref, "TR1", "-r", "backlog").exit_code == 0
    assert live(sql, "TR1") == 25
    logged = totals(sql)

    result = team("crime", "reopen", "CR/25", "--reason", "new evidence")
    assert result.exit_code == 3, result.output
    assert (
        "Refused by policy: reopening CR/25 gives it back to TR1: TDC Reid (TR1) is "
        "inexperienced and would hold 26 live crimes; limit 25" in result.stderr
    )
    assert "--override REASON" in result.stderr and "--unallocated" in result.stderr
    assert totals(sql) == logged
    assert sql("SELECT finalised_on IS NOT NULL FROM crime WHERE reference='CR/25'") == [(True,)]

    result = team("crime", "reopen", "CR/25", "--reason", "new evidence", "--override", "DI ok")
    assert result.exit_code == 0, result.output
    assert "Reopened CR/25; held by TR1." in result.stderr
    assert "now holds 26 live crimes; limit 25" in result.stderr
    assert "Override recorded: DI ok" in result.stderr
    assert live(sql, "TR1") == 26
    reopen = entries(sql, "CR/25")[-1]
    assert reopen["kind"] == "reopen" and reopen["collar"] == "TR1"
    assert reopen["detail"]["override"] == "DI ok"
    assert reopen["detail"]["codes"] == ["inexperienced-over-limit"]

    result = team("crime", "reopen", "CR/24", "--reason", "new evidence", "--unallocated")
    assert result.exit_code == 0, result.output
    assert "Reopened CR/24; unallocated (taken off TR1)." in result.stderr
    assert holder(sql, "CR/24") is None and live(sql, "TR1") == 26
    assert [e["kind"] for e in entries(sql, "CR/24")[-2:]] == ["reopen", "unassign"]
    assert intervals(sql, "CR/24")[-1][2] is not None  # the holding was closed

    assert team("policy", "set", "limit_mode", "warn").exit_code == 0
    assert team("crime", "finalise", "CR/23", "--outcome", "18").exit_code == 0
    result = team("crime", "reopen", "CR/23", "--reason", "appeal")
    assert result.exit_code == 0, result.output
    assert "Warning: TDC Reid (TR1) is inexperienced and now holds 26 live crimes" in result.stderr
    assert entries(sql, "CR/23")[-1]["detail"]["warnings"] == [
        "TDC Reid (TR1) is inexperienced and now holds 26 live crimes; limit 25"
    ]


def test_reimporting_a_finalised_crime_as_live_obeys_the_rules(team: Runner, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert team("crime", "finalise", "CR/25", "--outcome", "18").exit_code == 0
    assert team("assign", "CR/26", "TR1", "-r", "backlog").exit_code == 0
    finalised = team("crime", "list", "--holder", "TR1", "--finalised", "--format", "csv")
    assert f"CR/25,Burglary,2026-01-05,Lewisham CID,PIP1,TR1,no,,{date.today()},18" in (
        finalised.stdout
    )
    live_again = CRIMES_HEADER + "CR/25,Burglary,2026-01-05,Lewisham CID,PIP1,TR1,no,,,,\n"
    path = csv_file(tmp_path, "reopen.csv", live_again)
    before = totals(sql)
    result = team("import", "crimes", path)
    assert result.exit_code == 3, result.output
    assert "line 2: reopening CR/25 gives it back to TR1" in result.stderr
    assert totals(sql) == before and live(sql, "TR1") == 25
    result = team("import", "crimes", path, "--override", "DI ok")
    assert result.exit_code == 0, result.output
    assert "line 2: CR/25: TDC Reid (TR1) is inexperienced and now holds 26" in result.stderr
    assert live(sql, "TR1") == 26
    update = entries(sql, "CR/25")[-1]
    assert update["kind"] == "crime-update" and update["collar"] == "TR1"
    assert update["detail"]["override"] == "DI ok"


# --- item 3: raising a held crime's required level -------------------------------------------


def test_raising_a_held_crimes_level_is_refused_warned_and_recorded(
    team: Runner, sql, tmp_path
) -> None:
    exported = team("crime", "list", "--holder", "DC1", "--format", "csv").stdout
    lines = exported.splitlines()
    p21 = next(line for line in lines if line.startswith("P2/1,"))
    raised = CRIMES_HEADER + p21.replace(",PIP2,DC1,", ",PIP4,DC1,") + "\n"
    path = csv_file(tmp_path, "raise.csv", raised)
    before = totals(sql)
    result = team("import", "crimes", path)  # accreditation_mode is block by default
    assert result.exit_code == 3, result.output
    assert (
        "Refused by policy: line 2: raising P2/1 to PIP4 leaves it with DC1: DC Evans (DC1) "
        "is accredited to PIP2 but the crime needs PIP4" in result.stderr
    )
    assert totals(sql) == before
    assert sql("SELECT required_level FROM crime WHERE reference='P2/1'") == [("PIP2",)]
    result = team("import", "crimes", path, "--override", "SIO oversight")
    assert result.exit_code == 0, result.output
    assert sql("SELECT required_level FROM crime WHERE reference='P2/1'") == [("PIP4",)]
    update = entries(sql, "P2/1")[-1]
    assert update["kind"] == "crime-update" and update["detail"]["override"] == "SIO oversight"
    assert update["detail"]["required_level"] == ["PIP2", "PIP4"]

    assert team("policy", "set", "accreditation_mode", "warn").exit_code == 0
    p22 = next(line for line in lines if line.startswith("P2/2,"))
    path = csv_file(tmp_path, "warn.csv", CRIMES_HEADER + p22.replace(",PIP2,", ",PIP3,") + "\n")
    result = team("import", "crimes", path)
    assert result.exit_code == 0, result.output
    assert (
        "Warning: line 2: P2/2: DC Evans (DC1) is accredited to PIP2 but the crime needs PIP3"
        in (result.stderr)
    )
    assert entries(sql, "P2/2")[-1]["detail"]["codes"] == ["accreditation-mismatch"]
    # Lowering a level, or raising one still within the holder's accreditation, is no breach.
    p23 = next(line for line in lines if line.startswith("P2/3,"))
    path = csv_file(tmp_path, "lower.csv", CRIMES_HEADER + p23.replace(",PIP2,", ",PIP1,") + "\n")
    result = team("import", "crimes", path)
    assert result.exit_code == 0 and "Warning" not in result.stderr
    # The matrix does not re-level crimes already recorded.
    assert team("matrix", "set", "Burglary", "PIP4").exit_code == 0
    assert sql("SELECT required_level FROM crime WHERE reference='P2/4'") == [("PIP2",)]


# --- item 4: changing an officer under their caseload ------------------------------------------


def test_officer_changes_warn_of_the_breaches_they_make(team: Runner, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = team("officer", "update", "DC1", "--trainee", "-a", "PIP1")
    assert result.exit_code == 0, result.output
    assert (
        "Warning: DC Evans (DC1) is accredited to PIP1 but 5 of their live crimes need more."
        in (result.stderr)
    )
    assert 'caseload rebalance --team "Lewisham CID"' in result.stderr
    [entry] = [e for e in officer_log(sql, "DC1") if e["kind"] == "officer-update"]
    assert entry["detail"]["codes"] == ["accreditation-mismatch"]
    assert entry["detail"]["accreditation"] == ["PIP2", "PIP1"]

    result = team("officer", "update", "EX1", "--trainee")
    assert result.exit_code == 0, result.output
    assert "PC Ade (EX1) is inexperienced and holds 30 live crimes, 5 over the limit of 25" in (
        result.stderr
    )
    result = team("officer", "update", "EX1", "--capacity", "20")
    assert "PC Ade (EX1) holds 30 live crimes, 10 past their personal capacity of 20" in (
        result.stderr
    )
    result = team("officer", "update", "EX1", "--name", "Ola Ade-Smith")
    assert result.exit_code == 0 and "Warning" not in result.stderr  # nothing got worse
    result = team("officer", "status", "EX1", "leave", "--reason", "sick")
    assert result.exit_code == 0, result.output
    assert "is on leave, not active, and holds 30 live crimes" in result.stderr
    kinds = [(e["kind"], e["detail"].get("codes")) for e in officer_log(sql, "EX1")]
    assert kinds[-4:] == [
        ("officer-update", ["inexperienced-over-limit"]),
        ("officer-update", ["over-capacity"]),
        ("officer-update", None),
        ("officer-status", ["holder-unavailable"]),
    ]

    # The same on import: TR1's accreditation taken to none, investigator_since made recent.
    exported = team("officer", "list", "--format", "csv").stdout
    changed = exported.replace(
        "TR1,Niamh Reid,Lewisham CID,TDC,PIP1,", "TR1,Niamh Reid,Lewisham CID,TDC,none,"
    )
    assert changed != exported
    result = team("import", "officers", csv_file(tmp_path, "officers.csv", changed))
    assert result.exit_code == 0, result.output
    assert "1 updated" in result.stderr
    assert (
        "TDC Reid (TR1) has no investigative accreditation but 25 of their live crimes need "
        "more; re-home them with 'caseload rebalance --team \"Lewisham CID\"'" in result.stderr
    )
    assert officer_log(sql, "TR1")[-1]["detail"]["codes"] == ["accreditation-mismatch"]
    assert sql("SELECT accreditation FROM officer WHERE collar='TR1'") == [("none",)]


def officer_log(sql, collar: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    rows = sql(
        "SELECT kind, detail FROM log_entry WHERE collar = :c AND crime_ref IS NULL ORDER BY id",
        c=collar,
    )
    return [{"kind": k, "detail": json.loads(d or "{}")} for k, d in rows]


def test_a_crime_file_cannot_backdate_a_holding_under_recorded_ones(
    team: Runner, sql, tmp_path
) -> None:
    header = "reference,crime_type,reported_on,team,required_level,holder,allocated_on\n"
    early = header + "P2/1,Burglary,2026-01-05,Lewisham CID,PIP2,EX1,2026-01-05 12:00\n"
    before = totals(sql)
    result = team("import", "crimes", csv_file(tmp_path, "early.csv", early))
    assert result.exit_code == 2, result.output
    assert (
        "line 2, column allocated_on: 2026-01-05 12:00:00 is before the crime's recorded "
        "holdings end (2026-01-06 09:00:00)" in result.stderr
    )
    assert totals(sql) == before and holder(sql, "P2/1") == "DC1"
    later = header + "P2/1,Burglary,2026-01-05,Lewisham CID,PIP2,EX1,2026-01-10 12:00\n"
    result = team("import", "crimes", csv_file(tmp_path, "later.csv", later))
    assert result.exit_code == 0, result.output
    assert [(h, start, end) for h, start, end, *_ in intervals(sql, "P2/1")] == [
        ("DC1", "2026-01-06 09:00", "2026-01-10 12:00"),
        ("EX1", "2026-01-10 12:00", None),
    ]
    # A finalised crime's holder corrected by a file: the record changes now, over nothing.
    assert team("crime", "finalise", "CR/1", "--outcome", "18").exit_code == 0
    fixed = header.replace(",allocated_on", ",finalised_on,outcome") + (
        f"CR/1,Burglary,2026-01-05,Lewisham CID,PIP1,DC1,{date.today()},18\n"
    )
    result = team("import", "crimes", csv_file(tmp_path, "fixed.csv", fixed))
    assert result.exit_code == 0, result.output
    (old, new) = intervals(sql, "CR/1")
    assert old[0] == "TR1" and old[2] == new[1] and new[0] == "DC1" and new[2] is None
    assert new[1] > "2026-01-06 09:00"
