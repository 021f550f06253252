"""Officers' facts over time, and the officers as they stood on a day.

``officer_history`` keeps team, status, accreditation, trainee flag, capacity and
investigator_since as intervals ``[valid_from, valid_to)``: the first has no start
(the store knows nothing earlier), the current one no end. ``sync`` is called by every
path that writes officers (``officer add|update|status``, ``import officers``, the
sample) after it has written them: each officer whose record no longer matches their
open interval has it closed on the day and a new one opened (a second change on the
same day amends that day's interval: history is kept by the day, as ``--as-of`` reads
it). One grouped read finds the changed officers, so an import of a whole force costs
one query and a batch of writes.

``officers_on(day)`` is the officer table as it stood on ``day`` (None: today), with
the day's absences applied (``domain.absences``): ``status`` is ``leave`` or
``abstracted`` on a day an away absence covers (unless the record says otherwise, e.g.
``left``), and ``capacity`` is scaled on a day of reduced duties, whose percentage is
``percent``. Workload, audit, export and the report read officers through it, so a past
day is rebuilt with that day's facts. Today's form reads the officer table itself (with
two indexed look-ups in the small absence table per officer); a past day's joins the
interval covering it, falling back to the current record for an officer with none.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Date, and_, bindparam, case, func, literal, null, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement, Subquery

from caseload.domain.absences import REDUCED, STATUS_OF
from caseload.store.models import absence_table, officer_history_table, officer_table
from caseload.store.sqlfunc import as_of_binds, one_of

FACTS = ("team_id", "status", "accreditation", "trainee", "capacity", "investigator_since")


def sync(conn: Connection, *, on: date, officer_ids: Sequence[int] | None = None) -> int:
    """Record in ``officer_history`` what changed in the officers' records (all officers,
    or ``officer_ids``) as of ``on``; returns how many officers' history moved on."""
    from sqlalchemy import insert, update

    o, h = officer_table, officer_history_table
    differs = or_(*(o.c[name].is_distinct_from(h.c[name]) for name in FACTS))
    changed_query = (
        select(h.c.id, h.c.officer_id, h.c.valid_from, *(o.c[name] for name in FACTS))
        .join(o, o.c.id == h.c.officer_id)
        .where(h.c.valid_to.is_(None), differs)
    )
    missing_query = select(o.c.id, *(o.c[name] for name in FACTS)).where(
        ~select(h.c.id).where(h.c.officer_id == o.c.id).exists()
    )
    if officer_ids is not None:
        if not officer_ids:
            return 0
        changed_query = changed_query.where(one_of(conn, h.c.officer_id, list(officer_ids)))
        missing_query = missing_query.where(one_of(conn, o.c.id, list(officer_ids)))
    amend: list[dict[str, Any]] = []
    close: list[dict[str, Any]] = []
    opened: list[dict[str, Any]] = []
    for row in conn.execute(changed_query):
        facts = {name: row._mapping[name] for name in FACTS}
        if row.valid_from is not None and row.valid_from >= on:
            amend.append({"hid": row.id, **facts})
        else:
            close.append({"hid": row.id})
            opened.append({"officer_id": row.officer_id, "valid_from": on, **facts})
    for row in conn.execute(missing_query):
        opened.append(
            {"officer_id": row.id, "valid_from": None, **{n: row._mapping[n] for n in FACTS}}
        )
    if amend:
        conn.execute(
            update(h)
            .where(h.c.id == bindparam("hid"))
            .values(**{name: bindparam(name) for name in FACTS}),
            amend,
        )
    if close:
        conn.execute(update(h).where(h.c.id == bindparam("hid")).values(valid_to=on), close)
    if opened:
        conn.execute(insert(h), [{"valid_to": None, **row} for row in opened])
    return len(amend) + len(opened)


def history(conn: Connection, officer_id: int) -> list[dict[str, Any]]:
    """One officer's intervals, oldest first."""
    h = officer_history_table
    query = (
        select(h)
        .where(h.c.officer_id == officer_id)
        .order_by(h.c.valid_from.asc().nulls_first(), h.c.id)
    )
    return [dict(row._mapping) for row in conn.execute(query)]


# --- officers as they stood on a day ---------------------------------------------------------


def day_value(day: date | None, today: date | None = None, *, named: bool = False) -> Any:
    """The day as a query compares it: the as-of day (``named``: bound by name,
    ``store.sqlfunc.as_of_binds``), or today bound by name (``today``), so that the named
    statements bind it when they run."""
    if day is None:
        return bindparam("today", today or date.today(), Date())
    if named:
        return as_of_binds(day, named=True)[0]
    return literal(day, Date())


