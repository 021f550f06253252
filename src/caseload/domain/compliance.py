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

Beside the timeliness of supervisory reviews, the quality reviews recorded in the period
(``review CRIME --quality pass|advice|fail``, dated from ``--from`` to ``--to``), per team
by result: on each ``supervisory-review`` row, ``quality_reviews`` (how many) and
``quality_pass``, ``quality_advice`` and ``quality_fail``. Where none was recorded the
results are empty (None), not zeros: nothing was measured. The domain sets no standard a
result must reach (``advice`` is neither a pass nor a fail), so the return gives no rate
for quality; the counts are what was recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from caseload.domain.sampling import QUALITY_RESULTS

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
    "quality_reviews",
    *(f"quality_{result}" for result in QUALITY_RESULTS),
)

# The duty whose rows carry the quality results (a quality review is a supervisory review).
QUALITY_DUTY = "supervisory-review"
QUALITY_COLUMNS: tuple[str, ...] = tuple(f"quality_{result}" for result in QUALITY_RESULTS)

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
    counts: Iterable[Mapping[str, Any]],
    teams: Mapping[int, str],
    *,
    force: bool,
    quality: Iterable[Mapping[str, Any]] = (),
) -> list[dict[str, Any]]:
    """The return's rows from per-(duty, team) counts: each duty's teams by name, then (with
    ``force``) the force's total for the duty; every duty appears, with zeros if need be.

    ``quality``: per (team_id, quality result) the ``reviews`` recorded in the period; they
    go on each team's ``supervisory-review`` row (a team with quality reviews but no review
    due gets one, with zeros for the duty), and their sum on the force's."""
    by_duty: dict[str, list[dict[str, Any]]] = {duty: [] for duty in DUTIES}
    for row in counts:
        by_duty[str(row["duty"])].append(dict(row))
    by_team = quality_by_team(quality)
    listed = {int(row["team_id"]) for row in by_duty[QUALITY_DUTY]}
    for team_id in sorted(set(by_team) - listed):
        by_duty[QUALITY_DUTY].append({"team_id": team_id})
    rows: list[dict[str, Any]] = []
    for duty, found in by_duty.items():
        found.sort(key=lambda r: teams.get(int(r["team_id"]), "").lower())
        total = {"due": 0, "on_time": 0, "late": 0, "outstanding": 0}
        measured: dict[str, int] = {}
        for row in found:
            figures = {key: int(row.get(key) or 0) for key in total}
            for key, n in figures.items():
                total[key] += n
            team_id = int(row["team_id"])
            results = by_team.get(team_id, {}) if duty == QUALITY_DUTY else None
            for key, n in (results or {}).items():
                measured[key] = measured.get(key, 0) + n
            rows.append(_row(duty, teams.get(team_id, "?"), figures, results))
        results = measured if duty == QUALITY_DUTY else None
        if force:
            rows.append(_row(duty, FORCE, total, results))
        elif not found:
            rows.append(_row(duty, next(iter(teams.values()), FORCE), total, results))
    return rows


def quality_by_team(found: Iterable[Mapping[str, Any]]) -> dict[int, dict[str, int]]:
    """Per team id, how many quality reviews had each result (``QUALITY_RESULTS``; a value
    outside them counts among the team's reviews only)."""
    by_team: dict[int, dict[str, int]] = {}
    for row in found:
        key = f"quality_{row['quality']}"
        team = by_team.setdefault(int(row["team_id"]), {})
        team[key] = team.get(key, 0) + int(row["reviews"])
    return by_team


def quality_figures(results: Mapping[str, int] | None) -> dict[str, int | None]:
    """A row's quality columns: None throughout off the ``supervisory-review`` rows
    (``results`` None); with no quality review recorded, 0 reviews and no results (nothing
    was measured, so no zeros for pass, advice and fail)."""
    if results is None:
        return {"quality_reviews": None, **dict.fromkeys(QUALITY_COLUMNS)}
    reviews = sum(results.values())
    if reviews == 0:
        return {"quality_reviews": 0, **dict.fromkeys(QUALITY_COLUMNS)}
    return {"quality_reviews": reviews, **{key: results.get(key, 0) for key in QUALITY_COLUMNS}}


def quality_recorded(rows: Iterable[Mapping[str, Any]]) -> bool:
    """Whether the return's rows hold any quality review."""
    return any(r["quality_reviews"] for r in rows if r["duty"] == QUALITY_DUTY)


def _row(
    duty: str, team: str, figures: Mapping[str, int], results: Mapping[str, int] | None = None
) -> dict[str, Any]:
    return {
        "duty": duty,
        "team": team,
        **figures,
        "on_time_rate": on_time_rate(figures["on_time"], figures["due"]),
        **quality_figures(results),
    }
