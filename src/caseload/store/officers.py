"""Officer records: add, update, change status, find and list. Never deleted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, select
from sqlalchemy.engine import Connection

from caseload.domain.rules import HoldingBreach, OfficerFacts
from caseload.errors import InputError, NotFound
from caseload.store import log
from caseload.store.models import crime_table, officer_table, team_table
from caseload.store.officer_history import sync as sync_history
from caseload.store.records import OFFICER_COLUMNS as OFFICER_COLUMNS
from caseload.store.reference import resolve_team
from caseload.store.supervisors import supervisor_collar

if TYPE_CHECKING:  # building the input models takes ~30 ms: only the writing commands pay it
    from caseload.domain.inputs import OfficerCreate, OfficerStatus
    from caseload.domain.inputs import OfficerUpdate as OfficerUpdateInput


def officer_rows() -> Select[Any]:
    o, t = officer_table, team_table
    return select(
        o.c.collar,
        o.c.name,
        t.c.name.label("team"),
        o.c.rank,
        o.c.accreditation,
        o.c.investigator_since,
        o.c.status,
        o.c.capacity,
        o.c.trainee,
        supervisor_collar(),
    ).join(t, t.c.id == o.c.team_id)


def record_query() -> Select[Any]:
    """One officer's record (OFFICER_COLUMNS) with its id, team id and live crimes, the
    collar bound as ``collar`` (the named statement ``officer.record``, ``officer show``)."""
    from sqlalchemy import String, bindparam

    c = crime_table
    live = (
        select(func.count())
        .where(c.c.holder_id == officer_table.c.id, c.c.finalised_on.is_(None))
        .scalar_subquery()
        .label("live")
    )
    return (
        officer_rows()
        .add_columns(officer_table.c.id, officer_table.c.team_id, live)
        .where(officer_table.c.collar == bindparam("collar", "AA00001", String()))
    )


def find(conn: Connection, collar: str) -> dict[str, Any]:
    """One officer's record with its id and team name; NotFound if no such collar."""
    row = conn.execute(
        officer_rows()
        .add_columns(officer_table.c.id, officer_table.c.team_id)
        .where(officer_table.c.collar == collar.strip().upper())
    ).first()
    if row is None:
        raise NotFound.officer(collar.strip().upper())
    return dict(row._mapping)


def list_officers(
    conn: Connection,
    *,
    team: str | None = None,
    status: str | None = None,
    accreditation: str | None = None,
) -> list[dict[str, Any]]:
    query = officer_rows()
    if team:
        query = query.where(officer_table.c.team_id == resolve_team(conn, team)[0])
    if status:
        query = query.where(officer_table.c.status == status)
    if accreditation:
        query = query.where(officer_table.c.accreditation == accreditation)
    query = query.order_by(team_table.c.name, officer_table.c.collar)
    return [dict(row._mapping) for row in conn.execute(query)]


def add(
    conn: Connection, data: OfficerCreate | Mapping[str, Any], *, actor: str, at: datetime
) -> str:
    """Add one officer to an existing team (one ORM row in the caller's transaction,
    and its log entry); returns the team's name as stored. ``data`` may be the import
    columns, already validated (taken as they are)."""
    from caseload.domain.inputs import OfficerCreate

    if not isinstance(data, OfficerCreate):
        data = OfficerCreate.model_construct(**data)
    from caseload.store.models import Officer
    from caseload.store.session import session_on

    collar = data.collar
    if conn.execute(select(officer_table.c.id).where(officer_table.c.collar == collar)).first():
        raise InputError(f"An officer with collar {collar} already exists.")
    values = data.model_dump()
    team_id, team_name = resolve_team(conn, data.team)
    with session_on(conn) as session:
        session.add(Officer(**{k: v for k, v in values.items() if k != "team"}, team_id=team_id))
    added = conn.execute(select(officer_table.c.id).where(officer_table.c.collar == collar))
    sync_history(conn, on=at.date(), officer_ids=[int(added.scalar_one())])
    values["team"] = team_name
    log.append(
        conn,
        at=at,
        actor=actor,
        kind="officer-add",
        collar=collar,
        detail={k: str(v) for k, v in values.items()},
    )
    return team_name


@dataclass
class OfficerChanged:
    """What ``update_officer`` changed: {field: (old, new)}, and the warnings it raised
    about what the officer already holds (``domain.rules.officer_change_breaches``)."""

    diff: dict[str, tuple[Any, Any]]
    warnings: list[str] = field(default_factory=list)
    team: str = ""  # the officer's team after the change (for the rebalance hint)


def officer_facts_of(record: Mapping[str, Any]) -> OfficerFacts:
    """The rules' facts from an officer record (the officer table's or import columns)."""
    return OfficerFacts(
        collar=str(record["collar"]),
        name=str(record["name"]),
        rank=str(record.get("rank") or ""),
        accreditation=str(record["accreditation"]),
        status=str(record["status"]),
        capacity=record["capacity"],
        trainee=bool(record["trainee"]),
        investigator_since=record["investigator_since"],
        team_id=record.get("team_id"),
    )


