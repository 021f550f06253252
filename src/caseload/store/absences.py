"""Absences: booked, listed, ended and cancelled; what they mean for an allocation.

Each change is one row (never deleted: a cancelled absence keeps ``cancelled_at``) and
one decision-log entry (``absence-add``, ``absence-end``, ``absence-cancel``) in the
caller's write transaction. The rules (kinds, periods, overlaps, the outlook an
allocation sees) are ``domain.absences``; this module reads and writes.

``officer status C leave|abstracted`` books an open-ended absence from today, and
``officer status C active`` is a return: the absences in force today end yesterday (one
that starts today is cancelled). ``left`` stays a fact of the officer's record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from caseload.domain.absences import (
    KIND_OF_STATUS,
    REDUCED,
    Absence,
    Outlook,
    check_dates,
    clashes,
    outlook,
)
from caseload.errors import InputError, NotFound
from caseload.store import log
from caseload.store.executor import executor_of
from caseload.store.sqlite_values import parse_date

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from caseload.store.executor import Executor

ABSENCE_COLUMNS = (
    "id",
    "collar",
    "name",
    "team",
    "kind",
    "percent",
    "from",
    "to",
    "days",
    "reason",
    "state",
)


def _absence(row: Any) -> Absence:
    m = row._mapping if hasattr(row, "_mapping") else row
    return Absence(
        id=int(m["id"]),
        kind=str(m["kind"]),
        starts_on=parse_date(m["starts_on"]),
        ends_on=parse_date(m["ends_on"]) if m["ends_on"] is not None else None,
        percent=int(m["percent"]) if m["percent"] is not None else None,
    )


def absences_query(officer: Any) -> Any:
    """The absences of officer ``officer`` (an id, a value or a bound parameter) not
    cancelled, oldest first (``officer_absences``; the named statement ``officer.absences``)."""
    from sqlalchemy import select

    from caseload.store.models import absence_table as a

    return (
        select(a.c.id, a.c.kind, a.c.starts_on, a.c.ends_on, a.c.percent)
        .where(a.c.officer_id == officer, a.c.cancelled_at.is_(None))
        .order_by(a.c.starts_on, a.c.id)
    )


def officer_absences(conn: Executor | Connection, officer_id: int) -> list[Absence]:
    """The officer's absences not cancelled, oldest first (the named statement
    ``officer.absences``, on either executor)."""
    found = executor_of(conn).records("officer.absences", officer=officer_id)
    return [_absence(row) for row in found]


def _officer(conn: Connection, collar: str) -> dict[str, Any]:
    from caseload.store.officers import find

    return find(conn, collar)


def _clash_text(collar: str, found: Sequence[Absence]) -> str:
    shown = "; ".join(f"#{a.id} {a.words()}" for a in found)
    return f"{collar} already has an absence on those days ({shown})"


@dataclass
class Booked:
    id: int
    collar: str
    absence: Absence
    holds: int = 0  # the officer's live crimes now (a handover may be due)
    notes: list[str] = field(default_factory=list)


def add(
    conn: Connection,
    collar: str,
    *,
    kind: str,
    starts_on: date,
    ends_on: date | None,
    percent: int | None,
    reason: str,
    actor: str,
    at: datetime,
    line: int | None = None,
) -> Booked:
    """Book one absence (validated: dates, percentage, overlaps; InputError otherwise)."""
    from sqlalchemy import insert

    from caseload.store.models import absence_table
    from caseload.store.officers import live_count

    officer = _officer(conn, collar)
    problem = validate(kind, starts_on, ends_on, percent)
    if problem is None and officer["status"] == "left":
        problem = f"{officer['collar']} has left; absences are for serving officers"
    if problem is None:
        found = clashes(kind, starts_on, ends_on, officer_absences(conn, int(officer["id"])))
        if found:
            problem = _clash_text(str(officer["collar"]), found)
    if problem is not None:
        where = f"line {line}: " if line is not None else ""
        raise InputError(f"{where}{problem[0].upper()}{problem[1:]}; nothing was written.")
    result = conn.execute(
        insert(absence_table).values(
            officer_id=officer["id"],
            kind=kind,
            starts_on=starts_on,
            ends_on=ends_on,
            percent=percent,
            reason=reason,
            actor=actor,
            at=at,
        )
    )
    absence_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    absence = Absence(absence_id, kind, starts_on, ends_on, percent)
    log.append(
        conn,
        at=at,
        actor=actor,
        kind="absence-add",
        collar=str(officer["collar"]),
        reason=reason,
        detail=_detail(absence),
    )
    return Booked(absence_id, str(officer["collar"]), absence, live_count(conn, officer["id"]))


def validate(kind: str, starts_on: date, ends_on: date | None, percent: int | None) -> str | None:
    """Why an absence's own values do not make one, or None."""
    problem = check_dates(starts_on, ends_on)
    if problem is None and kind == REDUCED and percent is None:
        problem = "a capacity reduction needs its percentage of normal duties (--percent)"
    if problem is None and kind != REDUCED and percent is not None:
        problem = "a percentage is only for a capacity reduction (--kind reduced)"
    return problem


