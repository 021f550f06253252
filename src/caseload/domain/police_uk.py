"""police.uk street-level crime files (data.police.uk), read as published.

Plain values, no I/O: the column spec of a street-level file, what each "Last
outcome category" becomes in caseload (live, or finalised with a Home Office
outcome type), the borough of an LSOA name, and one row as the values of a crime
import (``csvschema.CRIMES``' columns), so that ``store.importer.police_uk`` writes it
through the same path as ``caseload import crimes``.

The README's "Importing police.uk files" section shows ``OUTCOME_CATEGORIES`` as a
table; a test checks that the two agree.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from caseload.domain.csvschema import Column, Spec, _text


@dataclass(frozen=True)
class Outcome:
    """What a police.uk outcome category becomes: live (``outcome`` None) or finalised."""

    outcome: int | None  # Home Office outcome type; None: the crime stays live
    why: str = ""  # shown in the README's table

    @property
    def finalised(self) -> bool:
        return self.outcome is not None


LIVE = Outcome(None, "no outcome yet")
NAMED = "the category names this outcome"
COURT = "charged: the police outcome; what the court did after does not change it"

# Every category data.police.uk publishes as "Last outcome category" (its outcome
# categories list), and what caseload records. police.uk folds several Home Office
# outcome types into one category; the type chosen is the one the category names
# (or, where it folds several, the one that claims the least, as said in ``why``).
OUTCOME_CATEGORIES: dict[str, Outcome] = {
    "": LIVE,
    "Under investigation": Outcome(None, "still being investigated"),
    "Status update unavailable": Outcome(
        None, "police.uk has no outcome for it; caseload will not invent one"
    ),
    "Investigation complete; no suspect identified": Outcome(18, NAMED),
    "Unable to prosecute suspect": Outcome(
        15,
        "folds outcomes 14-16 (evidential difficulties); 15 claims nothing about "
        "whether the victim supports action",
    ),
    "Further investigation is not in the public interest": Outcome(21, NAMED),
    "Formal action is not in the public interest": Outcome(10, "the police's decision"),
    "Further action is not in the public interest": Outcome(9, "the CPS's decision"),
    "Action to be taken by another organisation": Outcome(20, NAMED),
    "Local resolution": Outcome(8, "a local resolution is a community resolution"),
    "Offender given a caution": Outcome(3, "police.uk folds youth (2) and adult (3) cautions"),
    "Offender given a drugs possession warning": Outcome(7, NAMED),
    "Offender given penalty notice": Outcome(6, NAMED),
    "Suspect charged as part of another case": Outcome(1, "charged, with another offence"),
    "Suspect charged": Outcome(1, NAMED),
    "Awaiting court outcome": Outcome(1, COURT),
    "Court result unavailable": Outcome(1, COURT),
    "Court case unable to proceed": Outcome(1, COURT),
    "Defendant found not guilty": Outcome(1, COURT),
    "Defendant sent to Crown Court": Outcome(1, COURT),
    "Offender sent to prison": Outcome(1, COURT),
    "Offender given suspended prison sentence": Outcome(1, COURT),
    "Offender given community sentence": Outcome(1, COURT),
    "Offender fined": Outcome(1, COURT),
    "Offender given conditional discharge": Outcome(1, COURT),
    "Offender given absolute discharge": Outcome(1, COURT),
    "Offender ordered to pay compensation": Outcome(1, COURT),
    "Offender deprived of property": Outcome(1, COURT),
    "Offender otherwise dealt with": Outcome(1, COURT),
    "Defendant found guilty": Outcome(1, COURT),
}
_BY_KEY = {name.lower(): outcome for name, outcome in OUTCOME_CATEGORIES.items()}


def parse_outcome_category(text: str) -> Outcome:
    """A "Last outcome category" cell (any case); one police.uk does not use is refused."""
    found = _BY_KEY.get(" ".join(text.split()).lower())
    if found is None:
        raise ValueError(
            f"'{text.strip()}' is not an outcome category caseload knows "
            "(the README lists every police.uk category and what it becomes)"
        )
    return found


def parse_month(text: str) -> date:
    """``2022-07`` -> 1 July 2022 (the first of the month)."""
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"'{text.strip()}' is not a month (YYYY-MM, as police.uk writes it)")
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_end(month: date, today: date) -> date:
    """The day recorded as a finalised crime's ``finalised_on``: the last day of its month
    (police.uk gives no date; this is the earliest day certain not to be before the real
    report), or today if the month is not over."""
    last = date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])
    return min(last, today)


_LSOA_CODE = re.compile(r"\s+[0-9]{3}[A-Z]$")


def borough(lsoa_name: str) -> str:
    """``Barking and Dagenham 001B`` -> ``Barking and Dagenham`` (blank stays blank)."""
    return _LSOA_CODE.sub("", lsoa_name.strip())


TEAM_BY = ("borough", "force")


def team_for(values: Mapping[str, Any], team: str | None, team_by: str) -> str:
    """The crime's team: one given name, the force ("Falls within"), or the LSOA name's
    borough. A row with no location (blank LSOA name) goes to its force."""
    if team:
        return team
    force = values["falls_within"] or values["reported_by"] or "Unknown force"
    if team_by == "force":
        return str(force)
    return borough(values["lsoa_name"] or "") or str(force)


def _free(value: str) -> str:
    return value


POLICE_UK = Spec(
    kind="police-uk",
    noun="crime",
    plural="crimes",
    columns=(
        Column("crime_id", _text("the Crime ID", 64), default=None),  # blank: anti-social b.
        Column("month", parse_month, required=True, not_future=True),
        Column("reported_by", _text("the force", 100), default=""),
        Column("falls_within", _text("the force", 100), default=""),
        Column("longitude", _free, default=""),
        Column("latitude", _free, default=""),
        Column("location", _free, default=""),
        Column("lsoa_code", _free, default=""),
        Column("lsoa_name", _text("the LSOA name", 100), default=""),
        Column("crime_type", _text("the crime type", 100), required=True),
        Column("last_outcome_category", parse_outcome_category, default=LIVE),
        Column("context", _free, default=""),
    ),
    key=lambda v: v["crime_id"],
    key_column="crime_id",
    key_label="Crime ID",
)


def as_crime(
    values: Mapping[str, Any], *, team: str | None, team_by: str, today: date
) -> dict[str, Any]:
    """One street-level row as the values of a crime import row (``CRIMES``' columns).

    ``holder`` and ``victim_enhanced`` are not in police.uk files; the store's own
    values are put in by the writer, so re-importing never changes them.
    """
    month: date = values["month"]
    outcome: Outcome = values["last_outcome_category"]
    return {
        "reference": values["crime_id"],
        "crime_type": values["crime_type"],
        "reported_on": month,
        "team": team_for(values, team, team_by),
        "required_level": None,  # from the matrix, as for crimes
        "holder": None,
        "victim_enhanced": False,
        "finalised_on": month_end(month, today) if outcome.finalised else None,
        "outcome": outcome.outcome,
        "allocated_on": None,
    }
