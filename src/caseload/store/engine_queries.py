"""What the allocation engine reads and writes: loads for planning, crime links, plans.

* ``load_crimes`` reads the team's live crimes with the start of the current holding
  and the number of reassignments in ONE query; ``load_officers`` reads the team's
  officers (or everyone's) and those crimes' holders from elsewhere, with their live
  count and weighted load (correlated aggregates over the holder index), in ONE
  query; ``load_links`` reads the crime links that touch them. Both large reads come
  straight from the driver's cursor. Planning then happens in memory
  (``domain.planning``).
* ``apply_plan`` executes a plan through ``store.allocation.allocate_many`` (the one
  write path, which re-checks every policy rule) with the plan id on each interval,
  inside the caller's write transaction.
* ``link_crimes`` records that two crimes share a victim, a suspect or a series.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, and_, case, func, insert, or_, select, type_coerce
from sqlalchemy.engine import Connection

from caseload.domain.officers import is_inexperienced, whole_months_between
from caseload.domain.planning import LiveCrime, OfficerLoad, Plan, plan_rebalance
from caseload.domain.policy import Policy
from caseload.errors import InputError
from caseload.store import log
from caseload.store.bulk import raw_rows
from caseload.store.models import (
    allocation_table,
    crime_table,
    link_table,
    officer_table,
    team_table,
)
from caseload.store.reference import load_policy, team_id
from caseload.store.sqlfunc import one_of

LINK_KINDS = ("victim", "suspect", "series")


def weight_expression(policy: Policy) -> Any:
    """SQL for one live crime's weight under the policy (``none`` counts as PIP1)."""
    level = crime_table.c.required_level
    return case(
        (level == "PIP2", policy.weight_pip2),
        (level == "PIP3", policy.weight_pip3),
        (level == "PIP4", policy.weight_pip4),
        else_=policy.weight_pip1,
    )


def load_officers(
    conn: Connection,
    policy: Policy,
    *,
    teams: Collection[int] | None = None,
    also: Collection[int] = (),
    on: date | None = None,
) -> list[OfficerLoad]:
    """Officers of ``teams`` (all when None), plus the officers with ids in ``also``
    (a plan passes its crimes' holders: someone from elsewhere may hold one), each
    with live count and weighted load: one query."""
    o, c, t = officer_table, crime_table, team_table
    on = on or date.today()
    # Correlated aggregates use the (holder_id, finalised_on) index, so a one-team load
    # never aggregates the whole store.
    mine = and_(c.c.holder_id == o.c.id, c.c.finalised_on.is_(None))
    live = select(func.count()).select_from(c).where(mine).scalar_subquery()
    weighted = (
        select(func.coalesce(func.sum(weight_expression(policy)), 0)).where(mine).scalar_subquery()
    )
    query = select(
        o.c.id,
        o.c.collar,
        o.c.name,
        o.c.team_id,
        t.c.name.label("team"),
        o.c.accreditation,
        o.c.status,
        o.c.capacity,
        o.c.trainee,
        o.c.investigator_since,
        live.label("live"),
        weighted.label("weighted"),
    ).join(t, t.c.id == o.c.team_id)
    if teams is not None:
        in_teams = o.c.team_id.in_(list(teams))
        query = query.where(or_(in_teams, one_of(conn, o.c.id, also)) if also else in_teams)
    loads = []
    # Straight from the cursor (a team's 2,000 officers): SQLite gives a date as ISO text.
    for (
        oid,
        collar,
        name,
        team,
        team_name,
        accreditation,
        status,
        capacity,
        trainee,
        since,
        live_count,
        weighted_load,
    ) in raw_rows(conn, query.order_by(o.c.id)):
        if since.__class__ is str:
            since = date.fromisoformat(since)
        loads.append(
            OfficerLoad(
                id=oid,
                collar=collar,
                name=name,
                team_id=team,
                team=team_name,
                accreditation=accreditation,
                status=status,
                inexperienced=is_inexperienced(
                    trainee=bool(trainee),
                    investigator_since=since,
                    on=on,
                    inexperienced_months=policy.inexperienced_months,
                ),
                experience_months=whole_months_between(since, on),
                capacity=capacity,
                live=int(live_count),
                weighted_load=int(weighted_load),
            )
        )
    return loads