def _detail(absence: Absence) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "id": absence.id,
        "kind": absence.kind,
        "from": absence.starts_on.isoformat(),
        "to": absence.ends_on.isoformat() if absence.ends_on else None,
    }
    if absence.percent is not None:
        detail["percent"] = absence.percent
    return detail


def end(
    conn: Connection,
    collar: str,
    *,
    on: date,
    kind: str | None,
    reason: str,
    actor: str,
    at: datetime,
) -> Absence:
    """End the officer's absence in force on ``on`` (``on`` its last day)."""
    from sqlalchemy import update

    from caseload.store.models import absence_table

    officer = _officer(conn, collar)
    who = str(officer["collar"])
    candidates = [
        a
        for a in officer_absences(conn, int(officer["id"]))
        if a.covers(on) and (kind is None or a.kind == kind)
    ]
    if not candidates:
        what = f"{kind} absence" if kind else "absence"
        raise InputError(
            f"{who} has no {what} in force on {on.isoformat()} to end; see "
            f"'caseload officer absence list'. Nothing was written."
        )
    if len(candidates) > 1:
        raise InputError(
            f"{who} has {len(candidates)} absences in force on {on.isoformat()} ("
            + "; ".join(f"#{a.id} {a.words()}" for a in candidates)
            + "); say which with --kind. Nothing was written."
        )
    absence = candidates[0]
    if absence.ends_on == on:
        raise InputError(
            f"Absence #{absence.id} of {who} already ends on {on.isoformat()}; nothing to do."
        )
    conn.execute(update(absence_table).where(absence_table.c.id == absence.id).values(ends_on=on))
    ended = Absence(absence.id, absence.kind, absence.starts_on, on, absence.percent)
    log.append(
        conn,
        at=at,
        actor=actor,
        kind="absence-end",
        collar=who,
        reason=reason,
        detail={
            **_detail(ended),
            "was_to": absence.ends_on.isoformat() if absence.ends_on else None,
        },
    )
    return ended


def cancel(
    conn: Connection, absence_id: int, *, reason: str, actor: str, at: datetime
) -> tuple[str, Absence]:
    """Cancel one absence (kept, counting for nothing); returns its officer's collar."""
    from sqlalchemy import select, update

    from caseload.store.models import absence_table as a
    from caseload.store.models import officer_table as o

    row = conn.execute(
        select(
            a.c.id, a.c.kind, a.c.starts_on, a.c.ends_on, a.c.percent, a.c.cancelled_at, o.c.collar
        )
        .join(o, o.c.id == a.c.officer_id)
        .where(a.c.id == absence_id)
    ).first()
    if row is None:
        raise InputError(f"There is no absence #{absence_id}; see 'caseload officer absence list'.")
    if row.cancelled_at is not None:
        raise InputError(f"Absence #{absence_id} is already cancelled; nothing to do.")
    absence = _absence(row)
    conn.execute(update(a).where(a.c.id == absence_id).values(cancelled_at=at, cancelled_by=actor))
    log.append(
        conn,
        at=at,
        actor=actor,
        kind="absence-cancel",
        collar=str(row.collar),
        reason=reason,
        detail=_detail(absence),
    )
    return str(row.collar), absence


