"""Workload: each officer's live crimes, by required level and weighted, now or on a past day.

One grouped query over ``holdings.live_holdings(as_of)`` (so ``--as-of`` rebuilds
the holder at the end of that day from the allocation intervals) joined to the
officers; ``--officer`` and ``--team`` filter inside that query, so asking about
one officer never counts the whole store. The per-officer rules (inexperienced on
the day, limit, headroom, flags) are applied to the grouped rows in Python: one
row per officer, never one per crime.

Officers who have left appear only while they still hold live crimes. Status and
team are the officer's current ones (they are not kept as history).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import case, func, literal, or_, select
from sqlalchemy.engine import Connection

from caseload.domain.levels import LEVELS
from caseload.domain.officers import is_inexperienced
from caseload.domain.policy import Policy
from caseload.domain.rules import over_limit
from caseload.store.holdings import live_holdings
from caseload.store.models import Officer, Team

officer_table = Officer.__table__  # type: ignore[attr-defined]
team_table = Team.__table__  # type: ignore[attr-defined]

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
    "weighted_load",
    "over_limit",
    "flagged",
)
LEVEL_COLUMNS = ("live_pip1", "live_pip2", "live_pip3", "live_pip4")


def _rank(column: Any) -> Any:
    """A level's position in LEVELS, as SQL (none 0 ... PIP4 4)."""
    return case(*((column == level, index) for index, level in enumerate(LEVELS)), else_=1)


def workload(
    conn: Connection,
    policy: Policy,
    *,
    as_of: date | None = None,
    team: str | None = None,
    collar: str | None = None,
) -> list[dict[str, Any]]:
    """One row per officer (WORKLOAD_COLUMNS), most overloaded first."""
    o, t = officer_table, team_table
    live = live_holdings(as_of)
    level = live.c.required_level
    aggregate = (
        select(
            live.c.holder_id,
            func.count().label("live"),
            # A crime needing no accreditation counts with PIP1 (as its weight does).
            func.sum(case((level.in_(("none", "PIP1")), 1), else_=0)).label("live_pip1"),
            func.sum(case((level == "PIP2", 1), else_=0)).label("live_pip2"),
            func.sum(case((level == "PIP3", 1), else_=0)).label("live_pip3"),
            func.sum(case((level == "PIP4", 1), else_=0)).label("live_pip4"),
            func.sum(
                case(
                    (level == "PIP2", literal(policy.weight_pip2)),
                    (level == "PIP3", literal(policy.weight_pip3)),
                    (level == "PIP4", literal(policy.weight_pip4)),
                    else_=literal(policy.weight_pip1),
                )
            ).label("weighted_load"),
            func.sum(case((_rank(level) > _rank(o.c.accreditation), 1), else_=0)).label(
                "mismatched"
            ),
        )
        .select_from(live.join(o, o.c.id == live.c.holder_id))
        .group_by(live.c.holder_id)
    )
    if collar:
        aggregate = aggregate.where(o.c.collar == collar.strip().upper())
    if team:
        aggregate = aggregate.where(
            o.c.team_id.in_(select(t.c.id).where(func.lower(t.c.name) == team.strip().lower()))
        )
    counts = aggregate.subquery("counts")
    query = (
        select(
            o.c.collar,
            o.c.name,
            t.c.name.label("team"),
            o.c.rank,
            o.c.accreditation,
            o.c.status,
            o.c.capacity,
            o.c.trainee,
            o.c.investigator_since,
            *(
                func.coalesce(counts.c[key], 0).label(key)
                for key in ("live", *LEVEL_COLUMNS, "weighted_load", "mismatched")
            ),
        )
        .join(t, t.c.id == o.c.team_id)
        .outerjoin(counts, counts.c.holder_id == o.c.id)
        .where(or_(o.c.status != "left", counts.c.live > 0))
    )
    if collar:
        query = query.where(o.c.collar == collar.strip().upper())
    if team:
        query = query.where(func.lower(t.c.name) == team.strip().lower())
    on = as_of or date.today()
    rows = [_officer_row(dict(row._mapping), policy, on) for row in conn.execute(query)]
    rows.sort(key=overload_order)
    return rows


def _officer_row(row: dict[str, Any], policy: Policy, on: date) -> dict[str, Any]:
    inexperienced = is_inexperienced(
        trainee=bool(row.pop("trainee")),
        investigator_since=row.pop("investigator_since"),
        on=on,
        inexperienced_months=policy.inexperienced_months,
    )
    live = int(row["live"])
    limit = policy.inexperienced_limit if inexperienced else None
    capacity = row["capacity"]
    ceilings = [value for value in (limit, capacity) if value is not None]
    flags = []
    if limit is not None and over_limit(live, limit):
        flags.append("over-limit")
    if capacity is not None and live > capacity:
        flags.append("over-capacity")
    if int(row.pop("mismatched")):
        flags.append("mismatch")
    if row["status"] != "active":
        flags.append("unavailable")
    row.update(
        inexperienced=inexperienced,
        live=live,
        limit=limit,
        headroom=min(ceilings) - live if ceilings else None,
        weighted_load=int(row["weighted_load"]),
        flags=" ".join(flags),
        **{key: int(row[key]) for key in LEVEL_COLUMNS},
    )
    return {key: row[key] for key in WORKLOAD_COLUMNS}


def overload_order(row: dict[str, Any]) -> tuple[Any, ...]:
    """Most overloaded first: furthest past limit or capacity, then weighted load, then live."""
    headroom = row["headroom"]
    excess = -headroom if headroom is not None and headroom < 0 else 0
    return (-excess, -row["weighted_load"], -row["live"], row["collar"])


def team_totals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One totals row per team (TOTAL_COLUMNS), over officer rows already computed."""
    totals: dict[str, dict[str, Any]] = {}
    for row in rows:
        total = totals.setdefault(
            row["team"],
            {key: 0 for key in TOTAL_COLUMNS} | {"team": row["team"]},
        )
        total["officers"] += 1
        for key in ("live", *LEVEL_COLUMNS, "weighted_load"):
            total[key] += row[key]
        total["over_limit"] += "over-limit" in row["flags"].split()
        total["flagged"] += bool(row["flags"])
    return [totals[name] for name in sorted(totals, key=str.lower)]
