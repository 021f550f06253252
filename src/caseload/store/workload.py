"""Workload: each officer's live crimes, by required level, by risk grade and weighted, now
or on a past day.

One grouped query over ``holdings.live_holdings(as_of)`` (so ``--as-of`` rebuilds
the holder at the end of that day from the allocation intervals) joined to the
officers; ``--officer`` and ``--team`` filter inside that query, so asking about
one officer never counts the whole store. The per-officer rules (inexperienced on
the day, limit, headroom, flags) and the order are SQL over the grouped rows too,
so a whole force's report comes off the cursor ready to write: one row per
officer, never one per crime, and no per-row Python.

``officer_workload`` (one officer today, ``workload --officer``) is written against
``store.executor.Executor``: it runs the one-officer form of the same query by name
(``store.statements``), on the quick sqlite3 executor or through SQLAlchemy.

Officers who have left appear only while they still hold live crimes. Team, status,
accreditation, trainee flag, capacity and investigator_since are the day's
(``store.officer_history.officers_on``): a past day is rebuilt with the facts of that
day, and the day's absences give the status (and scale the limit and capacity of an
officer on reduced duties).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from caseload.domain.levels import LEVELS
from caseload.domain.policy import Policy
from caseload.domain.team_policy import Policies, as_policies

if TYPE_CHECKING:  # imported where used: the quick executor reads this module without SQLAlchemy
    from sqlalchemy import Select
    from sqlalchemy.engine import Connection

    from caseload.store.executor import Executor

WORKLOAD_COLUMNS = (
    "collar",
    "name",
    "team",
    "rank",
    "accreditation",
    "status",
    "inexperienced",
    "live",
    "live_pip1",
    "live_pip2",
    "live_pip3",
    "live_pip4",
    "live_medium_risk",
    "live_high_risk",
    "capacity",
    "limit",
    "headroom",
    "weighted_load",
    "flags",
)
TOTAL_COLUMNS = (
    "team",
    "officers",
    "live",
    "live_pip1",
    "live_pip2",
    "live_pip3",
    "live_pip4",
    "live_medium_risk",
    "live_high_risk",
    "weighted_load",
    "over_limit",
    "flagged",
)
LEVEL_COLUMNS = ("live_pip1", "live_pip2", "live_pip3", "live_pip4")
RISK_COLUMNS = ("live_medium_risk", "live_high_risk")


def workload_inputs(policy: Policy, *, on: date, collar: str | None = None) -> dict[str, Any]:
    """What ``workload_query`` binds by name: the collar, the limit, the experience
    cutoff on ``on`` and the weights (``officer_workload`` binds the same to the named
    one-officer form)."""
    from caseload.domain.officers import inexperienced_after

    return {
        "today": on,
        "collar": collar.strip().upper() if collar else None,
        "inexperienced_limit": policy.inexperienced_limit,
        "experienced_cutoff": inexperienced_after(on, policy.inexperienced_months),
        **policy.weights(),
    }


def workload_query(
    policy: Policy | Policies,
    *,
    as_of: date | None = None,
    team: str | None = None,
    collar: str | None = None,
    named: bool = False,
) -> Select[Any]:
    """One row per officer in WORKLOAD_COLUMNS, most overloaded first, as one query.

    The per-officer rules are SQL over the grouped counts, with the policy's numbers
    bound in: inexperienced (``store.sqlfunc.inexperienced_on``), the limit
    (``domain.rules.over_limit``: more than the limit is over), headroom to the tighter
    of limit and capacity, and the flags. tests/test_workload.py checks them against the
    domain rules officer by officer.

    The policy's numbers, the day's experience cutoff and the collar are bound by name
    (``workload_inputs``), so that ``store.statements`` can compile the one-officer form
    once as the named statement ``workload.officer`` and bind them there. Teams that
    override ``inexperienced_limit`` or ``inexperienced_months`` (``domain.team_policy``)
    get their own values through a CASE on the officer's team id. ``named``: a past day is
    bound by name too (``as_of``, ``as_of_end``), for the named statement ``workload.as_of``."""
    from sqlalchemy import (
        Boolean,
        String,
        and_,
        bindparam,
        case,
        func,
        literal,
        null,
        or_,
        select,
        type_coerce,
    )

    from caseload.store.holdings import live_holdings
    from caseload.store.models import team_table
    from caseload.store.officer_history import officers_on
    from caseload.store.sqlfunc import inexperienced_since, level_rank

    # The officers as they stood on the day: that day's facts and absences.
    o, t = officers_on(as_of, named=named), team_table
    policies = as_policies(policy)
    day = as_of or date.today()
    bound = {
        name: bindparam(name, value, String() if name == "collar" else None)
        for name, value in workload_inputs(policies.force, on=day, collar=collar).items()
    }
    live = live_holdings(as_of, named=named)
    if as_of is not None:
        # OFFSET 0: each crime's holder and grade then are looked up once, not once for
        # the grouping and again for each count that reads them; only the three columns
        # the counts read go through (the grouping sorts fewer bytes a crime).
        live = (
            select(live.c.holder_id, live.c.required_level, live.c.risk)
            .offset(0)
            .subquery("live_then")
        )
    level = live.c.required_level
    # Grouped by holder alone (no join per crime: a covering scan of ix_crime_live for
    # today), one count per level; weights and "holds a crime above their
    # accreditation" are worked out from the counts once per officer, outside.
    aggregate = select(
        live.c.holder_id,
        func.count().label("live"),
        *(func.count().filter(level == name).label(name) for name in LEVELS),
        *(func.count().filter(live.c.risk == grade).label(grade) for grade in ("medium", "high")),
    ).group_by(live.c.holder_id)
    chosen = select(o.c.id)
    if collar:
        chosen = chosen.where(o.c.collar == bound["collar"])
    if team:
        chosen = chosen.where(
            o.c.team_id.in_(select(t.c.id).where(func.lower(t.c.name) == team.strip().lower()))
        )
    if collar or team:
        aggregate = aggregate.where(live.c.holder_id.in_(chosen))
    counts = aggregate.subquery("counts")

    limit: Any = bound["inexperienced_limit"]
    cutoff: Any = bound["experienced_cutoff"]
    if policies.teams:
        by_team = {
            team_id: workload_inputs(team_policy, on=day)
            for team_id, team_policy in policies.teams.items()
        }
        limit = case(
            *(
                (o.c.team_id == tid, literal(v["inexperienced_limit"]))
                for tid, v in by_team.items()
            ),
            else_=limit,
        )
        cutoff = case(
            *((o.c.team_id == tid, literal(v["experienced_cutoff"])) for tid, v in by_team.items()),
            else_=cutoff,
        )
    # reduced duties scale the limit (and capacity, in officers_on) to their share
    limit = case((o.c.percent.is_(None), limit), else_=(limit * o.c.percent).op("/")(100))
    # a level's points per live crime; "none" weighs as PIP1 (below)
    weight = {name: bound[f"weight_{name.lower()}"] for name in LEVELS if name != "none"}
    held = func.coalesce(counts.c.live, 0)
    n = {name: func.coalesce(counts.c[name], 0) for name in LEVELS}
    graded = {grade: func.coalesce(counts.c[grade], 0) for grade in ("medium", "high")}
    capacity = o.c.capacity
    inexperienced = inexperienced_since(o, cutoff)
    ceiling = case(
        (inexperienced, case((or_(capacity.is_(None), capacity > limit), limit), else_=capacity)),
        else_=capacity,
    )
    headroom = ceiling - held
    excess = case((headroom < 0, -headroom), else_=0)
    # A crime needing no accreditation (or of an unknown level) weighs as PIP1.
    weighted = (
        (held - n["PIP2"] - n["PIP3"] - n["PIP4"]) * weight["PIP1"]
        + n["PIP2"] * weight["PIP2"]
        + n["PIP3"] * weight["PIP3"]
        + n["PIP4"] * weight["PIP4"]
        + graded["high"] * bound["weight_high_risk"]
    )
    top_rank = case(
        *((n[name] > 0, LEVELS.index(name)) for name in ("PIP4", "PIP3", "PIP2")),
        (held > n["none"], 1),
        else_=0,
    )

    def flag(condition: Any, name: str) -> Any:
        return case((condition, literal(name + " ")), else_=literal(""))

    flags = func.trim(
        flag(and_(inexperienced, held > limit), "over-limit")
        .op("||")(flag(and_(capacity.is_not(None), held > capacity), "over-capacity"))
        .op("||")(flag(top_rank > level_rank(o.c.accreditation), "mismatch"))
        .op("||")(flag(o.c.status != "active", "unavailable"))
    )
    query = (
        select(
            o.c.collar,
            o.c.name,
            t.c.name.label("team"),
            o.c.rank,
            o.c.accreditation,
            o.c.status,
            type_coerce(inexperienced, Boolean).label("inexperienced"),
            held.label("live"),
            (n["none"] + n["PIP1"]).label("live_pip1"),  # as its weight, none counts with PIP1
            *(n[name].label(f"live_{name.lower()}") for name in ("PIP2", "PIP3", "PIP4")),
            *(graded[grade].label(f"live_{grade}_risk") for grade in ("medium", "high")),
            capacity,
            case((inexperienced, limit), else_=null()).label("limit"),
            headroom.label("headroom"),
            weighted.label("weighted_load"),
            type_coerce(flags, String).label("flags"),
        )
        .join(t, t.c.id == o.c.team_id)
        .outerjoin(counts, counts.c.holder_id == o.c.id)
        .where(or_(o.c.status != "left", counts.c.live > 0))
        # Most overloaded first: furthest past limit or capacity, weighted load, live.
        .order_by(excess.desc(), weighted.desc(), held.desc(), o.c.collar)
    )
    if collar:
        query = query.where(o.c.collar == bound["collar"])
    if team:
        query = query.where(func.lower(t.c.name) == team.strip().lower())
    return query


def workload(
    conn: Connection,
    policy: Policy | Policies,
    *,
    as_of: date | None = None,
    team: str | None = None,
    collar: str | None = None,
) -> list[dict[str, Any]]:
    """``workload_query``'s rows as dicts (WORKLOAD_COLUMNS): 35,000 for a whole force."""
    query = workload_query(policy, as_of=as_of, team=team, collar=collar)
    return [dict(zip(WORKLOAD_COLUMNS, row, strict=True)) for row in conn.execute(query)]