def list_absences(
    conn: Connection,
    *,
    team: str | None = None,
    collar: str | None = None,
    starts: date | None = None,
    ends: date | None = None,
    cancelled: bool = False,
    today: date | None = None,
) -> list[dict[str, Any]]:
    """Absences touching the window [starts, ends] (either end open), by officer's team
    (today's), start and collar; ABSENCE_COLUMNS. ``state``: planned, in force, ended or
    cancelled (as of ``today``)."""
    from sqlalchemy import or_, select

    from caseload.store.models import absence_table as a
    from caseload.store.models import officer_table as o
    from caseload.store.models import team_table as t
    from caseload.store.reference import resolve_team

    query = (
        select(
            a.c.id,
            o.c.collar,
            o.c.name,
            t.c.name.label("team"),
            a.c.kind,
            a.c.percent,
            a.c.starts_on,
            a.c.ends_on,
            a.c.reason,
            a.c.cancelled_at,
        )
        .join(o, o.c.id == a.c.officer_id)
        .join(t, t.c.id == o.c.team_id)
        .order_by(a.c.starts_on, t.c.name, o.c.collar, a.c.id)
    )
    if team:
        query = query.where(o.c.team_id == resolve_team(conn, team)[0])
    if collar:
        wanted = collar.strip().upper()
        if conn.execute(select(o.c.id).where(o.c.collar == wanted)).first() is None:
            raise NotFound.officer(wanted)
        query = query.where(o.c.collar == wanted)
    if starts is not None:
        query = query.where(or_(a.c.ends_on.is_(None), a.c.ends_on >= starts))
    if ends is not None:
        query = query.where(a.c.starts_on <= ends)
    if not cancelled:
        query = query.where(a.c.cancelled_at.is_(None))
    day = today or date.today()
    rows = []
    for row in conn.execute(query):
        if row.cancelled_at is not None:
            state = "cancelled"
        elif row.starts_on > day:
            state = "planned"
        elif row.ends_on is not None and row.ends_on < day:
            state = "ended"
        else:
            state = "in force"
        rows.append(
            {
                "id": row.id,
                "collar": row.collar,
                "name": row.name,
                "team": row.team,
                "kind": row.kind,
                "percent": row.percent,
                "from": row.starts_on,
                "to": row.ends_on,
                "days": (row.ends_on - row.starts_on).days + 1 if row.ends_on else None,
                "reason": row.reason,
                "state": state,
            }
        )
    return rows


# --- what an allocation sees ------------------------------------------------------------------


def outlook_query() -> Any:
    """An officer's absences (by collar) that an allocation on ``today`` must see: not
    cancelled, not over by then, starting by ``horizon`` (the named statement
    ``allocation.absences``)."""
    from sqlalchemy import Date, String, bindparam, or_, select

    from caseload.store.models import absence_table as a
    from caseload.store.models import officer_table as o

    today = bindparam("today", date(2026, 1, 1), Date())
    horizon = bindparam("horizon", date(2026, 1, 4), Date())
    return (
        select(a.c.officer_id, a.c.id, a.c.kind, a.c.starts_on, a.c.ends_on, a.c.percent)
        .where(
            a.c.officer_id.in_(
                select(o.c.id).where(o.c.collar == bindparam("collar", "AA00001", String()))
            ),
            a.c.cancelled_at.is_(None),
            or_(a.c.ends_on.is_(None), a.c.ends_on >= today),
            a.c.starts_on <= horizon,
        )
        .order_by(a.c.starts_on, a.c.id)
    )


def outlook_of(rows: Sequence[Any], *, on: date, notice_days: int) -> dict[int, Outlook]:
    """Rows of (officer_id, id, kind, starts_on, ends_on, percent) as each officer's
    outlook on ``on``."""
    by_officer: dict[int, list[Absence]] = {}
    for officer_id, absence_id, kind, starts_on, ends_on, percent in rows:
        by_officer.setdefault(int(officer_id), []).append(
            _absence(
                {
                    "id": absence_id,
                    "kind": kind,
                    "starts_on": starts_on,
                    "ends_on": ends_on,
                    "percent": percent,
                }
            )
        )
    return {
        officer_id: outlook(found, on=on, notice_days=notice_days)
        for officer_id, found in by_officer.items()
    }


def outlook_for(
    executor: Executor, collar: str, *, on: date, notice_days: int
) -> dict[int, Outlook]:
    """One officer's outlook (by collar), through the named statement."""
    rows = executor.rows(
        "allocation.absences",
        collar=collar,
        today=on,
        horizon=on + timedelta(days=notice_days),
    )
    return outlook_of(rows, on=on, notice_days=notice_days)


def outlooks(
    conn: Connection, officer_ids: Sequence[int], *, on: date, notice_days: int
) -> dict[int, Outlook]:
    """Each officer's outlook on ``on`` (only officers with any absence in view)."""
    from sqlalchemy import or_, select

    from caseload.store.models import absence_table as a
    from caseload.store.sqlfunc import one_of

    ids = sorted(set(officer_ids))
    rows: list[Any] = []
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        rows.extend(
            conn.execute(
                select(a.c.officer_id, a.c.id, a.c.kind, a.c.starts_on, a.c.ends_on, a.c.percent)
                .where(
                    one_of(conn, a.c.officer_id, chunk),
                    a.c.cancelled_at.is_(None),
                    or_(a.c.ends_on.is_(None), a.c.ends_on >= on),
                    a.c.starts_on <= on + timedelta(days=notice_days),
                )
                .order_by(a.c.starts_on, a.c.id)
            ).all()
        )
    return outlook_of(rows, on=on, notice_days=notice_days)


