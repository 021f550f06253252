"""Audit findings: the stable codes, their severities and order, ``--fail-on``, and
the one-line detail sentences. Plain rules; the queries live in ``store.audit``.

The codes are a contract with the nightly scripts that match on them
(DOMAIN.md): never rename one once released.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from caseload.domain.events import describe_event

SEVERITIES: tuple[str, ...] = ("high", "medium", "low")
SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3}

# In report order: high first, then medium, then low (DOMAIN.md's table order).
CODES: dict[str, str] = {
    "inexperienced-over-limit": "high",
    "accreditation-mismatch": "high",
    "holder-unavailable": "high",
    "victim-notify-overdue": "high",
    "allocated-while-absent": "high",
    "over-capacity": "medium",
    "unallocated": "medium",
    "review-overdue": "medium",
    "victim-update-overdue": "medium",
    "absence-handover-due": "medium",
    "victim-referral-overdue": "medium",
    "reassign-churn": "low",
}

DESCRIPTIONS: dict[str, str] = {
    "inexperienced-over-limit": "an inexperienced officer holds more live crimes than the limit",
    "accreditation-mismatch": "a live crime's required level is above its holder's accreditation",
    "holder-unavailable": "an officer on leave, abstracted or left holds live crimes",
    "victim-notify-overdue": "a key event went untold to the victim past the Victims' Code "
    "deadline",
    "over-capacity": "an officer holds more live crimes than their personal capacity",
    "unallocated": "a live crime has had no holder for longer than unallocated_days",
    "review-overdue": "a live crime has had no supervisory review for longer than its risk "
    "grade allows (review_days, review_days_medium, review_days_high)",
    "victim-update-overdue": "no routine victim update within the agreed or default interval",
    "victim-referral-overdue": "no Right 4 referral (or recorded decline) within "
    "referral_working_days of reporting",
    "reassign-churn": "a crime has been reassigned more than reassign_churn times",
    "allocated-while-absent": "a crime was allocated to an officer on a day they were absent, "
    "without an override",
    "absence-handover-due": "an absence starts within absence_notice_days and the officer "
    "holds live crimes",
}

# Field names of a finding in every output (DOMAIN.md "Field names").
FINDING_COLUMNS: tuple[str, ...] = (
    "code",
    "severity",
    "team",
    "collar",
    "reference",
    "detail",
    "since",
)


def parse_severity(text: str) -> str:
    value = text.strip().lower()
    if value not in SEVERITY_RANK:
        raise ValueError(f"'{text.strip()}' is not a severity (low, medium or high)")
    return value


def review_due(
    last_review: date | None,
    reported_on: date,
    next_due: date | None,
    review_days: int,
    graded_since: date | None = None,
) -> date:
    """When a live crime's next review is due: ``review_days`` (the interval for its
    current risk grade, ``domain.risk.review_interval``) after its last review (or its
    report), or the next-review date that review set, if that is sooner. A grade that
    began later (``graded_since``) is due no earlier than the day before it began: a crime
    raised to high risk three weeks after its review is overdue from the day it was
    raised. Overdue from the day after (the review-overdue finding and ``crime show``
    agree on it)."""
    due = (last_review or reported_on) + timedelta(days=review_days)
    if graded_since is not None:
        due = max(due, graded_since - timedelta(days=1))
    return due if next_due is None else min(due, next_due)


def empty_counts() -> dict[str, dict[str, int]]:
    return {
        "by_code": dict.fromkeys(CODES, 0),
        "by_severity": dict.fromkeys(SEVERITIES, 0),
    }


def counts_from(by_code: Mapping[str, int]) -> dict[str, dict[str, int]]:
    """Counts by code (every code present, in order) and by severity."""
    counts = empty_counts()
    for code, n in by_code.items():
        counts["by_code"][code] += n
        counts["by_severity"][CODES[code]] += n
    return counts


def fails(by_code: Mapping[str, int], fail_on: str) -> bool:
    """True when any finding is at or above the ``--fail-on`` severity (exit code 1)."""
    threshold = SEVERITY_RANK[fail_on]
    return any(n > 0 and SEVERITY_RANK[CODES[code]] >= threshold for code, n in by_code.items())


# --- detail sentences ----------------------------------------------------------------------


def officer_label(rank: str | None, name: str | None, collar: str | None) -> str:
    """``DC Patel (AB1234)``: rank and surname, as allocation warnings name officers;
    the whole name when the rank is unknown."""
    name = (name or "").strip()
    rank = (rank or "").strip()
    words = f"{rank} {name.split()[-1]}" if rank and name else name or rank
    return f"{words} ({collar})" if words else str(collar)


def _who(row: Mapping[str, Any]) -> str:
    return officer_label(row.get("rank"), row.get("name"), row.get("collar"))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _days(start: date, end: date) -> str:
    return _plural((end - start).days, "day")


def _absence_words(row: Mapping[str, Any]) -> str:
    from caseload.domain.absences import Absence

    return Absence(0, str(row["kind"]), row["starts_on"], row["ends_on"]).words()


def detail(code: str, row: Mapping[str, Any], as_of: date) -> str:
    """The one-line sentence with the numbers for a finding row from ``store.audit``
    (the officer's label is made only by the codes that name the officer: the crime
    codes are most of a big audit's rows)."""
    ref = row.get("reference")
    if code == "inexperienced-over-limit":
        return (
            f"{_who(row)} holds {row['live']} live crimes; limit {row['limit']} "
            "for an inexperienced officer"
        )
    if code == "over-capacity":
        return f"{_who(row)} holds {row['live']} live crimes; personal capacity {row['limit']}"
    if code == "holder-unavailable":
        state = {"leave": "is on leave", "abstracted": "is abstracted", "left": "has left"}.get(
            str(row["status"]), f"is {row['status']}"
        )
        return f"{_who(row)} {state} and holds {_plural(int(row['live']), 'live crime')}"
    if code == "accreditation-mismatch":
        return (
            f"{ref} ({row['crime_type']}) requires {row['required_level']}; "
            f"holder {_who(row)} is {row['accreditation']}"
        )
    if code == "victim-notify-overdue":
        service = "enhanced service" if row["victim_enhanced"] else "standard service"
        return (
            f"{describe_event(str(row['kind']))} on {row['occurred_on']}; victim not told by "
            f"{row['deadline']} ({_plural(int(row['working_days']), 'working day')}, {service})"
        )
    if code == "unallocated":
        return (
            f"{ref} has had no holder since {row['since']} ({_days(row['since'], as_of)}); "
            f"limit {_plural(int(row['limit']), 'day')}"
        )
    if code == "review-overdue":
        parts = []
        last = row.get("last_review")
        if last is None:
            parts.append(
                f"never reviewed since reported on {row['reported_on']} "
                f"({_days(row['reported_on'], as_of)})"
            )
        else:
            parts.append(f"last review {last} ({_days(last, as_of)} ago)")
        risk = row.get("risk") or "standard"
        every = f"review every {_plural(int(row['limit']), 'day')}"
        parts.append(every + (f" ({risk} risk)" if risk != "standard" else ""))
        if row.get("next_due") is not None and row["next_due"] < as_of:
            parts.append(f"next review was due {row['next_due']}")
        return f"{ref}: " + "; ".join(parts)
    if code == "victim-update-overdue":
        last = row.get("last_update")
        basis = (
            f"last victim update {last} ({_days(last, as_of)} ago)"
            if last is not None
            else f"no victim update since reported on {row['reported_on']} "
            f"({_days(row['reported_on'], as_of)})"
        )
        every = _plural(int(row["limit"]), "day")
        agreed = f"agreed every {every}" if row.get("agreed") else f"every {every} (default)"
        return f"{ref}: {basis}; {agreed}"
    if code == "allocated-while-absent":
        return (
            f"{ref} was allocated to {_who(row)} on {row['since']}, during their "
            f"{_absence_words(row)}, without an override"
        )
    if code == "absence-handover-due":
        days = (row["starts_on"] - as_of).days
        when = "tomorrow" if days == 1 else f"in {_plural(days, 'day')}"
        from caseload.domain.absences import NOUNS, Absence

        period = Absence(0, str(row["kind"]), row["starts_on"], row["ends_on"]).period()
        return (
            f"{_who(row)} starts {NOUNS.get(str(row['kind']), 'absence')} {when} ({period}) and "
            f"holds {_plural(int(row['live']), 'live crime')}; hand them over"
        )
    if code == "victim-referral-overdue":
        service = "enhanced service" if row["victim_enhanced"] else "standard service"
        return (
            f"{ref}: reported on {row['reported_on']}; no referral to victim support (or "
            f"recorded decline) by {row['deadline']} "
            f"({_plural(int(row['limit']), 'working day')}, {service})"
        )
    if code == "reassign-churn":
        return (
            f"{ref} reassigned {_plural(int(row['reassignments']), 'time')}; limit {row['limit']}"
        )
    raise ValueError(f"unknown finding code {code}")


def finding(code: str, row: Mapping[str, Any], as_of: date) -> dict[str, Any]:
    """A finding as printed and exported: the DOMAIN.md field names, in order."""
    return {
        "code": code,
        "severity": CODES[code],
        "team": row.get("team"),
        "collar": row.get("collar"),
        "reference": row.get("reference"),
        "detail": detail(code, row, as_of),
        "since": row.get("since"),
    }


# --- trend ---------------------------------------------------------------------------------

_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[int]) -> str:
    """A one-line bar chart of counts (lowest bar for zero, highest for the maximum)."""
    if not values:
        return ""
    top = max(values)
    if top <= 0:
        return _BARS[0] * len(values)
    return "".join(_BARS[round(v / top * (len(_BARS) - 1))] for v in values)


def trend_rows(runs: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Flatten recorded runs to table rows: at, as_of, team, then one column per code."""
    rows = []
    for run in runs:
        row: dict[str, Any] = {"at": run["at"], "as_of": run["as_of"], "team": run.get("team")}
        by_code = run.get("by_code") or {}
        for code in CODES:
            row[code] = int(by_code.get(code, 0))
        row["total"] = sum(row[code] for code in CODES)
        rows.append(row)
    return rows
