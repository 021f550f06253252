"""Officer records: add, update, change status, find and list. Never deleted."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.engine import Connection

from caseload.errors import InputError, NotFound
from caseload.store import log
from caseload.store.models import crime_table, officer_table, team_table
from caseload.store.reference import resolve_team

# The import columns, in the order `officer list --format csv` writes them.
OFFICER_COLUMNS = (
    "collar",
    "name",
    "team",
    "rank",
    "accreditation",
    "investigator_since",
    "status",
    "capacity",
    "trainee",
)


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
    ).join(t, t.c.id == o.c.team_id)


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


def add(conn: Connection, values: Mapping[str, Any], *, actor: str, at: datetime) -> str:
    """Add one officer (values as the import columns, already validated) to an existing
    team; returns the team's name as stored."""
    collar = values["collar"]
    if conn.execute(select(officer_table.c.id).where(officer_table.c.collar == collar)).first():
        raise InputError(f"An officer with collar {collar} already exists.")
    row = {k: v for k, v in values.items() if k != "team"}
    row["team_id"], team_name = resolve_team(conn, values["team"])
    values = {**values, "team": team_name}
    conn.execute(insert(officer_table).values(**row))
    log.append(
        conn,
        at=at,
        actor=actor,
        kind="officer-add",
        collar=collar,
        detail={k: str(v) for k, v in values.items()},
    )
    return team_name


def update_officer(
    conn: Connection,
    collar: str,
    changes: Mapping[str, Any],
    *,
    actor: str,
    at: datetime,
    kind: str = "officer-update",
    reason: str = "",
) -> dict[str, tuple[Any, Any]]:
    """Apply changes (import column names) to one officer; returns {field: (old, new)}."""
    current = find(conn, collar)
    values = dict(changes)
    if "team" in values:
        values["team_id"], values["team"] = resolve_team(conn, values["team"])
        changes = {**changes, "team": values["team"]}
    diff = {
        key: (current[key], changes[key]) for key in changes if current.get(key) != changes[key]
    }
    if not diff:
        return {}
    row = {k: v for k, v in values.items() if k != "team"}
    conn.execute(update(officer_table).where(officer_table.c.id == current["id"]).values(**row))
    log.append(
        conn,
        at=at,
        actor=actor,
        kind=kind,
        collar=current["collar"],
        reason=reason,
        detail={k: [str(o), str(n)] for k, (o, n) in diff.items()},
    )
    return diff


def live_count(conn: Connection, officer_id: int) -> int:
    crime = crime_table
    return int(
        conn.execute(
            select(func.count())
            .select_from(crime)
            .where(crime.c.holder_id == officer_id, crime.c.finalised_on.is_(None))
        ).scalar_one()
    )
