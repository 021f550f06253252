"""Allocation rules: which warnings an allocation raises and which ones refuse it.

Plain functions over plain values, so every path that allocates (assign,
transfer, an import naming holders, the engine's plans) applies the same rules,
and the rules are tested without a store. The store supplies the facts
(``OfficerFacts``) and the running live count; these functions decide.

Breach codes are the audit finding codes of DOMAIN.md, so a warning recorded at
allocation time and a later audit finding use the same words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from caseload.domain.absences import Absence, Outlook, scaled
from caseload.domain.levels import is_accredited_for
from caseload.domain.officers import is_inexperienced
from caseload.domain.policy import Policy
from caseload.domain.team_policy import Policies

OVER_LIMIT = "inexperienced-over-limit"
MISMATCH = "accreditation-mismatch"
UNAVAILABLE = "holder-unavailable"
OVER_CAPACITY = "over-capacity"
ABSENT = "allocated-while-absent"
ABSENCE_DUE = "absence-handover-due"


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
    # the officer's absences as an allocation on the day sees them (``domain.absences``)
    outlook: Outlook | None = None
    team_id: int | None = None  # whose policy judges them (``domain.team_policy``)

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
    absence: Absence | None = None
    days: int = 0  # days until the absence starts (ABSENCE_DUE)
    percent: int | None = None  # a capacity reduction scaling the limit or capacity

    def text(self, *, done: bool = True) -> str:
        """A plain sentence; ``done=False`` words it as a refusal (``would hold``)."""
        holds = "now holds" if done else "would hold"
        reduced = f" on reduced duties ({self.percent}%)" if self.percent is not None else ""
        if self.code == OVER_LIMIT:
            return (
                f"{self.officer} is inexperienced and {holds} {self.live} live crimes; "
                f"limit {self.limit}{reduced}"
            )
        if self.code == OVER_CAPACITY:
            return (
                f"{self.officer} {holds} {self.live} live crimes, past their personal "
                f"capacity of {self.limit}{reduced}"
            )
        if self.code == ABSENT and self.absence is not None:
            state = status_words(self.absence.status)
            return f"{self.officer} is {state}, not active ({self.absence.words()})"
        if self.code == ABSENCE_DUE and self.absence is not None:
            when = "tomorrow" if self.days == 1 else f"in {self.days} days"
            if self.days == 0:
                when = "today"
            return f"{self.officer} starts {self.absence.words()} ({when})"
        if self.code == MISMATCH:
            accredited = accredited_words(self.accreditation)
            return f"{self.officer} {accredited} but the crime needs {self.required_level}"
        if self.code == UNAVAILABLE:
            state = status_words(self.status)
            return f"{self.officer} is {state}, not active"
        return f"{self.officer}: {self.code}"  # pragma: no cover - every code is worded above


def accredited_words(accreditation: str) -> str:
    """How a rule's sentence says an officer's accreditation."""
    if accreditation == "none":
        return "has no investigative accreditation"
    return f"is accredited to {accreditation}"


def status_words(status: str) -> str:
    """How a rule's sentence says an officer's status (``is on leave, not active``)."""
    return {"leave": "on leave", "left": "no longer serving (left)"}.get(status, status)


def surname(name: str) -> str:
    """The last word of a name (``Sam Jones`` -> ``Jones``); the name itself if one word."""
    parts = name.split()
    return parts[-1] if parts else name


def over_limit(live: int, limit: int) -> bool:
    """The limit is the most an inexperienced officer may hold: 25 is fine, 26 is over."""
    return live > limit


def policy_for(officer: OfficerFacts, policy: Policy | Policies) -> Policy:
    """The policy an officer is judged by: their team's (the force's, with the team's
    overrides); a plain Policy applies as it is."""
    if isinstance(policy, Policy):
        return policy
    return policy.of(officer.team_id)


def officer_is_inexperienced(officer: OfficerFacts, on: date, policy: Policy | Policies) -> bool:
    policy = policy_for(officer, policy)
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
    policy: Policy | Policies,
    inexperienced: bool | None = None,
) -> list[Breach]:
    """Every rule that allocating one crime of ``required_level`` to ``officer`` breaks.

    ``live_after`` is the officer's live crimes counting this one. ``inexperienced``
    may be given when already known for ``on`` (bulk callers work it out once per
    officer). Blocking breaches (block-mode rules) come first, then warnings. The
    officer's team's policy applies (``policy_for``).
    """
    policy = policy_for(officer, policy)
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
    outlook = officer.outlook or Outlook()
    percent = outlook.percent  # reduced duties scale the limit and capacity
    limit = scaled(policy.inexperienced_limit, percent)
    assert limit is not None
    capacity = scaled(officer.capacity, percent)
    if inexperienced and over_limit(live_after, limit):
        breaches.append(
            Breach(
                OVER_LIMIT,
                policy.limit_mode == "block",
                label,
                live=live_after,
                limit=limit,
                percent=percent,
            )
        )
    absence_blocks = policy.absence_mode == "block"
    if officer.status == "active" and outlook.current is not None:
        breaches.append(
            Breach(ABSENT, absence_blocks, label, live=live_after, absence=outlook.current)
        )
    elif officer.status != "active":
        breaches.append(Breach(UNAVAILABLE, False, label, live=live_after, status=officer.status))
    elif (
        outlook.upcoming is not None
        and (outlook.upcoming.starts_on - on).days <= policy.absence_notice_days
    ):  # the outlook looks as far ahead as any team's notice; this officer's team's counts
        breaches.append(
            Breach(
                ABSENCE_DUE,
                absence_blocks,
                label,
                live=live_after,
                absence=outlook.upcoming,
                days=(outlook.upcoming.starts_on - on).days,
            )
        )
    if capacity is not None and live_after > capacity:
        breaches.append(
            Breach(OVER_CAPACITY, False, label, live=live_after, limit=capacity, percent=percent)
        )
    breaches.sort(key=lambda b: not b.blocking)
    return breaches


# --- changes to a holding that is not a new allocation ---------------------------------------
# Reopening a crime gives it back to its holder (one more live crime: the allocation rules
# apply as to any allocation, ``check_allocation``); raising a held crime's required level
# can break the accreditation rule (``check_level_raise``); changing an officer's facts
# (trainee, accreditation, investigator_since, status, capacity) can put what they already
# hold in breach (``holding_breaches`` before and after, ``new_breaches``).


def check_level_raise(
    officer: OfficerFacts,
    *,
    live: int,
    old_level: str,
    new_level: str,
    policy: Policy | Policies,
) -> list[Breach]:
    """The rule a held crime's required level going from ``old_level`` to ``new_level``
    breaks: only the accreditation rule depends on the level, and only a raise can break it."""
    from caseload.domain.levels import RANK

    policy = policy_for(officer, policy)
    if RANK[new_level] <= RANK[old_level] or is_accredited_for(officer.accreditation, new_level):
        return []
    return [
        Breach(
            MISMATCH,
            policy.accreditation_mode == "block",
            officer.label,
            live=live,
            accreditation=officer.accreditation,
            required_level=new_level,
        )
    ]


@dataclass(frozen=True)
class HoldingBreach:
    """A rule an officer's whole current holding breaks: ``count`` of their live crimes."""

    code: str
    officer: str  # the officer's label
    count: int  # how many of their live crimes are in breach
    live: int
    limit: int | None = None
    accreditation: str = ""
    status: str = ""

    def text(self) -> str:
        if self.code == OVER_LIMIT:
            return (
                f"{self.officer} is inexperienced and holds {self.live} live crimes, "
                f"{self.count} over the limit of {self.limit}"
            )
        if self.code == OVER_CAPACITY:
            return (
                f"{self.officer} holds {self.live} live crimes, {self.count} past their "
                f"personal capacity of {self.limit}"
            )
        if self.code == MISMATCH:
            accredited = accredited_words(self.accreditation)
            crimes = "crime needs" if self.count == 1 else "crimes need"
            return f"{self.officer} {accredited} but {self.count} of their live {crimes} more"
        if self.code == UNAVAILABLE:
            state = status_words(self.status)
            return f"{self.officer} is {state}, not active, and holds {self.live} live crimes"
        return f"{self.officer}: {self.code}"  # pragma: no cover - every code is worded above


