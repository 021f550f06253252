"""The decision log: appending entries, each chained by hash to the one before, and reading them.

Appends happen inside the caller's write transaction (BEGIN IMMEDIATE on
SQLite; on PostgreSQL the store's write lock, an advisory transaction lock that
``Store.write`` takes first and an append takes again), so two writers can never
chain onto the same previous entry. ``append_many`` and ``decision_time`` are written
once against ``store.executor.Executor`` (the quick sqlite3 executor or a SQLAlchemy
connection); ``history`` reads the log back for the ``history`` command.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from caseload.domain.ledger import GENESIS, entry_hash
from caseload.store.executor import Executor, executor_of
from caseload.store.sqlite_values import parse_timestamp

if TYPE_CHECKING:  # imported where used: the quick executor appends without SQLAlchemy
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
    last = parse_timestamp(tail[2])
    return last if last > now else now


def decision_time(conn: Executor | Connection, *, whole_seconds: bool = False) -> datetime:
    """The time of the decision a write transaction records, taken inside it, once the
    store's write lock is held (``Store.write``), and never before the newest decision
    already logged (another client's clock, an import's whole second): the log's times
    never go backwards, so no interval can end before it starts and the log's order is
    the intervals' order. ``whole_seconds``: an import's time (its rows are matched to
    exported history by the second)."""
    now = datetime.now()
    if whole_seconds:
        now = now.replace(microsecond=0)
    return not_before(now, executor_of(conn).first("log.tail"))


def tail_of(row: Any) -> tuple[int, str]:
    """``tail_query``'s row as (last id, its hash); the genesis hash for an empty log."""
    if row is None:
        return 0, GENESIS
    return int(row[0]), str(row[1])


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


def append_many(conn: Executor | Connection, entries: Iterable[Mapping[str, Any]]) -> int:
    """Append entries (dicts with at, actor, kind, crime_ref, collar, reason, detail),
    chained onto the newest entry under the store's write lock."""
    executor = executor_of(conn)
    executor.write_lock()
    last_id, prev = tail_of(executor.first("log.tail"))
    batch: list[dict[str, Any]] = []
    count = 0
    for row in chain(entries, last_id, prev, executor.login()):
        batch.append(row)
        count += 1
        last_id = row["id"]
        if len(batch) >= BATCH:
            executor.insert(TABLE, batch)
            batch = []
    executor.insert(TABLE, batch)
    if count:
        executor.advance_ids(TABLE, last_id)  # explicit ids were written
    return count


def append(
    conn: Executor | Connection,
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


# --- reading the log ----------------------------------------------------------------------------

HISTORY_COLUMNS = ("at", "actor", "login", "kind", "crime", "officer", "reason", "detail")


def history(
    conn: Connection,
    *,
    reference: str | None = None,
    collar: str | None = None,
    kinds: Sequence[str] = (),
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Decision-log entries, newest first, for one crime, one officer, or everyone.

    Each row has HISTORY_COLUMNS; ``detail`` is the entry's detail as a dict. Both
    filters use the log's (crime_ref, id) and (collar, id) indexes.
    """
    from sqlalchemy import select

    from caseload.store.models import log_table as table

    query = select(
        table.c.at,
        table.c.actor,
        table.c.login,
        table.c.kind,
        table.c.crime_ref.label("crime"),
        table.c.collar.label("officer"),
        table.c.reason,
        table.c.detail,
    ).order_by(table.c.id.desc())
    if reference is not None:
        query = query.where(table.c.crime_ref == reference.strip())
    if collar is not None:
        query = query.where(table.c.collar == collar.strip().upper())
    if kinds:
        query = query.where(table.c.kind.in_(list(kinds)))
    if limit:
        query = query.limit(limit)
    rows = []
    for row in conn.execute(query):
        record = dict(row._mapping)
        try:
            record["detail"] = json.loads(record["detail"] or "{}")
        except ValueError:
            record["detail"] = {"text": record["detail"]}
        rows.append(record)
    return rows


def summarise_detail(detail: Any) -> str:
    """A log entry's detail as one line: ``from: XY9; warnings: ...; override: ...``."""
    if not isinstance(detail, dict):
        return str(detail)
    parts = []
    if "old" in detail and "new" in detail:  # a policy or matrix change
        what = detail.get("setting") or detail.get("crime_type") or detail.get("what") or "value"
        parts.append(f"{what}: {detail['old']} -> {detail['new']}")
        detail = {
            k: v
            for k, v in detail.items()
            if k not in ("old", "new", "setting", "crime_type", "what")
        }
    for key, value in detail.items():
        if key in ("codes", "overridden"):
            continue  # the warnings say the same in words
        if value is None:
            continue
        if isinstance(value, list) and len(value) == 2 and key not in ("warnings",):
            value = f"{value[0]} -> {value[1]}"  # an officer update's [old, new]
        elif isinstance(value, list):
            value = "; ".join(str(item) for item in value)
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        parts.append(f"{key}: {value}")
    return "; ".join(parts)
