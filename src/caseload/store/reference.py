"""Reference data: teams (created by ``team add`` or by an import that names them), the
allocation matrix, and policy."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, case, func, insert, literal, select, union_all, update
from sqlalchemy.engine import Connection

from caseload.domain.levels import DEFAULT_REQUIRED_LEVEL
from caseload.domain.policy import Policy, stored_policy, stored_value
from caseload.errors import InputError
from caseload.store import log
from caseload.store.models import (
    crime_table,
    matrix_risk_table,
    matrix_table,
    policy_table,
    team_table,
)

if TYPE_CHECKING:  # building the input models takes ~30 ms: only the writing commands pay it
    from caseload.domain.inputs import PolicyChange, TeamCreate, TeamRename

# --- teams ---------------------------------------------------------------------------------


def teams_query() -> Select[Any]:
    """Every team's id and name (names compare case-insensitively: ``team_ids``)."""
    return select(team_table.c.id, team_table.c.name)


def team_ids(conn: Connection) -> dict[str, int]:
    """Every team's id by its name folded to lower case."""
    return {str(name).lower(): int(team_id) for team_id, name in conn.execute(teams_query())}


def ensure_teams(conn: Connection, names: Iterable[str], known: dict[str, int]) -> dict[str, int]:
    """Create teams not yet known (names compare case-insensitively); update ``known``."""
    for name in names:
        key = name.lower()
        if key not in known:
            result = conn.execute(insert(team_table).values(name=name))
            known[key] = int(result.inserted_primary_key[0])  # type: ignore[index]
    return known


def resolve_team(conn: Connection, name: str) -> tuple[int, str]:
    """The id and stored name of the team called ``name`` (any case): the one resolver
    every command that names a team uses. NotFound (exit 2) names the nearest team."""
    from caseload.domain.teams import pick

    return pick([(int(tid), str(tname)) for tid, tname in conn.execute(teams_query())], name)


def team_id(conn: Connection, name: str) -> int:
    return resolve_team(conn, name)[0]


def team_names(conn: Connection) -> list[str]:
    return [str(name) for _, name in conn.execute(teams_query())]


def add_team(conn: Connection, data: TeamCreate, *, actor: str, at: datetime) -> str | None:
    """Create a team (one ORM row, logged); returns an existing name it looks like a typo
    of, if any."""
    from caseload.domain.teams import key, nearest
    from caseload.store.models import Team
    from caseload.store.session import session_on

    name = data.name
    known = team_names(conn)
    for existing in known:
        if key(existing) == key(name):
            raise InputError(f"A team called '{existing}' already exists.")
    with session_on(conn) as session:
        session.add(Team(name=name))
    log.append(conn, at=at, actor=actor, kind="team-add", detail={"team": name})
    return nearest(name, known)


def rename_team(conn: Connection, data: TeamRename, *, actor: str, at: datetime) -> str:
    """Rename a team (its officers and crimes go with it; logged); returns the old name."""
    from caseload.domain.teams import key
    from caseload.store.models import Team
    from caseload.store.session import session_on

    new = data.new
    found, current = resolve_team(conn, data.old)
    for existing in team_names(conn):
        if key(existing) == key(new) and existing != current:
            raise InputError(f"A team called '{existing}' already exists; choose another name.")
    if current == new:
        raise InputError(f"The team is already called '{current}'.")
    with session_on(conn) as session:
        team = session.get(Team, found)
        assert team is not None  # resolved above, in this transaction
        team.name = new
    log.append(
        conn,
        at=at,
        actor=actor,
        kind="team-rename",
        reason=data.reason,
        detail={"what": "team", "old": current, "new": new},
    )
    return current


def list_teams(conn: Connection) -> list[dict[str, object]]:
    """Teams with officer counts and live crime counts: two grouped aggregates. Active
    today: the day's absences count (``store.officer_history.officers_on``)."""
    from caseload.store.officer_history import officers_on

    o = officers_on()
    officers = (
        select(
            o.c.team_id,
            func.count().label("officers"),
            func.sum(case((o.c.status == "active", 1), else_=0)).label("active"),
        )
        .group_by(o.c.team_id)
        .subquery()
    )
    crimes = (
        select(
            crime_table.c.team_id,
            func.count().label("live"),
            func.sum(case((crime_table.c.holder_id.is_(None), 1), else_=0)).label("unallocated"),
        )
        .where(crime_table.c.finalised_on.is_(None))
        .group_by(crime_table.c.team_id)
        .subquery()
    )
    query = (
        select(
            team_table.c.name.label("team"),
            func.coalesce(officers.c.officers, 0).label("officers"),
            func.coalesce(officers.c.active, 0).label("active"),
            func.coalesce(crimes.c.live, 0).label("live"),
            func.coalesce(crimes.c.unallocated, 0).label("unallocated"),
        )
        .outerjoin(officers, officers.c.team_id == team_table.c.id)
        .outerjoin(crimes, crimes.c.team_id == team_table.c.id)
        .order_by(team_table.c.name)
    )
    return [dict(row._mapping) for row in conn.execute(query)]