def load_crimes(conn: Connection, *, teams: Collection[int] | None = None) -> list[LiveCrime]:
    """Live crimes of ``teams`` (all when None) with the start of the current holding
    and how many times each was reassigned: one query."""
    c, a = crime_table, allocation_table
    # Per live crime, through the (crime_id, start_at) index: never the whole history.
    # Intervals after the first (none when the crime has no interval at all).
    reassignments = func.coalesce(
        select(func.count() - 1)
        .select_from(a)
        .where(a.c.crime_id == c.c.id)
        .having(func.count() > 0)
        .scalar_subquery(),
        0,
    )
    current = a.alias("current")
    query = (
        select(
            c.c.id,
            c.c.reference,
            c.c.team_id,
            c.c.required_level,
            c.c.victim_enhanced,
            c.c.holder_id,
            # Read as text and parsed with datetime.fromisoformat: several times faster
            # than the dialect's per-row parsing on 60,000 rows.
            type_coerce(current.c.start_at, String).label("start_at"),
            reassignments.label("reassignments"),
        )
        .outerjoin(current, and_(current.c.crime_id == c.c.id, current.c.end_at.is_(None)))
        .where(c.c.finalised_on.is_(None))
    )
    if teams is not None:
        query = query.where(c.c.team_id.in_(list(teams)))
    rows = raw_rows(conn, query.order_by(c.c.id))  # 60,000 for a large team: no row objects
    parse, make = datetime.fromisoformat, tuple.__new__
    # Built as plain tuples (the named tuple's own __new__ doubles the cost); SQLite
    # gives 0/1 for a Boolean and ISO text for a timestamp.
    return [
        make(
            LiveCrime,
            (
                crime_id,
                reference,
                team,
                level,
                enhanced == 1,
                holder,
                parse(start) if start.__class__ is str else start,
                reassignments,
            ),
        )
        for crime_id, reference, team, level, enhanced, holder, start, reassignments in rows
    ]


def load_links(conn: Connection, *, teams: Collection[int] | None = None) -> dict[int, list[int]]:
    """Crime id -> ids of the crimes linked to it (both directions), for ``teams``."""
    lk, c = link_table, crime_table
    query = select(lk.c.crime_a_id, lk.c.crime_b_id)
    if teams is not None:
        in_scope = select(c.c.id).where(c.c.team_id.in_(list(teams)))
        query = query.where(or_(lk.c.crime_a_id.in_(in_scope), lk.c.crime_b_id.in_(in_scope)))
    links: dict[int, list[int]] = defaultdict(list)
    for a_id, b_id in conn.execute(query):
        links[int(a_id)].append(int(b_id))
        links[int(b_id)].append(int(a_id))
    return {k: sorted(v) for k, v in links.items()}


def linked_holders(conn: Connection, crime_id: int) -> dict[int, list[str]]:
    """Officer id -> references of live crimes linked to ``crime_id`` that they hold."""
    lk, c = link_table, crime_table
    other = case((lk.c.crime_a_id == crime_id, lk.c.crime_b_id), else_=lk.c.crime_a_id)
    query = (
        select(c.c.holder_id, c.c.reference)
        .select_from(lk)
        .join(c, c.c.id == other)
        .where(
            or_(lk.c.crime_a_id == crime_id, lk.c.crime_b_id == crime_id),
            c.c.finalised_on.is_(None),
            c.c.holder_id.is_not(None),
        )
    )
    held: dict[int, list[str]] = defaultdict(list)
    for holder_id, reference in conn.execute(query):
        held[int(holder_id)].append(str(reference))
    return dict(held)


def scope(conn: Connection, team: str | None) -> list[int] | None:
    """The team ids a command covers: one named team, or None for the whole store."""
    return [team_id(conn, team)] if team else None


def plan_for(conn: Connection, team: str | None, *, on: date | None = None) -> Plan:
    """Load the scope (one query each for officers and crimes) and plan in memory."""
    policy = load_policy(conn)
    teams = scope(conn, team)
    crimes = load_crimes(conn, teams=teams)
    holders = {c.holder_id for c in crimes if c.holder_id is not None}
    officers = load_officers(conn, policy, teams=teams, also=holders, on=on)
    links = load_links(conn, teams=teams)
    every = (
        teams
        if teams is not None
        else [int(i) for i in conn.execute(select(team_table.c.id)).scalars()]
    )
    return plan_rebalance(officers, crimes, policy, links=links, teams=every)


def apply_plan(conn: Connection, plan: Plan, *, actor: str, at: datetime, reason: str) -> int:
    """Execute every move through the one allocation path, with the plan id; returns the
    number of moves. Runs inside the caller's write transaction."""
    from caseload.store.allocation import AllocationRequest, allocate_many

    requests = [
        AllocationRequest(
            crime_id=m.crime_id, reference=m.reference, officer_id=m.to_id, collar=m.to_collar
        )
        for m in plan.moves
    ]
    allocate_many(conn, requests, actor=actor, at=at, reason=reason, plan_id=plan.plan_id)
    return len(requests)


def link_crimes(
    conn: Connection, first: str, second: str, *, kind: str, actor: str, at: datetime
) -> tuple[str, str]:
    """Record that two crimes share a victim, a suspect or a series; logged."""
    from caseload.store.crimes import find

    a, b = find(conn, first), find(conn, second)
    if a["id"] == b["id"]:
        raise InputError(f"A crime cannot be linked to itself ({a['reference']}).")
    low, high = sorted((int(a["id"]), int(b["id"])))
    exists = conn.execute(
        select(link_table.c.kind).where(
            link_table.c.crime_a_id == low, link_table.c.crime_b_id == high
        )
    ).first()
    if exists:
        raise InputError(
            f"{a['reference']} and {b['reference']} are already linked ({exists.kind})."
        )
    conn.execute(insert(link_table).values(crime_a_id=low, crime_b_id=high, kind=kind))
    log.append(
        conn,
        at=at,
        actor=actor,
        kind="crime-link",
        crime_ref=str(a["reference"]),
        detail={"linked": str(b["reference"]), "link": kind},
    )
    return str(a["reference"]), str(b["reference"])
