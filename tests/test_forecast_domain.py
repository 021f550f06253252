"""``domain.forecast``: the week rules, without a database."""

from __future__ import annotations

from datetime import date

from caseload.domain.absences import Absence
from caseload.domain.forecast import (
    TeamHistory,
    TeamOfficer,
    default_intake,
    forecast_team,
    intake_levels,
    place_intake,
)
from caseload.domain.planning import OfficerLoad
from caseload.domain.policy import Policy
from caseload.domain.team_policy import Policies

MONDAY = date(2025, 6, 2)  # no bank holiday in the weeks below
POLICIES = Policies(Policy())


def officer(
    oid: int,
    collar: str,
    *,
    accreditation: str = "PIP1",
    live: int = 0,
    weighted: int | None = None,
    capacity: int | None = None,
    status: str = "active",
    trainee: bool = False,
    since: date = date(2015, 1, 1),
    absences: tuple[Absence, ...] = (),
) -> TeamOfficer:
    load = OfficerLoad(
        id=oid,
        collar=collar,
        team_id=1,
        accreditation=accreditation,
        status=status,
        capacity=capacity,
        live=live,
        weighted_load=live if weighted is None else weighted,
        name=collar.lower(),
        team="T",
    )
    return TeamOfficer(load, trainee, since, absences)


def run(officers: list[TeamOfficer], *, weeks: int = 1, intake: int = 0, live: int = 0, mix=None):  # type: ignore[no-untyped-def]
    return forecast_team(
        "T",
        officers,
        live=live,
        start=MONDAY,
        weeks=weeks,
        intake=intake,
        levels_mix=mix or {},
        policies=POLICIES,
    )


def test_intake_levels_largest_remainder_highest_first() -> None:
    assert intake_levels(3, {"PIP1": 5, "PIP2": 5}) == ["PIP2", "PIP2", "PIP1"]  # tie: higher
    assert intake_levels(4, {"PIP1": 70, "PIP2": 20, "PIP3": 10}) == [
        "PIP2",
        "PIP1",
        "PIP1",
        "PIP1",
    ]
    assert intake_levels(2, {}) == ["PIP1", "PIP1"]
    assert intake_levels(0, {"PIP1": 3}) == []


def test_default_intake_rounds_the_weekly_average_half_up() -> None:
    assert default_intake(TeamHistory({"PIP1": 20})) == 3  # 2.5 a week
    assert default_intake(TeamHistory({"PIP1": 19})) == 2  # 2.375
    assert default_intake(TeamHistory()) == 0


def test_a_crime_nobody_is_accredited_for_is_unplaced() -> None:
    a = officer(1, "A1").load
    placed, missed = place_intake([a], ["PIP2", "PIP1"], POLICIES)
    assert (placed, missed) == ({1: (1, 1)}, 1)


def test_limits_stop_intake_and_leave_the_rest_unplaced() -> None:
    a = officer(1, "A1", live=1, capacity=2).load
    b = officer(2, "B2", live=0, capacity=1).load
    placed, missed = place_intake([a, b], ["PIP1"] * 3, POLICIES)
    assert placed == {2: (1, 1), 1: (1, 1)}  # B2 (0 of 1) first, then A1 (1 of 2)
    assert missed == 1


def test_one_working_day_away_makes_the_week_unavailable_a_weekend_does_not() -> None:
    wednesday = Absence(1, "court", date(2025, 6, 4), date(2025, 6, 4))
    weekend = Absence(2, "training", date(2025, 6, 7), date(2025, 6, 8))
    weeks = run(
        [
            officer(1, "A1", live=2, absences=(wednesday,)),
            officer(2, "B2", live=1, absences=(weekend,)),
        ],
        weeks=2,
        intake=2,
        live=3,
    )
    first, second = weeks
    assert first.available == 1
    assert [(f.collar, f.detail) for f in first.absent_holding] == [
        ("A1", "court attendance on 2025-06-04")
    ]
    assert first.intake == 2 and first.unplaced == 0
    assert second.available == 2 and second.absent_holding == ()


def test_an_officer_who_left_holding_crimes_is_listed_every_week() -> None:
    weeks = run([officer(1, "L1", live=3, status="left")], weeks=2)
    assert [(w.officers, w.available) for w in weeks] == [(0, 0), (0, 0)]
    assert [[f.detail for f in w.absent_holding] for w in weeks] == [["status left"]] * 2
    assert weeks[0].live_per_available is None and weeks[0].load_share is None


def test_passing_to_experienced_lifts_the_limit() -> None:
    # 24 whole months on 2025-06-10: inexperienced in week 1 (ends 2025-06-08), not in week 2.
    trainee = officer(1, "T1", live=26, since=date(2023, 6, 10))
    first, second = run([trainee], weeks=2)
    assert [f.kind for f in first.over_limit] == ["inexperienced-over-limit"]
    assert second.over_limit == ()


def test_reduced_duties_scale_the_inexperienced_limit() -> None:
    half = Absence(1, "reduced", date(2025, 6, 2), date(2025, 6, 6), percent=50)
    [week] = run([officer(1, "T1", live=13, trainee=True, absences=(half,))])
    [flag] = week.over_limit
    assert (flag.kind, flag.limit) == ("inexperienced-over-limit", 12)  # 25 at 50%
    assert week.capacity == 12


def test_intake_goes_where_suggest_would_put_each_crime_in_turn() -> None:
    from dataclasses import replace

    from caseload.domain.planning import LiveCrime, rank_candidates

    loads = [
        officer(n, f"K{n}", live=n % 4, weighted=(n * 7) % 9, capacity=(None, 5, 3)[n % 3]).load
        for n in range(1, 10)
    ]
    loads = [replace(o, accreditation="PIP2", experience_months=n) for n, o in enumerate(loads)]
    levels = ["PIP2", "PIP2", *["PIP1"] * 12]
    placed, missed = place_intake(loads, levels, POLICIES)
    # The same crimes, one at a time, each to suggest's first candidate.
    current = {o.id: o for o in loads}
    expected: dict[int, tuple[int, int]] = {}
    unplaced = 0
    for level in levels:
        crime = LiveCrime(id=0, reference="N", team_id=1, required_level=level)
        ranking = rank_candidates(crime, current.values(), POLICIES)
        if not ranking.candidates:
            unplaced += 1
            continue
        top = ranking.candidates[0].officer
        weight = POLICIES.force.weight(level)
        current[top.id] = replace(top, live=top.live + 1, weighted_load=top.weighted_load + weight)
        count, total = expected.get(top.id, (0, 0))
        expected[top.id] = (count + 1, total + weight)
    assert (placed, missed) == (expected, unplaced)
    assert sum(n for n, _ in placed.values()) > 0
