"""Absences: dated periods an officer is away (or on reduced duties), and what they mean.

An absence runs from ``starts_on`` to ``ends_on`` (both days included; no end: open,
until the officer returns). Its kind is what it is for:

* ``leave`` and ``sick`` make the officer's status on those days ``leave``;
* ``abstracted``, ``training``, ``court`` and ``other`` make it ``abstracted``;
* ``reduced`` is a **capacity reduction** (part-time working, light duties): the officer
  stays active but works ``percent`` per cent of normal duties, and their inexperienced
  limit and personal capacity are scaled to that share (rounded down) on those days.

An officer whose record says ``left`` stays ``left`` whatever their absences say.

Overlaps: two absences of one officer may not cover the same day, except that a
capacity reduction may overlap an absence (leave taken during a part-time spell); two
reductions may not overlap either. Plain rules; the store is ``store.absences``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

REDUCED = "reduced"
AWAY_KINDS: tuple[str, ...] = ("leave", "sick", "abstracted", "training", "court", "other")
KINDS: tuple[str, ...] = (*AWAY_KINDS, REDUCED)
# The officer status each away kind gives on the days it covers.
STATUS_OF: dict[str, str] = {
    "leave": "leave",
    "sick": "leave",
    "abstracted": "abstracted",
    "training": "abstracted",
    "court": "abstracted",
    "other": "abstracted",
}
# How a sentence names each kind: "sick leave from 2026-12-01 to 2026-12-05".
NOUNS: dict[str, str] = {
    "leave": "leave",
    "sick": "sick leave",
    "abstracted": "abstraction",
    "training": "training",
    "court": "court attendance",
    "other": "absence",
    REDUCED: "reduced duties",
}
# ``officer status C leave|abstracted``: the open-ended absence it books.
KIND_OF_STATUS: dict[str, str] = {"leave": "leave", "abstracted": "abstracted"}


def parse_kind(text: str) -> str:
    value = text.strip().lower()
    if value not in KINDS:
        raise ValueError(f"'{text.strip()}' is not an absence kind ({', '.join(KINDS)})")
    return value


def parse_percent(text: str) -> int:
    """A capacity reduction's share of normal duties: a whole percentage, 1 to 99."""
    value = text.strip().rstrip("%").strip()
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) < 100:
        raise ValueError(
            f"'{text.strip()}' is not a percentage of normal duties (a whole number, 1 to 99)"
        )
    return int(value)


def scaled(value: int | None, percent: int | None) -> int | None:
    """A limit or capacity on a day of reduced duties: ``percent`` of it, rounded down."""
    if value is None or percent is None:
        return value
    return value * percent // 100


@dataclass(frozen=True)
class Absence:
    """One absence as the rules see it."""

    id: int
    kind: str
    starts_on: date
    ends_on: date | None = None
    percent: int | None = None

    def covers(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)

    @property
    def away(self) -> bool:
        return self.kind != REDUCED

    @property
    def status(self) -> str:
        return STATUS_OF.get(self.kind, "active")

    def period(self) -> str:
        """``from 2026-12-01 to 2026-12-05`` or ``from 2026-12-01, open-ended``."""
        if self.ends_on is None:
            return f"from {self.starts_on.isoformat()}, open-ended"
        if self.ends_on == self.starts_on:
            return f"on {self.starts_on.isoformat()}"
        return f"from {self.starts_on.isoformat()} to {self.ends_on.isoformat()}"

    def words(self) -> str:
        """``leave from ... to ...``, ``reduced duties (50%) from ...``."""
        if self.kind == REDUCED:
            return f"reduced duties ({self.percent}%) {self.period()}"
        return f"{NOUNS.get(self.kind, self.kind)} {self.period()}"


def check_dates(starts_on: date, ends_on: date | None) -> str | None:
    """Why a period is not one (the end before the start), or None."""
    if ends_on is not None and ends_on < starts_on:
        return f"the end ({ends_on.isoformat()}) is before the start ({starts_on.isoformat()})"
    return None


def clashes(
    kind: str, starts_on: date, ends_on: date | None, existing: Iterable[Absence]
) -> list[Absence]:
    """The officer's absences a new one from ``starts_on`` to ``ends_on`` may not overlap:
    an away absence clashes with another away absence, a reduction with a reduction."""
    reduced = kind == REDUCED
    found = []
    for other in existing:
        if (other.kind == REDUCED) != reduced:
            continue
        if _overlap(starts_on, ends_on, other.starts_on, other.ends_on):
            found.append(other)
    return found


def _overlap(a_start: date, a_end: date | None, b_start: date, b_end: date | None) -> bool:
    return (b_end is None or a_start <= b_end) and (a_end is None or b_start <= a_end)


@dataclass(frozen=True)
class Outlook:
    """An officer's absences as an allocation on ``on`` sees them: the away absence
    covering the day, the next one starting within the notice period, the reduction."""

    current: Absence | None = None
    upcoming: Absence | None = None
    reduction: Absence | None = None

    @property
    def percent(self) -> int | None:
        return self.reduction.percent if self.reduction is not None else None


def outlook(absences: Iterable[Absence], *, on: date, notice_days: int) -> Outlook:
    """What ``absences`` (one officer's, not cancelled) mean for an allocation on ``on``."""
    current = upcoming = reduction = None
    horizon = on + timedelta(days=notice_days)
    for absence in sorted(absences, key=lambda a: (a.starts_on, a.id)):
        if absence.kind == REDUCED:
            if reduction is None and absence.covers(on):
                reduction = absence
        elif absence.covers(on):
            current = current or absence
        elif on < absence.starts_on <= horizon and upcoming is None:
            upcoming = absence
    return Outlook(current, upcoming, reduction)