# --- officer status, as absences ---------------------------------------------------------------


@dataclass
class StatusChange:
    before: str
    after: str
    warnings: list[str] = field(default_factory=list)
    team: str = ""
    absence: Absence | None = None  # booked (leave, abstracted)
    ended: list[Absence] = field(default_factory=list)  # ended or cancelled (a return)


def status_today(conn: Connection, officer: Mapping[str, Any], on: date) -> str:
    """The officer's status on ``on``: their record's, or an absence's."""
    if officer["status"] != "active":
        return str(officer["status"])
    for absence in officer_absences(conn, int(officer["id"])):
        if absence.away and absence.covers(on):
            return absence.status
    return "active"


def set_status(
    conn: Connection, collar: str, status: str, *, reason: str, actor: str, at: datetime
) -> StatusChange:
    """``officer status``: leave or abstracted books an open-ended absence from today;
    active is a return (absences in force end yesterday; a record that says leave or
    abstracted, from before absences had dates, becomes active); left is recorded on the
    officer. Warns (and records) what the change puts in breach of what they hold."""
    from sqlalchemy import update

    from caseload.store.models import absence_table, officer_table
    from caseload.store.officer_history import sync
    from caseload.store.officers import breach_detail, change_breaches

    officer = _officer(conn, collar)
    who = str(officer["collar"])
    on = at.date()
    before = status_today(conn, officer, on)
    if before == status:
        return StatusChange(before, status, team=str(officer["team"]))
    change = StatusChange(before, status, team=str(officer["team"]))
    detail: dict[str, Any] = {"status": [before, status]}
    if status in KIND_OF_STATUS and officer["status"] == "active":
        current = [a for a in officer_absences(conn, int(officer["id"])) if a.away and a.covers(on)]
        for absence in current:  # e.g. abstracted -> leave: the one ends, the other starts
            change.ended.append(_close(conn, absence, on, actor))
        booked_kind = KIND_OF_STATUS[status]
        found = clashes(booked_kind, on, None, officer_absences(conn, int(officer["id"])))
        if found:
            raise InputError(_clash_text(who, found) + "; nothing was written.")
        from sqlalchemy import insert

        result = conn.execute(
            insert(absence_table).values(
                officer_id=officer["id"],
                kind=booked_kind,
                starts_on=on,
                ends_on=None,
                percent=None,
                reason=reason or f"officer status {status}",
                actor=actor,
                at=at,
            )
        )
        absence_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        change.absence = Absence(absence_id, booked_kind, on, None, None)
        detail["absence"] = _detail(change.absence)
    else:
        if status == "active":  # a return: what is in force today stops
            for absence in officer_absences(conn, int(officer["id"])):
                if absence.away and absence.covers(on):
                    change.ended.append(_close(conn, absence, on, actor))
        # active and left are the record's own; so is any status of an officer whose
        # record is not active (a status set before absences had dates, or left).
        if officer["status"] != status:
            conn.execute(
                update(officer_table)
                .where(officer_table.c.id == officer["id"])
                .values(status=status)
            )
            sync(conn, on=on, officer_ids=[int(officer["id"])])
    if change.ended:
        detail["ended"] = [_detail(a) for a in change.ended]
    after = {**officer, "status": status}
    made = change_breaches(
        conn, [(int(officer["id"]), {**officer, "status": before}, after)], on=on
    ).get(int(officer["id"]), [])
    change.warnings = [b.text() for b in made]
    log.append(
        conn,
        at=at,
        actor=actor,
        kind="officer-status",
        collar=who,
        reason=reason,
        detail={**detail, **breach_detail(made)},
    )
    return change


def _close(conn: Connection, absence: Absence, on: date, actor: str) -> Absence:
    """An absence in force on ``on`` stops: it ends the day before (cancelled if it
    starts on ``on``)."""
    from sqlalchemy import update

    from caseload.store.models import absence_table

    if absence.starts_on >= on:
        conn.execute(
            update(absence_table)
            .where(absence_table.c.id == absence.id)
            .values(cancelled_at=datetime.combine(on, datetime.min.time()), cancelled_by=actor)
        )
        return absence
    last = on - timedelta(days=1)
    conn.execute(update(absence_table).where(absence_table.c.id == absence.id).values(ends_on=last))
    return Absence(absence.id, absence.kind, absence.starts_on, last, absence.percent)
