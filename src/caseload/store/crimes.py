"""Crime records: add, find, list with filters, finalise and reopen.

A crime is live until an outcome is recorded; finalising and reopening are kept
as intervals in ``finalisation`` so that any past day's live crimes can be rebuilt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.engine import Connection

from caseload.errors import InputError, NotFound
from caseload.store import log
from caseload.store.models import (
    allocation_table,
    crime_table,
    event_table,
    finalisation_table,
    log_table,
    officer_table,
    review_table,
    team_table,
    victim_update_table,
)
from caseload.store.reference import ensure_teams, matrix, required_level_for, team_ids

# The import columns, in the order `crime list --format csv` writes them.
CRIME_COLUMNS = (
    "reference",
    "crime_type",
    "reported_on",
    "team",
    "required_level",
    "holder",
    "victim_enhanced",
    "finalised_on",
    "outcome",
)


def crime_columns(*, finalised_on: Any = None, outcome: Any = None) -> list[Any]:
    """The import columns (CRIME_COLUMNS) as select columns; a past day's finalised state
    may stand in for the current one. ``holder`` is the officer table's collar."""
    c = crime_table
    return [
        c.c.reference,
        c.c.crime_type,
        c.c.reported_on,
        team_table.c.name.label("team"),
        c.c.required_level,
        officer_table.c.collar.label("holder"),
        c.c.victim_enhanced,
        c.c.finalised_on if finalised_on is None else finalised_on,
        c.c.outcome if outcome is None else outcome,
    ]


def crime_rows() -> Select[Any]:
    c, t, o = crime_table, team_table, officer_table
    return (
        select(*crime_columns())
        .join(t, t.c.id == c.c.team_id)
        .outerjoin(o, o.c.id == c.c.holder_id)
    )


@dataclass(frozen=True)
class CrimeFilter:
    team: str | None = None
    holder: str | None = None
    state: str | None = None  # "live" or "finalised"
    unallocated: bool = False
    required_level: str | None = None
    crime_type: str | None = None
    reported_after: date | None = None
    reported_before: date | None = None
    defaulted: bool = False


def filtered(query: Select[Any], f: CrimeFilter) -> Select[Any]:
    c = crime_table
    if f.team:
        query = query.where(func.lower(team_table.c.name) == f.team.strip().lower())
    if f.holder:
        query = query.where(officer_table.c.collar == f.holder.strip().upper())
    if f.state == "live":
        query = query.where(c.c.finalised_on.is_(None))
    elif f.state == "finalised":
        query = query.where(c.c.finalised_on.is_not(None))
    if f.unallocated:
        query = query.where(c.c.holder_id.is_(None), c.c.finalised_on.is_(None))
    if f.required_level:
        query = query.where(c.c.required_level == f.required_level)
    if f.crime_type:
        query = query.where(func.lower(c.c.crime_type) == f.crime_type.strip().lower())
    if f.reported_after:
        query = query.where(c.c.reported_on >= f.reported_after)
    if f.reported_before:
        query = query.where(c.c.reported_on <= f.reported_before)
    if f.defaulted:
        query = query.where(c.c.level_defaulted.is_(True))
    return query


def list_crimes(conn: Connection, f: CrimeFilter, *, limit: int | None = None) -> Any:
    """Matching crimes, oldest report first, streamed from the cursor."""
    query = filtered(crime_rows(), f).order_by(crime_table.c.reported_on, crime_table.c.reference)
    if limit:
        query = query.limit(limit)
    return (dict(row._mapping) for row in conn.execution_options(yield_per=2000).execute(query))


def find(conn: Connection, reference: str) -> dict[str, Any]:
    ref = reference.strip()
    row = conn.execute(
        crime_rows()
        .add_columns(
            crime_table.c.id,
            crime_table.c.team_id,
            crime_table.c.holder_id,
            crime_table.c.level_defaulted,
            crime_table.c.victim_update_every,
        )
        .where(crime_table.c.reference == ref)
    ).first()
    if row is None:
        raise NotFound.crime(ref)
    return dict(row._mapping)


def add(conn: Connection, values: Mapping[str, Any], *, actor: str, at: datetime) -> dict[str, Any]:
    """Add one unallocated live crime (values as the import columns, validated)."""
    ref = values["reference"]
    if conn.execute(select(crime_table.c.id).where(crime_table.c.reference == ref)).first():
        raise InputError(f"A crime with reference {ref} already exists.")
    known = ensure_teams(conn, [values["team"]], team_ids(conn))
    level = values.get("required_level")
    defaulted = False
    if not level:
        level, defaulted = required_level_for(values["crime_type"], matrix(conn))
    row = {
        "reference": ref,
        "crime_type": values["crime_type"],
        "required_level": level,
        "level_defaulted": defaulted,
        "reported_on": values["reported_on"],
        "team_id": known[values["team"].lower()],
        "victim_enhanced": bool(values.get("victim_enhanced", False)),
        "created_at": at,
    }
    conn.execute(insert(crime_table).values(**row))
    log.append(
        conn,
        at=at,
        actor=actor,
        kind="crime-add",
        crime_ref=ref,
        detail={
            "crime_type": row["crime_type"],
            "required_level": level,
            "team": values["team"],
            "defaulted": defaulted,
        },
    )
    return row


