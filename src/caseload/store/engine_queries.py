"""What the allocation engine reads and writes: loads for planning, crime links, plans.

* ``plan_for`` plans one team (``team_plan``, written against ``store.executor.Executor``:
  named statements, so the quick sqlite3 executor serves ``rebalance --team`` without
  SQLAlchemy) or the whole store (the loaders below, through SQLAlchemy).
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
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from caseload.domain.officers import is_inexperienced, whole_months_between
from caseload.domain.planning import ALL_STEPS, LiveCrime, OfficerLoad, Plan, plan_rebalance
from caseload.domain.policy import Policy
from caseload.domain.team_policy import Policies, as_policies
from caseload.errors import InputError
from caseload.store import log
from caseload.store.executor import Executor, connection_of, executor_of
from caseload.store.sqlite_values import parse_date, parse_timestamp

if TYPE_CHECKING:  # imported where used: the quick executor plans a team's rebalance
    # with the readers below, without SQLAlchemy
    from sqlalchemy import Select
    from sqlalchemy.engine import Connection

LINK_KINDS = ("victim", "suspect", "series")


def weight_expression(policy: Policy | Policies) -> Any:
    """SQL for one live crime's weight under the policy (``none`` counts as PIP1; a
    high-risk crime adds ``weight_high_risk``); the weights (force-wide) are bound by name."""
    from sqlalchemy import bindparam, case

    from caseload.store.models import crime_table

    force = as_policies(policy).force
    weight: dict[str, Any] = {
        name: bindparam(name, value) for name, value in force.weights().items()
    }
    level = crime_table.c.required_level
    by_level = case(
        *((level == name, weight[f"weight_{name.lower()}"]) for name in ("PIP2", "PIP3", "PIP4")),
        else_=weight["weight_pip1"],
    )
    high = case((crime_table.c.risk == "high", weight["weight_high_risk"]), else_=0)
    return by_level + high


def in_teams(column: Any, teams: Collection[int]) -> Any:
    """``column`` is one of ``teams``: one team (what a command's scope names) is bound by
    name (``team``), as the named statements bind it."""
    from sqlalchemy import Integer, bindparam

    chosen = list(teams)
    if len(chosen) == 1:
        return column == bindparam("team", chosen[0], Integer())
    return column.in_(chosen)


def officer_loads_query(policy: Policy | Policies, where: Any = None) -> Select[Any]:
    """Officers (``where``: a condition on the officer table, or all) with their team,
    live count and weighted load; ``officer_loads`` reads the rows."""
    from sqlalchemy import and_, func, select

    from caseload.store.models import crime_table as c
    from caseload.store.models import officer_table as o
    from caseload.store.models import team_table as t

    # Correlated aggregates use the (holder_id, finalised_on) index, so a one-team load
    # never aggregates the whole store.
    mine = and_(c.c.holder_id == o.c.id, c.c.finalised_on.is_(None))
    live = select(func.count()).select_from(c).where(mine).scalar_subquery()
    weighted = (
        select(func.coalesce(func.sum(weight_expression(policy)), 0)).where(mine).scalar_subquery()
    )
    from caseload.store.officer_history import (
        day_value,
        effective_status,
        reduced_percent,
        scaled_sql,
    )

    today = day_value(None)  # bound by name: the day's absences give the status
    query = select(
        o.c.id,
        o.c.collar,
        o.c.name,
        o.c.team_id,
        t.c.name.label("team"),
        o.c.accreditation,
        effective_status(o.c.status, o.c.id, today).label("status"),
        scaled_sql(o.c.capacity, reduced_percent(o.c.id, today)).label("capacity"),
        o.c.trainee,
        o.c.investigator_since,
        live.label("live"),
        weighted.label("weighted"),
    ).join(t, t.c.id == o.c.team_id)
    if where is not None:
        query = query.where(where)
    return query.order_by(o.c.id)


def officer_loads(
    rows: Iterable[Sequence[Any]], policy: Policy | Policies, on: date
) -> list[OfficerLoad]:
    """``officer_loads_query``'s rows as OfficerLoads on the day ``on`` (who is
    inexperienced by their team's ``inexperienced_months``)."""
    policies = as_policies(policy)
    loads = []
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
    ) in rows:
        since = parse_date(since)
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
                    inexperienced_months=policies.of(team).inexperienced_months,
                ),
                experience_months=whole_months_between(since, on),
                capacity=capacity,
                live=int(live_count),
                weighted_load=int(weighted_load),
            )
        )
    return loads


