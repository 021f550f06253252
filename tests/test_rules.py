"""The allocation rules, on plain values: which breaches an allocation raises."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from caseload.domain.officers import experienced_cutoff, is_inexperienced
from caseload.domain.policy import Policy
from caseload.domain.rules import (
    MISMATCH,
    OVER_CAPACITY,
    OVER_LIMIT,
    UNAVAILABLE,
    OfficerFacts,
    check_allocation,
    over_limit,
)

TODAY = date(2026, 11, 27)
JONES = OfficerFacts(
    collar="XY9",
    name="Sam Jones",
    rank="TDC",
    accreditation="PIP1",
    status="active",
    capacity=None,
    trainee=False,
    investigator_since=date(2025, 6, 1),
)
VETERAN = replace(
    JONES, collar="AB1", name="Ann Bell", rank="DC", investigator_since=date(2010, 1, 1)
)


def codes(officer: OfficerFacts, live_after: int, level: str = "PIP1", **policy: object):  # type: ignore[no-untyped-def]
    breaches = check_allocation(
        officer,
        live_after=live_after,
        required_level=level,
        on=TODAY,
        policy=Policy(**policy),
    )
    return [(b.code, b.blocking) for b in breaches]


def test_boundary_25_is_fine_26_is_over() -> None:
    assert not over_limit(25, 25)
    assert over_limit(26, 25)
    assert codes(JONES, 25) == []
    assert codes(JONES, 26) == [(OVER_LIMIT, False)]


def test_the_warning_names_officer_count_and_limit() -> None:
    (breach,) = check_allocation(
        JONES, live_after=26, required_level="PIP1", on=TODAY, policy=Policy()
    )
    assert (
        breach.text() == "TDC Jones (XY9) is inexperienced and now holds 26 live crimes; limit 25"
    )
    assert "would hold 26" in breach.text(done=False)


def test_experienced_officers_have_no_limit() -> None:
    assert codes(VETERAN, 200) == []


def test_two_year_mark_passing_ends_inexperience() -> None:
    officer = replace(JONES, investigator_since=date(2024, 11, 28))
    assert codes(officer, 26) == [(OVER_LIMIT, False)]  # 23 whole months on 27 Nov 2026
    officer = replace(JONES, investigator_since=date(2024, 11, 27))
    assert codes(officer, 26) == []  # exactly 24 months: no longer inexperienced


def test_trainees_are_always_inexperienced() -> None:
    assert codes(replace(VETERAN, trainee=True), 26) == [(OVER_LIMIT, False)]


def test_limit_and_months_come_from_policy() -> None:
    assert codes(JONES, 11, inexperienced_limit=10) == [(OVER_LIMIT, False)]
    assert codes(JONES, 26, inexperienced_months=12) == []


def test_block_mode_makes_the_limit_blocking() -> None:
    assert codes(JONES, 26, limit_mode="block") == [(OVER_LIMIT, True)]


def test_accreditation_blocks_by_default_and_warns_in_warn_mode() -> None:
    assert codes(VETERAN, 1, "PIP2") == [(MISMATCH, True)]
    assert codes(VETERAN, 1, "PIP2", accreditation_mode="warn") == [(MISMATCH, False)]
    assert codes(VETERAN, 1, "PIP1") == []
    assert codes(replace(VETERAN, accreditation="PIP3"), 1, "PIP2") == []
    unaccredited = replace(VETERAN, accreditation="none")
    (breach,) = check_allocation(
        unaccredited, live_after=1, required_level="PIP1", on=TODAY, policy=Policy()
    )
    assert (
        breach.text() == "DC Bell (AB1) has no investigative accreditation but the crime needs PIP1"
    )


def test_unavailable_and_capacity_only_warn() -> None:
    assert codes(replace(VETERAN, status="leave"), 1) == [(UNAVAILABLE, False)]
    assert codes(replace(VETERAN, capacity=10), 10) == []
    assert codes(replace(VETERAN, capacity=10), 11) == [(OVER_CAPACITY, False)]


def test_blocking_breaches_come_first() -> None:
    officer = replace(JONES, status="abstracted", capacity=5)
    assert codes(officer, 26, "PIP2") == [
        (MISMATCH, True),
        (OVER_LIMIT, False),
        (UNAVAILABLE, False),
        (OVER_CAPACITY, False),
    ]


def test_an_officer_without_rank_is_named_in_full() -> None:
    officer = replace(JONES, rank="")
    assert officer.label == "Sam Jones (XY9)"


@given(
    on=st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 12, 31)),
    since=st.dates(min_value=date(1960, 1, 1), max_value=date(2099, 12, 31)),
    months=st.integers(min_value=0, max_value=120),
)
def test_one_cutoff_date_says_who_is_inexperienced(on: date, since: date, months: int) -> None:
    """The workload query compares investigator_since with one date; it must agree
    with the rule officer by officer, month ends and leap days included."""
    expected = is_inexperienced(
        trainee=False, investigator_since=since, on=on, inexperienced_months=months
    )
    cutoff = experienced_cutoff(on, months)
    assert (cutoff is not None and since > cutoff) == expected


def test_cutoff_at_month_ends() -> None:
    # On 28 Feb 2027 an officer who began on 28 Jan 2027 has one whole month; 29 Jan not.
    assert experienced_cutoff(date(2027, 2, 28), 1) == date(2027, 1, 28)
    assert experienced_cutoff(date(2027, 3, 31), 1) == date(2027, 2, 28)
    assert experienced_cutoff(date(2028, 2, 29), 24) == date(2026, 2, 28)
    assert experienced_cutoff(date(2028, 2, 29), 0) is None  # only trainees, then


# --- holdings that change without a new allocation (issue 13) ----------------------------------


def test_a_level_raise_breaks_only_the_accreditation_rule_and_only_upwards() -> None:
    from caseload.domain.rules import check_level_raise

    def raised(old: str, new: str, **policy: object) -> list[tuple[str, bool]]:
        breaches = check_level_raise(
            JONES,
            live=40,  # far over the limit already: not this change's doing
            old_level=old,
            new_level=new,
            policy=Policy(**policy),
        )
        return [(b.code, b.blocking) for b in breaches]

    assert raised("PIP1", "PIP2") == [(MISMATCH, True)]
    assert raised("PIP1", "PIP4", accreditation_mode="warn") == [(MISMATCH, False)]
    assert raised("PIP3", "PIP2") == []  # lowered: no new breach
    assert raised("none", "PIP1") == []  # still within PIP1


def test_an_officer_change_warns_only_of_what_it_made_worse() -> None:
    from caseload.domain.rules import officer_change_breaches

    held = {"PIP1": 20, "PIP2": 10}
    detective = replace(VETERAN, accreditation="PIP2")

    def made(before: OfficerFacts, after: OfficerFacts) -> list[tuple[str, int]]:
        found = officer_change_breaches(before, after, held, on=TODAY, policy=Policy())
        return [(b.code, b.count) for b in found]

    assert made(detective, replace(detective, accreditation="PIP1")) == [(MISMATCH, 10)]
    assert made(detective, replace(detective, trainee=True)) == [(OVER_LIMIT, 5)]
    assert made(detective, replace(detective, investigator_since=date(2026, 1, 1))) == [
        (OVER_LIMIT, 5)
    ]
    assert made(detective, replace(detective, capacity=24)) == [(OVER_CAPACITY, 6)]
    assert made(detective, replace(detective, status="leave")) == [(UNAVAILABLE, 30)]
    # Already in breach, no worse: no warning; worse: a warning.
    one = replace(detective, accreditation="PIP1")
    assert made(one, replace(one, name="Ann Bell-Smith")) == []
    assert made(one, replace(one, accreditation="none")) == [(MISMATCH, 30)]
    assert made(detective, replace(detective, accreditation="PIP3")) == []
    assert (
        officer_change_breaches(
            detective, replace(detective, accreditation="none"), {}, on=TODAY, policy=Policy()
        )
        == []
    )  # holds nothing: nothing to warn of