def change_breaches(
    conn: Connection,
    changes: Sequence[tuple[int, Mapping[str, Any], Mapping[str, Any]]],
    *,
    on: date,
) -> dict[int, list[HoldingBreach]]:
    """For (officer id, record before, record after): the breaches the change puts their
    live crimes in, by officer id (only those with any). One grouped query for all."""
    from caseload.domain.rules import RULE_FIELDS, officer_change_breaches
    from caseload.store.team_policy import load_policies

    relevant = [
        (officer_id, old, new)
        for officer_id, old, new in changes
        if any(old[key] != new[key] for key in (*RULE_FIELDS, "team_id") if key in old)
    ]
    if not relevant:
        return {}
    policy = load_policies(conn)
    held = live_by_level(conn, [officer_id for officer_id, _, _ in relevant])
    found: dict[int, list[HoldingBreach]] = {}
    for officer_id, old, new in relevant:
        breaches = officer_change_breaches(
            officer_facts_of(old),
            officer_facts_of(new),
            held.get(officer_id, {}),
            on=on,
            policy=policy,
        )
        if breaches:
            found[officer_id] = breaches
    return found


def breach_detail(breaches: Sequence[HoldingBreach]) -> dict[str, Any]:
    """What an officer change's log entry records of the breaches it made."""
    if not breaches:
        return {}
    return {"warnings": [b.text() for b in breaches], "codes": [b.code for b in breaches]}


def update_officer(
    conn: Connection,
    collar: str,
    changes: OfficerUpdateInput | OfficerStatus | Mapping[str, Any],
    *,
    actor: str,
    at: datetime,
    kind: str = "officer-update",
    reason: str = "",
) -> OfficerChanged:
    """Apply changes (import column names) to one officer. A change that puts what they
    already hold in breach of the allocation rules (over the limit, above their
    accreditation, not active, past capacity) is made, and warned of and recorded.
    ``changes``: an ``OfficerUpdate``'s fields given, an ``OfficerStatus`` (its reason
    recorded), or the columns an import row changes."""
    from caseload.domain.inputs import OfficerStatus
    from caseload.domain.inputs import OfficerUpdate as OfficerUpdateInput

    if isinstance(changes, OfficerUpdateInput):
        changes = changes.changes()
    elif isinstance(changes, OfficerStatus):
        reason = reason or changes.reason
        changes = {"status": changes.status}
    from caseload.store.models import Officer
    from caseload.store.session import session_on

    current = find(conn, collar)
    values = dict(changes)
    if "team" in values:
        values["team_id"], values["team"] = resolve_team(conn, values["team"])
        changes = {**changes, "team": values["team"]}
    diff = {
        key: (current[key], changes[key]) for key in changes if current.get(key) != changes[key]
    }
    if not diff:
        return OfficerChanged({}, team=str(current["team"]))
    after = {**current, **{key: new for key, (_, new) in diff.items()}}
    if "team_id" in values:  # a move to another team: its policy judges what they hold
        after["team_id"] = values["team_id"]
    breaches = change_breaches(conn, [(int(current["id"]), current, after)], on=at.date())
    made = breaches.get(int(current["id"]), [])
    with session_on(conn) as session:
        officer = session.get(Officer, int(current["id"]))
        assert officer is not None  # found above, in this transaction
        for key, value in values.items():
            if key != "team":
                setattr(officer, key, value)
    sync_history(conn, on=at.date(), officer_ids=[int(current["id"])])
    log.append(
        conn,
        at=at,
        actor=actor,
        kind=kind,
        collar=current["collar"],
        reason=reason,
        detail={
            **{k: [str(o), str(n)] for k, (o, n) in diff.items()},
            **breach_detail(made),
        },
    )
    return OfficerChanged(diff, [b.text() for b in made], team=str(after["team"]))


def live_by_level(conn: Connection, officer_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Each officer's live crimes counted by required level (one grouped query)."""
    from caseload.store.sqlfunc import one_of

    crime = crime_table
    found: dict[int, dict[str, int]] = {}
    for holder, level, count in conn.execute(
        select(crime.c.holder_id, crime.c.required_level, func.count())
        .where(one_of(conn, crime.c.holder_id, list(officer_ids)), crime.c.finalised_on.is_(None))
        .group_by(crime.c.holder_id, crime.c.required_level)
    ):
        found.setdefault(int(holder), {})[str(level)] = int(count)
    return found


def live_count(conn: Connection, officer_id: int) -> int:
    crime = crime_table
    return int(
        conn.execute(
            select(func.count())
            .select_from(crime)
            .where(crime.c.holder_id == officer_id, crime.c.finalised_on.is_(None))
        ).scalar_one()
    )
