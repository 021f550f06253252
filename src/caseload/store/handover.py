"""A handover: the plan that moves every live crime one officer holds, and applying it.

``handover_plan`` loads what a rebalance of the officer's crimes' teams loads (the
loaders of ``store.engine_queries``) and plans it with ``domain.planning.plan_rebalance``
in handover mode (step 1 only, the officer ``leaving``): the same eligibility, limits
(each team's policy), linked crimes kept together and enhanced-service victims' crimes
placed first. ``apply_handover`` applies it through ``engine_queries.apply_plan``, the
path a rebalance is applied by, with the new holdings starting on the handover's day.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from caseload.domain.planning import Plan, plan_rebalance
from caseload.errors import InputError
from caseload.store.models import allocation_table, crime_table


def handover_plan(conn: Connection, collar: str, *, on: date) -> tuple[dict[str, Any], Plan]:
    """The officer (``store.officers.find``: NotFound, exit 2, for an unknown collar) and
    the plan that moves every live crime they hold, judged on the day ``on``. The plan id
    covers the day, so a plan shown for one day is not applied for another."""
    from caseload.store.engine_queries import load_crimes, load_links, load_officers
    from caseload.store.officers import find
    from caseload.store.team_policy import load_policies

    officer = find(conn, collar)
    officer_id = int(officer["id"])
    c = crime_table
    held_teams = conn.execute(
        select(c.c.team_id)
        .where(c.c.holder_id == officer_id, c.c.finalised_on.is_(None))
        .distinct()
    ).scalars()
    teams = sorted({int(t) for t in held_teams}) or [int(officer["team_id"])]
    policies = load_policies(conn)
    crimes = load_crimes(conn, teams=teams)
    holders = {cr.holder_id for cr in crimes if cr.holder_id is not None} | {officer_id}
    officers = load_officers(conn, policies, teams=teams, also=holders, on=on)
    links = load_links(conn, teams=teams)
    plan = plan_rebalance(
        officers, crimes, policies, links=links, teams=teams, steps={1}, leaving={officer_id}
    )
    digest = hashlib.sha256(f"{plan.plan_id}|handover|{on.isoformat()}".encode()).hexdigest()
    return officer, replace(plan, plan_id=digest[:12])


def apply_handover(
    conn: Connection,
    plan: Plan,
    *,
    start_at: datetime | None,
    actor: str,
    at: datetime,
    reason: str,
) -> int:
    """Apply a handover plan inside the caller's write transaction; returns the moves.

    ``start_at`` (None: the decision's time) may not be before the start of a moved
    crime's current holding: an interval never ends before it starts."""
    from caseload.store.engine_queries import apply_plan

    if start_at is not None and plan.moves:
        a = allocation_table
        ids = [m.crime_id for m in plan.moves]
        latest = conn.execute(
            select(func.max(a.c.start_at)).where(a.c.crime_id.in_(ids), a.c.end_at.is_(None))
        ).scalar_one_or_none()
        if latest is not None and latest > start_at:
            raise InputError(
                f"Cannot hand over from {start_at.date()}: a crime to move has been held by "
                f"this officer only since {latest:%Y-%m-%d %H:%M}; give a later --from (or "
                "none: today). Nothing was changed."
            )
    return apply_plan(conn, plan, actor=actor, at=at, reason=reason, start_at=start_at)