def load_officers(
    conn: Connection,
    policy: Policy | Policies,
    *,
    teams: Collection[int] | None = None,
    also: Collection[int] = (),
    on: date | None = None,
) -> list[OfficerLoad]:
    """Officers of ``teams`` (all when None), plus the officers with ids in ``also``
    (a plan passes its crimes' holders: someone from elsewhere may hold one), each
    with live count and weighted load: one query."""
    from sqlalchemy import or_

    from caseload.store.bulk import raw_rows
    from caseload.store.models import officer_table as o
    from caseload.store.sqlfunc import one_of

    where = None
    if teams is not None:
        chosen = in_teams(o.c.team_id, teams)
        where = or_(chosen, one_of(conn, o.c.id, also, name="also")) if also else chosen
    # Straight from the cursor (a team's 2,000 officers).
    return officer_loads(
        raw_rows(conn, officer_loads_query(policy, where)), policy, on or date.today()
    )


def live_crimes_query(where: Any = None) -> Select[Any]:
    """Live crimes (``where``: a further condition on the crime table) with the start
    of the current holding and how many times each was reassigned; ``live_crimes``
    reads the rows."""
    from sqlalchemy import String, and_, func, select, type_coerce

    from caseload.store.models import allocation_table as a
    from caseload.store.models import crime_table as c

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
            c.c.risk,
            # Read as text and parsed with datetime.fromisoformat: several times faster
            # than the dialect's per-row parsing on 60,000 rows.
            type_coerce(current.c.start_at, String).label("start_at"),
            reassignments.label("reassignments"),
        )
        .outerjoin(current, and_(current.c.crime_id == c.c.id, current.c.end_at.is_(None)))
        .where(c.c.finalised_on.is_(None))
    )
    if where is not None:
        query = query.where(where)
    return query.order_by(c.c.id)


def live_crimes(rows: Iterable[Sequence[Any]]) -> list[LiveCrime]:
    """``live_crimes_query``'s rows as LiveCrimes."""
    parse, make = parse_timestamp, tuple.__new__
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
                parse(start),
                reassignments,
                risk,
            ),
        )
        for crime_id, reference, team, level, enhanced, holder, risk, start, reassignments in rows
    ]


def load_crimes(conn: Connection, *, teams: Collection[int] | None = None) -> list[LiveCrime]:
    """Live crimes of ``teams`` (all when None) with the start of the current holding
    and how many times each was reassigned: one query."""
    from caseload.store.bulk import raw_rows
    from caseload.store.models import crime_table as c

    where = in_teams(c.c.team_id, teams) if teams is not None else None
    # 60,000 rows for a large team, straight from the cursor: no row objects
    return live_crimes(raw_rows(conn, live_crimes_query(where)))


def links_query(where: Any = None) -> Select[Any]:
    """Crime links (``where``: a condition on the crime table that picks the crimes in
    scope; a link counts when either end is in scope); ``link_map`` reads the rows."""
    from sqlalchemy import or_, select

    from caseload.store.models import crime_table as c
    from caseload.store.models import link_table as lk

    query = select(lk.c.crime_a_id, lk.c.crime_b_id)
    if where is not None:
        in_scope = select(c.c.id).where(where)
        query = query.where(or_(lk.c.crime_a_id.in_(in_scope), lk.c.crime_b_id.in_(in_scope)))
    return query


def link_map(rows: Iterable[Sequence[Any]]) -> dict[int, list[int]]:
    """``links_query``'s rows as crime id -> ids of the crimes linked to it (both ways)."""
    links: dict[int, list[int]] = defaultdict(list)
    for a_id, b_id in rows:
        links[int(a_id)].append(int(b_id))
        links[int(b_id)].append(int(a_id))
    return {k: sorted(v) for k, v in links.items()}


