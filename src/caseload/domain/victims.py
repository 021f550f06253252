"""The Victims' Code: enhanced entitlement categories (who gets the enhanced service and
why) and Right 4, the referral to victim support services.

Plain rules, no database. The store keeps a crime's category in ``crime.victim_category``
beside ``victim_enhanced`` (the entitlement itself): an enhanced crime whose category is
NULL was recorded as a yes/no before categories were kept ("category not recorded").
"""

from __future__ import annotations

from datetime import date

# code -> description (Code of Practice for Victims of Crime 2021, "enhanced rights").
CATEGORIES: dict[str, str] = {
    "most-serious": "victim of the most serious crime",
    "persistently-targeted": "persistently targeted victim",
    "vulnerable-or-intimidated": "vulnerable or intimidated victim",
}

NOT_RECORDED = "category not recorded"

_ALIASES: dict[str, str] = {
    "serious": "most-serious",
    "most-serious-crime": "most-serious",
    "persistent": "persistently-targeted",
    "persistently": "persistently-targeted",
    "targeted": "persistently-targeted",
    "vulnerable": "vulnerable-or-intimidated",
    "intimidated": "vulnerable-or-intimidated",
    "vulnerable-intimidated": "vulnerable-or-intimidated",
}


def parse_category(text: str) -> str:
    """Normalise a typed category to its code; ``ValueError`` if it is not one."""
    value = "-".join(text.strip().lower().replace("_", " ").split())
    if value in CATEGORIES:
        return value
    if value in _ALIASES:
        return _ALIASES[value]
    raise ValueError(
        f"'{text.strip()}' is not an enhanced entitlement category (one of {', '.join(CATEGORIES)})"
    )


def entitlement(enhanced: bool, category: str | None) -> str:
    """How a crime's victim entitlement reads: ``standard``, ``enhanced (most-serious)`` or
    ``enhanced (category not recorded)``."""
    if not enhanced:
        return "standard"
    return f"enhanced ({category or NOT_RECORDED})"


def shown_category(enhanced: bool, category: str | None) -> str | None:
    """The category as a person reads it: None for a standard victim, the code, or
    ``category not recorded`` for an enhanced victim recorded as yes/no only."""
    if not enhanced:
        return None
    return category or NOT_RECORDED


# --- Right 4: referral to victim support services -------------------------------------------


def referral_due(reported_on: date, working_days: int) -> date:
    """The last day on which a Right 4 referral (or the victim's recorded decline) is on
    time: ``referral_working_days`` working days after the crime was reported."""
    from caseload.domain.workdays import add_working_days

    return add_working_days(reported_on, working_days)
