"""The direct path: a supervisor's quick commands on a SQLite store, without SQLAlchemy.

``workload --officer`` and ``assign`` touch a handful of rows, so their time is
start-up, and importing SQLAlchemy is most of it (0.3-0.45 s on a 2-core laptop,
more than everything else such a command does); a team's ``rebalance`` plan spends
a third of its time there. On a SQLite store already at this version's schema,
these open the file with the standard library's ``sqlite3`` and run the same
statements as the full path:

* the SQL is the store's own Core queries compiled ahead (``store.statements``,
  ``precompiled.json``; a test fails when the two differ);
* the rules and the writes are the same functions: ``domain.rules`` through
  ``store.allocation.apply`` and its ``BatchWriter``, the log's ``chain``; a plan is
  ``domain.planning.plan_rebalance`` over rows read by ``store.engine_queries``' readers;
* the transaction is the same: BEGIN IMMEDIATE for a write (DEFERRED for a read),
  the same busy timeout and pragmas, a timestamp stored as SQLAlchemy stores it.

Anything else goes the full way, which upgrades or explains: PostgreSQL, a URL with
options, a store at an older revision or not in WAL mode, a file that is not a store.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from caseload.errors import NotFound
from caseload.store.allocation import (
    AllocationOutcome,
    AllocationRequest,
    BatchWriter,
    apply,
    crime_fact,
    officer_fact,
)
from caseload.store.connection import (
    BUSY_TIMEOUT_SECONDS,
    SQLITE_PRAGMAS,
    STATEMENT_CACHE,
    refuse_if_damaged,
    store_trouble,
    unusable,
)

if TYPE_CHECKING:
    from caseload.domain.planning import Plan

_statements: dict[str, dict[str, Any]] | None = None


def _statement(name: str) -> tuple[str, dict[str, Any]]:
    global _statements
    if _statements is None:
        from caseload.store.statements import PRECOMPILED

        _statements = json.loads(PRECOMPILED.read_text(encoding="utf-8"))
    found = _statements[name]
    return found["sql"], found["constants"]


def sqlite_timestamp(value: datetime) -> str:
    """A naive timestamp as SQLAlchemy's SQLite DateTime stores it (microseconds always
    written, so stored values compare correctly as text)."""
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}"
    )


def _bound(value: Any) -> Any:
    """A value as SQLAlchemy binds it on SQLite: a timestamp or a date as the text its
    DateTime or Date type stores, a list as the JSON array ``sqlfunc.one_of`` binds."""
    if isinstance(value, datetime):
        return sqlite_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return json.dumps(list(value))
    return value


class DirectConnection:
    """One transaction on the driver: precompiled statements by name, and executemany."""

    def __init__(self, driver: sqlite3.Connection) -> None:
        self.driver = driver

    def rows(self, name: str, **inputs: Any) -> list[tuple[Any, ...]]:
        """The statement's rows, its inputs bound as the full path binds them on SQLite."""
        sql, constants = _statement(name)
        params = dict(constants)
        params.update((key, _bound(value)) for key, value in inputs.items())
        return self.driver.execute(sql, params).fetchall()

    def first(self, name: str, **inputs: Any) -> tuple[Any, ...] | None:
        found = self.rows(name, **inputs)
        return found[0] if found else None

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        self.driver.executemany(sql, rows)


class DirectStore:
    """A SQLite store opened with ``sqlite3``; see ``open_direct``."""

    def __init__(self, driver: sqlite3.Connection, location: str) -> None:
        self.driver = driver
        self.location = location

    @contextmanager
    def read(self) -> Iterator[DirectConnection]:
        """A read transaction: never takes SQLite's write lock."""
        with self._transaction("BEGIN DEFERRED") as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[DirectConnection]:
        """A write transaction: BEGIN IMMEDIATE; commit on success, else roll back."""
        refuse_if_damaged(self.driver, Path(self.location), self.location)
        with self._transaction("BEGIN IMMEDIATE") as conn:
            yield conn

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[DirectConnection]:
        try:
            self.driver.execute(begin)
            try:
                yield DirectConnection(self.driver)
            except BaseException:
                self.driver.execute("ROLLBACK")
                raise
            self.driver.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if self.driver.in_transaction:
                self.driver.execute("ROLLBACK")
            raise unusable(self.location, str(exc)) from None
        except sqlite3.DatabaseError as exc:  # SQLITE_CORRUPT: not an OperationalError
            trouble = store_trouble(self.location, str(exc))
            if trouble is None:
                raise
            if self.driver.in_transaction:
                self.driver.execute("ROLLBACK")
            raise trouble from None

    def close(self) -> None:
        self.driver.close()


