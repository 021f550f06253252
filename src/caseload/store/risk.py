"""Risk grades in the store: changing a crime's grade, its history, and its grade on a day.

``crime.risk`` is the current grade, kept in the same transaction as the intervals in
``crime_risk`` (as ``crime.holder_id`` is kept with ``allocation``), so today's views
read one column; a past day's grade comes from the interval open at the end of that day
(``grade_at``). A moment no interval covers was ``standard``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.engine import Connection

from caseload.domain.risk import DEFAULT_GRADE
from caseload.errors import InputError
from caseload.store import log
from caseload.store.models import crime_risk_table, crime_table


def grade_at(crime_id: Any, end: datetime) -> Any:
    """SQL: the grade of crime ``crime_id`` at the instant ``end`` (``standard`` where no
    interval covers it). One index seek on ``ix_crime_risk_crime`` per crime."""
    return func.coalesce(_in_force(crime_risk_table.c.grade, crime_id, end), DEFAULT_GRADE)


def graded_since(crime_id: Any, end: datetime) -> Any:
    """SQL: the day the grade in force at ``end`` began, or NULL when no interval covers
    it (standard since the crime was reported)."""
    from caseload.store.sqlfunc import day_of

    return _in_force(day_of(crime_risk_table.c.start_at), crime_id, end)


def _in_force(value: Any, crime_id: Any, end: datetime) -> Any:
    """SQL: ``value`` of the crime's risk interval in force at the instant ``end`` (NULL
    when none covers it): one index seek on ``ix_crime_risk_crime``."""
    r = crime_risk_table
    return (
        select(value)
        .where(
            r.c.crime_id == crime_id,
            r.c.start_at < end,
            or_(r.c.end_at.is_(None), r.c.end_at >= end),
        )
        .order_by(r.c.start_at.desc(), r.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


@dataclass
class RiskChange:
    """What ``set_risk`` did: the grades, the levels, and what the user must be told."""

    reference: str
    old: str
    new: str
    old_level: str
    new_level: str
    holder: str | None
    warnings: list[str] = field(default_factory=list)


def open_interval(
    conn: Connection, crime_id: int, grade: str, *, at: datetime, actor: str, reason: str
) -> None:
    """Close the crime's open grade interval (if any) at ``at`` and open one of ``grade``."""
    r = crime_risk_table
    conn.execute(update(r).where(r.c.crime_id == crime_id, r.c.end_at.is_(None)).values(end_at=at))
    conn.execute(
        insert(r).values(crime_id=crime_id, grade=grade, start_at=at, actor=actor, reason=reason)
    )


def set_risk(
    conn: Connection,
    reference: str,
    grade: str,
    *,
    reason: str,
    actor: str,
    at: datetime,
    override: str | None = None,
) -> RiskChange:
    """Grade a live or finalised crime (logged as ``crime-risk``): the open interval is
    closed and a new one opened, ``crime.risk`` follows, and the crime's required level is
    worked out again from the matrix's risk rows (``domain.risk.level_with_risk``)."""
    from caseload.store.crimes import find

    crime = find(conn, reference)
    old = str(crime["risk"])
    if old == grade:
        raise InputError(f"{crime['reference']} is already graded {grade} risk.")
    old_level = str(crime["required_level"])
    new_level, own_level, warnings = _level_for(conn, crime, grade, override=override)
    open_interval(conn, int(crime["id"]), grade, at=at, actor=actor, reason=reason)
    conn.execute(
        update(crime_table)
        .where(crime_table.c.id == crime["id"])
        .values(risk=grade, required_level=new_level, base_level=own_level)
    )
    detail: dict[str, Any] = {"old": old, "new": grade}
    if new_level != old_level:
        detail["required_level"] = [old_level, new_level]
    if warnings:
        detail["warnings"] = warnings
        if override:
            detail["override"] = override
    log.append(
        conn,
        at=at,
        actor=actor,
        kind="crime-risk",
        crime_ref=crime["reference"],
        collar=crime["holder"],
        reason=reason,
        detail=detail,
    )
    return RiskChange(
        reference=str(crime["reference"]),
        old=old,
        new=grade,
        old_level=old_level,
        new_level=new_level,
        holder=crime["holder"],
        warnings=warnings,
    )


def _level_for(
    conn: Connection, crime: dict[str, Any], grade: str, *, override: str | None
) -> tuple[str, str | None, list[str]]:
    """The required level at the new grade, the crime's own level to keep beside it, and
    the accreditation warning for its live holder (``crimes._level_rule``: PolicyRefused
    in block mode without an override)."""
    from caseload.domain.levels import RANK
    from caseload.domain.risk import level_with_risk
    from caseload.store.crimes import _level_rule
    from caseload.store.reference import risk_matrix

    own = str(crime["base_level"] or crime["required_level"])
    level, kept = level_with_risk(own, str(crime["crime_type"]), grade, risk_matrix(conn))
    warnings: list[str] = []
    if RANK[level] > RANK[str(crime["required_level"])]:
        warnings = _level_rule(conn, crime, level, override=override)
    return level, kept, warnings


def history_query(crime: Any) -> Any:
    """The grade intervals of crime ``crime`` (its id, a value or a bound parameter),
    oldest first (``crime show``'s risk grades: ``store.crimes.story_query``)."""
    r = crime_risk_table
    return (
        select(r.c.grade, r.c.start_at.label("from"), r.c.end_at.label("to"), r.c.actor, r.c.reason)
        .where(r.c.crime_id == crime)
        .order_by(r.c.start_at, r.c.id)
    )
