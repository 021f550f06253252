"""Absences with dates: ``officer absence add|list|end|cancel``, ``officer status`` as an
open-ended absence or a return, ``import absences``, what an allocation and the audit make
of them, and capacity reductions. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest

from tests.helpers.cli import Runner
from tests.helpers.force import Force, refs, set_policy
from tests.helpers.store import holder, log_entries

TODAY = date.today()
TEAM = "Lewisham CID"


def d(days: int) -> str:
    """A day relative to today, as people type it (UK order)."""
    return (TODAY + timedelta(days=days)).strftime("%d/%m/%Y")


def iso(days: int) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


@pytest.fixture
def team(store: Runner, db_url: str) -> Iterator[Runner]:
    """Two DCs (AB1 holding three live crimes, CD2 none) and five unallocated crimes."""
    force = Force(db_url)
    force.officer("AB1", name="Ann Brown", rank="DC")
    force.officer("CD2", name="Carl Dean", rank="DC", capacity=10)
    force.crimes(refs("C", 8), reported=TODAY - timedelta(days=20))
    force.assign(
        refs("C", 3), "AB1", datetime.combine(TODAY - timedelta(days=10), datetime.min.time())
    )
    force.close()
    yield store


def absences(sql) -> list[tuple]:  # type: ignore[no-untyped-def]
    return sql(
        "SELECT o.collar, a.kind, a.starts_on, a.ends_on, a.percent, a.cancelled_at IS NOT NULL "
        "FROM absence a JOIN officer o ON o.id = a.officer_id ORDER BY a.id"
    )


def _day(value) -> str:  # type: ignore[no-untyped-def]
    return value if isinstance(value, str) else value.isoformat()


# --- add, list, end, cancel ---------------------------------------------------------------------


def test_add_list_end_cancel_are_each_logged(team: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    result = team(
        "officer", "absence", "add", "ab1", "--from", d(5), "--to", d(9), "--kind", "leave",
        "--reason", "annual leave",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"Booked absence #1: AB1 leave from {iso(5)} to {iso(9)}." in result.stderr
    # AB1 holds three live crimes: the supervisor is told to hand them over
    assert f"AB1 holds 3 live crimes; hand them over before {iso(5)}" in result.stderr
    result = team(
        "officer", "absence", "add", "CD2", "--from", d(-2), "--kind", "reduced", "--percent",
        "50", "--reason", "phased return",
    )  # fmt: skip
    assert result.exit_code == 0, result.output

    listed = team("officer", "absence", "list", "--format", "json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [(r["collar"], r["kind"], r["from"], r["to"], r["state"]) for r in rows] == [
        ("CD2", "reduced", iso(-2), None, "in force"),
        ("AB1", "leave", iso(5), iso(9), "planned"),
    ]
    assert rows[0]["percent"] == 50 and rows[1]["days"] == 5
    csv_out = team("officer", "absence", "list", "--format", "csv", "--from", d(10))
    assert csv_out.stdout.splitlines()[0] == (
        "id,collar,name,team,kind,percent,from,to,days,reason,state"
    )
    assert [line.split(",")[1] for line in csv_out.stdout.splitlines()[1:]] == ["CD2"]
    table = team("officer", "absence", "list", "--team", TEAM, "--to", d(1))
    assert "CD2" in table.stdout and "AB1" not in table.stdout

    ended = team("officer", "absence", "end", "AB1", "--on", d(7), "--reason", "back early")
    assert ended.exit_code == 0, ended.output
    assert f"now ends on {iso(7)}" in ended.stderr
    cancelled = team("officer", "absence", "cancel", "2", "--reason", "booked in error")
    assert cancelled.exit_code == 0, cancelled.output
    assert absences(sql)[0][3] is not None and _day(absences(sql)[0][3]) == iso(7)
    assert absences(sql)[1][5]  # kept, cancelled
    # a cancelled absence is listed only on request
    assert "reduced" not in team("officer", "absence", "list").stdout
    assert "cancelled" in team("officer", "absence", "list", "--cancelled").stdout

    added = log_entries(sql, "absence-add")
    assert [(e["collar"], e["detail"]["kind"]) for e in added] == [
        ("AB1", "leave"),
        ("CD2", "reduced"),
    ]
    assert added[1]["detail"]["percent"] == 50
    end_entry = log_entries(sql, "absence-end")[0]
    assert end_entry["reason"] == "back early"
    assert end_entry["detail"]["to"] == iso(7) and end_entry["detail"]["was_to"] == iso(9)
    assert log_entries(sql, "absence-cancel")[0]["detail"]["id"] == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", d(5), "--to", d(2), "--kind", "leave"], "is before the start"),
        (["--from", d(1), "--kind", "reduced"], "needs its percentage"),
        (["--from", d(1), "--kind", "sick", "--percent", "50"], "only for a capacity reduction"),
        (["--from", d(1), "--kind", "holiday"], "is not an absence kind"),
        (["--from", d(1), "--kind", "reduced", "--percent", "100"], "is not a percentage"),
        (["--from", "31/02/2026", "--kind", "leave"], "--from"),
    ],
)
def test_bad_absences_are_refused_and_nothing_is_written(  # type: ignore[no-untyped-def]
    team: Runner, sql, args: list[str], message: str
) -> None:
    result = team("officer", "absence", "add", "AB1", *args, "--reason", "r")
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert absences(sql) == []
    assert log_entries(sql, "absence-add") == []


def test_overlaps_are_refused_but_a_reduction_may_overlap_leave(team: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    assert team("officer", "absence", "add", "AB1", "--from", d(2), "--to", d(6),
                "--kind", "leave", "--reason", "r").exit_code == 0  # fmt: skip
    clash = team("officer", "absence", "add", "AB1", "--from", d(6), "--kind", "court",
                 "--reason", "trial")  # fmt: skip
    assert clash.exit_code == 2
    assert f"AB1 already has an absence on those days (#1 leave from {iso(2)} to {iso(6)})" in (
        clash.stderr
    )
    reduced = team("officer", "absence", "add", "AB1", "--from", d(0), "--to", d(30),
                   "--kind", "reduced", "--percent", "60", "--reason", "part-time")  # fmt: skip
    assert reduced.exit_code == 0, reduced.output
    second = team("officer", "absence", "add", "AB1", "--from", d(20), "--kind", "reduced",
                  "--percent", "80", "--reason", "r")  # fmt: skip
    assert second.exit_code == 2
    assert [row[1] for row in absences(sql)] == ["leave", "reduced"]


def test_end_and_cancel_say_what_is_wrong(team: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    nothing = team("officer", "absence", "end", "AB1", "--on", d(3))
    assert nothing.exit_code == 2
    assert f"AB1 has no absence in force on {iso(3)} to end" in nothing.stderr
    unknown = team("officer", "absence", "end", "ZZ9", "--on", d(3))
    assert unknown.exit_code == 2 and "ZZ9" in unknown.stderr
    assert team("officer", "absence", "cancel", "7").exit_code == 2
    team("officer", "absence", "add", "AB1", "--from", d(1), "--kind", "sick", "--reason", "r")
    assert team("officer", "absence", "cancel", "1").exit_code == 0
    again = team("officer", "absence", "cancel", "1")
    assert again.exit_code == 2 and "already cancelled" in again.stderr
    assert len(log_entries(sql, "absence-cancel")) == 1


# --- officer status ---------------------------------------------------------------------------


def test_officer_status_books_an_open_ended_absence_and_active_is_a_return(
    team: Runner, sql
) -> None:  # type: ignore[no-untyped-def]
    team("officer", "absence", "add", "CD2", "--from", d(-5), "--kind", "sick", "--reason", "flu")
    result = team("officer", "status", "AB1", "leave", "--reason", "bereavement")
    assert result.exit_code == 0, result.output
    assert "AB1 is now on leave." in result.stderr
    assert "is on leave, not active, and holds 3 live crimes" in result.stderr
    assert absences(sql)[1][:4] == ("AB1", "leave", absences(sql)[1][2], None)
    assert _day(absences(sql)[1][2]) == iso(0)
    shown = json.loads(team("workload", "--format", "json").stdout)
    status = {row["collar"]: row["status"] for row in shown}
    assert status == {"AB1": "leave", "CD2": "leave"}

    # a return: the sick leave that began five days ago ends yesterday; today's leave,
    # begun today, is cancelled
    assert team("officer", "status", "CD2", "active").exit_code == 0
    assert team("officer", "status", "AB1", "active").exit_code == 0
    rows = absences(sql)
    assert _day(rows[0][3]) == iso(-1) and not rows[0][5]
    assert rows[1][5]
    shown = json.loads(team("workload", "--format", "json").stdout)
    assert {row["collar"]: row["status"] for row in shown} == {"AB1": "active", "CD2": "active"}
    again = team("officer", "status", "AB1", "active")
    assert "AB1 is already active." in again.stderr
    entries = log_entries(sql, "officer-status")
    assert [e["detail"]["status"] for e in entries] == [
        ["active", "leave"],
        ["leave", "active"],
        ["leave", "active"],
    ]
    # left is the record's own status, and no absence can be booked for them
    assert team("officer", "status", "CD2", "left").exit_code == 0
    refused = team("officer", "absence", "add", "CD2", "--from", d(1), "--kind", "leave",
                   "--reason", "r")  # fmt: skip
    assert refused.exit_code == 2 and "has left" in refused.stderr


# --- allocation -------------------------------------------------------------------------------


def test_allocating_to_an_absent_officer_warns_or_is_refused(
    team: Runner, db_url: str, sql
) -> None:  # type: ignore[no-untyped-def]
    team("officer", "absence", "add", "CD2", "--from", d(-1), "--to", d(3), "--kind", "court",
         "--reason", "trial")  # fmt: skip
    warned = team("assign", "C004", "CD2", "--reason", "next up")
    assert warned.exit_code == 0, warned.output
    assert (
        f"Warning: DC Dean (CD2) is abstracted, not active (court attendance from {iso(-1)} "
        f"to {iso(3)})." in warned.stderr
    )
    interval = sql("SELECT warnings, override_reason FROM allocation WHERE crime_id = "
                   "(SELECT id FROM crime WHERE reference = 'C004')")  # fmt: skip
    assert "court attendance" in interval[0][0] and interval[0][1] is None
    entry = log_entries(sql, "allocate")[-1]
    assert entry["detail"]["codes"] == ["allocated-while-absent"]

    set_policy(db_url, "absence_mode", "block")
    refused = team("assign", "C005", "CD2", "--reason", "next up")
    assert refused.exit_code == 3
    assert "Refused by policy: C005 to CD2: DC Dean (CD2) is abstracted" in refused.stderr
    assert holder(sql, "C005") is None
    allowed = team("assign", "C005", "CD2", "--reason", "r", "--override", "only one free")
    assert allowed.exit_code == 0, allowed.output
    assert holder(sql, "C005") == "CD2"

    # an absence starting within absence_notice_days (3) counts too; further ahead does not
    team("officer", "absence", "add", "AB1", "--from", d(3), "--kind", "training",
         "--reason", "course")  # fmt: skip
    soon = team("assign", "C006", "AB1", "--reason", "r")
    assert soon.exit_code == 3
    assert f"DC Brown (AB1) starts training from {iso(3)}, open-ended (in 3 days)" in soon.stderr
    set_policy(db_url, "absence_notice_days", "2")
    assert team("assign", "C006", "AB1", "--reason", "r").exit_code == 0


def test_every_allocation_path_sees_absences(team: Runner, db_url: str, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    team("officer", "absence", "add", "CD2", "--from", d(0), "--kind", "sick", "--reason", "r")
    set_policy(db_url, "absence_mode", "block")
    # an import naming a holder
    crimes = tmp_path / "crimes.csv"
    crimes.write_text(
        f"reference,crime_type,reported_on,team,holder\nN1,Burglary,{iso(-1)},{TEAM},CD2\n"
    )
    imported = team("import", "crimes", str(crimes))
    assert imported.exit_code == 3, imported.output
    assert sql("SELECT count(*) FROM crime WHERE reference = 'N1'") == [(0,)]
    # the quick path and the SQLAlchemy path refuse alike
    direct = team("assign", "C004", "CD2", "--reason", "r", env={"CASELOAD_DIRECT": "0"})
    assert direct.exit_code == 3
    # suggest and rebalance see CD2 as on leave: never a receiver
    suggested = team("suggest", "C004", "--format", "json")
    assert suggested.exit_code == 0, suggested.output
    assert "CD2" not in [row["collar"] for row in json.loads(suggested.stdout)]


def test_reduced_duties_scale_limit_and_capacity(team: Runner, db_url: str, sql) -> None:  # type: ignore[no-untyped-def]
    team("officer", "absence", "add", "CD2", "--from", d(-3), "--to", d(30), "--kind",
         "reduced", "--percent", "20", "--reason", "light duties")  # fmt: skip
    rows = {r["collar"]: r for r in json.loads(team("workload", "--format", "json").stdout)}
    assert rows["CD2"]["capacity"] == 2 and rows["CD2"]["status"] == "active"
    team("assign", "C004", "CD2", "--reason", "r")
    team("assign", "C005", "CD2", "--reason", "r")
    third = team("assign", "C006", "CD2", "--reason", "r")
    assert third.exit_code == 0
    assert (
        "DC Dean (CD2) now holds 3 live crimes, past their personal capacity of 2 on reduced "
        "duties (20%)" in third.stderr
    )
    findings = json.loads(team("audit", "--format", "json").stdout)["findings"]
    assert [(f["code"], f["collar"]) for f in findings if f["code"] == "over-capacity"] == [
        ("over-capacity", "CD2")
    ]
    # before the reduction, the same holding was inside the capacity of 10
    past = json.loads(team("workload", "--as-of", iso(-5), "--format", "json").stdout)
    assert {r["collar"]: r["capacity"] for r in past}["CD2"] == 10


# --- audit --------------------------------------------------------------------------------------


def test_audit_codes_for_absences(team: Runner, db_url: str, sql) -> None:  # type: ignore[no-untyped-def]
    team("officer", "absence", "add", "AB1", "--from", d(2), "--to", d(8), "--kind", "leave",
         "--reason", "annual leave")  # fmt: skip
    team("officer", "absence", "add", "CD2", "--from", d(0), "--kind", "sick", "--reason", "flu")
    team("assign", "C004", "CD2", "--reason", "r")
    team("assign", "C005", "CD2", "--reason", "r", "--override", "phoned in, working from home")
    result = team("audit", "--format", "json")
    assert result.exit_code == 1
    findings = json.loads(result.stdout)["findings"]
    by_code = {}
    for f in findings:
        by_code.setdefault(f["code"], []).append(f)
    # the override is recorded: C005 is not a finding
    [absent] = by_code["allocated-while-absent"]
    assert (absent["severity"], absent["collar"], absent["reference"]) == ("high", "CD2", "C004")
    assert absent["since"] == iso(0)
    assert (
        f"C004 was allocated to DC Dean (CD2) on {iso(0)}, during their sick leave"
        in (absent["detail"])
    )
    [due] = by_code["absence-handover-due"]
    assert (due["severity"], due["collar"]) == ("medium", "AB1")
    assert due["detail"] == (
        f"DC Brown (AB1) starts leave in 2 days (from {iso(2)} to {iso(8)}) and holds "
        "3 live crimes; hand them over"
    )
    assert due["since"] == iso(-1)
    assert {f["collar"] for f in by_code["holder-unavailable"]} == {"CD2"}
    # moved on: the findings clear
    team("assign", "C004", "AB1", "--reason", "r")
    set_policy(db_url, "absence_notice_days", "1")
    after = json.loads(team("audit", "--format", "json").stdout)["findings"]
    codes = {f["code"] for f in after}
    assert "allocated-while-absent" not in codes and "absence-handover-due" not in codes


# --- import -------------------------------------------------------------------------------------


def test_import_absences(team: Runner, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "absences.csv"
    good.write_text(
        "Collar,Kind,From,To,Percent,Reason\n"
        f"ab1,leave,{d(3)},{d(4)},,annual leave\n"
        f"CD2,reduced,{iso(0)},,60,part-time\n"
        f"CD2,court,{iso(10)},{iso(10)},,trial\n"
    )
    result = team("import", "absences", str(good))
    assert result.exit_code == 0, result.output
    assert "Imported 3 absences: 3 new" in result.stderr
    assert [row[:2] for row in absences(sql)] == [
        ("AB1", "leave"),
        ("CD2", "reduced"),
        ("CD2", "court"),
    ]
    assert len(log_entries(sql, "absence-add")) == 3
    again = team("import", "absences", str(good))
    assert "0 new, 0 updated, 3 unchanged" in again.stderr

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "collar,kind,from,to,percent,reason\n"
        f"AB1,sick,{iso(4)},,,flu\n"
        f"ZZ9,leave,{iso(1)},,,x\n"
        f"CD2,reduced,{iso(40)},,,x\n"
        f"CD2,leave,{iso(30)},{iso(20)},,x\n"
        f"CD2,leave,{iso(50)},{iso(55)},,x\n"
        f"CD2,sick,{iso(52)},,,x\n"
    )
    refused = team("import", "absences", str(bad))
    assert refused.exit_code == 2
    for line, text in (
        (2, "AB1 already has an absence on those days (#1 leave"),
        (3, "there is no officer ZZ9"),
        (4, "needs its percentage"),
        (5, "is before the start"),
        (7, "CD2 already has an absence on those days (leave"),
    ):
        assert f"line {line}" in refused.stderr and text in refused.stderr
    assert len(absences(sql)) == 3
