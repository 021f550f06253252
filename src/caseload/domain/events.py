"""Key investigative events: the Victims' Code events the victim must be told about.

Each kind has a short stable code (stored, printed, accepted on the command
line and in CSV files) and a description in the Code's words. A few common
aliases are accepted when typed (``rui``, ``nfa``, ``no-further-action``).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

# code -> description (Code of Practice for Victims of Crime, Right 6).
KEY_EVENTS: dict[str, str] = {
    "arrested": "suspect arrested",
    "interviewed": "suspect interviewed under caution",
    "released": "suspect released without charge",
    "bailed": "suspect bailed or released under investigation",
    "charged": "suspect charged",
    "nfa": "decision to take no further action",
    "not-investigated": "decision not to investigate",
    "bail-conditions-changed": "suspect's bail conditions changed",
    "out-of-court-disposal": "suspect given an out-of-court disposal",
}

_ALIASES: dict[str, str] = {
    "arrest": "arrested",
    "suspect-arrested": "arrested",
    "interview": "interviewed",
    "interviewed-under-caution": "interviewed",
    "iuc": "interviewed",
    "released-without-charge": "released",
    "released-no-charge": "released",
    "rwc": "released",
    "bail": "bailed",
    "rui": "bailed",
    "released-under-investigation": "bailed",
    "charge": "charged",
    "no-further-action": "nfa",
    "not-investigating": "not-investigated",
    "no-investigation": "not-investigated",
    "screened-out": "not-investigated",
    "bail-changed": "bail-conditions-changed",
    "bail-varied": "bail-conditions-changed",
    "bail-conditions-varied": "bail-conditions-changed",
    "ocd": "out-of-court-disposal",
    "out-of-court": "out-of-court-disposal",
}


def parse_event_kind(text: str) -> str:
    """Normalise what was typed to a key event code; ``ValueError`` if it is not one."""
    value = "-".join(text.strip().lower().replace("_", " ").split())
    if value in KEY_EVENTS:
        return value
    if value in _ALIASES:
        return _ALIASES[value]
    raise ValueError(f"'{text.strip()}' is not a key event (one of {', '.join(KEY_EVENTS)})")


def describe_event(kind: str) -> str:
    return KEY_EVENTS.get(kind, kind)


# --- which victim update met which event ---------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """How one key event's notification duty stands: its deadline, and the first victim
    update recorded on or after the event (``update``: its index in the crime's updates,
    by date), if any. A duty is met by that update, on time or late."""

    deadline: date
    told_on: date | None
    update: int | None

    @property
    def late(self) -> bool:
        return self.told_on is not None and self.told_on > self.deadline

    def text(self, today: date) -> str:
        """``on time``, ``late (3 days after the deadline)``, ``not told; due by ...`` or
        ``not told; overdue since ...``."""
        if self.told_on is None:
            if self.deadline < today:
                return f"not told; overdue since {self.deadline + timedelta(days=1)}"
            return f"not told yet; due by {self.deadline}"
        if not self.late:
            return "on time"
        days = (self.told_on - self.deadline).days
        return f"late ({days} day{'' if days == 1 else 's'} after the deadline)"


def notices(
    events: Sequence[date], updates: Sequence[date], deadline: Callable[[date], date]
) -> list[Notice]:
    """Each event's notice (events and updates: one crime's dates, updates oldest first).
    ``deadline`` turns an event's date into its Victims' Code deadline."""
    found = []
    for occurred_on in events:
        index = bisect_left(updates, occurred_on)
        told = index if index < len(updates) else None
        found.append(
            Notice(deadline(occurred_on), updates[told] if told is not None else None, told)
        )
    return found
