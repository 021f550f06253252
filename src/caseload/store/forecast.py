"""What the forecast reads: a team's officers and holdings on the start day, their absences
ahead, the team's live crimes, and its last 8 weeks' intake and finalisations.

Five grouped queries whatever the team's size (officers with their holdings by level;
absences overlapping the forecast; live crimes per team; crimes reported per team and
level; finalisations per team), then ``domain.forecast`` works the weeks out in memory.
The officers are ``store.officer_history.officers_on`` for the start day (the day's
facts: a future day's are today's), with the record's own status and capacity: the
absences of each week are applied by the domain. Holdings are the start day's end
(``store.holdings.live_holdings``) for a past day, today's for today or a future day.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Connection

from caseload.domain.absences import Absence
from caseload.domain.forecast import HISTORY_WEEKS, TeamHistory, TeamOfficer
from caseload.domain.levels import LEVELS
from caseload.domain.officers import whole_months_between
from caseload.domain.planning import OfficerLoad
from caseload.domain.team_policy import Policies
from caseload.store.holdings import live_holdings
from caseload.store.models import absence_table, crime_table, finalisation_table, team_table
from caseload.store.officer_history import officers_on
from caseload.store.sqlite_values import parse_date


def history_window(start: date) -> tuple[date, date]:
    """The 8 weeks to the start day: its first and last days (both included)."""
    return start - timedelta(days=7 * HISTORY_WEEKS - 1), start


def read(
    conn: Connection,
    policies: Policies,
    *,
    start: date,
    weeks: int,
    team_id: int | None = None,
) -> dict[int, dict[str, Any]]:
    """Team id -> {"team", "officers" (TeamOfficers), "live", "history" (TeamHistory)},
    for one team or every team, in team-name order."""
    today = date.today()
    holdings_day = start if start < today else None
    o = officers_on(None if start == today else start, name="o")
    t = team_table
    teams_query = select(t.c.id, t.c.name).order_by(func.lower(t.c.name), t.c.id)
    if team_id is not None:
        teams_query = teams_query.where(t.c.id == team_id)
    found: dict[int, dict[str, Any]] = {
        int(tid): {"team": str(name), "officers": [], "live": 0, "history": TeamHistory()}
        for tid, name in conn.execute(teams_query)
    }

    # Officers of the team(s) on the start day, with what each holds, by level.
    mine = select(o.c.id)
    if team_id is not None:
        mine = mine.where(o.c.team_id == team_id)
    live = live_holdings(holdings_day)
    held = (
        select(
            live.c.holder_id,
            *(func.count().filter(live.c.required_level == level).label(level) for level in LEVELS),
        )
        .where(live.c.holder_id.in_(mine))
        .group_by(live.c.holder_id)
        .subquery("held")
    )
    officer_query = (
        select(
            o.c.id,
            o.c.collar,
            o.c.name,
            o.c.team_id,
            o.c.accreditation,
            o.c.recorded_status,
            o.c.recorded_capacity,
            o.c.trainee,
            o.c.investigator_since,
            *(func.coalesce(held.c[level], 0) for level in LEVELS),
        )
        .select_from(o.outerjoin(held, held.c.holder_id == o.c.id))
        .where(or_(o.c.recorded_status != "left", held.c.holder_id.is_not(None)))
        .order_by(o.c.collar)
    )
    if team_id is not None:
        officer_query = officer_query.where(o.c.team_id == team_id)

    # Absences overlapping the forecast's days, of those officers.
    end = start + timedelta(days=7 * weeks - 1)
    a = absence_table
    absence_query = (
        select(a.c.officer_id, a.c.id, a.c.kind, a.c.starts_on, a.c.ends_on, a.c.percent)
        .where(
            a.c.cancelled_at.is_(None),
            a.c.starts_on <= end,
            or_(a.c.ends_on.is_(None), a.c.ends_on >= start),
        )
        .order_by(a.c.officer_id, a.c.starts_on, a.c.id)
    )
    if team_id is not None:
        absence_query = absence_query.where(a.c.officer_id.in_(mine))
    absences: dict[int, list[Absence]] = defaultdict(list)
    for oid, aid, kind, starts_on, ends_on, percent in conn.execute(absence_query):
        absences[int(oid)].append(
            Absence(int(aid), str(kind), parse_date(starts_on), parse_date(ends_on), percent)
        )

    force = policies.force
    for row in conn.execute(officer_query):
        (oid, collar, name, tid, accreditation, status, capacity, trainee, since) = row[:9]
        counts = dict(zip(LEVELS, (int(n) for n in row[9:]), strict=True))
        team = found.get(int(tid))
        if team is None:
            continue
        since = parse_date(since)
        load = OfficerLoad(
            id=int(oid),
            collar=str(collar),
            team_id=int(tid),
            accreditation=str(accreditation),
            status=str(status),
            experience_months=whole_months_between(since, start),
            capacity=capacity,
            live=sum(counts.values()),
            weighted_load=sum(force.weight(level) * n for level, n in counts.items()),
            name=str(name),
            team=team["team"],
        )
        team["officers"].append(
            TeamOfficer(load, bool(trainee), since, tuple(absences.get(int(oid), ())))
        )

    # The team's live crimes on the start day (held by anyone, or by nobody).
    team_live = select(live.c.team_id, func.count()).group_by(live.c.team_id)
    if team_id is not None:
        team_live = team_live.where(live.c.team_id == team_id)
    for tid, n in conn.execute(team_live):
        if int(tid) in found:
            found[int(tid)]["live"] = int(n)

    # The last 8 weeks: crimes reported by level, and finalisations.
    first, last = history_window(start)
    c = crime_table
    reported_query = (
        select(c.c.team_id, c.c.required_level, func.count())
        .where(c.c.reported_on >= first, c.c.reported_on <= last)
        .group_by(c.c.team_id, c.c.required_level)
    )
    f = finalisation_table
    finalised_query = (
        select(c.c.team_id, func.count())
        .select_from(f.join(c, c.c.id == f.c.crime_id))
        .where(and_(f.c.finalised_on >= first, f.c.finalised_on <= last))
        .group_by(c.c.team_id)
    )
    if team_id is not None:
        reported_query = reported_query.where(c.c.team_id == team_id)
        finalised_query = finalised_query.where(c.c.team_id == team_id)
    reported: dict[int, dict[str, int]] = defaultdict(dict)
    for tid, level, n in conn.execute(reported_query):
        key = str(level) if str(level) in LEVELS else "PIP1"
        reported[int(tid)][key] = reported[int(tid)].get(key, 0) + int(n)
    finalised = {int(tid): int(n) for tid, n in conn.execute(finalised_query)}
    for tid, team in found.items():
        team["history"] = TeamHistory(reported.get(tid, {}), finalised.get(tid, 0))
    return found
