"""Officer rules: statuses, and who counts as inexperienced on a given day."""

from __future__ import annotations

from datetime import date

STATUSES: tuple[str, ...] = ("active", "leave", "abstracted", "left")
UNAVAILABLE_STATUSES: tuple[str, ...] = ("leave", "abstracted", "left")


def parse_status(text: str) -> str:
    value = text.strip().lower()
    if value not in STATUSES:
        raise ValueError(f"'{text.strip()}' is not a status (active, leave, abstracted, left)")
    return value


def parse_capacity(text: str) -> int | None:
    """A personal capacity: a whole number of live crimes (1 to 10,000), or ``none``."""
    value = text.strip().lower()
    if value in ("", "none", "-"):
        return None
    if not (value.isascii() and value.isdigit()):
        raise ValueError(f"'{text.strip()}' is not a capacity (a whole number of crimes, or none)")
    return check_capacity(int(value), shown=text.strip())


def check_capacity(value: int | None, *, shown: str | None = None) -> int | None:
    """The one bound on a personal capacity: none, or 1 to 10,000 live crimes."""
    if value is not None and not 0 < value <= 10_000:
        raise ValueError(
            f"'{shown if shown is not None else value}' is not a capacity "
            "(a whole number of crimes, or none)"
        )
    return value


def parse_rank(text: str) -> str:
    """A rank (PC, DC, TDC, DS ...): one line of up to 20 characters, upper-case; blank is
    no rank."""
    from caseload.domain.values import clean_text

    return clean_text(text, "the rank", max_length=20).upper() if text.strip() else ""


def whole_months_between(start: date, end: date) -> int:
    """Whole calendar months from ``start`` to ``end`` (0 if ``end`` is earlier)."""
    if end <= start:
        return 0
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if end.day < start.day:
        months -= 1
    return max(months, 0)


def is_inexperienced(
    *, trainee: bool, investigator_since: date, on: date, inexperienced_months: int
) -> bool:
    """A trainee, or fewer than ``inexperienced_months`` whole months of investigating."""
    if trainee:
        return True
    return whole_months_between(investigator_since, on) < inexperienced_months


def experienced_cutoff(on: date, inexperienced_months: int) -> date | None:
    """The latest ``investigator_since`` that is no longer inexperienced on ``on``.

    A non-trainee is inexperienced exactly when ``investigator_since`` is after this
    date (equivalent to ``is_inexperienced`` on every day, month ends and leap days
    included: tests/test_rules.py), so a query can test a whole force with one
    comparison. None: with 0 months nobody but a trainee is.
    """
    if inexperienced_months <= 0:
        return None
    from dateutil.relativedelta import relativedelta

    return on - relativedelta(months=inexperienced_months)


def inexperienced_after(on: date, inexperienced_months: int) -> date:
    """``experienced_cutoff`` as a date a query can always compare with: a non-trainee
    is inexperienced on ``on`` exactly when ``investigator_since`` is after it (the
    last date there is when only trainees are)."""
    return experienced_cutoff(on, inexperienced_months) or date.max


def experienced_from(investigator_since: date, inexperienced_months: int) -> date:
    """The first day on which a non-trainee stops counting as inexperienced."""
    from dateutil.relativedelta import relativedelta

    return investigator_since + relativedelta(months=inexperienced_months)
