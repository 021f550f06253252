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

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import String, case, func, literal, or_, select, type_coerce
from sqlalchemy.engine import Connection

from caseload.domain.levels import LEVELS
from caseload.domain.officers import is_inexperienced
from caseload.domain.policy import Policy
from caseload.domain.rules import over_limit
from caseload.store.holdings import live_holdings
from caseload.store.models import officer_table, team_table

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
    # Grouped by holder alone (no join per crime: a covering scan of ix_crime_live for
    # today); "holds a crime above their accreditation" compares the highest level
    # held with the officer's accreditation once per officer, outside.
    aggregate = select(
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
        func.max(_rank(level)).label("top_rank"),
    ).group_by(live.c.holder_id)
    chosen = select(o.c.id)
    if collar:
        chosen = chosen.where(o.c.collar == collar.strip().upper())
    if team:
        chosen = chosen.where(
            o.c.team_id.in_(select(t.c.id).where(func.lower(t.c.name) == team.strip().lower()))
        )
    if collar or team:
        aggregate = aggregate.where(live.c.holder_id.in_(chosen))
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
            # As stored: parsed once per distinct date in _officer_rows, not once per row.
            type_coerce(o.c.investigator_since, String).label("investigator_since"),
            *(
                func.coalesce(counts.c[key], 0).label(key)
                for key in ("live", *LEVEL_COLUMNS, "weighted_load")
            ),
            case((counts.c.top_rank > _rank(o.c.accreditation), 1), else_=0).label("mismatched"),
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
    return _officer_rows(conn.execute(query).all(), policy, on)


def _officer_rows(result: Sequence[Any], policy: Policy, on: date) -> list[dict[str, Any]]:
    """The per-officer rules over the grouped rows (inexperienced on the day, limit,
    headroom, flags). Whole force: 35,000 rows, so the loop works on plain tuples and
    builds each output dict once; inexperience is worked out once per distinct date.
    Sorted by ``overload_order``, its key built in the same pass."""
    from operator import itemgetter

    months = policy.inexperienced_months
    inexperienced_limit = policy.inexperienced_limit
    inexperienced_since: dict[Any, bool] = {}  # by investigator_since as fetched
    keyed = []
    for (
        collar,
        name,
        team,
        rank,
        accreditation,
        status,
        capacity,
        trainee,
        investigator_since,
        live,
        pip1,
        pip2,
        pip3,
        pip4,
        weighted_load,
        mismatched,
    ) in result:
        if trainee:
            inexperienced = True
        else:
            inexperienced = inexperienced_since.get(investigator_since)  # type: ignore[assignment]
            if inexperienced is None:
                since = investigator_since  # ISO text on SQLite, a date on PostgreSQL
                inexperienced = is_inexperienced(
                    trainee=False,
                    investigator_since=since if isinstance(since, date) else _day(since),
                    on=on,
                    inexperienced_months=months,
                )
                inexperienced_since[investigator_since] = inexperienced
        live = int(live)
        flags = []
        if inexperienced:
            limit = inexperienced_limit
            if over_limit(live, limit):
                flags.append("over-limit")
            ceiling = limit if capacity is None else min(limit, capacity)
        else:
            limit = None
            ceiling = capacity
        if capacity is not None and live > capacity:
            flags.append("over-capacity")
        if mismatched:
            flags.append("mismatch")
        if status != "active":
            flags.append("unavailable")
        weighted_load = int(weighted_load)
        headroom = None if ceiling is None else ceiling - live
        excess = -headroom if headroom is not None and headroom < 0 else 0
        row = {
            "collar": collar,
            "name": name,
            "team": team,
            "rank": rank,
            "accreditation": accreditation,
            "status": status,
            "inexperienced": inexperienced,
            "live": live,
            "live_pip1": int(pip1),
            "live_pip2": int(pip2),
            "live_pip3": int(pip3),
            "live_pip4": int(pip4),
            "capacity": capacity,
            "limit": limit,
            "headroom": headroom,
            "weighted_load": weighted_load,
            "flags": " ".join(flags),
        }
        keyed.append(((-excess, -weighted_load, -live, collar), row))  # as overload_order
    keyed.sort(key=itemgetter(0))
    return [row for _, row in keyed]


def _day(text: str) -> date:
    return date.fromisoformat(text[:10])


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
