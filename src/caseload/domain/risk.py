"""Risk grades (``standard``, ``medium``, ``high``, as THRIVE/DASH gradings are summarised)
and what a crime's grade changes: its required level through the matrix, and how often
it must be reviewed.

Plain rules over plain values; the grade's history is ``crime_risk`` in the store
(``store.risk``).

* A matrix row may name a grade. A crime needs the highest level among the rows matching
  its type and current grade: its own level (from the type's plain row, or as given when
  it was recorded), and every risk row of its type whose grade is at or below the crime's
  (a ``medium`` row applies to high-risk crimes too: raising a crime's risk never lowers
  what it needs).
* The review interval for a grade is ``review_interval``: the one place that says it
  (the audit, ``crime show`` and the compliance return use it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from caseload.domain.levels import RANK

if TYPE_CHECKING:
    from caseload.domain.policy import Policy

GRADES: tuple[str, ...] = ("standard", "medium", "high")
DEFAULT_GRADE = "standard"
GRADE_RANK = {grade: index for index, grade in enumerate(GRADES)}

# A matrix of risk rows: (crime type folded to lower case, grade) -> required level.
RiskMatrix = Mapping[tuple[str, str], str]


def parse_grade(text: str) -> str:
    """``High``/``high``/``h`` -> ``high``; raises ValueError naming the grades."""
    value = text.strip().lower()
    for grade in GRADES:
        if value in (grade, grade[0]):
            return grade
    raise ValueError(f"'{text.strip()}' is not a risk grade (standard, medium or high)")


def review_setting(grade: str | None) -> str:
    """The policy setting that says how often a crime of this grade is reviewed."""
    return {"high": "review_days_high", "medium": "review_days_medium"}.get(
        grade or DEFAULT_GRADE, "review_days"
    )


def review_interval(grade: str | None, policy: Policy) -> int:
    """Longest time, in days, a live crime of this grade may go without a supervisory
    review: ``review_days_high``, ``review_days_medium``, else ``review_days``."""
    return int(getattr(policy, review_setting(grade)))


def risk_level(crime_type: str, grade: str, risks: RiskMatrix) -> str | None:
    """The highest level the matrix's risk rows ask of this type at this grade (rows of
    the grade and of lower grades), or None when no risk row applies."""
    key = crime_type.strip().lower()
    found = [
        level
        for candidate in GRADES[1 : GRADE_RANK.get(grade, 0) + 1]
        if (level := risks.get((key, candidate))) is not None
    ]
    return max(found, key=RANK.__getitem__) if found else None


def level_with_risk(
    own_level: str, crime_type: str, grade: str, risks: RiskMatrix
) -> tuple[str, str | None]:
    """The crime's required level at ``grade`` and its own level to keep beside it.

    Returns (required level, own level when the risk raised it, else None): the own level
    is what the crime goes back to when its risk is lowered again."""
    raised = risk_level(crime_type, grade, risks)
    if raised is not None and RANK[raised] > RANK[own_level]:
        return raised, own_level
    return own_level, None
