"""Officers' facts over time: every officer change closes one dated interval and opens
another, the migration backfills one interval per officer, and every ``--as-of`` view
(workload, audit, export, report) uses the facts as they stood that day. Ends with the
absence story: leave booked, a warned allocation, the crimes handed over by ``assign``,
the audit clean, and a past day rebuilt with an officer's old accreditation."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from caseload.store.connection import Store, to_url
from tests.helpers.cli import Runner
from tests.helpers.force import Force, refs

TODAY = date.today()


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def at(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time()).replace(hour=9)


def intervals(sql, collar: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    rows = sql(
        "SELECT h.valid_from, h.valid_to, t.name, h.status, h.accreditation, h.trainee, "
        "h.capacity FROM officer_history h JOIN officer o ON o.id = h.officer_id "
        "JOIN team t ON t.id = h.team_id WHERE o.collar = :c ORDER BY h.id",
        c=collar,
    )
    return [
        tuple(v.isoformat() if isinstance(v, date) else v for v in row[:2]) + tuple(row[2:])
        for row in rows
    ]


def _update(db_url: str, collar: str, when: date, **changes: object) -> None:
    """An officer change recorded on a past day (as ``officer update`` records today's)."""
    from caseload.store.officers import update_officer

    store = Store(to_url(db_url))
    try:
        with store.write() as conn:
            update_officer(conn, collar, changes, actor="setup", at=at(when))
    finally:
        store.dispose()


@pytest.fixture
def moved(store: Runner, db_url: str) -> Iterator[Runner]:
    """XY1 joined Lewisham CID as a PIP1 trainee; 50 days ago was given a PIP2 crime (with
    an override); 30 days ago passed PIP2 and stopped being a trainee; 20 days ago moved to
    Greenwich CID with a capacity of 5."""
    store("team", "add", "Greenwich CID")
    force = Force(db_url)
    force.officer("XY1", name="Kim Young", rank="TDC", accreditation="PIP1", trainee=True)
    force.crimes(refs("K", 2), reported=ago(60), level="PIP2")
    force.assign("K001", "XY1", at(ago(50)))
    force.close()
    _update(db_url, "XY1", ago(30), accreditation="PIP2", trainee=False)
    _update(db_url, "XY1", ago(20), team="Greenwich CID", capacity=5)
    yield store


def test_every_change_closes_one_interval_and_opens_another(moved: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    assert intervals(sql, "XY1") == [
        (None, ago(30).isoformat(), "Lewisham CID", "active", "PIP1", True, None),
        (ago(30).isoformat(), ago(20).isoformat(), "Lewisham CID", "active", "PIP2", False, None),
        (ago(20).isoformat(), None, "Greenwich CID", "active", "PIP2", False, 5),
    ]
    # today's changes through the commands: a second change the same day amends that day's
    assert moved("officer", "update", "XY1", "--capacity", "6").exit_code == 0
    assert moved("officer", "update", "XY1", "--capacity", "7").exit_code == 0
    assert moved("officer", "status", "XY1", "left").exit_code == 0
    rows = intervals(sql, "XY1")
    assert len(rows) == 4
    assert rows[2][1] == TODAY.isoformat()
    assert rows[3] == (TODAY.isoformat(), None, "Greenwich CID", "left", "PIP2", False, 7)
    # a name change is not a fact kept over time: no new interval
    assert moved("officer", "update", "XY1", "--name", "Kim Young-Smith").exit_code == 0
    assert len(intervals(sql, "XY1")) == 4


def test_as_of_views_use_the_facts_of_that_day(moved: Runner, tmp_path) -> None:
    def workload(day: date, *team: str) -> dict:
        result = moved("workload", "--as-of", day.isoformat(), *team, "--format", "json")
        assert result.exit_code == 0, result.output
        return {row["collar"]: row for row in json.loads(result.stdout)}

    then = workload(ago(40))["XY1"]
    assert (then["team"], then["accreditation"], then["inexperienced"]) == (
        "Lewisham CID",
        "PIP1",
        True,
    )
    assert then["flags"] == "mismatch" and then["capacity"] is None
    assert "XY1" in workload(ago(25), "--team", "Lewisham CID")
    assert "XY1" not in workload(ago(25), "--team", "Greenwich CID")
    now = json.loads(moved("workload", "--format", "json").stdout)[0]
    assert (now["team"], now["accreditation"], now["capacity"], now["flags"]) == (
        "Greenwich CID",
        "PIP2",
        5,
        "",
    )

    def codes(*args: str) -> set[tuple[str, str]]:
        result = moved("audit", *args, "--format", "json")
        return {(f["code"], f["team"]) for f in json.loads(result.stdout)["findings"]}

    assert ("accreditation-mismatch", "Lewisham CID") in codes("--as-of", ago(40).isoformat())
    assert not {c for c, _ in codes()} & {"accreditation-mismatch"}
    assert not {c for c, _ in codes("--as-of", ago(25).isoformat())} & {"accreditation-mismatch"}

    out = tmp_path / "findings.csv"
    exported = moved("export", "findings", "--as-of", ago(40).isoformat(), "-o", str(out))
    assert exported.exit_code == 0, exported.output
    assert "accreditation-mismatch" in out.read_text()
    report = moved(
        "report", "morning", "--as-of", ago(40).isoformat(), "--format", "json", "-o", "-"
    )
    assert report.exit_code == 0, report.output
    document = json.loads(report.stdout)
    codes_then = {c["code"]: c["count"] for c in document["findings"]["codes"]}
    assert codes_then["accreditation-mismatch"] == 1
    [officer] = document["load"]["officers"]
    assert (officer["collar"], officer["inexperienced"], officer["capacity"]) == (
        "XY1",
        True,
        None,
    )


def test_the_migration_backfills_one_interval_per_officer(db_url: str, run: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    from alembic import command

    from caseload.store.migrate import alembic_config

    store = Store(to_url(db_url))
    try:
        store.create_file()
        with store.write() as conn:
            command.upgrade(alembic_config(conn), "0005")
            conn.execute(sa.text("INSERT INTO team (id, name) VALUES (1, 'Lewisham CID')"))
            conn.execute(
                sa.text(
                    "INSERT INTO officer (id, collar, name, team_id, rank, accreditation, "
                    "investigator_since, status, capacity, trainee) VALUES "
                    "(1, 'AB1', 'Ann Brown', 1, 'DC', 'PIP2', :d, 'leave', 12, :f), "
                    "(2, 'CD2', 'Carl Dean', 1, 'TDC', 'PIP1', :d, 'active', NULL, :t)"
                ),
                {"d": date(2019, 4, 1), "f": False, "t": True},
            )
    finally:
        store.dispose()
    assert run("db", "status").exit_code == 0  # the first command upgrades the store
    assert intervals(sql, "AB1") == [(None, None, "Lewisham CID", "leave", "PIP2", False, 12)]
    assert intervals(sql, "CD2") == [(None, None, "Lewisham CID", "active", "PIP1", True, None)]
    # a status set before absences had dates still counts, today and on any past day
    rows = json.loads(run("workload", "--as-of", "2025-01-01", "--format", "json").stdout)
    assert {r["collar"]: r["status"] for r in rows} == {"AB1": "leave", "CD2": "active"}


# --- the story --------------------------------------------------------------------------------


def test_story_leave_booked_warned_allocation_handed_over_audit_clean(  # type: ignore[no-untyped-def]
    store: Runner, db_url: str, sql, shell
) -> None:
    force = Force(db_url)
    force.officer("DC1", name="Priya Patel", accreditation="PIP2")
    force.officer("DC2", name="Tom Reid", accreditation="PIP1")
    force.crimes(refs("S", 3), reported=ago(6), level="PIP1")
    force.crime("S004", reported=ago(6), level="PIP2")
    force.crime("S005", reported=ago(1), level="PIP1")
    force.assign(["S001", "S002", "S004"], "DC1", at(ago(5)))
    force.assign("S003", "DC2", at(ago(5)))
    force.close()
    for ref in ("S001", "S002", "S003", "S004"):
        assert store("review", ref, "--note", "lines of enquiry set").exit_code == 0

    # 1. DC1's leave is booked, starting in two days
    start, end = TODAY + timedelta(days=2), TODAY + timedelta(days=9)
    booked = store("officer", "absence", "add", "DC1", "--from", start.isoformat(), "--to",
                   end.isoformat(), "--kind", "leave", "--reason", "annual leave")  # fmt: skip
    assert booked.exit_code == 0, booked.output
    assert "DC1 holds 3 live crimes; hand them over" in booked.stderr

    # 2. a new crime given to DC1 anyway: warned (absence_mode warn), recorded
    warned = store("assign", "S005", "DC1", "--reason", "next up")
    assert warned.exit_code == 0
    assert f"DC Patel (DC1) starts leave from {start} to {end} (in 2 days)" in warned.stderr
    assert (
        "absence-handover-due"
        in sql("SELECT detail FROM log_entry WHERE kind = 'allocate' AND crime_ref = 'S005'")[0][0]
    )
    audit = shell("audit", "--format", "json", "--fail-on", "high")  # as a nightly script
    assert audit.returncode == 0, audit.stderr  # medium findings only
    findings = json.loads(audit.stdout)["findings"]
    assert [(f["code"], f["collar"]) for f in findings] == [("absence-handover-due", "DC1")]

    # 3. DC2 passes PIP2 today; DC1's crimes are handed over: planned, then applied
    assert store("officer", "update", "DC2", "--accreditation", "PIP2").exit_code == 0
    planned = store("handover", "DC1")
    assert planned.exit_code == 0, planned.output
    plan = re.search(r"--plan (\w+)", planned.stderr)
    assert plan is not None, planned.stderr
    moved = store("handover", "DC1", "--apply", "--plan", plan.group(1),
                  "--reason", "handover: DC1 on leave")  # fmt: skip
    assert moved.exit_code == 0, moved.output
    assert "Warning" not in moved.stderr
    holders = sql("SELECT c.reference, o.collar FROM crime c JOIN officer o ON o.id = c.holder_id "
                  "ORDER BY c.reference")  # fmt: skip
    assert [tuple(r) for r in holders] == [(f"S00{i}", "DC2") for i in range(1, 6)]

    # 4. the audit is clean
    clean = store("audit", "--format", "json", "--fail-on", "low")
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.stdout)["findings"] == []

    # 5. yesterday rebuilt: DC2 was still PIP1 then, holding one crime; DC1 held three
    yesterday = json.loads(
        store("workload", "--as-of", ago(1).isoformat(), "--format", "json").stdout
    )
    rows = {row["collar"]: row for row in yesterday}
    assert (rows["DC2"]["accreditation"], rows["DC2"]["live"]) == ("PIP1", 1)
    assert (rows["DC1"]["accreditation"], rows["DC1"]["live"]) == ("PIP2", 3)
    today = {r["collar"]: r for r in json.loads(store("workload", "--format", "json").stdout)}
    assert (today["DC2"]["accreditation"], today["DC2"]["live"]) == ("PIP2", 5)
    # and on DC1's first day of leave, nothing would be held while absent
    assert sql("SELECT count(*) FROM crime c JOIN officer o ON o.id = c.holder_id "
               "WHERE o.collar = 'DC1' AND c.finalised_on IS NULL") == [(0,)]  # fmt: skip