# --- allocation matrix ---------------------------------------------------------------------


def matrix(conn: Connection) -> dict[str, str]:
    """Required level by crime type folded to lower case."""
    return {
        str(key): str(level)
        for key, level in conn.execute(
            select(matrix_table.c.type_key, matrix_table.c.required_level)
        )
    }


def required_level_for(crime_type: str, levels: dict[str, str]) -> tuple[str, bool]:
    """The matrix's level for a crime type, and whether the default had to be used."""
    found = levels.get(crime_type.strip().lower())
    return (found, False) if found else (DEFAULT_REQUIRED_LEVEL, True)


def risk_matrix(conn: Connection) -> dict[tuple[str, str], str]:
    """The matrix's risk rows: required level by (crime type folded to lower case, grade)."""
    r = matrix_risk_table
    return {
        (str(key), str(risk)): str(level)
        for key, risk, level in conn.execute(select(r.c.type_key, r.c.risk, r.c.required_level))
    }


def list_matrix(conn: Connection) -> list[dict[str, object]]:
    """Every row: a type's own row (risk blank), then its risk rows, by type."""
    m, r = matrix_table, matrix_risk_table
    plain = select(m.c.type_key, m.c.crime_type, literal("").label("risk"), m.c.required_level)
    graded = select(r.c.type_key, r.c.crime_type, r.c.risk, r.c.required_level)
    rows = [dict(row._mapping) for row in conn.execute(union_all(plain, graded))]
    order = {"": 0, "medium": 1, "high": 2}
    rows.sort(key=lambda row: (str(row["type_key"]), order.get(str(row["risk"]), 3)))
    for row in rows:
        del row["type_key"]
    return rows


MatrixRow = tuple[str, str] | tuple[str, str, "str | None"]


def set_matrix(
    conn: Connection, entries: Iterable[MatrixRow], *, actor: str, at: datetime
) -> tuple[int, int]:
    """Set crime type (at a risk grade, or its own row when the grade is None or standard)
    -> required level; returns (added, changed). Each change is logged."""
    current = {
        (str(row.type_key), ""): (str(row.crime_type), str(row.required_level))
        for row in conn.execute(select(matrix_table))
    }
    current.update(
        {
            (str(row.type_key), str(row.risk)): (str(row.crime_type), str(row.required_level))
            for row in conn.execute(select(matrix_risk_table))
        }
    )
    added = changed = 0
    for entry in entries:
        crime_type, level = entry[0], entry[1]
        risk = entry[2] if len(entry) > 2 else None
        grade = "" if risk in (None, "", "standard") else str(risk)
        key = crime_type.lower()
        old = current.get((key, grade))
        table = matrix_risk_table if grade else matrix_table
        where = [table.c.type_key == key] + ([table.c.risk == grade] if grade else [])
        if old is None:
            conn.execute(
                insert(table).values(
                    type_key=key,
                    crime_type=crime_type,
                    required_level=level,
                    **({"risk": grade} if grade else {}),
                )
            )
            added += 1
        elif old[1] != level or old[0] != crime_type:
            conn.execute(
                update(table).where(*where).values(crime_type=crime_type, required_level=level)
            )
            changed += 1
        else:
            continue
        current[(key, grade)] = (crime_type, level)
        detail: dict[str, object] = {
            "crime_type": crime_type,
            "old": old[1] if old else None,
            "new": level,
        }
        if grade:
            detail["risk"] = grade
        log.append(conn, at=at, actor=actor, kind="matrix", detail=detail)
    return added, changed


# --- policy --------------------------------------------------------------------------------


def policy_query() -> Select[Any]:
    """The stored policy settings as (name, value text) rows (``domain.policy.stored_policy``
    reads them)."""
    return select(policy_table.c.name, policy_table.c.value)


def load_policy(conn: Connection) -> Policy:
    return stored_policy(conn.execute(policy_query()))


def current_setting(conn: Connection, key: str) -> int | str:
    """One setting as stored, even where the row holds a value caseload cannot use."""
    return stored_value(conn.execute(policy_query()), key)


def set_policy(
    conn: Connection,
    data: PolicyChange | str,
    value_text: str = "",
    *,
    actor: str,
    at: datetime,
    reason: str = "",
) -> tuple[object, object]:
    """Store one validated setting (one ORM row); log old and new values. Returns (old, new).
    ``data`` may be the setting's name, with ``value_text`` and ``reason``."""
    if isinstance(data, str):
        from caseload.domain.inputs import PolicyChange, validated

        data = validated(PolicyChange, name=data, value=value_text, reason=reason)
    from caseload.store.models import PolicySetting
    from caseload.store.session import session_on

    key, value = data.name, data.value
    old = current_setting(conn, key)
    with session_on(conn) as session:
        row = session.get(PolicySetting, key)
        if row is None:
            session.add(PolicySetting(name=key, value=str(value)))
        else:
            row.value = str(value)
    log.append(
        conn,
        at=at,
        actor=actor,
        kind="policy",
        reason=data.reason,
        detail={"setting": key, "old": old, "new": value},
    )
    return old, value
