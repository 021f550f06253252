"""Home Office outcome types: every finalised crime carries one (Counting Rules)."""

from __future__ import annotations

OUTCOMES: dict[int, str] = {
    1: "Charged/summonsed",
    2: "Youth caution",
    3: "Adult caution",
    4: "Taken into consideration",
    5: "Offender died",
    6: "Penalty notice for disorder",
    7: "Cannabis/khat warning",
    8: "Community resolution",
    9: "Prosecution not in the public interest (CPS)",
    10: "Formal action not in the public interest (police)",
    11: "Prosecution prevented: suspect under age",
    12: "Prosecution prevented: suspect too ill",
    13: "Prosecution prevented: victim or key witness dead or too ill",
    14: "Evidential difficulties: suspect not identified; victim does not support action",
    15: "Evidential difficulties: suspect identified; victim supports action",
    16: "Evidential difficulties: suspect identified; victim does not support action",
    17: "Prosecution time limit expired",
    18: "Investigation complete: no suspect identified",
    20: "Further action by another body or agency",
    21: "Further investigation not in the public interest",
    22: "Diversionary, educational or intervention activity",
}


def parse_outcome(text: str) -> int:
    """Read a Home Office outcome type number, e.g. ``1``, ``18`` or ``OC18``."""
    value = text.strip().upper().removeprefix("OUTCOME").removeprefix("OC").strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 3 or int(value) not in OUTCOMES:
        raise ValueError(
            f"'{text.strip()}' is not a Home Office outcome type (a number such as 1, 8 or 18)"
        )
    return int(value)