def finalise(
    conn: Connection,
    reference: str,
    *,
    outcome: int,
    on: date,
    actor: str,
    at: datetime,
    reason: str = "",
) -> dict[str, Any]:
    crime = find(conn, reference)
    if crime["finalised_on"] is not None:
        raise InputError(
            f"Crime {crime['reference']} was already finalised on {crime['finalised_on']}."
        )
    if on < crime["reported_on"]:
        raise InputError(
            f"Crime {crime['reference']} cannot be finalised before it was reported "
            f"({crime['reported_on']})."
        )
    conn.execute(
        update(crime_table)
        .where(crime_table.c.id == crime["id"])
        .values(finalised_on=on, outcome=outcome)
    )
    conn.execute(
        insert(finalisation_table).values(
            crime_id=crime["id"], finalised_on=on, outcome=outcome, actor=actor
        )
    )
    log.append(
        conn,
        at=at,
        actor=actor,
        kind="finalise",
        crime_ref=crime["reference"],
        collar=crime["holder"],
        reason=reason,
        detail={"outcome": outcome, "on": on.isoformat()},
    )
    return crime


def reopen(
    conn: Connection,
    reference: str,
    *,
    on: date,
    actor: str,
    at: datetime,
    reason: str,
    override: str | None = None,
    unallocated: bool = False,
) -> dict[str, Any]:
    """Make a finalised crime live again. Its last holder gets it back under the
    allocation rules (``store.allocation.check_holdings``: a block-mode breach refuses
    it, exit 3, unless ``override``); ``unallocated`` reopens it without a holder (the
    holding is closed, as ``unassign`` does). Returns the crime's record with
    ``holding`` (the rules' outcome, or None when no one gets it back) and
    ``taken_from`` (the collar ``unallocated`` took it from)."""
    from caseload.store.allocation import HoldingChange, check_holdings
    from caseload.store.allocation import unassign as unassign_crime

    crime = find(conn, reference)
    if crime["finalised_on"] is None:
        raise InputError(f"Crime {crime['reference']} is live; only a finalised crime can reopen.")
    if on < crime["finalised_on"]:
        raise InputError(
            f"Crime {crime['reference']} cannot reopen before it was finalised "
            f"({crime['finalised_on']})."
        )
    holding = None
    if crime["holder_id"] is not None and not unallocated:
        change = HoldingChange(
            crime_id=int(crime["id"]),
            reference=str(crime["reference"]),
            officer_id=int(crime["holder_id"]),
            collar=str(crime["holder"]),
            required_level=str(crime["required_level"]),
            reopened=True,
        )
        holding = check_holdings(conn, [change], at=at, override=override)[0]
    conn.execute(
        update(crime_table)
        .where(crime_table.c.id == crime["id"])
        .values(finalised_on=None, outcome=None)
    )
    conn.execute(
        update(finalisation_table)
        .where(
            finalisation_table.c.crime_id == crime["id"],
            finalisation_table.c.reopened_on.is_(None),
        )
        .values(reopened_on=on)
    )
    detail: dict[str, Any] = {"on": on.isoformat()}
    if holding is not None:
        detail.update(holding.detail())
    if unallocated and crime["holder_id"] is not None:
        detail["unallocated"] = True
    log.append(
        conn,
        at=at,
        actor=actor,
        kind="reopen",
        crime_ref=crime["reference"],
        collar=crime["holder"],
        reason=reason,
        detail=detail,
    )
    crime["holding"] = holding
    crime["taken_from"] = None
    if unallocated and crime["holder_id"] is not None:
        crime["taken_from"] = unassign_crime(
            conn, str(crime["reference"]), actor=actor, at=at, reason=reason
        )
    return crime


def crime_story(conn: Connection, crime_id: int) -> dict[str, list[dict[str, Any]]]:
    """Allocation intervals, reviews, key events and victim updates of one crime."""
    a, o = allocation_table, officer_table
    review, event, victim = review_table, event_table, victim_update_table
    allocations = conn.execute(
        select(
            o.c.collar.label("holder"),
            a.c.start_at.label("from"),
            a.c.end_at.label("to"),
            a.c.actor,
            a.c.login,
            a.c.reason,
            a.c.warnings,
            a.c.override_reason,
        )
        .join(o, o.c.id == a.c.officer_id)
        .where(a.c.crime_id == crime_id)
        .order_by(a.c.start_at, a.c.id)
    )
    reviews = conn.execute(
        select(review.c.reviewed_on, review.c.actor, review.c.note, review.c.next_due)
        .where(review.c.crime_id == crime_id)
        .order_by(review.c.reviewed_on, review.c.id)
    )
    events = conn.execute(
        select(event.c.occurred_on, event.c.kind, event.c.actor)
        .where(event.c.crime_id == crime_id)
        .order_by(event.c.occurred_on, event.c.id)
    )
    updates = conn.execute(
        select(victim.c.updated_on, victim.c.actor, victim.c.note)
        .where(victim.c.crime_id == crime_id)
        .order_by(victim.c.updated_on, victim.c.id)
    )
    return {
        "allocations": [dict(r._mapping) for r in allocations],
        "reviews": [dict(r._mapping) for r in reviews],
        "events": [dict(r._mapping) for r in events],
        "victim_updates": [dict(r._mapping) for r in updates],
    }


def counts(conn: Connection) -> dict[str, int]:
    """Store-wide counts for ``db status``: one aggregate per table."""

    def n(table: Any, *where: Any) -> int:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())

    return {
        "teams": n(team_table),
        "officers": n(officer_table),
        "crimes": n(crime_table),
        "live": n(crime_table, crime_table.c.finalised_on.is_(None)),
        "unallocated": n(
            crime_table, crime_table.c.finalised_on.is_(None), crime_table.c.holder_id.is_(None)
        ),
        "allocations": n(allocation_table),
        "log_entries": n(log_table),
    }
