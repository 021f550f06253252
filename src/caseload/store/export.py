"""Export queries: crimes (now or as of a day), allocation history, and streaming.

Each export is one Core query streamed from the cursor in batches
(``yield_per``), so exporting the whole store never holds it in memory. The
crimes export uses the import columns (``store.crimes.CRIME_COLUMNS``) so that
``caseload import crimes`` reads it back; as of a past day it gives the holder
and finalised state of that day, rebuilt from the allocation and finalisation
intervals. ``workload`` reuses the workload report's own query
(``store.workload``) and ``findings`` the audit's (``store.audit``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.engine import Connection

from caseload.store.crimes import CRIME_COLUMNS, crime_rows
from caseload.store.holdings import end_of_day
from caseload.store.models import Allocation, Crime, Finalisation, Officer, Team

crime_table = Crime.__table__  # type: ignore[attr-defined]
officer_table = Officer.__table__  # type: ignore[attr-defined]
team_table = Team.__table__  # type: ignore[attr-defined]
allocation_table = Allocation.__table__  # type: ignore[attr-defined]
finalisation_table = Finalisation.__table__  # type: ignore[attr-defined]

BATCH = 2000

# The history import's columns first (reference .. reason), then what only export shows.
HISTORY_COLUMNS: tuple[str, ...] = (
    "reference",
    "holder",
    "from",
    "to",
    "actor",
    "reason",
    "team",
    "warnings",
    "override_reason",
    "ended_by",
    "end_reason",
)

__all__ = ["CRIME_COLUMNS", "HISTORY_COLUMNS", "crimes_query", "history_query", "stream"]


def crimes_query(*, as_of: date | None = None, team_id: int | None = None) -> Select[Any]:
    """Crimes in the import columns, oldest report first; as they were at the end of
    ``as_of`` when given (reported by then, that day's holder and finalised state)."""
    c = crime_table
    if as_of is None:
        query = crime_rows()
    else:
        end = end_of_day(as_of)
        a, f, o, t = allocation_table, finalisation_table, officer_table, team_table
        query = (
            select(
                c.c.reference,
                c.c.crime_type,
                c.c.reported_on,
                t.c.name.label("team"),
                c.c.required_level,
                o.c.collar.label("holder"),
                c.c.victim_enhanced,
                f.c.finalised_on,
                f.c.outcome,
            )
            .select_from(c)
            .join(t, t.c.id == c.c.team_id)
            .outerjoin(
                a,
                and_(
                    a.c.crime_id == c.c.id,
                    a.c.start_at < end,
                    or_(a.c.end_at.is_(None), a.c.end_at >= end),
                ),
            )
            .outerjoin(o, o.c.id == a.c.officer_id)
            .outerjoin(
                f,
                and_(
                    f.c.crime_id == c.c.id,
                    f.c.finalised_on <= as_of,
                    or_(f.c.reopened_on.is_(None), f.c.reopened_on > as_of),
                ),
            )
            .where(c.c.reported_on <= as_of)
        )
    if team_id is not None:
        query = query.where(c.c.team_id == team_id)
    return query.order_by(c.c.reported_on, c.c.reference)


def history_query(*, as_of: date | None = None, team_id: int | None = None) -> Select[Any]:
    """Every allocation interval, crime by crime in time order. As of a day: the
    intervals begun by its end, an interval ended later shown as still open."""
    a, c, o, t = allocation_table, crime_table, officer_table, team_table
    end_at: Any = a.c.end_at
    ended_by: Any = a.c.ended_by
    end_reason: Any = a.c.end_reason
    if as_of is not None:
        from sqlalchemy import case, null

        end = end_of_day(as_of)
        still_open = or_(a.c.end_at.is_(None), a.c.end_at >= end)
        end_at = case((still_open, null()), else_=a.c.end_at)
        ended_by = case((still_open, null()), else_=a.c.ended_by)
        end_reason = case((still_open, null()), else_=a.c.end_reason)
    query = (
        select(
            c.c.reference,
            t.c.name.label("team"),
            o.c.collar.label("holder"),
            a.c.start_at.label("from"),
            end_at.label("to"),
            a.c.actor,
            a.c.reason,
            a.c.warnings,
            a.c.override_reason,
            ended_by.label("ended_by"),
            end_reason.label("end_reason"),
        )
        .select_from(a)
        .join(c, c.c.id == a.c.crime_id)
        .join(t, t.c.id == c.c.team_id)
        .join(o, o.c.id == a.c.officer_id)
    )
    if as_of is not None:
        query = query.where(a.c.start_at < end_of_day(as_of))
    if team_id is not None:
        query = query.where(c.c.team_id == team_id)
    return query.order_by(c.c.reference, a.c.start_at, a.c.id)


def count(conn: Connection, query: Select[Any]) -> int:
    inner = query.order_by(None).subquery()
    return int(conn.execute(select(func.count()).select_from(inner)).scalar_one())


def stream(conn: Connection, query: Select[Any]) -> Iterator[dict[str, Any]]:
    """The query's rows as dicts, fetched from the cursor ``BATCH`` at a time."""
    result = conn.execution_options(yield_per=BATCH).execute(query)
    keys = list(result.keys())  # once: row._mapping rebuilds its key view on every row
    for row in result:
        yield dict(zip(keys, row, strict=True))
