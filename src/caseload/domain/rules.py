"""Allocation rules: which warnings an allocation raises and which ones refuse it.

Plain functions over plain values, so every path that allocates (assign,
transfer, an import naming holders, the engine's plans) applies the same rules,
and the rules are tested without a store. The store supplies the facts
(``OfficerFacts``) and the running live count; these functions decide.

Breach codes are the audit finding codes of DOMAIN.md, so a warning recorded at
allocation time and a later audit finding use the same words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from caseload.domain.levels import is_accredited_for
from caseload.domain.officers import is_inexperienced
from caseload.domain.policy import Policy

OVER_LIMIT = "inexperienced-over-limit"
MISMATCH = "accreditation-mismatch"
UNAVAILABLE = "holder-unavailable"
OVER_CAPACITY = "over-capacity"


@dataclass(frozen=True)
class OfficerFacts:
    """What the rules need to know about one officer."""

    collar: str
    name: str
    rank: str
    accreditation: str
    status: str
    capacity: int | None
    trainee: bool
    investigator_since: date

    @property
    def label(self) -> str:
        """How messages name an officer: ``TDC Jones (XY9)``."""
        who = f"{self.rank} {surname(self.name)}".strip() if self.rank else self.name
        return f"{who} ({self.collar})"


@dataclass(frozen=True)
class Breach:
    """One rule an allocation breaks, with the numbers that explain it."""

    code: str
    blocking: bool
    officer: str  # the officer's label
    live: int = 0  # the officer's live crimes after the allocation
    limit: int | None = None
    accreditation: str = ""
    required_level: str = ""
    status: str = ""

    def text(self, *, done: bool = True) -> str:
        """A plain sentence; ``done=False`` words it as a refusal (``would hold``)."""
        holds = "now holds" if done else "would hold"
        if self.code == OVER_LIMIT:
            return (
                f"{self.officer} is inexperienced and {holds} {self.live} live crimes; "
                f"limit {self.limit}"
            )
        if self.code == OVER_CAPACITY:
            return (
                f"{self.officer} {holds} {self.live} live crimes, past their personal "
                f"capacity of {self.limit}"
            )
        if self.code == MISMATCH:
            accredited = (
                "has no investigative accreditation"
                if self.accreditation == "none"
                else f"is accredited to {self.accreditation}"
            )
            return f"{self.officer} {accredited} but the crime needs {self.required_level}"
        if self.code == UNAVAILABLE:
            state = {"leave": "on leave", "left": "no longer serving (left)"}.get(
                self.status, self.status
            )
            return f"{self.officer} is {state}, not active"
        return f"{self.officer}: {self.code}"  # pragma: no cover - every code is worded above


def surname(name: str) -> str:
    """The last word of a name (``Sam Jones`` -> ``Jones``); the name itself if one word."""
    parts = name.split()
    return parts[-1] if parts else name


def over_limit(live: int, limit: int) -> bool:
    """The limit is the most an inexperienced officer may hold: 25 is fine, 26 is over."""
    return live > limit


def officer_is_inexperienced(officer: OfficerFacts, on: date, policy: Policy) -> bool:
    return is_inexperienced(
        trainee=officer.trainee,
        investigator_since=officer.investigator_since,
        on=on,
        inexperienced_months=policy.inexperienced_months,
    )


def check_allocation(
    officer: OfficerFacts,
    *,
    live_after: int,
    required_level: str,
    on: date,
    policy: Policy,
    inexperienced: bool | None = None,
) -> list[Breach]:
    """Every rule that allocating one crime of ``required_level`` to ``officer`` breaks.

    ``live_after`` is the officer's live crimes counting this one. ``inexperienced``
    may be given when already known for ``on`` (bulk callers work it out once per
    officer). Blocking breaches (block-mode rules) come first, then warnings.
    """
    breaches: list[Breach] = []
    label = officer.label
    if not is_accredited_for(officer.accreditation, required_level):
        breaches.append(
            Breach(
                MISMATCH,
                policy.accreditation_mode == "block",
                label,
                live=live_after,
                accreditation=officer.accreditation,
                required_level=required_level,
            )
        )
    if inexperienced is None:
        inexperienced = officer_is_inexperienced(officer, on, policy)
    if inexperienced and over_limit(live_after, policy.inexperienced_limit):
        breaches.append(
            Breach(
                OVER_LIMIT,
                policy.limit_mode == "block",
                label,
                live=live_after,
                limit=policy.inexperienced_limit,
            )
        )
    if officer.status != "active":
        breaches.append(Breach(UNAVAILABLE, False, label, live=live_after, status=officer.status))
    if officer.capacity is not None and live_after > officer.capacity:
        breaches.append(
            Breach(OVER_CAPACITY, False, label, live=live_after, limit=officer.capacity)
        )
    breaches.sort(key=lambda b: not b.blocking)
    return breaches


def level_breach(officer: OfficerFacts, required_level: str, policy: Policy) -> Breach | None:
    """The accreditation rule for a held crime whose required level changes under its holder
    (``crime update --level``): the same breach an allocation raises, blocking in block
    mode. One function, so that every path that changes a held crime's level agrees."""
    if is_accredited_for(officer.accreditation, required_level):
        return None
    return Breach(
        MISMATCH,
        policy.accreditation_mode == "block",
        officer.label,
        accreditation=officer.accreditation,
        required_level=required_level,
    )
