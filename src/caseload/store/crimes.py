"""Crime records: add, find, list with filters, correct, finalise and reopen (the
single-record writes through the ORM session, ``store.session``).

A crime is live until an outcome is recorded; finalising and reopening are kept
as intervals in ``finalisation`` so that any past day's live crimes can be rebuilt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, select
from sqlalchemy.engine import Connection

from caseload.errors import InputError, NotFound
from caseload.store import log
from caseload.store.models import (
    allocation_table,
    crime_table,
    event_table,
    log_table,
    officer_table,
    referral_table,
    review_table,
    team_table,
    victim_update_table,
)
from caseload.store.records import CRIME_COLUMNS as CRIME_COLUMNS
from caseload.store.reference import matrix, required_level_for, resolve_team

if TYPE_CHECKING:  # building the input models takes ~30 ms: only the writing commands pay it
    from caseload.domain.inputs import CrimeCreate, CrimeFinalise, CrimeReopen, CrimeUpdate


def crime_columns(*, finalised_on: Any = None, outcome: Any = None, risk: Any = None) -> list[Any]:
    """The import columns (CRIME_COLUMNS) as select columns; a past day's finalised state
    and risk grade may stand in for the current ones. ``holder`` is the officer table's
    collar."""
    c = crime_table
    return [
        c.c.reference,
        c.c.crime_type,
        c.c.reported_on,
        team_table.c.name.label("team"),
        c.c.required_level,
        officer_table.c.collar.label("holder"),
        c.c.victim_enhanced,
        c.c.victim_category,
        c.c.finalised_on if finalised_on is None else finalised_on,
        c.c.outcome if outcome is None else outcome,
        c.c.risk if risk is None else risk.label("risk"),
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
    risk: str | None = None
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
    if f.risk:
        query = query.where(c.c.risk == f.risk)
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
    if f.team:
        resolve_team(conn, f.team)  # an unknown team is refused, not an empty list
    query = filtered(crime_rows(), f).order_by(crime_table.c.reported_on, crime_table.c.reference)
    if limit:
        query = query.limit(limit)
    return (dict(row._mapping) for row in conn.execution_options(yield_per=2000).execute(query))


def record_query() -> Select[Any]:
    """One crime's record: the import columns and what the commands need beside them
    (``find``; the named statement ``crime.record``, ``crime show``). Callers add the WHERE."""
    c = crime_table
    return crime_rows().add_columns(
        c.c.id,
        c.c.team_id,
        c.c.holder_id,
        c.c.level_defaulted,
        c.c.victim_update_every,
        c.c.base_level,
    )


def find(conn: Connection, reference: str) -> dict[str, Any]:
    ref = reference.strip()
    row = conn.execute(record_query().where(crime_table.c.reference == ref)).first()
    if row is None:
        raise NotFound.crime(ref)
    return dict(row._mapping)


def add(
    conn: Connection, data: CrimeCreate | Mapping[str, Any], *, actor: str, at: datetime
) -> dict[str, Any]:
    """Add one unallocated live crime (one ORM row and its log entry). ``data`` may be
    the import columns, already validated (taken as they are)."""
    from caseload.domain.inputs import CrimeCreate
    from caseload.store.models import Crime
    from caseload.store.session import session_on

    if not isinstance(data, CrimeCreate):
        data = CrimeCreate.model_construct(**data)
    ref = data.reference
    if conn.execute(select(crime_table.c.id).where(crime_table.c.reference == ref)).first():
        raise InputError(f"A crime with reference {ref} already exists.")
    team, team_name = resolve_team(conn, data.team)
    level = data.required_level
    defaulted = False
    if not level:
        level, defaulted = required_level_for(data.crime_type, matrix(conn))
    row: dict[str, Any] = {
        "reference": ref,
        "crime_type": data.crime_type,
        "required_level": level,
        "level_defaulted": defaulted,
        "reported_on": data.reported_on,
        "team_id": team,
        "victim_enhanced": bool(data.victim_enhanced),
        "created_at": at,
    }
    with session_on(conn) as session:
        session.add(Crime(**row))
    log.append(
        conn,
        at=at,
        actor=actor,
        kind="crime-add",
        crime_ref=ref,
        detail={
            "crime_type": row["crime_type"],
            "required_level": level,
            "team": team_name,
            "defaulted": defaulted,
        },
    )
    return {**row, "team": team_name}


def finalise(
    conn: Connection, reference: str, data: CrimeFinalise, *, actor: str, at: datetime
) -> dict[str, Any]:
    """Record the crime's outcome (through the ORM: the crime's row and its new
    ``finalisation`` interval) and the log entry."""
    from caseload.store.models import Crime, Finalisation
    from caseload.store.session import session_on

    crime = find(conn, reference)
    on, outcome = data.finalised_on, data.outcome
    if crime["finalised_on"] is not None:
        raise InputError(
            f"Crime {crime['reference']} was already finalised on {crime['finalised_on']}."
        )
    if on < crime["reported_on"]:
        raise InputError(
            f"Crime {crime['reference']} cannot be finalised before it was reported "
            f"({crime['reported_on']})."
        )
    crime_id = int(crime["id"])
    with session_on(conn) as session:
        row = session.get_one(Crime, crime_id)
        row.finalised_on, row.outcome = on, outcome
        session.add(Finalisation(crime_id=crime_id, finalised_on=on, outcome=outcome, actor=actor))
    log.append(
        conn,
        at=at,
        actor=actor,
        kind="finalise",
        crime_ref=crime["reference"],
        collar=crime["holder"],
        reason=data.reason,
        detail={"outcome": outcome, "on": on.isoformat()},
    )
    return crime


def reopen(
    conn: Connection, reference: str, data: CrimeReopen, *, actor: str, at: datetime
) -> dict[str, Any]:
    """Make a finalised crime live again. Its last holder gets it back under the
    allocation rules (``store.allocation.check_holdings``: a block-mode breach refuses
    it, exit 3, unless ``data.override``); ``data.unallocated`` reopens it without a
    holder (the holding is closed, as ``unassign`` does). Returns the crime's record
    with ``holding`` (the rules' outcome, or None when no one gets it back) and
    ``taken_from`` (the collar ``unallocated`` took it from)."""
    from sqlmodel import col
    from sqlmodel import select as orm_select

    from caseload.store.allocation import HoldingChange, check_holdings
    from caseload.store.allocation import unassign as unassign_crime
    from caseload.store.models import Crime, Finalisation
    from caseload.store.session import session_on

    crime = find(conn, reference)
    on, reason, unallocated = data.reopened_on, data.reason, data.unallocated
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
        holding = check_holdings(conn, [change], at=at, override=data.override)[0]
    with session_on(conn) as session:
        row = session.get_one(Crime, int(crime["id"]))
        row.finalised_on, row.outcome = None, None
        closing = session.exec(
            orm_select(Finalisation).where(
                Finalisation.crime_id == row.id, col(Finalisation.reopened_on).is_(None)
            )
        ).all()
        for interval in closing:
            interval.reopened_on = on
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


NOT_GIVEN = "not given"


def _author(actor: Any) -> Any:
    """A review's or update's author as shown: "not given" where an import did not say."""
    from sqlalchemy import case

    return case((actor == "", NOT_GIVEN), else_=actor).label("actor")


def story_query(section: str, crime: Any) -> Select[Any]:
    """One section of a crime's story (``store.records.STORY``: its allocation intervals,
    risk grades, reviews, key events, victim updates or referrals), oldest first; ``crime``
    is the crime's id, a value or a bound parameter (the named statements ``crime.SECTION``)."""
    from caseload.store.risk import history_query

    a, o, f = allocation_table, officer_table, referral_table
    review, event, victim = review_table, event_table, victim_update_table
    if section == "allocations":
        return (
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
            .where(a.c.crime_id == crime)
            .order_by(a.c.start_at, a.c.id)
        )
    if section == "risk_grades":
        return history_query(crime)
    if section == "reviews":
        return (
            select(
                review.c.reviewed_on,
                _author(review.c.actor),
                review.c.note,
                review.c.next_due,
                review.c.quality,
                review.c.imported_by,
            )
            .where(review.c.crime_id == crime)
            .order_by(review.c.reviewed_on, review.c.id)
        )
    if section == "events":
        return (
            select(event.c.occurred_on, event.c.kind, event.c.actor)
            .where(event.c.crime_id == crime)
            .order_by(event.c.occurred_on, event.c.id)
        )
    if section == "victim_updates":
        return (
            select(
                victim.c.updated_on, _author(victim.c.actor), victim.c.note, victim.c.imported_by
            )
            .where(victim.c.crime_id == crime)
            .order_by(victim.c.updated_on, victim.c.id)
        )
    if section == "victim_referrals":
        return (
            select(f.c.referred_on, f.c.declined, _author(f.c.actor), f.c.imported_by)
            .where(f.c.crime_id == crime)
            .order_by(f.c.referred_on, f.c.id)
        )
    raise ValueError(f"no story section {section!r}")


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


