"""Parsing what people type: dates (ISO or UK day-first), spans, yes/no, collars.

Every parser raises ``ValueError`` with a short plain message; callers add the
context (which line, which column, which option).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

_TRUE = {"yes", "y", "true", "t", "1"}
_FALSE = {"no", "n", "false", "f", "0"}
_SPAN = re.compile(r"^\s*(\d+)\s*([dwmy])\s*$", re.IGNORECASE)
_COLLAR = re.compile(r"^[A-Z0-9][A-Z0-9/-]{0,15}$")
_UK_DATE = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")
# The one rule for text that cannot be shown as typed: C0 and C1 control characters
# (newline, tab, ESC, DEL, the 8-bit CSI ...), Unicode line and paragraph separators,
# and the invisible format characters that reorder or hide text (bidirectional
# embeddings, overrides and isolates, zero-width spaces, the byte-order mark, tags).
# Free text is refused with one of these (``clean_text``); text shown on a terminal
# has them escaped (``printable``), so a stored value can never move the cursor,
# retitle the window, forge a line of output or read differently from what it holds.
# One character class: one C-level scan, not a Python loop per character.
UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b\u200c\u200e\u200f"
    "\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff"
    "\U000e0001\U000e0020-\U000e007f]"
)
_CONTROL = UNPRINTABLE
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_unprintable(text: str) -> str:
    """``text`` with every character ``UNPRINTABLE`` matches written as an escape
    (``\\n``, ``\\t``, ``\\x1b``, ``\\u202e``), so it reads as one line of plain text."""
    if not UNPRINTABLE.search(text):
        return text
    return UNPRINTABLE.sub(_escape_one, text)


def _escape_one(match: re.Match[str]) -> str:
    char = match.group()
    if char in _ESCAPES:
        return _ESCAPES[char]
    code = ord(char)
    return (
        f"\\x{code:02x}"
        if code <= 0xFF
        else f"\\u{code:04x}"
        if code <= 0xFFFF
        else f"\\U{code:08x}"
    )


def unprintable_problem(text: str, what: str) -> str | None:
    """Why ``text`` cannot be stored as free text (a sentence naming ``what`` and the
    character), or None when it has no character ``UNPRINTABLE`` matches."""
    found = UNPRINTABLE.search(text)
    if found is None:
        return None
    char = found.group()
    named = {"\n": ", a line break", "\r": ", a carriage return", "\t": ", a tab", "\x1b": ", ESC"}
    return (
        f"{what} contains a control character (U+{ord(char):04X}{named.get(char, '')} "
        f"at character {found.start() + 1})"
    )


# The days caseload can reason about: every date it reads lies in this range, so date
# arithmetic on it (an as-of day less ``inexperienced_months``, a due day plus
# ``review_days``, working days) always stays inside what Python and the stores hold.
EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)
LONGEST_SPAN_DAYS = 3650  # a duration (an agreed update frequency): at most ten years


def parse_date(text: str) -> date:
    """Read a date as a UK user types it: ISO ``2025-04-03`` or day-first ``03/04/2025``.

    ISO is tried first (fast); a day-first numeric date next; then dateutil with
    ``dayfirst=True`` for forms like ``3 April 2025``.
    """
    return in_range(_read_date(text))


def in_range(day: date) -> date:
    """``day`` if caseload can use it (``EARLIEST`` to ``LATEST``); else ValueError."""
    if not EARLIEST <= day <= LATEST:
        raise ValueError(
            f"{day.isoformat()} is outside the dates caseload handles "
            f"({EARLIEST.isoformat()} to {LATEST.isoformat()})"
        )
    return day


def not_future(day: date, *, today: date | None = None) -> date:
    """The one rule for dates of things that happened (reported, finalised, started
    investigating, allocated, reviewed, ...): not after today. Planned dates (an absence,
    a next review) use ``parse_date`` alone."""
    if day > (today or date.today()):
        raise ValueError(f"{day.isoformat()} is in the future")
    return day


def parse_past_date(text: str, *, today: date | None = None) -> date:
    """``parse_date`` for the date of something that happened: not after today."""
    return in_range(not_future(_read_date(text), today=today))


def _read_date(text: str) -> date:
    value = text.strip()
    if not value:
        raise ValueError("a date is required")
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    match = _UK_DATE.match(value)
    if match:
        day, month, year = (int(part) for part in match.groups())
        try:
            return date(year, month, day)
        except ValueError:
            raise ValueError(f"'{value}' is not a real date") from None
    # Month names ("3 April 2025") go to dateutil; all-numeric forms were handled above.
    if any(ch.isalpha() for ch in value) and any(ch.isdigit() for ch in value) and len(value) <= 40:
        from dateutil import parser

        try:
            parsed = parser.parse(value, dayfirst=True, default=datetime(1900, 1, 1))
        except (ValueError, OverflowError, parser.ParserError):
            pass
        else:
            if parsed.year > 1900 or "1900" in value:
                return parsed.date()
    raise ValueError(f"'{value}' is not a date (use YYYY-MM-DD or DD/MM/YYYY)")


def parse_span_days(text: str) -> int:
    """Read a span like ``28d``, ``6w``, ``3m`` or ``1y`` (or a bare number of days) as days."""
    value = text.strip()
    if value.isascii() and value.isdigit():
        days = int(value)
    else:
        match = _SPAN.match(value)
        if not match or not value.isascii():
            raise ValueError(f"'{value}' is not a span (use e.g. 28d, 6w, 3m)")
        number, unit = int(match.group(1)), match.group(2).lower()
        days = number * {"d": 1, "w": 7, "m": 30, "y": 365}[unit]
    if days > LONGEST_SPAN_DAYS:
        raise ValueError(f"'{value}' is longer than {LONGEST_SPAN_DAYS} days (ten years)")
    return days


def parse_bool(text: str) -> bool:
    """Read yes/no, true/false, y/n or 1/0 (any case)."""
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"'{text.strip()}' is not yes or no")


def normalise_collar(text: str) -> str:
    """Collar numbers compare case-insensitively and are stored upper-case."""
    value = text.strip().upper()
    if not _COLLAR.match(value):
        raise ValueError(
            f"'{text.strip()}' is not a collar number (letters and digits, up to 16 characters)"
        )
    return value


def clean_text(text: str, what: str, *, max_length: int = 200) -> str:
    """A required one-line text value: trimmed, not empty, no control characters."""
    value = text.strip()
    if not value:
        raise ValueError(f"{what} is required")
    if len(value) > max_length:
        raise ValueError(f"{what} is longer than {max_length} characters")
    problem = unprintable_problem(value, what)
    if problem is not None:
        raise ValueError(problem)
    return value


def end_of_day(day: date) -> datetime:
    """The first instant after ``day``: what was so before it was so at the end of that day
    (an allocation interval begun by then, the holder at the end of the day)."""
    return datetime.combine(day + timedelta(days=1), time.min)


def as_of_values(as_of: date) -> dict[str, date | datetime]:
    """The as-of day and its end by the names a statement compiled for a past day binds
    them (``store.sqlfunc.as_of_binds``)."""
    return {"as_of": as_of, "as_of_end": end_of_day(as_of)}
