"""The forecast: a team's weeks ahead if nothing moved, with a weekly intake of new crimes.

Plain functions over plain values (the store reads them: ``store.forecast``). The
rules, each said in the command's output:

* **Weeks.** Week 1 runs from the start day (``--as-of``, default today) for seven days;
  week 2 the seven after, and so on.
* **Available.** An officer is available in a week when their record is active and no
  away absence (leave, sick, abstracted, training, court, other) covers any working day
  of it: an officer away for part of a week takes no new crimes that week (the IOPC's
  "no new cases during a confirmed absence", judged conservatively) and, holding live
  crimes, is listed as holding them while absent. Reduced duties leave the officer
  available with their limit and capacity scaled (``domain.absences.scaled``) by the
  lowest percentage covering a working day of the week.
* **Nothing moves.** Every crime live on the start day stays live with its holder: no
  finalisations are assumed (the team's recent finalisation rate is shown beside, not
  applied), so the figures are the upper bound a supervisor plans against.
* **Intake.** ``intake`` new crimes arrive each week (default: the team's average weekly
  intake over the 8 weeks to the start day, rounded half up), their required levels in
  the proportions of those 8 weeks' crimes (largest remainder; all PIP1 when there were
  none), placed highest level first. Each goes to the officer the suggestion rule puts
  first (``domain.planning.refusal`` and ``candidate_order``: eligible by accreditation
  and limits, then lowest weighted load relative to capacity, most experience, collar).
  A crime nobody available may take stays unallocated and is counted as unplaced.
* **Limits** are the team's policy (``Policies.of``): an inexperienced officer (on the
  week's last day) is over the limit holding more than ``inexperienced_limit``, anyone
  over their personal capacity. Weighted load is set against the team's capacity: the
  sum of each available officer's reference capacity (``domain.planning.reference_capacity``).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from caseload.domain.absences import Absence, scaled
from caseload.domain.levels import LEVELS, RANK
from caseload.domain.officers import is_inexperienced, whole_months_between
from caseload.domain.planning import (
    LiveCrime,
    OfficerLoad,
    candidate_order,
    ceiling,
    reference_capacity,
    refusal,
)
from caseload.domain.team_policy import Policies
from caseload.domain.workdays import is_working_day

WEEKS_DEFAULT = 8
WEEKS_MAX = 52
HISTORY_WEEKS = 8  # the intake (and finalisation) average is taken over these weeks

WEEK_COLUMNS = (
    "team",
    "week",
    "week_start",
    "week_end",
    "officers",
    "available",
    "intake",
    "unplaced",
    "live",
    "live_per_available",
    "weighted_load",
    "capacity",
    "load_share",
    "absent_holding",
    "over_limit",
)


@dataclass(frozen=True)
class TeamOfficer:
    """One officer of the team as the start day's record has them, with what they hold."""

    load: OfficerLoad  # status and capacity as recorded (absences are applied per week)
    trainee: bool
    investigator_since: date
    absences: tuple[Absence, ...] = ()


@dataclass(frozen=True)
class TeamHistory:
    """What the team's last 8 weeks say: crimes reported by required level, finalised."""

    reported: Mapping[str, int] = field(default_factory=dict)
    finalised: int = 0

    @property
    def reported_total(self) -> int:
        return sum(self.reported.values())

    def weekly_intake(self) -> Decimal:
        return Decimal(self.reported_total) / HISTORY_WEEKS

    def weekly_finalised(self) -> Decimal:
        return Decimal(self.finalised) / HISTORY_WEEKS


@dataclass(frozen=True)
class Flagged:
    """An officer listed in a week: holding live crimes while absent, or over a limit."""

    collar: str
    name: str
    live: int
    kind: str  # absent-holding, inexperienced-over-limit, over-capacity
    limit: int | None
    detail: str


@dataclass(frozen=True)
class Week:
    team: str
    week: int
    week_start: date
    week_end: date
    officers: int
    available: int
    intake: int
    unplaced: int  # new crimes nobody available could take, to the end of this week
    live: int
    weighted_load: int
    capacity: int
    absent_holding: tuple[Flagged, ...]
    over_limit: tuple[Flagged, ...]

    @property
    def live_per_available(self) -> float | None:
        return round(self.live / self.available, 1) if self.available else None

    @property
    def load_share(self) -> float | None:
        return round(self.weighted_load / self.capacity, 2) if self.capacity else None


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def default_intake(history: TeamHistory) -> int:
    """The team's average weekly intake over the last 8 weeks, rounded half up."""
    return round_half_up(history.weekly_intake())