def open_direct(url: str) -> DirectStore | None:
    """The store behind ``url`` opened directly, or None where the full path must serve
    (see the module doc): it alone creates, upgrades, converts to WAL or explains."""
    from caseload.store.connection import read_only_place, sqlite_path
    from caseload.store.migrate import HEAD

    path = sqlite_path(url)
    if path is None or "?" in url or not path.is_file() or read_only_place(path):
        return None  # the full path opens a read-only store read-only, and says so
    try:
        driver = sqlite3.connect(
            path,
            timeout=BUSY_TIMEOUT_SECONDS,
            isolation_level=None,
            cached_statements=STATEMENT_CACHE,
        )
    except sqlite3.Error:
        return None
    try:
        revision = driver.execute("SELECT version_num FROM alembic_version").fetchall()
        journal = driver.execute("PRAGMA journal_mode").fetchone()
        if revision != [(HEAD,)] or journal is None or str(journal[0]).lower() != "wal":
            driver.close()
            return None
        for pragma in SQLITE_PRAGMAS:
            driver.execute(pragma)
    except sqlite3.Error:
        driver.close()
        return None
    return DirectStore(driver, str(path))


# --- the commands' work ----------------------------------------------------------------------


def workload(conn: DirectConnection, collar: str) -> list[dict[str, Any]]:
    """``store.workload.workload(conn, policy, collar=collar)`` for today: the officer's
    row, or none for an unknown collar."""
    from caseload.domain.policy import stored_policy
    from caseload.store.workload import WORKLOAD_COLUMNS, workload_inputs

    policy = stored_policy(conn.rows("policy"))
    inputs = workload_inputs(policy, on=date.today(), collar=collar)
    rows = conn.rows("workload.officer", **inputs)
    found = [dict(zip(WORKLOAD_COLUMNS, row, strict=True)) for row in rows]
    for row in found:
        row["inexperienced"] = bool(row["inexperienced"])
    return found


def allocate(
    conn: DirectConnection,
    reference: str,
    collar: str,
    *,
    actor: str,
    at: datetime,
    reason: str,
    override: str | None = None,
) -> AllocationOutcome:
    """``store.allocation.allocate``: the same facts, the same evaluation and the same
    writes."""
    from caseload.domain.policy import stored_policy

    ref = reference.strip()
    crime_row = conn.first("allocation.crime", reference=ref)
    if crime_row is None:
        raise NotFound.crime(ref)
    wanted = collar.strip().upper()
    officer_row = conn.first("allocation.officer", collar=wanted)
    if officer_row is None:
        raise NotFound.officer(wanted)
    crime_id, crime = crime_fact(crime_row)
    officer_id, officer = officer_fact(officer_row)
    request = AllocationRequest(crime_id, crime.reference, officer_id, officer[0].collar)
    writer = BatchWriter(conn.executemany, "?", _bound, lambda entries: append_log(conn, entries))
    return apply(
        writer,
        [request],
        {crime_id: crime},
        {officer_id: officer},
        policy=stored_policy(conn.rows("policy")),
        actor=actor,
        at=at,
        reason=reason,
        override=override,
    )[0]


def rebalance_plan(conn: DirectConnection, team: str) -> Plan:
    """``store.engine_queries.plan_for(conn, team)``: the team's live crimes, its officers
    and those crimes' holders, and the links that touch them, planned in memory."""
    from caseload.domain.planning import plan_rebalance
    from caseload.domain.policy import stored_policy
    from caseload.store.engine_queries import link_map, live_crimes, officer_loads

    policy = stored_policy(conn.rows("policy"))
    wanted = team.strip()
    found = {str(name).lower(): int(tid) for tid, name in conn.rows("teams")}.get(wanted.lower())
    if found is None:
        raise NotFound.team(wanted)
    crimes = live_crimes(conn.rows("rebalance.crimes", team=found))
    holders = {c.holder_id for c in crimes if c.holder_id is not None}
    rows = conn.rows("rebalance.officers", team=found, also=holders, **policy.weights())
    officers = officer_loads(rows, policy, date.today())
    links = link_map(conn.rows("rebalance.links", team=found))
    return plan_rebalance(officers, crimes, policy, links=links, teams=[found])


def decision_time(conn: DirectConnection) -> datetime:
    """``store.log.decision_time``: now (the write transaction holds the lock), never
    before the newest logged decision."""
    from caseload.store import log

    return log.not_before(datetime.now(), conn.first("log.tail"))


def append_log(conn: DirectConnection, entries: Sequence[dict[str, Any]]) -> None:
    """``store.log.append_many``: chained onto the newest entry (the write transaction
    holds SQLite's write lock, so no other writer can chain onto it)."""
    from caseload.store import log
    from caseload.store.bulk import insert_sql

    rows = list(log.chain(entries, *log.tail_of(conn.first("log.tail"))))
    if not rows:
        return
    columns = list(rows[0])
    values = [tuple(_bound(row[name]) for name in columns) for row in rows]
    conn.executemany(insert_sql(log.TABLE, columns, "?"), values)
