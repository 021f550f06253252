"""Appending to the decision log, each entry chained by hash to the one before.

Appends happen inside the caller's write transaction (BEGIN IMMEDIATE on
SQLite; an advisory transaction lock on PostgreSQL), so two writers can never
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

_PG_LOG_LOCK = 7305_2026
TABLE = "log_entry"
BATCH = 5000  # entries per insert


def tail_query() -> Select[Any]:
    """The newest entry's id and hash (what the next entry chains onto)."""
    from sqlalchemy import select

    from caseload.store.models import log_table

    return select(log_table.c.id, log_table.c.hash).order_by(log_table.c.id.desc()).limit(1)


def tail_of(row: Any) -> tuple[int, str]:
    """``tail_query``'s row as (last id, its hash); the genesis hash for an empty log."""
    if row is None:
        return 0, GENESIS
    return int(row[0]), str(row[1])


def _lock_and_tail(conn: Connection) -> tuple[int, str]:
    if conn.dialect.name == "postgresql":
        from sqlalchemy import text

        conn.execute(text(f"SELECT pg_advisory_xact_lock({_PG_LOG_LOCK})"))
    return tail_of(conn.execute(tail_query()).first())


def chain(
    entries: Iterable[Mapping[str, Any]], last_id: int, prev: str, login: str | None = None
) -> Iterator[dict[str, Any]]:
    """The log rows for entries (dicts with at, actor, kind, crime_ref, collar, reason,
    detail), numbered after ``last_id`` and each hashed onto the one before. ``login``
    is who acted (``store.identity``; the operating-system user when not given)."""
    if login is None:
        from caseload.store.identity import os_login

        login = os_login()
    for entry in entries:
        last_id += 1
        detail = entry.get("detail") or {}
        row = {
            "id": last_id,
            "at": entry["at"],
            "actor": entry["actor"],
            "login": login,
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
    from caseload.store.identity import store_login
    from caseload.store.models import log_table

    last_id, prev = _lock_and_tail(conn)
    batch: list[dict[str, Any]] = []
    count = 0
    for row in chain(entries, last_id, prev, store_login(conn)):
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
