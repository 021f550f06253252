"""Supervision and victim contact: reviews, key events, victim updates, agreed frequency.

Each record is one row (``review``, ``key_event``, ``victim_update``) plus one
decision-log entry, written in the caller's transaction. The audit reads these
tables with grouped queries; nothing here keeps running totals.

``add_many`` is the bulk path the CSV import uses: rows already validated and
resolved to crime ids, inserted with executemany and logged with one
``log.append_many``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, update
from sqlalchemy.engine import Connection

from caseload.domain.events import describe_event
from caseload.errors import InputError
from caseload.store import log
from caseload.store.crimes import crime_table, find
from caseload.store.models import (
    event_table,
    referral_table,
    review_table,
    victim_update_table,
)

if TYPE_CHECKING:  # building the input models takes ~30 ms: only the writing commands pay it
    from caseload.domain.inputs import KeyEventCreate, ReviewCreate, VictimUpdateCreate

BATCH = 5000


def check_day(crime: Mapping[str, Any], on: date, *, today: date, what: str) -> None:
    """A record's date must fall between the crime's report and today."""
    from caseload.domain.values import not_future

    try:
        not_future(on, today=today)
    except ValueError:
        raise InputError(f"The {what} date {on} is in the future.") from None
    if on < crime["reported_on"]:
        raise InputError(
            f"The {what} date {on} is before {crime['reference']} was reported "
            f"({crime['reported_on']})."
        )


def record_review(
    conn: Connection,
    reference: str,
    data: ReviewCreate | None = None,
    *,
    note: str | None = None,
    on: date | None = None,
    next_due: date | None = None,
    actor: str,
    at: datetime,
) -> dict[str, Any]:
    """Record a supervisory review of a live crime (one ORM row); returns the crime."""
    if data is None:  # the fields as keywords, already validated (a test's force builder)
        from caseload.domain.inputs import ReviewCreate

        data = ReviewCreate.model_construct(note=note, reviewed_on=on, next_due=next_due)

    from caseload.store.models import Review
    from caseload.store.session import session_on

    on, next_due = data.reviewed_on, data.next_due
    crime = find(conn, reference)
    if crime["finalised_on"] is not None:
        raise InputError(
            f"Crime {crime['reference']} was finalised on {crime['finalised_on']}; "
            "only live crimes are reviewed."
        )
    check_day(crime, on, today=at.date(), what="review")
    if next_due is not None and next_due <= on:
        raise InputError(f"The next review date {next_due} must be after the review ({on}).")
    with session_on(conn) as session:
        session.add(
            Review(
                crime_id=crime["id"],
                reviewed_on=on,
                at=at,
                actor=actor,
                note=data.note,
                next_due=next_due,
                quality=data.quality,
            )
        )
    log.append(
        conn,
        at=at,
        actor=actor,
        kind="review",
        crime_ref=crime["reference"],
        collar=crime["holder"],
        reason=data.note,
        detail={
            "on": on.isoformat(),
            "next_due": next_due.isoformat() if next_due else None,
            **({"quality": data.quality} if data.quality else {}),
        },
    )
    return crime


def record_event(
    conn: Connection,
    reference: str,
    data: KeyEventCreate | None = None,
    *,
    kind: str | None = None,
    on: date | None = None,
    actor: str,
    at: datetime,
) -> dict[str, Any]:
    """Record a key investigative event (``domain.events`` code; one ORM row); returns
    the crime."""
    if data is None:  # the fields as keywords, already validated (a test's force builder)
        from caseload.domain.inputs import KeyEventCreate

        data = KeyEventCreate.model_construct(kind=kind, occurred_on=on)

    from caseload.store.models import KeyEvent
    from caseload.store.session import session_on

    kind, on = data.kind, data.occurred_on
    crime = find(conn, reference)
    check_day(crime, on, today=at.date(), what="event")
    with session_on(conn) as session:
        session.add(KeyEvent(crime_id=crime["id"], kind=kind, occurred_on=on, at=at, actor=actor))
    log.append(
        conn,
        at=at,
        actor=actor,
        kind="key-event",
        crime_ref=crime["reference"],
        collar=crime["holder"],
        reason=describe_event(kind),
        detail={"event": kind, "on": on.isoformat()},
    )
    return crime


def record_victim_update(
    conn: Connection,
    reference: str,
    data: VictimUpdateCreate | None = None,
    *,
    note: str | None = None,
    on: date | None = None,
    actor: str,
    at: datetime,
) -> dict[str, Any]:
    """Record that the victim was told (an update; one ORM row); returns the crime."""
    if data is None:  # the fields as keywords, already validated (a test's force builder)
        from caseload.domain.inputs import VictimUpdateCreate

        data = VictimUpdateCreate.model_construct(note=note, updated_on=on)

    from caseload.store.models import VictimUpdate
    from caseload.store.session import session_on

    on, note = data.updated_on, data.note
    crime = find(conn, reference)
    check_day(crime, on, today=at.date(), what="victim update")
    meets = events_met(conn, crime, on)
    with session_on(conn) as session:
        session.add(
            VictimUpdate(crime_id=crime["id"], updated_on=on, at=at, actor=actor, note=note)
        )
    log.append(
        conn,
        at=at,
        actor=actor,
        kind="victim-update",
        crime_ref=crime["reference"],
        collar=crime["holder"],
        reason=note,
        detail={"on": on.isoformat(), **({"meets": meets} if meets else {})},
    )
    return crime


def events_met(conn: Connection, crime: Mapping[str, Any], on: date) -> str:
    """The key events an update dated ``on`` meets (no update yet between the event and
    ``on``), each with whether on time or late: ``suspect charged on 2026-04-02 (late)``."""
    from sqlalchemy import exists, select

    from caseload.domain.workdays import add_working_days
    from caseload.store.team_policy import load_policies

    e, u = event_table, victim_update_table
    told = exists().where(
        u.c.crime_id == e.c.crime_id, u.c.updated_on >= e.c.occurred_on, u.c.updated_on <= on
    )
    rows = conn.execute(
        select(e.c.kind, e.c.occurred_on)
        .where(e.c.crime_id == crime["id"], e.c.occurred_on <= on, ~told)
        .order_by(e.c.occurred_on, e.c.id)
    ).all()
    if not rows:
        return ""
    policy = load_policies(conn).of(int(crime["team_id"]))  # the crime's team's policy
    enhanced = bool(crime["victim_enhanced"])
    days = policy.notify_working_days_enhanced if enhanced else policy.notify_working_days
    return "; ".join(
        f"{describe_event(kind)} on {occurred_on} "
        f"({'late' if on > add_working_days(occurred_on, days) else 'on time'})"
        for kind, occurred_on in rows
    )


def set_update_frequency(
    conn: Connection,
    reference: str,
    *,
    every: int | None,
    actor: str,
    at: datetime,
) -> tuple[int | None, dict[str, Any]]:
    """Store (or with None clear) the update frequency agreed with the victim, in days.

    Returns the old value and the crime; an unchanged value writes nothing.
    """
    crime = find(conn, reference)
    old = crime["victim_update_every"]
    if old == every:
        return old, crime
    conn.execute(
        update(crime_table).where(crime_table.c.id == crime["id"]).values(victim_update_every=every)
    )
    log.append(
        conn,
        at=at,
        actor=actor,
        kind="victim-frequency",
        crime_ref=crime["reference"],
        collar=crime["holder"],
        detail={"old": old, "new": every},
    )
    return old, crime


# --- bulk (import) -------------------------------------------------------------------------

_TABLES = {
    "review": (review_table, "reviewed_on"),
    "key-event": (event_table, "occurred_on"),
    "victim-update": (victim_update_table, "updated_on"),
    "victim-referral": (referral_table, "referred_on"),
}


def add_many(
    conn: Connection,
    kind: str,
    rows: Iterable[Mapping[str, Any]],
    *,
    actor: str,
    at: datetime,
) -> int:
    """Insert validated rows of one kind (``review``, ``key-event``, ``victim-update``,
    ``victim-referral``).

    Each row holds ``crime_id``, ``reference``, ``holder`` (collar or None), ``on``,
    ``note`` (reviews and updates), ``next_due`` and ``quality`` (reviews) or ``kind`` (events), and
    optionally ``actor`` (who made it). ``actor`` is who runs the import (``_authored``).
    Rows are written in batches with one log entry each; returns how many.
    """
    table, day_column = _TABLES[kind]
    batch: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    total = 0

    def flush() -> None:
        if batch:
            conn.execute(insert(table), batch)
            log.append_many(conn, entries)
            batch.clear()
            entries.clear()

    for row in rows:
        record, who, detail = _authored(kind, row, day_column, actor=actor, at=at)
        reason = row.get("note") or ""
        if kind == "review":
            record["note"] = row["note"]
            record["next_due"] = row.get("next_due")
            due = row.get("next_due")
            detail["next_due"] = due.isoformat() if due else None
            record["quality"] = row.get("quality")
            if record["quality"]:
                detail["quality"] = record["quality"]
        elif kind == "victim-update":
            record["note"] = row["note"]
        elif kind == "victim-referral":
            record["declined"] = bool(row.get("declined"))
            detail["declined"] = record["declined"]
            reason = "the victim declined a referral" if record["declined"] else "referred"
        else:
            record["kind"] = row["kind"]
            detail["event"] = row["kind"]
            reason = describe_event(row["kind"])
        batch.append(record)
        entries.append(
            {
                "at": at,
                "actor": who,
                "kind": kind,
                "crime_ref": row["reference"],
                "collar": row.get("holder"),
                "reason": reason,
                "detail": detail,
            }
        )
        total += 1
        if len(batch) >= BATCH:
            flush()
    flush()
    return total


def _authored(
    kind: str, row: Mapping[str, Any], day_column: str, *, actor: str, at: datetime
) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """An imported row's record, the log entry's actor and its detail. A review or victim
    update keeps its author (``''`` when the file does not say: shown as "not given") apart
    from ``actor``, who ran the import (``imported_by``); the log entry is the importer's.
    A key event without an actor is credited to the importer, as before."""
    author = row.get("actor") or ""
    record: dict[str, Any] = {"crime_id": row["crime_id"], day_column: row["on"], "at": at}
    detail: dict[str, Any] = {"on": row["on"].isoformat()}
    if kind == "key-event":
        record["actor"] = author or actor
        return record, author or actor, detail
    record["actor"] = author
    record["imported_by"] = actor
    detail["author"] = author or None
    return record, actor, detail


def existing_keys(conn: Connection, kind: str, crime_ids: Iterable[int]) -> set[tuple[Any, ...]]:
    """Keys already recorded for these crimes: (crime_id, day), or (crime_id, kind, day)
    for key events, so that re-importing a file leaves its rows alone."""
    table, day_column = _TABLES[kind]
    columns = [table.c.crime_id, table.c[day_column]]
    if kind == "key-event":
        columns.insert(1, table.c.kind)
    from sqlalchemy import select

    ids = sorted(set(crime_ids))
    found: set[tuple[Any, ...]] = set()
    for start in range(0, len(ids), BATCH):
        query = select(*columns).where(table.c.crime_id.in_(ids[start : start + BATCH]))
        found.update(tuple(row) for row in conn.execute(query))
    return found
