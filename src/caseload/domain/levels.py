"""Accreditation levels of the Professionalising Investigation Programme, in order."""

from __future__ import annotations

LEVELS: tuple[str, ...] = ("none", "PIP1", "PIP2", "PIP3", "PIP4")
DEFAULT_REQUIRED_LEVEL = "PIP1"
_BY_LOWER = {level.lower(): level for level in LEVELS}
RANK = {level: index for index, level in enumerate(LEVELS)}


def parse_level(text: str) -> str:
    """Normalise ``pip2``/``PIP2``/``2`` to ``PIP2``; ``none`` or blank-free ``0`` to ``none``."""
    value = text.strip().lower()
    if value.isascii() and value.isdigit() and len(value) == 1:
        value = "none" if value == "0" else f"pip{value}"
    try:
        return _BY_LOWER[value]
    except KeyError:
        raise ValueError(
            f"'{text.strip()}' is not an accreditation level (none, PIP1, PIP2, PIP3, PIP4)"
        ) from None


def is_accredited_for(officer_level: str, required_level: str) -> bool:
    """An officer may investigate a crime whose required level is at or below their own."""
    return RANK[officer_level] >= RANK[required_level]
