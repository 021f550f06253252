"""Policy settings: names, defaults, meanings and validation.

Policy lives in the store so every supervisor works to the same rules; this
module only knows what each setting means and which values are valid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

MODES = ("warn", "block")
WEIGHT_SETTINGS = ("weight_pip1", "weight_pip2", "weight_pip3", "weight_pip4", "weight_high_risk")


@dataclass(frozen=True)
class Policy:
    inexperienced_limit: int = 25
    limit_mode: str = "warn"
    accreditation_mode: str = "block"
    inexperienced_months: int = 24
    unallocated_days: int = 2
    review_days: int = 28
    review_days_medium: int = 14
    review_days_high: int = 7
    victim_update_days: int = 28
    notify_working_days: int = 5
    notify_working_days_enhanced: int = 1
    reassign_churn: int = 5
    weight_pip1: int = 1
    weight_pip2: int = 2
    weight_pip3: int = 3
    weight_pip4: int = 4
    weight_high_risk: int = 1
    rebalance_threshold: int = 2
    absence_mode: str = "warn"
    absence_notice_days: int = 3
    referral_working_days: int = 2

    def weight(self, level: str, risk: str | None = None) -> int:
        """Weight of one live crime of the given required level (``none`` counts as PIP1),
        plus ``weight_high_risk`` when it is graded high risk."""
        extra = self.weight_high_risk if risk == "high" else 0
        return extra + {
            "PIP2": self.weight_pip2,
            "PIP3": self.weight_pip3,
            "PIP4": self.weight_pip4,
        }.get(level, self.weight_pip1)

    def weights(self) -> dict[str, int]:
        """The weights by their settings' names (``weight_pip1`` ... ``weight_pip4``,
        ``weight_high_risk``): the names the store's queries bind them by."""
        return {name: getattr(self, name) for name in WEIGHT_SETTINGS}

    def as_dict(self) -> dict[str, int | str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


DESCRIPTIONS: dict[str, str] = {
    "inexperienced_limit": "live crimes an inexperienced officer may hold; more is over the limit",
    "limit_mode": "warn: allow and record a warning; block: refuse unless overridden",
    "accreditation_mode": "block: refuse a crime above the officer's accreditation; warn: allow",
    "inexperienced_months": "months of investigating before an officer is no longer inexperienced",
    "unallocated_days": "days a live crime may stay unallocated before it is a finding",
    "review_days": "longest gap between supervisory reviews of a standard-risk live crime",
    "review_days_medium": "the same for a medium-risk live crime",
    "review_days_high": "the same for a high-risk live crime",
    "victim_update_days": "longest gap between routine victim updates (unless agreed otherwise)",
    "notify_working_days": "working days to tell a victim of a key event",
    "notify_working_days_enhanced": "the same for victims entitled to the enhanced service",
    "reassign_churn": "a crime reassigned more than this many times is flagged",
    "weight_pip1": "weighted-load points for a live PIP1 crime",
    "weight_pip2": "weighted-load points for a live PIP2 crime",
    "weight_pip3": "weighted-load points for a live PIP3 crime",
    "weight_pip4": "weighted-load points for a live PIP4 crime",
    "weight_high_risk": "extra weighted-load points for a live high-risk crime (0: none)",
    "rebalance_threshold": "least cut in the weighted-load gap that justifies an evening move",
    "absence_mode": "allocating to an officer absent that day, or whose absence starts within "
    "absence_notice_days: warn, or block unless overridden",
    "absence_notice_days": "how many days ahead a starting absence counts",
    "referral_working_days": "working days after reporting to refer the victim to support "
    "services (Right 4)",
}

DEFAULTS = Policy()
NAMES: tuple[str, ...] = tuple(f.name for f in fields(Policy))
_MINIMUM = {
    "inexperienced_months": 0,
    "unallocated_days": 0,
    "reassign_churn": 0,
    "absence_notice_days": 0,
    "weight_high_risk": 0,
}
# What the product can use: a span of days or months must keep dates inside the years
# caseload handles (``domain.values.EARLIEST``..``LATEST``); counts and weights must keep
# sums far inside a 64-bit integer.
_MAXIMUM = {
    "inexperienced_months": 600,  # 50 years
    "unallocated_days": 3650,
    "review_days": 3650,
    "review_days_medium": 3650,
    "review_days_high": 3650,
    "victim_update_days": 3650,
    "notify_working_days": 260,  # a year of working days
    "notify_working_days_enhanced": 260,
    "absence_notice_days": 365,
    "referral_working_days": 260,
}
_LARGEST = 100_000


def parse_setting(name: str, text: str) -> int | str:
    """Validate a value typed for a setting; raise ``ValueError`` with a plain message."""
    key = name.strip().lower()
    if key not in NAMES:
        raise ValueError(f"'{name}' is not a policy setting (see 'caseload policy show')")
    value = text.strip().lower()
    if key.endswith("_mode"):
        if value not in MODES:
            raise ValueError(f"{key} must be warn or block, not '{text.strip()}'")
        return value
    minimum, maximum = _MINIMUM.get(key, 1), _MAXIMUM.get(key, _LARGEST)
    digits = value[1:] if value.startswith("-") else value
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"{key} must be a whole number, not '{text.strip()}'")
    if len(digits) > 9 or not minimum <= int(value) <= maximum:
        raise ValueError(f"{key} must be between {minimum} and {maximum}")
    return int(value)


class BadStoredSetting(ValueError):
    """A policy row in the store holds a value this version cannot use (edited by hand,
    or accepted by an older version): commands that apply policy refuse the store."""

    def __init__(self, name: str, text: str, problem: str) -> None:
        super().__init__(
            f"the store's policy setting {name} holds '{text}', which caseload cannot use "
            f"({problem}); set it again with 'caseload policy set {name} VALUE'"
        )
        self.name = name
        self.text = text


def policy_from_rows(rows: Mapping[str, str]) -> Policy:
    """Build a Policy from stored name/value text, defaults filling any gap; a value that
    is not valid raises ``BadStoredSetting``."""
    values: dict[str, int | str] = {}
    for name, text in rows.items():
        if name in NAMES:
            try:
                values[name] = parse_setting(name, text)
            except ValueError as exc:
                raise BadStoredSetting(name, text, str(exc)) from None
    return Policy(**values)  # type: ignore[arg-type]


def stored_policy(rows: Iterable[Sequence[Any]]) -> Policy:
    """The policy from the store's (name, value text) rows; defaults fill the gaps. A row
    caseload cannot use is a store problem (exit 4), never a traceback."""
    from caseload.errors import StoreError

    stored = {str(name): str(value) for name, value in rows}
    try:
        return policy_from_rows(stored) if stored else DEFAULTS
    except BadStoredSetting as exc:
        raise StoreError(f"{str(exc)[0].upper()}{str(exc)[1:]}.") from None


def bad_stored_settings(rows: Iterable[Sequence[Any]]) -> list[str]:
    """Each stored policy row this version cannot use, described (for ``db check``)."""
    found = []
    for name, value in rows:
        if str(name) in NAMES:
            try:
                parse_setting(str(name), str(value))
            except ValueError as exc:
                found.append(f"{name}='{value}': {exc}")
    return found


def stored_value(rows: Iterable[Sequence[Any]], name: str) -> int | str:
    """One setting's current value as stored: parsed, its raw text if it is not valid
    (so ``policy set`` can repair a bad row), or the default."""
    for stored_name, value in rows:
        if str(stored_name) == name:
            try:
                return parse_setting(name, str(value))
            except ValueError:
                return str(value)
    return DEFAULTS.as_dict()[name]
