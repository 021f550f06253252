"""Parsing what people type: UK dates, spans, yes/no, collars, levels, outcomes, policy."""

from __future__ import annotations

from datetime import date

import pytest

from caseload.domain.levels import is_accredited_for, parse_level
from caseload.domain.officers import is_inexperienced, whole_months_between
from caseload.domain.outcomes import parse_outcome
from caseload.domain.policy import DEFAULTS, parse_setting
from caseload.domain.values import normalise_collar, parse_bool, parse_date, parse_span_days


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-04-03", date(2025, 4, 3)),
        ("03/04/2025", date(2025, 4, 3)),  # day first: 3 April
        ("3/4/2025", date(2025, 4, 3)),
        ("03.04.2025", date(2025, 4, 3)),
        ("3 April 2025", date(2025, 4, 3)),
        (" 2024-02-29 ", date(2024, 2, 29)),
    ],
)
def test_dates_are_read_day_first(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["31/02/2025", "2025-13-01", "yesterday", "", "29/02/2023", "1e9"])
def test_impossible_or_malformed_dates_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date(text)


@pytest.mark.parametrize(("text", "days"), [("28d", 28), ("6w", 42), ("3m", 90), ("14", 14)])
def test_spans(text: str, days: int) -> None:
    assert parse_span_days(text) == days


def test_booleans_and_collars() -> None:
    assert [parse_bool(v) for v in ("yes", "Y", "true", "1", "no", "N", "false", "0")] == [
        True,
        True,
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    with pytest.raises(ValueError):
        parse_bool("maybe")
    assert normalise_collar(" ab1234 ") == "AB1234"
    with pytest.raises(ValueError):
        normalise_collar("AB 1234; DROP")


def test_levels_are_ordered() -> None:
    assert parse_level("pip2") == "PIP2"
    assert parse_level("None") == "none"
    assert is_accredited_for("PIP2", "PIP1")
    assert is_accredited_for("PIP2", "PIP2")
    assert not is_accredited_for("PIP1", "PIP2")
    with pytest.raises(ValueError):
        parse_level("PIP5")


def test_inexperienced_is_fewer_than_24_whole_months() -> None:
    since = date(2023, 3, 15)
    assert whole_months_between(since, date(2025, 3, 14)) == 23
    assert is_inexperienced(
        trainee=False, investigator_since=since, on=date(2025, 3, 14), inexperienced_months=24
    )
    assert not is_inexperienced(
        trainee=False, investigator_since=since, on=date(2025, 3, 15), inexperienced_months=24
    )
    # A trainee stays inexperienced however long they have investigated.
    assert is_inexperienced(
        trainee=True,
        investigator_since=date(2010, 1, 1),
        on=date(2025, 1, 1),
        inexperienced_months=24,
    )


def test_outcomes_and_policy_values() -> None:
    assert parse_outcome("18") == 18
    assert parse_outcome("OC1") == 1
    with pytest.raises(ValueError):
        parse_outcome("19")
    assert DEFAULTS.inexperienced_limit == 25
    assert parse_setting("limit_mode", "BLOCK") == "block"
    with pytest.raises(ValueError):
        parse_setting("limit_mode", "sometimes")
    with pytest.raises(ValueError):
        parse_setting("inexperienced_limit", "-3")
    with pytest.raises(ValueError):
        parse_setting("no_such_setting", "1")
