"""Who supervises whom: an officer's supervisor (another officer), set and checked, and
each supervisor's officers with their live crimes and reviews due and overdue.

``officer.supervisor_id`` names another officer by id. Every write goes through
``check_supervisor`` (an existing officer, not the officer themself); the column has no
foreign key (see migration 0008).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, or_, select, update
from sqlalchemy.engine import Connection

from caseload.domain.policy import Policy
from caseload.domain.risk import review_interval
from caseload.errors import InputError
from caseload.store import log
from caseload.store.models import crime_table, officer_table, review_table, team_table

# How far ahead a review counts as due (not yet overdue) in ``workload --supervisors``.
DUE_WITHIN_DAYS = 7

SUPERVISOR_COLUMNS = (
    "supervisor",
    "supervisor_name",
    "collar",
    "name",
    "team",
    "status",
    "live",
    "reviews_due",
    "reviews_overdue",
)


def check_supervisor(collar: str, supervisor: str | None, known: Mapping[str, int]) -> str | None:
    """Why ``supervisor`` cannot supervise ``collar`` (a sentence), or None when it can."""
    if supervisor is None:
        return None
    if supervisor == collar:
        return f"{collar} cannot be their own supervisor"
    if supervisor not in known:
        return f"there is no officer with collar {supervisor} to be the supervisor"
    return None


def set_supervisor(
    conn: Connection, collar: str, supervisor: str | None, *, actor: str, at: datetime
) -> tuple[str | None, str | None]:
    """Record who supervises ``collar`` (None: nobody), logged as ``officer-update``;
    returns (old, new) supervisor collars. InputError (exit 2) for an unknown collar or
    the officer themself."""
    from caseload.store.officers import find

    officer = find(conn, collar)
    me = str(officer["collar"])
    known: dict[str, int] = {}
    if supervisor is not None:
        row = conn.execute(
            select(officer_table.c.id).where(officer_table.c.collar == supervisor)
        ).first()
        if row is not None:
            known[supervisor] = int(row[0])
    problem = check_supervisor(me, supervisor, known)
    if problem is not None:
        raise InputError(problem[0].upper() + problem[1:] + ".")
    old = officer["supervisor"]
    if old == supervisor:
        return old, supervisor
    conn.execute(
        update(officer_table)
        .where(officer_table.c.id == officer["id"])
        .values(supervisor_id=known.get(supervisor) if supervisor else None)
    )
    log.append(
        conn,
        at=at,
        actor=actor,
        kind="officer-update",
        collar=me,
        detail={"supervisor": [old or "", supervisor or ""]},
    )
    return old, supervisor


def supervisor_collar() -> Any:
    """SQL: the collar of ``officer``'s supervisor (NULL: none)."""
    boss = officer_table.alias("boss")
    return (
        select(boss.c.collar)
        .where(boss.c.id == officer_table.c.supervisor_id)
        .scalar_subquery()
        .label("supervisor")
    )


def supervision_query(policy: Policy, *, today: date, team: str | None = None) -> Select[Any]:
    """One row per supervised officer (SUPERVISOR_COLUMNS), by supervisor then collar:
    their live crimes, how many of those have a review due within DUE_WITHIN_DAYS and
    how many are overdue (as the audit's review-overdue: the interval for each crime's
    risk grade, or the next-review date the last review set)."""
    o, c, r, t = officer_table, crime_table, review_table, team_table
    boss = officer_table.alias("boss")
    last_review = select(func.max(r.c.reviewed_on)).where(r.c.crime_id == c.c.id).scalar_subquery()
    next_due = (
        select(r.c.next_due)
        .where(r.c.crime_id == c.c.id)
        .order_by(r.c.reviewed_on.desc(), r.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    held = (
        select(
            c.c.holder_id,
            c.c.risk,
            func.coalesce(last_review, c.c.reported_on).label("base"),
            next_due.label("next_due"),
        )
        .join(o, o.c.id == c.c.holder_id)
        .where(c.c.finalised_on.is_(None), o.c.supervisor_id.is_not(None))
        .subquery("held")
    )

    def cutoff(ahead: int) -> Any:
        """The latest base date still within its grade's interval ``ahead`` days on."""

        def day(grade: str) -> Any:
            return literal(today - timedelta(days=review_interval(grade, policy) - ahead))

        return case(
            *((held.c.risk == grade, day(grade)) for grade in ("medium", "high")),
            else_=day("standard"),
        )

    overdue = or_(
        held.c.base < cutoff(0), and_(held.c.next_due.is_not(None), held.c.next_due < today)
    )
    soon = today + timedelta(days=DUE_WITHIN_DAYS)
    due = and_(
        ~overdue,
        or_(
            held.c.base <= cutoff(DUE_WITHIN_DAYS),
            and_(held.c.next_due.is_not(None), held.c.next_due <= soon),
        ),
    )
    counts = (
        select(
            held.c.holder_id,
            func.count().label("live"),
            func.sum(case((due, 1), else_=0)).label("due"),
            func.sum(case((overdue, 1), else_=0)).label("overdue"),
        )
        .group_by(held.c.holder_id)
        .subquery("counts")
    )
    query = (
        select(
            boss.c.collar.label("supervisor"),
            boss.c.name.label("supervisor_name"),
            o.c.collar,
            o.c.name,
            t.c.name.label("team"),
            o.c.status,
            func.coalesce(counts.c.live, 0).label("live"),
            func.coalesce(counts.c.due, 0).label("reviews_due"),
            func.coalesce(counts.c.overdue, 0).label("reviews_overdue"),
        )
        .select_from(o)
        .join(boss, boss.c.id == o.c.supervisor_id)
        .join(t, t.c.id == o.c.team_id)
        .outerjoin(counts, counts.c.holder_id == o.c.id)
        .where(or_(o.c.status != "left", counts.c.live > 0))
        .order_by(boss.c.collar, o.c.collar)
    )
    if team:
        query = query.where(func.lower(t.c.name) == team.strip().lower())
    return query


def supervision(
    conn: Connection, policy: Policy, *, today: date, team: str | None = None
) -> list[dict[str, Any]]:
    result = conn.execute(supervision_query(policy, today=today, team=team))
    return [dict(zip(SUPERVISOR_COLUMNS, row, strict=True)) for row in result]


def supervisor_totals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per supervisor over their officers' rows."""
    totals: dict[str, dict[str, Any]] = {}
    for row in rows:
        total = totals.setdefault(
            row["supervisor"],
            {
                "supervisor": row["supervisor"],
                "supervisor_name": row["supervisor_name"],
                "officers": 0,
                "live": 0,
                "reviews_due": 0,
                "reviews_overdue": 0,
            },
        )
        total["officers"] += 1
        for key in ("live", "reviews_due", "reviews_overdue"):
            total[key] += int(row[key])
    return list(totals.values())