def load_links(conn: Connection, *, teams: Collection[int] | None = None) -> dict[int, list[int]]:
    """Crime id -> ids of the crimes linked to it (both directions), for ``teams``."""
    from caseload.store.models import crime_table as c

    where = in_teams(c.c.team_id, teams) if teams is not None else None
    return link_map(conn.execute(links_query(where)))


def linked_holders(conn: Connection, crime_id: int) -> dict[int, list[str]]:
    """Officer id -> references of live crimes linked to ``crime_id`` that they hold."""
    from sqlalchemy import case, or_, select

    from caseload.store.models import crime_table as c
    from caseload.store.models import link_table as lk

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


def team_plan(
    conn: Executor | Connection,
    team: str,
    *,
    on: date | None = None,
    steps: Collection[int] = ALL_STEPS,
) -> Plan:
    """One team's plan: its live crimes, its officers and those crimes' holders, and the
    links that touch them (named statements), planned in memory."""
    from caseload.domain.teams import pick
    from caseload.store.team_policy import policies_of

    executor = executor_of(conn)
    policy = policies_of(executor)
    found = pick([(int(tid), str(name)) for tid, name in executor.rows("teams")], team)[0]
    crimes = live_crimes(executor.rows("rebalance.crimes", team=found))
    holders = {c.holder_id for c in crimes if c.holder_id is not None}
    rows = executor.rows(
        "rebalance.officers",
        team=found,
        also=holders,
        today=on or date.today(),
        **policy.force.weights(),
    )
    officers = officer_loads(rows, policy, on or date.today())
    links = link_map(executor.rows("rebalance.links", team=found))
    return plan_rebalance(officers, crimes, policy, links=links, teams=[found], steps=steps)


def plan_for(
    conn: Executor | Connection,
    team: str | None,
    *,
    on: date | None = None,
    steps: Collection[int] = ALL_STEPS,
) -> Plan:
    """The plan for one team (``team_plan``) or, with no team, the whole store: every
    team's officers and crimes loaded in bulk through SQLAlchemy, planned in memory.
    ``steps``: the steps of the plan that run (``domain.planning.STEP_NAMES``)."""
    if team:
        return team_plan(conn, team, on=on, steps=steps)
    from sqlalchemy import select

    from caseload.store.models import team_table
    from caseload.store.team_policy import load_policies

    connection = connection_of(executor_of(conn))
    policy = load_policies(connection)
    crimes = load_crimes(connection)
    holders = {c.holder_id for c in crimes if c.holder_id is not None}
    officers = load_officers(connection, policy, also=holders, on=on)
    links = load_links(connection)
    every = [int(i) for i in connection.execute(select(team_table.c.id)).scalars()]
    return plan_rebalance(officers, crimes, policy, links=links, teams=every, steps=steps)


def apply_plan(
    conn: Connection,
    plan: Plan,
    *,
    actor: str,
    at: datetime,
    reason: str,
    start_at: datetime | None = None,
) -> int:
    """Execute every move through the one allocation path, with the plan id; returns the
    number of moves. Runs inside the caller's write transaction. ``start_at``: when the
    new holdings begin, if not at the decision's time (a handover from an earlier day)."""
    from caseload.store.allocation import AllocationRequest, allocate_many

    requests = [
        AllocationRequest(
            crime_id=m.crime_id,
            reference=m.reference,
            officer_id=m.to_id,
            collar=m.to_collar,
            start_at=start_at,
        )
        for m in plan.moves
    ]
    allocate_many(conn, requests, actor=actor, at=at, reason=reason, plan_id=plan.plan_id)
    return len(requests)


def link_crimes(
    conn: Connection, first: str, second: str, *, kind: str, actor: str, at: datetime
) -> tuple[str, str]:
    """Record that two crimes share a victim, a suspect or a series; logged."""
    from sqlalchemy import insert, select

    from caseload.store.crimes import find
    from caseload.store.models import link_table

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
