"""Who held which live crime: now, or at the end of any past day.

``live_holdings(as_of)`` is the one building block that workload, audit and
export share. Today's answer reads ``crime.holder_id`` and ``finalised_on``
directly (indexed); a past day's answer is rebuilt from the allocation and
finalisation intervals, so nothing needs to be snapshotted.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, exists, literal, or_, select
from sqlalchemy.sql import ColumnElement, Subquery

from caseload.store.models import allocation_table, crime_table, finalisation_table
from caseload.store.risk import grade_at
from caseload.store.sqlfunc import as_of_binds, unindexed


def open_at(end: Any) -> ColumnElement[bool]:
    """An allocation interval that was open at the instant ``end``."""
    a = allocation_table
    return and_(a.c.start_at < end, or_(a.c.end_at.is_(None), a.c.end_at >= end))


def still_open_at(end: datetime) -> ColumnElement[bool]:
    """An allocation interval not yet ended at ``end`` (whenever it began)."""
    a = allocation_table
    return or_(a.c.end_at.is_(None), a.c.end_at >= end)


def finalised_by(as_of: Any) -> ColumnElement[bool]:
    """A finalisation in force at the end of ``as_of``: recorded by then, not yet reopened."""
    f = finalisation_table
    return and_(f.c.finalised_on <= as_of, or_(f.c.reopened_on.is_(None), f.c.reopened_on > as_of))


def live_holdings(
    as_of: date | None = None, *, scan: bool = False, named: bool = False
) -> Subquery:
    """Live crimes with their holder: columns crime_id, team_id, holder_id, required_level,
    victim_enhanced, reported_on, crime_type, reference, victim_update_every, risk (the
    grade at the end of the day: ``store.risk.grade_at``).

    ``scan``: the caller reads every live crime's row, so today's crimes are read in
    table order rather than through an index (see ``unindexed``). ``named``: the day and
    its end are bound by name (``store.sqlfunc.as_of_binds``), for a statement compiled
    ahead (``store.statements``)."""
    c = crime_table

    def columns(holder: Any, risk: Any = c.c.risk) -> list[Any]:
        return [
            c.c.id.label("crime_id"),
            c.c.team_id,
            holder.label("holder_id"),
            c.c.required_level,
            c.c.victim_enhanced,
            c.c.reported_on,
            c.c.crime_type,
            c.c.reference,
            c.c.victim_update_every,
            risk.label("risk"),
        ]

    if as_of is None:
        return (
            select(*columns(c.c.holder_id))
            .where((unindexed(c.c.finalised_on) if scan else c.c.finalised_on).is_(None))
            .subquery("live")
        )
    day, end = as_of_binds(as_of, named=named)
    f, a = finalisation_table, allocation_table
    finalised_then = exists().where(f.c.crime_id == c.c.id, finalised_by(day))
    # The holder is looked up per crime (its one or two intervals, by index). As an
    # outer join, SQLite preferred walking every interval in officer order (five
    # times slower on a million crimes, and random I/O).
    holder_then = (
        select(a.c.officer_id)
        .where(a.c.crime_id == c.c.id, open_at(end))
        .order_by(a.c.start_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(*columns(holder_then, grade_at(c.c.id, end)))
        .where(
            c.c.reported_on <= day,
            # Implied by ~finalised_then (a crime finalised by then and never reopened since
            # is not live then), but checked first on the row itself: most crimes stop here.
            or_(c.c.finalised_on.is_(None), c.c.finalised_on > day),
            ~finalised_then,
        )
        .subquery("live")
    )


def point_in_time(as_of: date | None) -> Any:
    """A literal date for queries that compare against 'today' or the as-of day."""
    return literal(as_of or date.today())