# --- correcting a crime --------------------------------------------------------------------


@dataclass
class Correction:
    """What ``update_crime`` changed ({field: (old, new)}) and what the user must be told."""

    reference: str
    changed: dict[str, tuple[Any, Any]]
    warnings: list[str]


def update_crime(
    conn: Connection, reference: str, data: CrimeUpdate, *, actor: str, at: datetime
) -> Correction:
    """Correct a crime's type, team, report date, required level or enhanced flag (the
    fields ``data`` gives, ``CrimeUpdate.changes()``): the crime's row through the ORM and
    the ``crime-update`` log entry with old and new values. A level above the holder's
    accreditation is refused in block mode unless ``data.override`` (``_level_rule``); a
    held crime moved to another team keeps its holder, with a warning."""
    from caseload.store.models import Crime
    from caseload.store.session import session_on

    crime = find(conn, reference)
    new = data.changes()
    reason, override = data.reason, data.override
    if "team" in new:
        team_id, new["team"] = resolve_team(conn, new["team"])
    if "reported_on" in new:
        _check_reported(conn, crime, new["reported_on"], today=at.date())
    changed = {key: (crime[key], value) for key, value in new.items() if crime[key] != value}
    if not changed:
        return Correction(crime["reference"], {}, [])
    warnings: list[str] = []
    if "required_level" in changed:
        warnings += _level_rule(conn, crime, new["required_level"], override=override)
    if "crime_type" in changed and "required_level" not in new:
        found = matrix(conn).get(new["crime_type"].strip().lower())
        if found and found != crime["required_level"]:
            warnings.append(
                f"the allocation matrix gives {found} for {new['crime_type']}; "
                f"{crime['reference']} keeps {crime['required_level']} (give --level to change it)"
            )
    if "team" in changed and crime["holder_id"] is not None:
        holder_team = _officer_team(conn, int(crime["holder_id"]))
        if holder_team != new["team"]:
            warnings.append(
                f"{crime['reference']} is held by {crime['holder']}, who stays its holder but "
                f"is in {holder_team}, not {new['team']} (reassign it with 'caseload assign')"
            )
    row: dict[str, Any] = {k: v for k, (_, v) in changed.items() if k != "team"}
    if "team" in changed:
        row["team_id"] = team_id
    if "required_level" in changed:
        # a level set by hand is the crime's own; its risk no longer raises it
        row["level_defaulted"], row["base_level"] = False, None
    if changed.get("victim_enhanced", (None, True))[1] is False and crime["victim_category"]:
        row["victim_category"] = None  # a standard victim has no enhanced category
        changed["victim_category"] = (crime["victim_category"], None)
    with session_on(conn) as session:
        record = session.get_one(Crime, int(crime["id"]))
        for key, value in row.items():
            setattr(record, key, value)
    detail: dict[str, Any] = {k: [_shown(o), _shown(n)] for k, (o, n) in changed.items()}
    if warnings:
        detail["warnings"] = warnings
    if override and "required_level" in changed and warnings:
        detail["override"] = override
    log.append(
        conn,
        at=at,
        actor=actor,
        kind="crime-update",
        crime_ref=crime["reference"],
        collar=crime["holder"],
        reason=reason,
        detail=detail,
    )
    return Correction(crime["reference"], changed, warnings)