def intake_levels(intake: int, mix: Mapping[str, int]) -> list[str]:
    """``intake`` required levels in the proportions of ``mix`` (largest remainder, ties
    to the higher level), highest level first; all PIP1 when ``mix`` is empty."""
    total = sum(mix.values())
    if intake <= 0:
        return []
    if total == 0:
        return ["PIP1"] * intake
    shares = {level: Decimal(n) * intake / total for level, n in mix.items() if n}
    counts = {level: int(share) for level, share in shares.items()}
    left = intake - sum(counts.values())
    for level in sorted(shares, key=lambda lv: (-(shares[lv] - counts[lv]), -RANK[lv]))[:left]:
        counts[level] += 1
    return [level for level in reversed(LEVELS) for _ in range(counts.get(level, 0))]


def week_days(start: date) -> list[date]:
    return [start + timedelta(days=i) for i in range(7)]


def _week_facts(
    officer: TeamOfficer, workdays: Sequence[date]
) -> tuple[Absence | None, int | None]:
    """The away absence covering a working day of the week (the first), and the lowest
    reduced-duties percentage covering one."""
    away: Absence | None = None
    percent: int | None = None
    for absence in sorted(officer.absences, key=lambda a: (a.starts_on, a.id)):
        if not any(absence.covers(d) for d in workdays):
            continue
        if absence.away:
            away = away or absence
        elif absence.percent is not None:
            percent = absence.percent if percent is None else min(percent, absence.percent)
    return away, percent


def forecast_team(
    team: str,
    officers: Sequence[TeamOfficer],
    *,
    live: int,
    start: date,
    weeks: int,
    intake: int,
    levels_mix: Mapping[str, int],
    policies: Policies,
) -> list[Week]:
    """The team's weeks: ``live`` is the team's live crimes on the start day, ``officers``
    the team's officers (status and capacity as recorded, live and weighted load as held)."""
    held = {o.load.id: (o.load.live, o.load.weighted_load) for o in officers}
    new_levels = intake_levels(intake, levels_mix)
    unplaced = 0
    result = []
    previous: dict[int, OfficerLoad] = {}
    last_facts: dict[int, tuple[object, ...]] = {}
    for number in range(1, weeks + 1):
        first = start + timedelta(days=7 * (number - 1))
        days = week_days(first)
        last = days[-1]
        workdays = [d for d in days if is_working_day(d)] or days
        loads: list[OfficerLoad] = []
        away_of: dict[int, Absence | None] = {}
        limits: dict[int, tuple[int | None, int | None]] = {}
        for officer in officers:
            base = officer.load
            policy = policies.of(base.team_id)
            away, percent = _week_facts(officer, workdays)
            away_of[base.id] = away
            inexperienced = is_inexperienced(
                trainee=officer.trainee,
                investigator_since=officer.investigator_since,
                on=last,
                inexperienced_months=policy.inexperienced_months,
            )
            capacity = scaled(base.capacity, percent)
            limit = scaled(policy.inexperienced_limit, percent) if inexperienced else None
            limits[base.id] = (limit, capacity)
            if limit is not None and percent is not None:
                # reduced duties scale the limit too (as workload does); the suggestion
                # rule sees the tighter of the two as the officer's capacity
                capacity = limit if capacity is None else min(capacity, limit)
            status = base.status
            if status == "active" and away is not None:
                status = away.status
            count, weight = held[base.id]
            facts = (
                status,
                capacity,
                inexperienced,
                whole_months_between(officer.investigator_since, first),
                count,
                weight,
            )
            load = previous.get(base.id)
            if load is None or last_facts[base.id] != facts:  # most weeks, most officers: same
                load = replace(
                    base,
                    status=status,
                    capacity=capacity,
                    inexperienced=inexperienced,
                    experience_months=facts[3],
                    live=count,
                    weighted_load=weight,
                )
                previous[base.id], last_facts[base.id] = load, facts
            loads.append(load)
        available = [o for o in loads if o.status == "active"]
        placed, missed = place_intake(available, new_levels, policies)
        unplaced += missed
        for oid, (count, weight) in placed.items():
            c, w = held[oid]
            held[oid] = (c + count, w + weight)
        loads = [
            replace(o, live=held[o.id][0], weighted_load=held[o.id][1]) if o.id in placed else o
            for o in loads
        ]
        absent = []
        over = []
        for o in loads:
            if o.status != "active" and o.live:
                away = away_of[o.id]
                why = away.words() if away is not None and o.status != "left" else o.status
                why = why if away is not None and o.status != "left" else f"status {why}"
                absent.append(Flagged(o.collar, o.name, o.live, "absent-holding", None, why))
                continue
            flag = _over(o, *limits[o.id])
            if flag is not None:
                over.append(flag)
        result.append(
            Week(
                team=team,
                week=number,
                week_start=first,
                week_end=last,
                officers=sum(1 for o in loads if o.status != "left"),
                available=len(available),
                intake=len(new_levels),
                unplaced=unplaced,
                live=live + len(new_levels) * number,
                weighted_load=sum(o.weighted_load for o in loads),
                capacity=sum(reference_capacity(o, policies) for o in available),
                absent_holding=tuple(sorted(absent, key=lambda f: f.collar)),
                over_limit=tuple(
                    sorted(over, key=lambda f: (-(f.live - (f.limit or 0)), f.collar))
                ),
            )
        )
    return result


