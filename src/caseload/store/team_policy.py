"""Per-team policy: the store's overrides of a setting for one team.

``load_policies`` (a SQLAlchemy connection) and ``policies_of`` (any executor: the
quick sqlite3 one too, through the named statements ``policy`` and ``policy.teams``)
read the force's settings and the teams' overrides as one ``domain.team_policy.Policies``.
``set_team_setting`` and ``clear_team_setting`` write one override row (the model,
through a session on the write connection) and log it as a ``policy`` decision whose
detail names the team.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from caseload.domain.team_policy import Policies, policies_from_rows

if TYPE_CHECKING:  # the quick executor reads the policies without SQLAlchemy
    from sqlalchemy import Select
    from sqlalchemy.engine import Connection

    from caseload.domain.inputs import PolicyChange
    from caseload.store.executor import Executor


def team_policy_query() -> Select[Any]:
    """Every team override as (team id, name, value text) rows."""
    from sqlalchemy import select

    from caseload.store.models import team_policy_table as tp

    return select(tp.c.team_id, tp.c.name, tp.c.value).order_by(tp.c.team_id, tp.c.name)


def policies_of(executor: Executor | Connection) -> Policies:
    """The force's policy and every team's overrides, through named statements."""
    from caseload.domain.policy import stored_policy
    from caseload.store.executor import executor_of

    found = executor_of(executor)
    return policies_from_rows(stored_policy(found.rows("policy")), found.rows("policy.teams"))


def load_policies(conn: Connection) -> Policies:
    """The force's policy and every team's overrides (two small reads)."""
    from caseload.store.reference import load_policy

    return policies_from_rows(load_policy(conn), conn.execute(team_policy_query()))


def stored_force_names(conn: Connection) -> set[str]:
    """The settings the force has stored (the others are at their defaults)."""
    from caseload.store.reference import policy_query

    return {str(name) for name, _ in conn.execute(policy_query())}


def set_team_setting(
    conn: Connection,
    data: PolicyChange,
    *,
    team_id: int,
    team: str,
    actor: str,
    at: datetime,
) -> tuple[object, object] | None:
    """Store one team's value of a setting and log it; returns (old, new), the values
    that applied to the team before and after, or None when the team already has this
    override (nothing written)."""
    from caseload.store import log
    from caseload.store.models import TeamPolicySetting
    from caseload.store.session import session_on

    key, value = data.name, data.value
    policies = load_policies(conn)
    overridden = policies.overrides.get(team_id, {})
    if overridden.get(key) == value:
        return None
    old = getattr(policies.of(team_id), key)
    with session_on(conn) as session:
        row = session.get(TeamPolicySetting, (team_id, key))
        if row is None:
            session.add(TeamPolicySetting(team_id=team_id, name=key, value=str(value)))
        else:
            row.value = str(value)
    log.append(
        conn,
        at=at,
        actor=actor,
        kind="policy",
        reason=data.reason,
        detail={"setting": key, "team": team, "team_id": team_id, "old": old, "new": value},
    )
    return old, value


def clear_team_setting(
    conn: Connection,
    name: str,
    *,
    team_id: int,
    team: str,
    actor: str,
    at: datetime,
    reason: str = "",
) -> tuple[object, object] | None:
    """Remove one team's override of a setting (the force's value applies again) and log
    it; returns (old, new), or None when the team has no override of it."""
    from sqlalchemy import delete

    from caseload.store import log
    from caseload.store.models import team_policy_table as tp

    policies = load_policies(conn)
    overridden = policies.overrides.get(team_id, {})
    if name not in overridden:
        return None
    old, new = overridden[name], getattr(policies.force, name)
    conn.execute(delete(tp).where(tp.c.team_id == team_id, tp.c.name == name))
    log.append(
        conn,
        at=at,
        actor=actor,
        kind="policy",
        reason=reason,
        detail={
            "setting": name,
            "team": team,
            "team_id": team_id,
            "old": old,
            "new": new,
            "cleared": True,
        },
    )
    return old, new
