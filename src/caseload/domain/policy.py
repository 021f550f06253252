"""Policy settings: names, defaults, meanings and validation.

Policy lives in the store so every supervisor works to the same rules; this
module only knows what each setting means and which values are valid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

MODES = ("warn", "block")
WEIGHT_SETTINGS = ("weight_pip1", "weight_pip2", "weight_pip3", "weight_pip4")


@dataclass(frozen=True)
class Policy:
    inexperienced_limit: int = 25
    limit_mode: str = "warn"
    accreditation_mode: str = "block"
    inexperienced_months: int = 24
    unallocated_days: int = 2
    review_days: int = 28
    victim_update_days: int = 28
    notify_working_days: int = 5
    notify_working_days_enhanced: int = 1
    reassign_churn: int = 5
    weight_pip1: int = 1
    weight_pip2: int = 2
    weight_pip3: int = 3
    weight_pip4: int = 4
    rebalance_threshold: int = 2

    def weight(self, level: str) -> int:
        """Weight of one live crime of the given required level (``none`` counts as PIP1)."""
        return {
            "PIP2": self.weight_pip2,
            "PIP3": self.weight_pip3,
            "PIP4": self.weight_pip4,
        }.get(level, self.weight_pip1)

    def weights(self) -> dict[str, int]:
        """Each level's weight by its setting's name (``weight_pip1`` ... ``weight_pip4``):
        the names the store's queries bind them by."""
        return {name: getattr(self, name) for name in WEIGHT_SETTINGS}

    def as_dict(self) -> dict[str, int | str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


DESCRIPTIONS: dict[str, str] = {
    "inexperienced_limit": "live crimes an inexperienced officer may hold; more is over the limit",
    "limit_mode": "warn: allow and record a warning; block: refuse unless overridden",
    "accreditation_mode": "block: refuse a crime above the officer's accreditation; warn: allow",
    "inexperienced_months": "months of investigating before an officer is no longer inexperienced",
    "unallocated_days": "days a live crime may stay unallocated before it is a finding",
    "review_days": "longest gap between supervisory reviews of a live crime",
    "victim_update_days": "longest gap between routine victim updates (unless agreed otherwise)",
    "notify_working_days": "working days to tell a victim of a key event",
    "notify_working_days_enhanced": "the same for victims entitled to the enhanced service",
    "reassign_churn": "a crime reassigned more than this many times is flagged",
    "weight_pip1": "weighted-load points for a live PIP1 crime",
    "weight_pip2": "weighted-load points for a live PIP2 crime",
    "weight_pip3": "weighted-load points for a live PIP3 crime",
    "weight_pip4": "weighted-load points for a live PIP4 crime",
    "rebalance_threshold": "least cut in the weighted-load gap that justifies an evening move",
}

DEFAULTS = Policy()
NAMES: tuple[str, ...] = tuple(f.name for f in fields(Policy))
_MINIMUM = {"inexperienced_months": 0, "unallocated_days": 0, "reassign_churn": 0}


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
    if not value.lstrip("-").isdigit():
        raise ValueError(f"{key} must be a whole number, not '{text.strip()}'")
    number = int(value)
    minimum = _MINIMUM.get(key, 1)
    if number < minimum or number > 100_000:
        raise ValueError(f"{key} must be between {minimum} and 100000")
    return number


def policy_from_rows(rows: Mapping[str, str]) -> Policy:
    """Build a Policy from stored name/value text, defaults filling any gap."""
    values: dict[str, int | str] = {}
    for name, text in rows.items():
        if name in NAMES:
            values[name] = parse_setting(name, text)
    return Policy(**values)  # type: ignore[arg-type]


def stored_policy(rows: Iterable[Sequence[Any]]) -> Policy:
    """The policy from the store's (name, value text) rows; defaults fill the gaps."""
    stored = {str(name): str(value) for name, value in rows}
    return policy_from_rows(stored) if stored else DEFAULTS
