"""The key queries use the indexes chosen for them (EXPLAIN QUERY PLAN on SQLite).

A store of a few thousand rows is enough: SQLite's plan depends on the schema
and its statistics, not on the size. Each test runs the store function a command
runs, records the SQL it sends, and asks SQLite how it would execute it.
"""

from __future__ import annotations

import random
import re
import sqlite3
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from caseload.store.connection import Store, refresh_statistics, to_url
from caseload.store.migrate import open_store

pytestmark = pytest.mark.sqlite_only

TODAY = date.today()
BIG = ("crime", "allocation", "finalisation", "log_entry", "review", "victim_update", "key_event")


@pytest.fixture
def filled(store, db_url: str) -> Iterator[Store]:  # type: ignore[no-untyped-def]
    """A store with 3 teams, 90 officers and 3,000 crimes with history, written directly."""
    rng = random.Random(6)
    con = sqlite3.connect(db_url)
    con.executemany(
        "INSERT INTO team (id, name) VALUES (?, ?)", [(i, f"Team {i}") for i in (1, 2, 3)]
    )
    con.executemany(
        "INSERT INTO officer (id, collar, name, team_id, rank, accreditation, "
        "investigator_since, status, capacity, trainee) VALUES (?, ?, ?, ?, 'DC', ?, ?, ?, ?, ?)",
        [
            (
                i,
                f"AB{i:04d}",
                f"Officer {i}",
                1 + i % 3,
                rng.choice(("PIP1", "PIP2")),
                (TODAY - timedelta(days=rng.randint(100, 4000))).isoformat(),
                "leave" if i % 17 == 0 else "active",
                20 if i % 11 == 0 else None,
                i % 13 == 0,
            )
            for i in range(1, 91)
        ],
    )
    crimes, allocations, finals, reviews = [], [], [], []
    for i in range(1, 3001):
        reported = TODAY - timedelta(days=rng.randint(1, 400))
        live = i % 4 == 0
        holder = rng.randint(1, 90) if not live or i % 20 else None
        finalised = None if live else min(TODAY, reported + timedelta(days=rng.randint(1, 60)))
        crimes.append(
            (
                i,
                f"CR{i:05d}",
                "Burglary",
                rng.choice(("PIP1", "PIP1", "PIP2")),
                reported.isoformat(),
                1 + i % 3,
                holder,
                finalised and finalised.isoformat(),
                18 if finalised else None,
                datetime.now().isoformat(sep=" "),
            )
        )
        if holder:
            start = datetime.combine(reported, datetime.min.time())
            allocations.append((i, holder, start.isoformat(sep=" "), None))
        if finalised:
            finals.append((i, finalised.isoformat()))
        if live:
            reviews.append((i, (reported + timedelta(days=1)).isoformat()))
    con.executemany(
        "INSERT INTO crime (id, reference, crime_type, required_level, level_defaulted, "
        "reported_on, team_id, victim_enhanced, holder_id, finalised_on, outcome, created_at) "
        "VALUES (?, ?, ?, ?, 0, ?, ?, 0, ?, ?, ?, ?)",
        crimes,
    )
    con.executemany(
        "INSERT INTO allocation (crime_id, officer_id, start_at, end_at, actor, reason, "
        "warnings, auto) VALUES (?, ?, ?, ?, 'test', 'test', '', 0)",
        allocations,
    )
    con.executemany(
        "INSERT INTO finalisation (crime_id, finalised_on, outcome, actor) VALUES (?, ?, 18, 't')",
        finals,
    )
    con.executemany(
        "INSERT INTO review (crime_id, reviewed_on, at, actor, note) "
        "VALUES (?, ?, '2025-01-01 09:00:00', 't', 'ok')",
        reviews,
    )
    con.commit()
    con.close()
    opened = open_store(to_url(db_url))
    with opened.write() as conn:  # as a bulk import leaves it
        refresh_statistics(conn)
    yield opened
    opened.dispose()


