"""Key investigative events: the Victims' Code events the victim must be told about.

Each kind has a short stable code (stored, printed, accepted on the command
line and in CSV files) and a description in the Code's words. A few common
aliases are accepted when typed (``rui``, ``nfa``, ``no-further-action``).
"""

from __future__ import annotations

# code -> description (Code of Practice for Victims of Crime, Right 6).
KEY_EVENTS: dict[str, str] = {
    "arrested": "suspect arrested",
    "interviewed": "suspect interviewed under caution",
    "released": "suspect released without charge",
    "bailed": "suspect bailed or released under investigation",
    "charged": "suspect charged",
    "nfa": "decision to take no further action",
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
