"""Working days: weekdays that are not bank holidays in England and Wales.

The Victims' Code counts its deadlines in working days. Bank holidays come
from the maintained ``holidays`` library (``country_holidays("GB",
subdiv="ENG")``: England and Wales share one list), never from a hand-typed
table, so a royal or substitute holiday is picked up by upgrading the library.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _calendar() -> Any:
    # expand=True (the default) fills in each year on first lookup.
    try:
        return _united_kingdom()(subdiv="ENG")
    except (ImportError, AttributeError):  # a holidays release laid out otherwise
        import holidays

        return holidays.country_holidays("GB", subdiv="ENG")


def _united_kingdom() -> Any:
    """The library's ``UnitedKingdom`` class (what ``country_holidays("GB")`` makes), its
    module loaded alone: the ``holidays.countries`` package imports every country's module
    when it is imported (some 300 of them, a quarter of a second), and a command that counts
    working days needs one. The package's own ``__init__`` is not run for this import (an
    unexecuted module stands in for it meanwhile); importing ``holidays.countries`` later
    still runs it, and it finds this module already loaded."""
    import importlib.util
    import sys

    import holidays  # noqa: F401  (the top-level package: small, its registry is lazy)

    name = "holidays.countries"
    if name in sys.modules:
        from holidays.countries.united_kingdom import UnitedKingdom

        return UnitedKingdom
    spec = importlib.util.find_spec(name)
    if spec is None:
        raise ImportError(name)
    sys.modules[name] = importlib.util.module_from_spec(spec)
    try:
        from holidays.countries.united_kingdom import UnitedKingdom
    finally:
        del sys.modules[name]
    return UnitedKingdom


def bank_holiday(day: date) -> str | None:
    """The name of the England and Wales bank holiday on ``day``, or None."""
    name = _calendar().get(day)
    return str(name) if name else None


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a bank holiday in England and Wales."""
    return day.weekday() < 5 and day not in _calendar()


def add_working_days(start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (``start`` itself never counts).

    An event on Thursday 2 April 2026 with 1 working day is due Tuesday 7 April
    (Good Friday, the weekend and Easter Monday are skipped). ``n = 0`` gives
    ``start`` itself.
    """
    if n < 0:
        raise ValueError("the number of working days cannot be negative")
    day = start
    remaining = n
    while remaining:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 if ``end`` is not later)."""
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count