def _plans(store: Store, action: Callable[[Any], Any]) -> list[list[str]]:
    """Run ``action(conn)``; the query plan of every SELECT it sent, as detail lines."""
    sent: list[tuple[str, Any]] = []

    def record(_conn, _cursor, statement, parameters, _context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(("SELECT", "WITH")) and not executemany:
            sent.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        with store.read() as conn:
            action(conn)
            raw = conn.connection.dbapi_connection
            assert raw is not None
            return [
                [row[3] for row in raw.execute("EXPLAIN QUERY PLAN " + sql, params or ())]
                for sql, params in sent
            ]
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


def _table_scans(plans: list[list[str]]) -> list[str]:
    """Full scans of a big table, with or without an index: every row is visited."""
    pattern = re.compile(rf"^SCAN ({'|'.join(BIG)})\b")
    return [line for plan in plans for line in plan if pattern.match(line)]


def _uses(plans: list[list[str]], index: str) -> bool:
    return any(index in line for plan in plans for line in plan)


def _policy(conn: Any) -> Any:
    from caseload.store.reference import load_policy

    return load_policy(conn)


def test_one_officer_workload_touches_only_that_officer(filled: Store) -> None:
    from caseload.store.workload import workload

    plans = _plans(filled, lambda conn: workload(conn, _policy(conn), collar="AB0007"))
    assert _table_scans(plans) == []
    assert _uses(plans, "SEARCH officer USING INDEX sqlite_autoindex_officer_1 (collar=?)")
    assert _uses(plans, "(holder_id=?")


def test_a_past_days_workload_finds_each_holding_by_crime(filled: Store) -> None:
    from caseload.store.workload import workload

    day = TODAY - timedelta(days=30)
    plans = _plans(filled, lambda conn: workload(conn, _policy(conn), as_of=day))
    # one probe per crime into its own intervals; never a walk over every interval
    assert _uses(plans, "ix_allocation_crime (crime_id=?")
    assert not _uses(plans, "ix_allocation_officer")
    assert not any(line.startswith("SCAN allocation") for plan in plans for line in plan)


def test_live_count_before_an_allocation_is_one_index_range(filled: Store) -> None:
    from caseload.store.allocation import officer_facts

    plans = _plans(filled, lambda conn: officer_facts(conn, [7], lock=False))
    assert _table_scans(plans) == []
    assert any(
        line.startswith("SEARCH crime USING COVERING INDEX") and "(holder_id=?" in line
        for plan in plans
        for line in plan
    ), plans


def test_whole_force_workload_reads_the_live_index_not_the_crime_table(filled: Store) -> None:
    from caseload.store.workload import workload

    plans = _plans(filled, lambda conn: workload(conn, _policy(conn)))
    crime = [line for plan in plans for line in plan if re.match(r"(SCAN|SEARCH) crime\b", line)]
    assert crime and all("COVERING INDEX ix_crime_live" in line for line in crime), plans


def test_audit_reads_live_crimes_through_the_live_index(filled: Store) -> None:
    from caseload.store.audit import Audit

    def run_all(conn: Any) -> None:
        audit = Audit(conn, _policy(conn))
        for code in ("accreditation-mismatch", "unallocated", "inexperienced-over-limit"):
            query = audit.query(code)
            assert query is not None
            conn.execute(query).all()

    plans = _plans(filled, run_all)
    crime_scans = [line for line in _table_scans(plans) if line.startswith("SCAN crime")]
    assert all("ix_crime_live" in line for line in crime_scans), crime_scans
    # a holding's interval is found by crime (one or two rows), not by walking the holder's
    assert not _uses(plans, "ix_allocation_officer")


def test_review_and_victim_update_checks_read_only_indexes(filled: Store) -> None:
    """Per live crime, the last review (and the next-review date it set) and the last
    victim update come from covering indexes: neither table's rows are visited, and
    each crime row is read once, in table order."""
    from caseload.store.audit import Audit

    def run_both(conn: Any) -> None:
        audit = Audit(conn, _policy(conn))
        for code in ("review-overdue", "victim-update-overdue"):
            query = audit.query(code)
            assert query is not None
            conn.execute(query).all()

    plans = _plans(filled, run_both)
    lines = [line for plan in plans for line in plan]
    reads = [line for line in lines if line.startswith(("SEARCH review", "SEARCH victim_update"))]
    assert reads and all("COVERING INDEX" in line for line in reads), lines
    assert not any(line.startswith("SEARCH crime USING INTEGER PRIMARY KEY") for line in lines)
    # every live crime's row is read in table order, not team by team through an index
    crime_reads = [
        line
        for line in lines
        if line.startswith(("SCAN crime", "SEARCH crime")) and "crime_risk" not in line
    ]
    assert crime_reads and all(line == "SCAN crime" for line in crime_reads), crime_reads
    # a finding's risk grade history (when its grade began) is an index seek by crime
    graded = [line for line in lines if "crime_risk" in line]
    assert all("USING INDEX ix_crime_risk_crime (crime_id=?" in line for line in graded), graded


def test_finding_a_crime_and_an_officers_history_are_index_lookups(filled: Store) -> None:
    from caseload.store import crimes, log

    def lookups(conn: Any) -> None:
        crimes.find(conn, "CR00042")
        log.history(conn, collar="AB0007", limit=20)
        log.history(conn, reference="CR00042")

    plans = _plans(filled, lookups)
    assert len(plans) >= 3
    assert _table_scans(plans) == []


def test_a_bulk_lookup_bound_as_one_list_probes_the_key_index(filled: Store) -> None:
    """``sqlfunc.one_of`` (an import batch's 5,000 references as one JSON value) must
    search the reference index per value, not scan the crime table."""
    from sqlalchemy import select

    from caseload.store.models import crime_table as c
    from caseload.store.sqlfunc import one_of

    refs = [f"CR{i:05d}" for i in range(1, 3001, 3)]
    plans = _plans(
        filled,
        lambda conn: conn.execute(select(c.c.id).where(one_of(conn, c.c.reference, refs))).all(),
    )
    assert _table_scans(plans) == []
    assert any(line.startswith("SEARCH crime") for plan in plans for line in plan)


def test_accreditation_mismatch_reads_only_the_suspects_crimes(filled: Store) -> None:
    """The crimes checked against their holder's accreditation are found through the
    holder index for the few officers holding anything above it, not team by team."""
    from caseload.store.audit import Audit

    def run(conn: Any) -> None:
        query = Audit(conn, _policy(conn)).query("accreditation-mismatch")
        assert query is not None
        conn.execute(query).all()

    lines = [line for plan in _plans(filled, run) for line in plan]
    assert _uses([lines], "ix_crime_holder_live (holder_id=?"), lines
    assert not _uses([lines], "ix_crime_team_live"), lines