def _over(officer: OfficerLoad, limit: int | None, capacity: int | None) -> Flagged | None:
    """Over the inexperienced limit (``limit``: None for the experienced) or the personal
    capacity, both as scaled for the week; the tighter one passed is named."""
    over = [
        (value, kind, words)
        for value, kind, words in (
            (limit, "inexperienced-over-limit", "inexperienced limit"),
            (capacity, "over-capacity", "capacity"),
        )
        if value is not None and officer.live > value
    ]
    if not over:
        return None
    value, kind, words = min(over, key=lambda item: item[0])
    return Flagged(
        officer.collar,
        officer.name,
        officer.live,
        kind,
        value,
        f"holds {officer.live} live crimes, over the {words} of {value}",
    )


def place_intake(
    officers: Iterable[OfficerLoad], levels: Sequence[str], policies: Policies
) -> tuple[dict[int, tuple[int, int]], int]:
    """Give each new crime (``levels``: their required levels, highest first) to the
    officer the suggestion rule puts first; returns officer id -> (crimes, weight) placed,
    and how many crimes nobody could take.

    Who may take one is ``refusal``, asked of each officer whenever the level changes;
    while a level's crimes are placed only an officer's load changes, so taking one more
    is judged against their ``ceiling`` (the limits ``refusal`` checks) and their place
    is ``candidate_order`` at the new weighted load."""
    base = {o.id: o for o in officers}
    live = {oid: o.live for oid, o in base.items()}
    weighted = {oid: o.weighted_load for oid, o in base.items()}
    room = {oid: ceiling(o, policies) for oid, o in base.items()}
    order = {oid: candidate_order(o, policies) for oid, o in base.items()}
    placed: dict[int, tuple[int, int]] = {}
    missed = 0
    heap: list[tuple[tuple[bool, float, int, str], int]] = []
    heap_level: str | None = None

    def key(oid: int) -> tuple[bool, float, int, str]:
        # The exact share as a float: the same order for any load and capacity a force
        # has (distinct shares differ far beyond a float's precision), and a heap of
        # floats compares many times faster than one of Fractions.
        first, share, experience, collar = order[oid](weighted[oid])
        return (first, float(share), experience, collar)

    for level in levels:
        if level != heap_level:  # one heap per level: eligibility by accreditation differs
            heap = []
            for oid, o in base.items():
                now = (
                    o
                    if live[oid] == o.live
                    else replace(o, live=live[oid], weighted_load=weighted[oid])
                )
                crime = LiveCrime(id=0, reference="(new)", team_id=o.team_id, required_level=level)
                if refusal(now, crime, policies) is None:
                    heap.append((key(oid), oid))
            heapq.heapify(heap)
            heap_level = level
        weight = policies.force.weight(level)
        while heap:
            _, oid = heapq.heappop(heap)
            limit = room[oid]
            if limit is not None and live[oid] >= limit:
                continue  # at a limit now: loads only grow, so out for the week
            live[oid] += 1
            weighted[oid] += weight
            count, total = placed.get(oid, (0, 0))
            placed[oid] = (count + 1, total + weight)
            heapq.heappush(heap, (key(oid), oid))
            break
        else:
            missed += 1
    return placed, missed
