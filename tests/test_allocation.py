"""A supervisor allocates, transfers and unassigns crimes; the policy rules hold on every path."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from caseload.errors import InputError, PolicyRefused
from tests.conftest import Runner, sa_url
from tests.force import ensure_team

TEAM = "Lewisham CID"


# --- helpers shared by the allocation, workload and history tests ---------------------------


@contextmanager
def writing(db_url: str) -> Iterator[Any]:
    """A write transaction on the store under test (as the commands open one)."""
    from caseload.store.migrate import open_store

    store = open_store(sa_url(db_url))
    try:
        with store.write() as conn:
            yield conn
    finally:
        store.dispose()


def add_officer(
    conn: Any,
    collar: str,
    *,
    name: str = "Sam Jones",
    rank: str = "TDC",
    accreditation: str = "PIP2",
    since: date = date(2010, 1, 1),
    team: str = TEAM,
    trainee: bool = False,
    capacity: int | None = None,
    status: str = "active",
) -> None:
    from caseload.store.officers import add

    values = {
        "collar": collar,
        "name": name,
        "team": team,
        "rank": rank,
        "accreditation": accreditation,
        "investigator_since": since,
        "status": status,
        "capacity": capacity,
        "trainee": trainee,
    }
    ensure_team(conn, team)
    add(conn, values, actor="setup", at=datetime(2020, 1, 1))


def add_crimes(
    conn: Any,
    count: int,
    *,
    prefix: str = "CR/",
    level: str = "PIP1",
    team: str = TEAM,
    reported_on: date = date(2026, 1, 5),
    start: int = 1,
) -> list[str]:
    from caseload.store.crimes import add

    ensure_team(conn, team)
    refs = []
    for number in range(start, start + count):
        ref = f"{prefix}{number}"
        add(
            conn,
            {
                "reference": ref,
                "crime_type": "Burglary",
                "team": team,
                "reported_on": reported_on,
                "required_level": level,
            },
            actor="setup",
            at=datetime(2026, 1, 5),
        )
        refs.append(ref)
    return refs


def requests_for(conn: Any, refs: Sequence[str], collar: str, *, first_line: int | None = None):  # type: ignore[no-untyped-def]
    """AllocationRequests for these crimes to one officer (ids looked up in bulk)."""
    from sqlalchemy import select

    from caseload.store.allocation import AllocationRequest
    from caseload.store.models import crime_table, officer_table

    crime, officer = crime_table, officer_table
    ids = dict(
        conn.execute(select(crime.c.reference, crime.c.id).where(crime.c.reference.in_(refs))).all()
    )
    officer_id = conn.execute(select(officer.c.id).where(officer.c.collar == collar)).scalar_one()
    return [
        AllocationRequest(
            crime_id=ids[ref],
            reference=ref,
            officer_id=officer_id,
            collar=collar,
            line=None if first_line is None else first_line + index,
        )
        for index, ref in enumerate(refs)
    ]


def allocate_refs(
    db_url: str, refs: Sequence[str], collar: str, *, at: datetime | None = None, **options: Any
) -> list[Any]:
    from caseload.store.allocation import allocate_many

    with writing(db_url) as conn:
        return allocate_many(
            conn,
            requests_for(conn, refs, collar),
            actor="setup",
            at=at or datetime.now(),
            reason=options.pop("reason", "setup"),
            **options,
        )


def set_policy(db_url: str, name: str, value: str) -> None:
    from caseload.store.reference import set_policy as store_set_policy

    with writing(db_url) as conn:
        store_set_policy(conn, name, value, actor="setup", at=datetime.now())


def holder(sql, ref: str) -> str | None:  # type: ignore[no-untyped-def]
    rows = sql(
        "SELECT o.collar FROM crime c LEFT JOIN officer o ON o.id = c.holder_id "
        "WHERE c.reference = :r",
        r=ref,
    )
    return rows[0][0]


def log_entries(sql, kind: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    rows = sql(
        "SELECT crime_ref, collar, actor, reason, detail FROM log_entry "
        "WHERE kind = :k ORDER BY id",
        k=kind,
    )
    return [
        {
            "crime_ref": r[0],
            "collar": r[1],
            "actor": r[2],
            "reason": r[3],
            "detail": json.loads(r[4]),
        }
        for r in rows
    ]


@pytest.fixture
def force(store: Runner, db_url: str) -> Runner:
    """A store with an inexperienced TDC (XY9, 18 months in), a DC (AB1) and 30 PIP1 crimes."""
    with writing(db_url) as conn:
        add_officer(conn, "XY9", accreditation="PIP1", since=date.today() - timedelta(days=540))
        add_officer(conn, "AB1", name="Ann Bell", rank="DC")
        add_crimes(conn, 30)
        add_crimes(conn, 2, prefix="SX/", level="PIP2")
    return store


# --- the 25-crime warning -------------------------------------------------------------------


def test_25_live_is_fine_and_the_26th_warns(force: Runner, db_url: str, sql) -> None:  # type: ignore[no-untyped-def]
    allocate_refs(db_url, [f"CR/{n}" for n in range(1, 25)], "XY9")
    result = force("assign", "CR/25", "xy9", "--reason", "next up")
    assert result.exit_code == 0, result.output
    assert "Allocated CR/25 to XY9." in result.stderr
    assert "Warning" not in result.stderr

    result = force("assign", "CR/26", "XY9", "--reason", "next up")
    assert result.exit_code == 0, result.output
    assert (
        "Warning: TDC Jones (XY9) is inexperienced and now holds 26 live crimes; limit 25."
        in result.stderr
    )
    assert holder(sql, "CR/26") == "XY9"
    warnings = sql(
        "SELECT a.warnings FROM allocation a JOIN crime c ON c.id = a.crime_id "
        "WHERE c.reference = 'CR/26'"
    )
    assert warnings == [
        ("TDC Jones (XY9) is inexperienced and now holds 26 live crimes; limit 25",)
    ]
    (entry,) = [e for e in log_entries(sql, "allocate") if e["crime_ref"] == "CR/26"]
    assert entry["detail"]["codes"] == ["inexperienced-over-limit"]
    assert entry["reason"] == "next up"
    assert entry["actor"] == "test-supervisor"


def test_finalised_crimes_do_not_count(force: Runner, db_url: str) -> None:
    allocate_refs(db_url, [f"CR/{n}" for n in range(1, 26)], "XY9")
    force("crime", "finalise", "CR/1", "--outcome", "18")
    result = force("assign", "CR/26", "XY9", "--reason", "room again")
    assert result.exit_code == 0, result.output
    assert "Warning" not in result.stderr


def test_two_year_mark_passed_means_no_limit(store: Runner, db_url: str) -> None:
    from dateutil.relativedelta import relativedelta

    today = date.today()
    with writing(db_url) as conn:
        add_officer(conn, "NEW1", since=today - relativedelta(months=24) + timedelta(days=1))
        add_officer(conn, "OLD1", since=today - relativedelta(months=24))
        add_crimes(conn, 52)
    allocate_refs(db_url, [f"CR/{n}" for n in range(1, 26)], "NEW1")
    allocate_refs(db_url, [f"CR/{n}" for n in range(27, 52)], "OLD1")
    result = store("assign", "CR/26", "NEW1", "--reason", "r")
    assert "is inexperienced and now holds 26 live crimes; limit 25" in result.stderr
    result = store("assign", "CR/52", "OLD1", "--reason", "r")
    assert result.exit_code == 0
    assert "Warning" not in result.stderr


def test_block_mode_refuses_without_override_and_records_it(
    force: Runner, db_url: str, sql
) -> None:  # type: ignore[no-untyped-def]
    allocate_refs(db_url, [f"CR/{n}" for n in range(1, 26)], "XY9")
    set_policy(db_url, "limit_mode", "block")
    before = (
        sql("SELECT count(*) FROM allocation")[0][0],
        sql("SELECT count(*) FROM log_entry")[0][0],
    )

    result = force("assign", "CR/26", "XY9", "--reason", "short staffed")
    assert result.exit_code == 3
    assert "Refused by policy" in result.stderr
    assert (
        "TDC Jones (XY9) is inexperienced and would hold 26 live crimes; limit 25" in result.stderr
    )
    assert "--override REASON" in result.stderr
    assert holder(sql, "CR/26") is None
    after = (
        sql("SELECT count(*) FROM allocation")[0][0],
        sql("SELECT count(*) FROM log_entry")[0][0],
    )
    assert after == before

    result = force(
        "assign", "CR/26", "XY9", "--reason", "short staffed", "--override", "DI approved"
    )
    assert result.exit_code == 0, result.output
    assert "Override recorded: DI approved" in result.stderr
    assert holder(sql, "CR/26") == "XY9"
    (row,) = sql(
        "SELECT a.override_reason, a.warnings FROM allocation a JOIN crime c ON c.id = a.crime_id "
        "WHERE c.reference = 'CR/26'"
    )
    assert row[0] == "DI approved"
    assert "now holds 26 live crimes" in row[1]
    (entry,) = [e for e in log_entries(sql, "allocate") if e["crime_ref"] == "CR/26"]
    assert entry["detail"]["override"] == "DI approved"


# --- accreditation, availability, capacity --------------------------------------------------


def test_accreditation_is_refused_by_default(force: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    result = force("assign", "SX/1", "XY9", "--reason", "r")
    assert result.exit_code == 3
    assert "TDC Jones (XY9) is accredited to PIP1 but the crime needs PIP2" in result.stderr
    assert holder(sql, "SX/1") is None
    result = force("assign", "SX/1", "AB1", "--reason", "r")
    assert result.exit_code == 0
    assert holder(sql, "SX/1") == "AB1"


def test_accreditation_warn_mode_warns(force: Runner, db_url: str, sql) -> None:  # type: ignore[no-untyped-def]
    set_policy(db_url, "accreditation_mode", "warn")
    result = force("assign", "SX/1", "XY9", "--reason", "r")
    assert result.exit_code == 0
    assert (
        "Warning: TDC Jones (XY9) is accredited to PIP1 but the crime needs PIP2." in result.stderr
    )
    assert holder(sql, "SX/1") == "XY9"


def test_unavailable_and_over_capacity_warn(store: Runner, db_url: str) -> None:
    with writing(db_url) as conn:
        add_officer(conn, "LV1", name="Lee Vance", rank="DC", status="leave")
        add_officer(conn, "CP1", name="Cat Page", rank="DS", capacity=1)
        add_crimes(conn, 3)
    result = store("assign", "CR/1", "LV1", "--reason", "r")
    assert result.exit_code == 0
    assert "Warning: DC Vance (LV1) is on leave, not active." in result.stderr
    store("assign", "CR/2", "CP1", "--reason", "r")
    result = store("assign", "CR/3", "CP1", "--reason", "r")
    assert result.exit_code == 0
    assert (
        "DS Page (CP1) now holds 2 live crimes, past their personal capacity of 1" in result.stderr
    )


# --- transfer, unassign, bad input ----------------------------------------------------------


def test_transfer_closes_the_old_interval(force: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    force("assign", "CR/1", "XY9", "--reason", "first")
    result = force("assign", "CR/1", "AB1", "--reason", "XY9 on a course", "--actor", "DS Khan")
    assert result.exit_code == 0
    assert "Transferred CR/1 from XY9 to AB1." in result.stderr
    rows = sql(
        "SELECT o.collar, a.end_at IS NULL, a.ended_by, a.end_reason, a.actor FROM allocation a "
        "JOIN officer o ON o.id = a.officer_id ORDER BY a.id"
    )
    assert rows == [
        ("XY9", False, "DS Khan", "XY9 on a course", "test-supervisor"),
        ("AB1", True, None, None, "DS Khan"),
    ]
    (entry,) = log_entries(sql, "transfer")
    assert entry["detail"]["from"] == "XY9"
    assert entry["collar"] == "AB1"


def test_unassign_leaves_the_crime_unallocated(force: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    force("assign", "CR/1", "XY9", "--reason", "first")
    result = force("unassign", "CR/1", "--reason", "wrong team")
    assert result.exit_code == 0
    assert "Took CR/1 off XY9" in result.stderr
    assert holder(sql, "CR/1") is None
    assert sql("SELECT count(*) FROM allocation WHERE end_at IS NULL")[0][0] == 0
    (entry,) = log_entries(sql, "unassign")
    assert (entry["collar"], entry["reason"]) == ("XY9", "wrong team")
    result = force("unassign", "CR/1", "--reason", "again")
    assert result.exit_code == 2
    assert "already unallocated" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("assign", "CR/1", "XY9", "--reason", "again"), "XY9 already holds it"),
        (("assign", "CR/404", "XY9", "--reason", "r"), "no crime with reference CR/404"),
        (("assign", "CR/2", "ZZ99", "--reason", "r"), "no officer with collar ZZ99"),
        (("assign", "CR/2", "XY9"), "Give a reason with --reason"),
        (("assign", "CR/2", "--reason", "r"), "Name the officer"),
        (("assign", "CR/3", "XY9", "--reason", "r"), "it is finalised"),
    ],
)
def test_bad_assignments_exit_2_and_write_nothing(
    force: Runner, sql, args: tuple[str, ...], message: str
) -> None:  # type: ignore[no-untyped-def]
    force("assign", "CR/1", "XY9", "--reason", "first")
    force("crime", "finalise", "CR/3", "--outcome", "18")
    before = sql("SELECT count(*) FROM log_entry")[0][0]
    result = force(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert sql("SELECT count(*) FROM log_entry")[0][0] == before


# --- the bulk path (import, engine) ---------------------------------------------------------


def test_bulk_counts_run_and_a_block_refuses_the_whole_batch(
    force: Runner, db_url: str, sql
) -> None:  # type: ignore[no-untyped-def]
    from caseload.store.allocation import allocate_many

    set_policy(db_url, "limit_mode", "block")
    refs = [f"CR/{n}" for n in range(1, 29)]
    with pytest.raises(PolicyRefused) as refused, writing(db_url) as conn:
        allocate_many(
            conn,
            requests_for(conn, refs, "XY9", first_line=2),
            actor="a",
            at=datetime.now(),
            reason="import",
        )
    assert "3 of 28 allocations" in refused.value.message
    assert refused.value.details == [
        f"line {n + 1}: CR/{n} to XY9: TDC Jones (XY9) is inexperienced and would hold {n} live "
        "crimes; limit 25"
        for n in (26, 27, 28)
    ]
    assert sql("SELECT count(*) FROM allocation")[0][0] == 0
    assert sql("SELECT count(*) FROM crime WHERE holder_id IS NOT NULL")[0][0] == 0

    outcomes = allocate_refs(
        db_url, refs, "XY9", override="amnesty backlog", plan_id="P1", auto=True
    )
    assert [len(o.warnings) for o in outcomes] == [0] * 25 + [1] * 3
    assert [o.overridden for o in outcomes[-3:]] == [True] * 3
    rows = sql(
        "SELECT count(*), count(override_reason), min(plan_id), "
        "count(*) FILTER (WHERE auto) FROM allocation"
    )
    assert tuple(rows[0]) == (28, 3, "P1", 28)
    assert len(log_entries(sql, "allocate")) == 28


def test_bulk_transfers_decrement_the_old_holder(force: Runner, db_url: str, sql) -> None:  # type: ignore[no-untyped-def]
    set_policy(db_url, "limit_mode", "block")
    allocate_refs(db_url, [f"CR/{n}" for n in range(1, 26)], "XY9")
    # Move one away and one in, in one batch: XY9 stays at 25, so nothing is refused.
    from caseload.store.allocation import allocate_many

    with writing(db_url) as conn:
        batch = requests_for(conn, ["CR/1"], "AB1") + requests_for(conn, ["CR/26"], "XY9")
        outcomes = allocate_many(conn, batch, actor="a", at=datetime.now(), reason="swap")
    assert [o.previous_collar for o in outcomes] == ["XY9", None]
    assert [o.warnings for o in outcomes] == [[], []]
    assert (
        sql(
            "SELECT count(*) FROM crime c JOIN officer o ON o.id = c.holder_id "
            "WHERE o.collar = 'XY9'"
        )[0][0]
        == 25
    )


def test_bulk_same_crime_twice_is_a_transfer_within_the_batch(
    force: Runner, db_url: str, sql
) -> None:  # type: ignore[no-untyped-def]
    from caseload.store.allocation import allocate_many

    with writing(db_url) as conn:
        batch = requests_for(conn, ["CR/1"], "XY9") + requests_for(conn, ["CR/1"], "AB1")
        outcomes = allocate_many(conn, batch, actor="a", at=datetime.now(), reason="r")
    assert outcomes[1].previous_collar == "XY9"
    assert holder(sql, "CR/1") == "AB1"
    assert sql("SELECT count(*) FROM allocation WHERE end_at IS NULL")[0][0] == 1


def test_bulk_bad_rows_are_all_named(force: Runner, db_url: str) -> None:
    from caseload.store.allocation import AllocationRequest, allocate_many

    force("assign", "CR/1", "XY9", "--reason", "first")
    with pytest.raises(InputError) as bad, writing(db_url) as conn:
        batch = requests_for(conn, ["CR/1", "CR/2"], "XY9", first_line=2)
        batch.append(
            AllocationRequest(crime_id=99999, reference="CR/X", officer_id=1, collar="XY9", line=9)
        )
        allocate_many(conn, batch, actor="a", at=datetime.now(), reason="r")
    assert bad.value.details == ["line 9: CR/X to XY9: there is no such crime"]


def test_start_at_is_when_the_holding_began(force: Runner, db_url: str, sql) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from caseload.store.allocation import allocate_many

    began = datetime(2026, 2, 1, 9, 30)
    with writing(db_url) as conn:
        (request,) = requests_for(conn, ["CR/1"], "XY9")
        allocate_many(
            conn, [replace(request, start_at=began)], actor="a", at=datetime.now(), reason="r"
        )
    assert str(sql("SELECT start_at FROM allocation")[0][0]).startswith("2026-02-01 09:30")


# --- the import path ------------------------------------------------------------------------


def test_an_import_naming_holders_obeys_the_rules(force: Runner, tmp_path, sql) -> None:  # type: ignore[no-untyped-def]
    header = "reference,crime_type,reported_on,team,required_level,holder\n"
    rows = "".join(f"IM/{n},Burglary,2026-11-01,{TEAM},PIP1,XY9\n" for n in range(1, 27))
    bad = f"IM/SX,Robbery,2026-11-01,{TEAM},PIP2,XY9\n"
    refused = tmp_path / "refused.csv"
    refused.write_text(header + rows + bad)
    result = force("import", "crimes", str(refused))
    assert result.exit_code == 3, result.output
    assert "line 28: IM/SX to XY9: TDC Jones (XY9) is accredited to PIP1" in result.stderr
    assert sql("SELECT count(*) FROM crime WHERE reference LIKE 'IM/%'")[0][0] == 0
    assert sql("SELECT count(*) FROM allocation")[0][0] == 0

    allowed = tmp_path / "allowed.csv"
    allowed.write_text(header + rows)
    result = force("import", "crimes", str(allowed))
    assert result.exit_code == 0, result.output
    assert "line 27: IM/26: TDC Jones (XY9) is inexperienced and now holds 26 live crimes" in (
        result.stderr
    )
    assert sql("SELECT count(*) FROM allocation WHERE warnings <> ''")[0][0] == 1
    assert len(log_entries(sql, "allocate")) == 26


def test_a_block_mode_import_is_refused_whole_unless_overridden(
    force: Runner, db_url: str, tmp_path, sql
) -> None:  # type: ignore[no-untyped-def]
    set_policy(db_url, "limit_mode", "block")
    path = tmp_path / "crimes.csv"
    path.write_text(
        "reference,crime_type,reported_on,team,holder\n"
        + "".join(f"IM/{n},Burglary,2026-11-01,{TEAM},xy9\n" for n in range(1, 28))
    )
    result = force("import", "crimes", str(path))
    assert result.exit_code == 3
    assert "line 27: IM/26 to XY9" in result.stderr and "line 28: IM/27 to XY9" in result.stderr
    assert sql("SELECT count(*) FROM crime WHERE holder_id IS NOT NULL")[0][0] == 0
    result = force("import", "crimes", str(path), "--override", "backlog amnesty")
    assert result.exit_code == 0, result.output
    assert (
        sql("SELECT count(*) FROM allocation WHERE override_reason = 'backlog amnesty'")[0][0] == 2
    )