# The settings whose per-team values workload_query writes into its SQL (a CASE on the team).
_TEAM_SETTINGS = ("inexperienced_limit", "inexperienced_months")


def force_serves(executor: Executor) -> bool:
    """Whether the named whole-force statements (``workload.force``, ``workload.as_of``,
    compiled with the force's settings bound by name) give this store's workload: no team
    has its own inexperienced limit or months."""
    from caseload.store.team_policy import policies_of

    policies = policies_of(executor)
    return not any(policies.differing(name) for name in _TEAM_SETTINGS)


def listing_rows(executor: Executor, *, as_of: date | None = None, team: str | None = None) -> Any:
    """Every officer's row (WORKLOAD_COLUMNS), or a team's, for ``cli.csv_writer.write_rows``,
    streamed from the cursor. On the quick executor (the whole force, where
    ``force_serves``) the named statement ``workload.force``, or ``workload.as_of`` for a
    past day; through SQLAlchemy, ``workload_query`` read the fastest way the store allows
    (``store.export.export_rows``). An unknown team is NotFound (exit 2)."""
    from caseload.store.executor import SqliteExecutor, connection_of
    from caseload.store.team_policy import policies_of

    policies = policies_of(executor)
    if isinstance(executor, SqliteExecutor):
        if team is not None:
            raise ValueError("the named workload statements serve the whole force only")
        inputs = workload_inputs(policies.force, on=as_of or date.today())
        del inputs["collar"]
        if as_of is None:
            return executor.raw_rows("workload.force", **inputs)
        from caseload.domain.values import as_of_values

        del inputs["today"]  # a past day is bound as as_of
        return executor.raw_rows("workload.as_of", **inputs, **as_of_values(as_of))
    from caseload.store.export import export_rows
    from caseload.store.reference import team_id

    conn = connection_of(executor)
    if team:
        team_id(conn, team)
    return export_rows(conn, workload_query(policies, as_of=as_of, team=team))


