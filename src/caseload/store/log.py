"""Appending to the decision log, each entry chained by hash to the one before.

Appends happen inside the caller's write transaction (BEGIN IMMEDIATE on
SQLite; on PostgreSQL the store's write lock, an advisory transaction lock that
``Store.write`` takes first and an append takes again), so two writers can never
chain onto the same previous entry.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from caseload.domain.ledger import GENESIS, entry_hash

if TYPE_CHECKING:  # imported where used: the direct path chains entries without SQLAlchemy
    from sqlalchemy import Select
    from sqlalchemy.engine import Connection

TABLE = "log_entry"
BATCH = 5000  # entries per insert


def tail_query() -> Select[Any]:
    """The newest entry's id and hash (what the next entry chains onto), and its time."""
    from sqlalchemy import select

    from caseload.store.models import log_table

    t = log_table
    return select(t.c.id, t.c.hash, t.c.at).order_by(t.c.id.desc()).limit(1)


def not_before(now: datetime, tail: Any) -> datetime:
    """``now``, or the newest entry's time (``tail_query``'s row) if that is later."""
    if tail is None or tail[2] is None:
        return now
    last = tail[2]
    if isinstance(last, str):  # read straight from SQLite's cursor
        last = datetime.fromisoformat(last)
    return last if last > now else now


def decision_time(conn: Connection, *, whole_seconds: bool = False) -> datetime:
    """The time of the decision a write transaction records, taken inside it, once the
    store's write lock is held (``Store.write``), and never before the newest decision
    already logged (another client's clock, an import's whole second): the log's times
    never go backwards, so no interval can end before it starts and the log's order is
    the intervals' order. ``whole_seconds``: an import's time (its rows are matched to
    exported history by the second)."""
    now = datetime.now()
    if whole_seconds:
        now = now.replace(microsecond=0)
    return not_before(now, conn.execute(tail_query()).first())


def tail_of(row: Any) -> tuple[int, str]:
    """``tail_query``'s row as (last id, its hash); the genesis hash for an empty log."""
    if row is None:
        return 0, GENESIS
    return int(row[0]), str(row[1])


def _lock_and_tail(conn: Connection) -> tuple[int, str]:
    if conn.dialect.name == "postgresql":
        from caseload.store.connection import take_write_lock

        take_write_lock(conn)
    return tail_of(conn.execute(tail_query()).first())


def chain(
    entries: Iterable[Mapping[str, Any]], last_id: int, prev: str
) -> Iterator[dict[str, Any]]:
    """The log rows for entries (dicts with at, actor, kind, crime_ref, collar, reason,
    detail), numbered after ``last_id`` and each hashed onto the one before."""
    for entry in entries:
        last_id += 1
        detail = entry.get("detail") or {}
        row = {
            "id": last_id,
            "at": entry["at"],
            "actor": entry["actor"],
            "kind": entry["kind"],
            "crime_ref": entry.get("crime_ref"),
            "collar": entry.get("collar"),
            "reason": entry.get("reason") or "",
            "detail": detail if isinstance(detail, str) else json.dumps(detail, sort_keys=True),
        }
        row["prev_hash"] = prev
        row["hash"] = prev = entry_hash(prev, row)
        yield row


def append_many(conn: Connection, entries: Iterable[Mapping[str, Any]]) -> int:
    """Append entries (dicts with at, actor, kind, crime_ref, collar, reason, detail)."""
    from caseload.store.bulk import insert_rows
    from caseload.store.models import log_table

    last_id, prev = _lock_and_tail(conn)
    batch: list[dict[str, Any]] = []
    count = 0
    for row in chain(entries, last_id, prev):
        batch.append(row)
        count += 1
        last_id = row["id"]
        if len(batch) >= BATCH:
            insert_rows(conn, log_table, batch)
            batch = []
    insert_rows(conn, log_table, batch)
    if count and conn.dialect.name == "postgresql":
        # Explicit ids were used: keep the sequence ahead of them.
        from sqlalchemy import text

        conn.execute(
            text("SELECT setval(pg_get_serial_sequence('log_entry', 'id'), :v)"), {"v": last_id}
        )
    return count


def append(
    conn: Connection,
    *,
    at: datetime,
    actor: str,
    kind: str,
    crime_ref: str | None = None,
    collar: str | None = None,
    reason: str = "",
    detail: Mapping[str, Any] | None = None,
) -> None:
    append_many(
        conn,
        [
            {
                "at": at,
                "actor": actor,
                "kind": kind,
                "crime_ref": crime_ref,
                "collar": collar,
                "reason": reason,
                "detail": dict(detail or {}),
            }
        ],
    )


def count(conn: Connection) -> int:
    from sqlalchemy import func, select

    from caseload.store.models import log_table

    return int(conn.execute(select(func.count()).select_from(log_table)).scalar_one())
