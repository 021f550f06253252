"""Team names: compared case-insensitively, and a typo answered with the nearest name.

Teams are created on purpose (``team add``) or by an import that names them; every other
command that names an unknown team refuses it, suggesting the nearest existing name
(``difflib``'s close matches, compared in lower case), so a misspelt team never quietly
becomes a new one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from difflib import get_close_matches

CUTOFF = 0.8  # difflib's similarity ratio: 'Lewisham CDI' to 'Lewisham CID' is 0.92


def key(name: str) -> str:
    """How team names compare: trimmed, case-folded."""
    return name.strip().lower()


def nearest(name: str, known: Iterable[str], *, cutoff: float = CUTOFF) -> str | None:
    """The known team name closest to ``name`` (not the same name), or None."""
    names = {key(k): k for k in known if key(k) != key(name)}
    found = get_close_matches(key(name), list(names), n=1, cutoff=cutoff)
    return names[found[0]] if found else None


def near_misses(new: Iterable[str], existing: Iterable[str]) -> dict[str, str]:
    """New team names that look like a typo of an existing one: {new: existing}."""
    known = list(existing)
    found = {}
    for name in new:
        match = nearest(name, known)
        if match is not None:
            found[name] = match
    return found


def pick(teams: Sequence[tuple[int, str]], name: str) -> tuple[int, str]:
    """The (id, stored name) among ``teams`` called ``name`` in any case; NotFound (exit 2)
    naming the nearest team otherwise. Every command that names a team comes here."""
    from caseload.errors import NotFound

    wanted = name.strip()
    for team_id, stored in teams:
        if key(stored) == key(wanted):
            return team_id, stored
    raise NotFound.team(wanted, nearest(wanted, [stored for _, stored in teams]))