def officer_workload(conn: Executor | Connection, collar: str) -> list[dict[str, Any]]:
    """``workload(conn, policy, collar=collar)`` for today, under the stored policy: the
    officer's row, or none for an unknown collar. The officer's team's policy is bound
    where their team overrides it."""
    from caseload.store.executor import executor_of
    from caseload.store.team_policy import policies_of

    executor = executor_of(conn)
    policies = policies_of(executor)
    policy = policies.force
    if policies.teams:
        team = executor.first("officer.team", collar=collar.strip().upper())
        if team is not None:
            policy = policies.of(int(team[0]))
    inputs = workload_inputs(policy, on=date.today(), collar=collar)
    found = [
        dict(zip(WORKLOAD_COLUMNS, row, strict=True))
        for row in executor.rows("workload.officer", **inputs)
    ]
    for row in found:
        row["inexperienced"] = bool(row["inexperienced"])  # 0/1 from SQLite's cursor
    return found


def team_totals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One totals row per team (TOTAL_COLUMNS), over officer rows already computed."""
    totals: dict[str, dict[str, Any]] = {}
    for row in rows:
        total = totals.setdefault(
            row["team"],
            {key: 0 for key in TOTAL_COLUMNS} | {"team": row["team"]},
        )
        total["officers"] += 1
        for key in ("live", *LEVEL_COLUMNS, *RISK_COLUMNS, "weighted_load"):
            total[key] += row[key]
        total["over_limit"] += "over-limit" in row["flags"].split()
        total["flagged"] += bool(row["flags"])
    return [totals[name] for name in sorted(totals, key=str.lower)]