def _shown(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _level_rule(
    conn: Connection, crime: Mapping[str, Any], level: str, *, override: str | None
) -> list[str]:
    """The accreditation rule for the holder of a crime whose level is raised: PolicyRefused
    in block mode without an override; else the warning to give and record."""
    from caseload.domain.rules import check_level_raise
    from caseload.errors import PolicyRefused
    from caseload.store.allocation import officer_facts
    from caseload.store.team_policy import load_policies

    if crime["holder_id"] is None or crime["finalised_on"] is not None:
        return []
    facts, live = officer_facts(conn, [int(crime["holder_id"])])[int(crime["holder_id"])]
    breaches = check_level_raise(
        facts,
        live=live,
        old_level=str(crime["required_level"]),
        new_level=level,
        policy=load_policies(conn),
    )
    if not breaches:
        return []
    breach = breaches[0]
    if breach.blocking and not override:
        raise PolicyRefused(
            f"Refused by policy: {breach.text(done=False)}. Nothing was changed; give "
            "--override REASON to record why, or reassign the crime first."
        )
    return [breach.text()]


def _officer_team(conn: Connection, officer_id: int) -> str:
    query = (
        select(team_table.c.name)
        .join(officer_table, officer_table.c.team_id == team_table.c.id)
        .where(officer_table.c.id == officer_id)
    )
    return str(conn.execute(query).scalar_one())


def _check_reported(conn: Connection, crime: Mapping[str, Any], on: date, *, today: date) -> None:
    """A report date cannot be in the future, nor after the crime was finalised or after
    anything recorded about it (reviews, key events, victim updates)."""
    from caseload.domain.values import not_future

    try:
        not_future(on, today=today)
    except ValueError as exc:
        raise InputError(f"The report date {exc}.") from None
    if crime["finalised_on"] is not None and on > crime["finalised_on"]:
        raise InputError(
            f"{crime['reference']} was finalised on {crime['finalised_on']}; it cannot have "
            f"been reported after that ({on})."
        )
    firsts = [
        select(func.min(column)).where(table.c.crime_id == crime["id"]).scalar_subquery()
        for table, column in (
            (review_table, review_table.c.reviewed_on),
            (event_table, event_table.c.occurred_on),
            (victim_update_table, victim_update_table.c.updated_on),
            (referral_table, referral_table.c.referred_on),
        )
    ]
    earliest = [d for d in conn.execute(select(*firsts)).one() if d is not None]
    if earliest and on > min(earliest):
        raise InputError(
            f"{crime['reference']} has records dated {min(earliest)}; it cannot have been "
            f"reported after that ({on})."
        )
