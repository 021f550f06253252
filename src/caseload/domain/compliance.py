"""The compliance return: which duties it counts, how a duty's deadline is set, and the
figures per team and force. Plain rules; the counting is SQL in ``store.compliance``.

For each duty that fell due in the period (its deadline between ``--from`` and ``--to``),
the return counts how many were met on time (by the deadline), met late (after the
deadline but by the end of the period) and are still outstanding (not met by the end of
the period), and the on-time rate (on time / fell due). A past period is rebuilt as it
stood at the end of its last day: records dated later do not count.

* ``supervisory-review``: a live crime's next review is due ``domain.risk.review_interval``
  days (for the crime's risk grade now) after its report or its last review (or on the
  next-review date that review set, if sooner); met by the next review after it. Not due
  if the crime was finalised by then.
* ``victim-update``: the same for routine victim updates, every ``victim_update_days``
  days or the frequency agreed with the victim.
* ``right-6-notification``: each key event, told within ``notify_working_days`` (or
  ``notify_working_days_enhanced``) working days; met by the first victim update on or
  after the event (as the audit and ``crime show`` count it).
* ``right-4-referral``: each crime reported on or after the day the store began
  recording referrals, referred (or the victim's decline recorded) within
  ``referral_working_days`` working days of reporting.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

DUTIES: dict[str, str] = {
    "supervisory-review": "supervisory review on time",
    "victim-update": "routine victim update",
    "right-6-notification": "Right 6: victim told of a key event",
    "right-4-referral": "Right 4: referral to victim support",
}

COLUMNS: tuple[str, ...] = (
    "duty",
    "team",
    "due",
    "on_time",
    "late",
    "outstanding",
    "on_time_rate",
)

FORCE = "All teams"


def on_time_rate(on_time: int, due: int) -> float | None:
    """The percentage of duties that fell due and were met on time (None when none fell due)."""
    return None if due == 0 else round(100.0 * on_time / due, 1)


def look_back(start: date, working_days: int) -> date:
    """The earliest day whose deadline ``working_days`` working days on can fall on or
    after ``start``: the first day a return for a period from ``start`` must consider."""
    from caseload.domain.workdays import add_working_days

    day = start
    while add_working_days(day - timedelta(days=1), working_days) >= start:
        day -= timedelta(days=1)
    return day


def deadlines(first: date, last: date, *working_days: int) -> list[tuple[date, ...]]:
    """For each day from ``first`` to ``last``: (day, its deadline for each count of
    working days). One row per calendar day, never per record."""
    from caseload.domain.workdays import add_working_days

    rows = []
    day = first
    while day <= last:
        rows.append((day, *(add_working_days(day, n) for n in working_days)))
        day += timedelta(days=1)
    return rows


def return_rows(
    counts: Iterable[Mapping[str, Any]], teams: Mapping[int, str], *, force: bool
) -> list[dict[str, Any]]:
    """The return's rows from per-(duty, team) counts: each duty's teams by name, then (with
    ``force``) the force's total for the duty; every duty appears, with zeros if need be."""
    by_duty: dict[str, list[dict[str, Any]]] = {duty: [] for duty in DUTIES}
    for row in counts:
        by_duty[str(row["duty"])].append(dict(row))
    rows: list[dict[str, Any]] = []
    for duty, found in by_duty.items():
        found.sort(key=lambda r: teams.get(int(r["team_id"]), "").lower())
        total = {"due": 0, "on_time": 0, "late": 0, "outstanding": 0}
        for row in found:
            figures = {key: int(row[key] or 0) for key in total}
            for key, n in figures.items():
                total[key] += n
            rows.append(_row(duty, teams.get(int(row["team_id"]), "?"), figures))
        if force:
            rows.append(_row(duty, FORCE, total))
        elif not found:
            rows.append(_row(duty, next(iter(teams.values()), FORCE), total))
    return rows


def _row(duty: str, team: str, figures: Mapping[str, int]) -> dict[str, Any]:
    return {
        "duty": duty,
        "team": team,
        **figures,
        "on_time_rate": on_time_rate(figures["on_time"], figures["due"]),
    }
