"""Working days skip weekends and the bank holidays of England and Wales."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caseload.domain.workdays import (
    add_working_days,
    bank_holiday,
    is_working_day,
    working_days_between,
)


def test_easter_2026_weekend() -> None:
    thursday = date(2026, 4, 2)
    assert bank_holiday(date(2026, 4, 3)) == "Good Friday"
    assert bank_holiday(date(2026, 4, 6)) == "Easter Monday"
    assert add_working_days(thursday, 1) == date(2026, 4, 7)
    assert add_working_days(thursday, 5) == date(2026, 4, 13)
    assert not is_working_day(date(2026, 4, 3))
    assert not is_working_day(date(2026, 4, 4))
    assert is_working_day(date(2026, 4, 7))


def test_late_may_and_christmas_2026() -> None:
    assert bank_holiday(date(2026, 5, 25)) is not None
    assert add_working_days(date(2026, 5, 22), 1) == date(2026, 5, 26)
    # Christmas Day is a Friday, Boxing Day a Saturday (observed on Monday 28th).
    assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)


def test_ordinary_weekends() -> None:
    friday = date(2026, 6, 12)
    assert add_working_days(friday, 1) == date(2026, 6, 15)
    assert add_working_days(date(2026, 6, 13), 1) == date(2026, 6, 15)  # from a Saturday
    assert add_working_days(date(2026, 6, 15), 5) == date(2026, 6, 22)
    assert add_working_days(friday, 0) == friday
    with pytest.raises(ValueError):
        add_working_days(friday, -1)


def test_scottish_holidays_do_not_count() -> None:
    # 2 January and St Andrew's Day are Scottish bank holidays, not English ones.
    assert is_working_day(date(2026, 1, 2))
    assert is_working_day(date(2026, 11, 30))


@settings(max_examples=200, deadline=None)
@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    n=st.integers(min_value=1, max_value=15),
)
def test_deadline_is_the_nth_working_day(start: date, n: int) -> None:
    due = add_working_days(start, n)
    assert is_working_day(due)
    assert working_days_between(start, due) == n
    assert working_days_between(start, due - timedelta(days=1)) == n - 1


def test_the_calendar_is_the_librarys_england_and_wales_list() -> None:
    """The bank holidays are ``holidays.country_holidays("GB", subdiv="ENG")``'s, though
    only the United Kingdom's module is loaded for them (not every country's)."""
    import subprocess
    import sys

    import holidays

    from caseload.domain.workdays import bank_holiday

    reference = holidays.country_holidays("GB", subdiv="ENG", years=range(2010, 2036))
    for day in (date(2010, 1, 1) + timedelta(days=n) for n in range(26 * 366)):
        assert bank_holiday(day) == reference.get(day), day
    # in a fresh process, counting working days does not import the other countries
    probe = (
        "import sys; from datetime import date; from caseload.domain.workdays import "
        "is_working_day; assert not is_working_day(date(2026, 4, 3)); "
        "print(sum(m.startswith('holidays.countries.') for m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == 1  # united_kingdom alone