def holding_breaches(
    officer: OfficerFacts,
    live_by_level: Mapping[str, int],
    *,
    on: date,
    policy: Policy | Policies,
) -> list[HoldingBreach]:
    """Every rule ``officer``'s live crimes (counted by required level) break on ``on``."""
    live = sum(live_by_level.values())
    if not live:
        return []
    label = officer.label
    policy = policy_for(officer, policy)
    found: list[HoldingBreach] = []
    limit = policy.inexperienced_limit
    if officer_is_inexperienced(officer, on, policy) and over_limit(live, limit):
        found.append(HoldingBreach(OVER_LIMIT, label, live - limit, live, limit=limit))
    above = sum(
        n
        for level, n in live_by_level.items()
        if not is_accredited_for(officer.accreditation, level)
    )
    if above:
        found.append(
            HoldingBreach(MISMATCH, label, above, live, accreditation=officer.accreditation)
        )
    if officer.status != "active":
        found.append(HoldingBreach(UNAVAILABLE, label, live, live, status=officer.status))
    if officer.capacity is not None and live > officer.capacity:
        found.append(
            HoldingBreach(
                OVER_CAPACITY, label, live - officer.capacity, live, limit=officer.capacity
            )
        )
    return found


def new_breaches(before: list[HoldingBreach], after: list[HoldingBreach]) -> list[HoldingBreach]:
    """The breaches in ``after`` that a change made: new ones, or more crimes in breach."""
    was = {b.code: b for b in before}
    return [
        b
        for b in after
        if b.code not in was
        or b.count > was[b.code].count
        or (b.code == UNAVAILABLE and b.status != was[b.code].status)
    ]


def rebalance_hint(team: str) -> str:
    """The command that puts an officer's holding right again."""
    return f"re-home them with 'caseload rebalance --team \"{team}\"' (or 'caseload assign')"


RULE_FIELDS = ("accreditation", "investigator_since", "trainee", "status", "capacity")


def officer_change_breaches(
    before: OfficerFacts,
    after: OfficerFacts,
    live_by_level: Mapping[str, int],
    *,
    on: date,
    policy: Policy | Policies,
) -> list[HoldingBreach]:
    """What changing an officer from ``before`` to ``after`` puts in breach of what they
    already hold (``live_by_level``: their live crimes by required level): a warning,
    never a refusal (the crimes were allocated under the rules of the day). Each side is
    judged by the policy of the officer's team on that side."""
    return new_breaches(
        holding_breaches(before, live_by_level, on=on, policy=policy),
        holding_breaches(after, live_by_level, on=on, policy=policy),
    )