def covering(day: Any) -> ColumnElement[bool]:
    """An absence in force on ``day`` (not cancelled)."""
    a = absence_table
    return and_(
        a.c.cancelled_at.is_(None),
        a.c.starts_on <= day,
        or_(a.c.ends_on.is_(None), a.c.ends_on >= day),
    )


def absent_status(officer_id: Any, day: Any) -> Any:
    """The status an away absence covering ``day`` gives the officer, or NULL."""
    a = absence_table
    leave = [kind for kind, status in STATUS_OF.items() if status == "leave"]
    return (
        select(
            case(
                (or_(*(a.c.kind == kind for kind in leave)), literal("leave")),
                else_=literal("abstracted"),
            )
        )
        .where(a.c.officer_id == officer_id, a.c.kind != REDUCED, covering(day))
        .order_by(a.c.starts_on)
        .limit(1)
        .scalar_subquery()
    )


def reduced_percent(officer_id: Any, day: Any) -> Any:
    """The percentage of a capacity reduction covering ``day``, or NULL."""
    a = absence_table
    return (
        select(a.c.percent)
        .where(a.c.officer_id == officer_id, a.c.kind == REDUCED, covering(day))
        .order_by(a.c.starts_on)
        .limit(1)
        .scalar_subquery()
    )


def scaled_sql(value: Any, percent: Any) -> Any:
    """``domain.absences.scaled`` in SQL: ``percent`` of ``value``, rounded down."""
    return case((percent.is_(None), value), else_=(value * percent).op("/")(100))


def effective_status(base: Any, officer_id: Any, day: Any) -> Any:
    """The officer's status on ``day``: an away absence's unless the record says
    otherwise (``left``, or a status set before absences had dates)."""
    return case(
        (base == "active", func.coalesce(absent_status(officer_id, day), literal("active"))),
        else_=base,
    )


def officers_on(
    day: date | None = None,
    *,
    name: str = "o",
    today: date | None = None,
    named: bool = False,
) -> Subquery:
    """The officer table as it stood on ``day`` (None: today), absences applied: columns
    id, collar, name, rank, team_id, accreditation, investigator_since, trainee, status,
    capacity (scaled on a day of reduced duties), percent, recorded_status (the record's
    own status) and recorded_capacity. ``named``: the day is bound by name (``day_value``)."""
    o = officer_table
    when = day_value(day, today, named=named)
    facts: dict[str, Any]
    if day is None:
        facts = {name: o.c[name] for name in FACTS}
        source: Any = o
    else:
        h = officer_history_table.alias("officer_then")
        source = o.outerjoin(
            h,
            and_(
                h.c.officer_id == o.c.id,
                or_(h.c.valid_from.is_(None), h.c.valid_from <= when),
                or_(h.c.valid_to.is_(None), h.c.valid_to > when),
            ),
        )
        # no interval for the day (an officer written around caseload): the record's own
        facts = {name: case((h.c.id.is_(None), o.c[name]), else_=h.c[name]) for name in FACTS}
    # The day's absences, grouped per officer once (a few rows: materialised once and
    # joined, not looked up again for each use of status or capacity).
    a = absence_table
    leave = [kind for kind, status in STATUS_OF.items() if status == "leave"]
    away_status = case(
        (a.c.kind == REDUCED, null()),
        (or_(*(a.c.kind == kind for kind in leave)), literal("leave")),
        else_=literal("abstracted"),
    )
    absent = (
        select(
            a.c.officer_id,
            func.max(away_status).label("away_status"),
            func.min(case((a.c.kind == REDUCED, a.c.percent))).label("percent"),
        )
        .where(covering(when))
        .group_by(a.c.officer_id)
        .subquery(f"{name}_absent")
    )
    source = source.outerjoin(absent, absent.c.officer_id == o.c.id)
    percent = absent.c.percent
    status = case(
        (facts["status"] == "active", func.coalesce(absent.c.away_status, literal("active"))),
        else_=facts["status"],
    )
    return (
        select(
            o.c.id,
            o.c.collar,
            o.c.name,
            o.c.rank,
            facts["team_id"].label("team_id"),
            facts["accreditation"].label("accreditation"),
            facts["investigator_since"].label("investigator_since"),
            facts["trainee"].label("trainee"),
            status.label("status"),
            scaled_sql(facts["capacity"], percent).label("capacity"),
            percent.label("percent"),
            facts["status"].label("recorded_status"),
            facts["capacity"].label("recorded_capacity"),
        )
        .select_from(source)
        .subquery(name)
    )
