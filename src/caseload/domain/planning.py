"""The allocation engine's rules: who may take a crime, in which order, and a team's plan.

Plain functions over plain dataclasses; the store loads ``OfficerLoad`` and
``LiveCrime`` rows (one query each) and these functions decide, so every rule is
tested without a database.

* ``rank_candidates`` answers ``caseload suggest``: the eligible officers in a
  fixed order (holds a linked crime, lowest weighted load relative to capacity,
  most experience, collar), each with the reasons; when nobody is eligible, why,
  for each group of officers.
* ``plan_rebalance`` answers ``caseload rebalance``: the moves that

  1. re-home live crimes held by officers who are not active;
  2. bring inexperienced officers to the limit and everyone to their capacity;
  3. fix accreditation mismatches;
  4. even out weighted load: a crime moves from the most loaded officer who can give
     one to the least loaded officer who can take it only while the gap between the
     two is more than ``rebalance_threshold`` and the move narrows it (the receiver
     ends lighter than the giver was), so the maximum never rises and stable
     caseloads stay put.

  A move never goes to an ineligible officer or past anyone's limit; a crime
  reassigned more than ``reassign_churn`` times never moves; an enhanced-service
  victim's crime, and a high-risk crime, moves only when steps 1-3 require it. Most
  recently allocated crimes move first. Steps 1-3 repeat until nothing more can be
  placed; a team that still lacks qualified capacity gets no evening moves (they would
  only shuffle the shortfall), and the plan says what remains and the capacity missing by level.
  Evening runs to a fixed point, so applying a plan and planning again proposes
  nothing. Heaps keyed on load make it O(n log n) in the number of crimes.

  ``plan_rebalance`` reads as that recipe: steps 1-3 are ``_ReHome``, ``_WithinLimit``
  and ``_Accreditation`` (each gathers its crimes, places them in rounds, reports what
  is left into a ``_Shortfall``), step 4 is ``_even_out``, and ``_assemble`` builds the
  ``Plan``; ``_State`` holds the loads as moves change them and finds receivers.
"""

from __future__ import annotations

import hashlib
import heapq
from array import array
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from operator import attrgetter, itemgetter
from typing import ClassVar, NamedTuple, Protocol

from caseload.domain.levels import LEVELS, RANK, is_accredited_for
from caseload.domain.policy import Policy
from caseload.domain.risk import GRADE_RANK
from caseload.domain.team_policy import Policies, as_policies

STEP_NAMES = {
    1: "re-home",
    2: "limit",
    3: "accreditation",
    4: "even",
}
ALL_STEPS = frozenset(STEP_NAMES)


def step_numbers(names: Iterable[str]) -> frozenset[int]:
    """The steps named (``re-home`` or ``rehome``, ``limit``, ``accreditation``, ``even``);
    ``ValueError`` names the steps for a name that is none of them."""
    by_name = {name.replace("-", ""): step for step, name in STEP_NAMES.items()}
    chosen = set()
    for name in names:
        key = name.strip().lower().replace("-", "").replace("_", "")
        if key not in by_name:
            raise ValueError(
                f"'{name.strip()}' is not a rebalance step; the steps are "
                + ", ".join(STEP_NAMES.values())
            )
        chosen.add(by_name[key])
    return frozenset(chosen)


def _team_policy(policy: Policy | Policies, team_id: int) -> Policy:
    """The policy a team works to (``domain.team_policy``); a plain Policy is everyone's."""
    return policy if isinstance(policy, Policy) else policy.of(team_id)


_STATUS_WORDS = {"leave": "on leave", "abstracted": "abstracted", "left": "left"}


@dataclass(frozen=True)
class OfficerLoad:
    """One officer and what they hold now (``live`` and ``weighted_load`` count every
    live crime they hold, whichever team it belongs to)."""

    id: int
    collar: str
    team_id: int
    accreditation: str
    status: str = "active"
    inexperienced: bool = False
    experience_months: int = 0
    capacity: int | None = None
    live: int = 0
    weighted_load: int = 0
    name: str = ""
    team: str = ""


class LiveCrime(NamedTuple):
    """One live crime the engine may place or move (a named tuple: a team loads 10,000s)."""

    id: int
    reference: str
    team_id: int
    required_level: str
    victim_enhanced: bool = False
    holder_id: int | None = None
    allocated_at: datetime | None = None  # start of the current holding
    reassignments: int = 0  # allocation intervals after the first
    risk: str = "standard"  # the risk grade (a high-risk crime weighs weight_high_risk more)


def ceiling(officer: OfficerLoad, policy: Policy | Policies) -> int | None:
    """The most live crimes the officer may hold: the lower of their personal capacity
    and, if inexperienced, their team's inexperienced limit; None when neither applies."""
    policy = _team_policy(policy, officer.team_id)
    limits = []
    if officer.capacity is not None:
        limits.append(officer.capacity)
    if officer.inexperienced:
        limits.append(policy.inexperienced_limit)
    return min(limits) if limits else None


def reference_capacity(officer: OfficerLoad, policy: Policy | Policies) -> int:
    """What weighted load is measured against: the ceiling, or, for an officer with no
    ceiling, their team's inexperienced limit as a nominal capacity."""
    policy = _team_policy(policy, officer.team_id)
    cap = ceiling(officer, policy)
    return max(cap if cap is not None else policy.inexperienced_limit, 1)


def load_share(officer: OfficerLoad, policy: Policy | Policies) -> Fraction:
    """Weighted load relative to capacity, exact (so ties are real ties)."""
    return Fraction(officer.weighted_load, reference_capacity(officer, policy))


# --- suggest ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """An eligible officer, ranked, with the reasons a supervisor can quote."""

    rank: int
    officer: OfficerLoad
    linked: tuple[str, ...]  # linked crimes (references) this officer holds
    share: Fraction
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Ranking:
    candidates: tuple[Candidate, ...]
    refusals: tuple[str, ...]  # why the others cannot take it, one line per group


def refusal(
    officer: OfficerLoad, crime: LiveCrime, policy: Policy | Policies, *, any_team: bool = False
) -> str | None:
    """Why this officer cannot take the crime (a group name), or None if eligible (judged
    by the officer's team's policy)."""
    policy = _team_policy(policy, officer.team_id)
    if officer.id == crime.holder_id:
        return "already holds it"
    if not any_team and officer.team_id != crime.team_id:
        return "in another team"
    if officer.status != "active":
        return _STATUS_WORDS.get(officer.status, officer.status)
    if not is_accredited_for(officer.accreditation, crime.required_level):
        return f"not accredited to {crime.required_level}"
    if officer.inexperienced and officer.live >= policy.inexperienced_limit:
        return f"inexperienced and at the limit of {policy.inexperienced_limit}"
    if officer.capacity is not None and officer.live >= officer.capacity:
        return "at their personal capacity"
    return None


def candidate_order(
    officer: OfficerLoad, policy: Policy | Policies, *, linked: bool = False
) -> Callable[[int], tuple[bool, Fraction, int, str]]:
    """``candidate_key`` as a function of the officer's weighted load, all else as it is:
    what spreading many new crimes over a team asks for again and again
    (``domain.forecast``)."""
    capacity = reference_capacity(officer, policy)
    first, experience, collar = not linked, -officer.experience_months, officer.collar

    def key(weighted_load: int) -> tuple[bool, Fraction, int, str]:
        return (first, Fraction(weighted_load, capacity), experience, collar)

    return key


def candidate_key(
    officer: OfficerLoad, policy: Policy | Policies, *, linked: bool = False
) -> tuple[bool, Fraction, int, str]:
    """Where an eligible officer comes in the order of who takes a crime (lowest first):
    holds a linked crime, lowest weighted load relative to capacity (``load_share``), most
    experience, collar. ``rank_candidates`` sorts by it; ``domain.forecast`` spreads
    intake by it (``candidate_order``)."""
    return candidate_order(officer, policy, linked=linked)(officer.weighted_load)


def rank_candidates(
    crime: LiveCrime,
    officers: Iterable[OfficerLoad],
    policy: Policy | Policies,
    *,
    linked: Mapping[int, Sequence[str]] | None = None,
    any_team: bool = False,
) -> Ranking:
    """Eligible officers in order: holds a linked crime, lowest weighted load relative
    to capacity, most experience, collar. ``linked`` maps officer id to the linked
    crimes' references that officer holds."""
    linked = linked or {}
    eligible: list[tuple[tuple[object, ...], OfficerLoad]] = []
    groups: dict[str, list[str]] = defaultdict(list)
    for officer in officers:
        why = refusal(officer, crime, policy, any_team=any_team)
        if why is not None:
            groups[why].append(officer.collar)
            continue
        eligible.append(
            (candidate_key(officer, policy, linked=bool(linked.get(officer.id))), officer)
        )
    eligible.sort(key=lambda item: item[0])
    candidates = []
    for position, (_, officer) in enumerate(eligible, start=1):
        refs = tuple(sorted(linked.get(officer.id, ())))
        share = load_share(officer, policy)
        reasons = []
        if refs:
            reasons.append("holds linked " + ", ".join(refs))
        cap = reference_capacity(officer, policy)
        what = (
            "nominal"
            if ceiling(officer, policy) is None
            else "capacity"
            if officer.capacity == cap
            else "limit"
        )
        reasons.append(
            f"weighted load {officer.weighted_load} against {what} {cap} ({float(share):.0%})"
        )
        reasons.append(f"{officer.experience_months} months investigating")
        if officer.team_id != crime.team_id:
            reasons.append(f"in {officer.team or 'another team'}")
        candidates.append(Candidate(position, officer, refs, share, tuple(reasons)))
    refusals = tuple(
        f"{len(collars)} {_officers(len(collars))} {why}: {', '.join(sorted(collars)[:8])}"
        + (" ..." if len(collars) > 8 else "")
        for why, collars in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    )
    return Ranking(tuple(candidates), refusals)


def _officers(n: int) -> str:
    return "officer" if n == 1 else "officers"


# --- rebalance -------------------------------------------------------------------------------


class Move(NamedTuple):
    """One move of a plan (a named tuple: a large team's plan has 10,000s)."""

    step: int
    crime_id: int
    reference: str
    team_id: int
    required_level: str
    from_id: int
    from_collar: str
    to_id: int
    to_collar: str
    why: str


@dataclass(frozen=True)
class Remaining:
    """Something the plan could not put right, and why."""

    kind: str  # holder-unavailable, inexperienced-over-limit, over-capacity, ...
    team_id: int
    collar: str
    reference: str | None
    required_level: str | None
    detail: str


@dataclass(frozen=True)
class OfficerChange:
    officer: OfficerLoad
    ceiling: int | None
    live_after: int
    weighted_after: int


@dataclass(frozen=True)
class Plan:
    plan_id: str
    moves: tuple[Move, ...]
    officers: tuple[OfficerChange, ...]
    remaining: tuple[Remaining, ...]
    missing_by_level: dict[str, int]  # live crimes with no qualified room, by required level
    gaps: dict[int, tuple[int, int]]  # team id -> (max-min weighted load before, after)


@dataclass
class _State:
    policy: Policies
    officers: dict[int, OfficerLoad]
    count: dict[int, int]
    weight: dict[int, int]
    cap: dict[int, int | None]
    version: dict[int, int]
    holder: dict[int, int | None]
    links: Mapping[int, Sequence[int]]
    moves: list[Move] = field(default_factory=list)
    moved: set[int] = field(default_factory=set)  # crimes moved in this plan
    leaving: Collection[int] = ()  # officers handing over: they give and never receive
    receivers: dict[tuple[int, str], list[tuple[int, str, int, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    weights: dict[str, int] = field(init=False)  # required level -> weight of one crime
    active_ids: frozenset[int] = field(init=False)  # active and not handing over
    # An active officer's receiver heap (None for others), and each team's heaps by
    # level index: every heap exists from the start, so both can be looked up once.
    heap_of: dict[int, list[tuple[int, str, int, int]] | None] = field(init=False)
    team_heaps: dict[int, list[list[tuple[int, str, int, int]] | None]] = field(init=False)

    def __post_init__(self) -> None:
        # The weights are force-wide (``domain.team_policy.FORCE_WIDE``).
        self.weights = {level: self.policy.force.weight(level) for level in LEVELS}
        self.active_ids = frozenset(
            oid
            for oid, o in self.officers.items()
            if o.status == "active" and oid not in self.leaving
        )
        self.heap_of = {
            oid: self.receivers[(o.team_id, o.accreditation)] if oid in self.active_ids else None
            for oid, o in self.officers.items()
        }
        self.team_heaps = {}

    @classmethod
    def start(
        cls,
        officers: Sequence[OfficerLoad],
        crimes: Sequence[LiveCrime],
        policies: Policies,
        links: Mapping[int, Sequence[int]],
        leaving: frozenset[int],
    ) -> _State:
        """Everyone as they stand before the plan, each active officer with room waiting
        to receive."""
        state = cls(
            policy=policies,
            officers={o.id: o for o in officers},
            count={o.id: o.live for o in officers},
            weight={o.id: o.weighted_load for o in officers},
            cap={o.id: ceiling(o, policies) for o in officers},
            version={o.id: 0 for o in officers},
            holder={c.id: c.holder_id for c in crimes},
            links=links,
            leaving=leaving,
        )
        for oid in state.officers:
            state.push_receiver(oid)
        return state

    def active(self, oid: int) -> bool:
        """Active and not handing over: keeps what they hold and may receive."""
        return oid in self.active_ids

    def room(self, oid: int) -> bool:
        cap = self.cap[oid]
        return cap is None or self.count[oid] < cap

    def push_receiver(self, oid: int) -> None:
        heap = self.heap_of[oid]
        cap = self.cap[oid]
        if heap is not None and (cap is None or self.count[oid] < cap):
            heapq.heappush(
                heap, (self.weight[oid], self.officers[oid].collar, self.version[oid], oid)
            )

    def receiver_tops(self, team_id: int) -> list[tuple[int, str, int, int] | None]:
        """Per required level (index = RANK), the heap entry of the least loaded active
        officer of the team accredited for it with room."""
        heaps = self.team_heaps.get(team_id)
        if heaps is None:
            heaps = self.team_heaps[team_id] = [
                self.receivers.get((team_id, level)) for level in LEVELS
            ]
        tops: list[tuple[int, str, int, int] | None] = [None] * len(LEVELS)
        best: tuple[int, str, int, int] | None = None
        version, cap, count = self.version, self.cap, self.count
        for index in range(len(LEVELS) - 1, -1, -1):
            heap = heaps[index]
            while heap:
                top = heap[0]
                oid = top[3]
                if top[2] == version[oid]:
                    limit = cap[oid]
                    if limit is None or count[oid] < limit:
                        break
                heapq.heappop(heap)
            if heap and (best is None or heap[0] < best):
                best = heap[0]
            tops[index] = best
        return tops

    def best_receiver(self, team_id: int, level: str) -> int | None:
        """The least loaded active officer of the team accredited for ``level`` with room."""
        best = self.receiver_tops(team_id)[RANK[level]]
        return best[3] if best else None

    def eligible(self, oid: int, crime: LiveCrime) -> bool:
        o = self.officers[oid]
        return (
            oid != self.holder[crime.id]
            and oid in self.active_ids
            and o.team_id == crime.team_id
            and is_accredited_for(o.accreditation, crime.required_level)
            and self.room(oid)
        )

    def target(self, crime: LiveCrime) -> int | None:
        """Steps 1-3: an eligible officer already holding a linked crime, else the least
        loaded eligible officer (collar breaks ties)."""
        linked = self.linked_holder(crime) if crime.id in self.links else None
        if linked is not None:
            return linked
        return self.best_receiver(crime.team_id, crime.required_level)

    def linked_holder(self, crime: LiveCrime) -> int | None:
        """The least loaded eligible officer holding a crime linked to this one, if any."""
        holder = self.holder
        linked = {
            holder[other]
            for other in self.links.get(crime.id, ())
            if other in holder and holder[other] is not None
        }
        options = [
            (self.weight[oid], self.officers[oid].collar, oid)
            for oid in linked
            if oid is not None and oid in self.officers and self.eligible(oid, crime)
        ]
        return min(options)[2] if options else None

    def move(self, crime: LiveCrime, to: int, step: int, why: str) -> None:
        source = self.holder[crime.id]
        assert source is not None
        w = self.weights[crime.required_level]
        if crime.risk == "high":
            w += self.policy.force.weight_high_risk  # force-wide, as the weights are
        self.count[source] -= 1
        self.weight[source] -= w
        self.version[source] += 1
        self.count[to] += 1
        self.weight[to] += w
        self.version[to] += 1
        self.push_receiver(source)
        self.push_receiver(to)
        self.holder[crime.id] = to
        # A crime moved twice in one plan (rare: evening prefers crimes not yet moved)
        # stays two moves, so every move is valid in the order it is applied.
        self.moved.add(crime.id)
        officers = self.officers
        self.moves.append(
            Move(
                step,
                crime.id,
                crime.reference,
                crime.team_id,
                crime.required_level,
                source,
                officers[source].collar,
                to,
                officers[to].collar,
                why,
            )
        )


_EPOCH = datetime(1970, 1, 1)
_MICROSECOND = timedelta(microseconds=1)


def _most_recent_first(crime: LiveCrime) -> tuple[float, str]:
    stamp = (crime.allocated_at - _EPOCH).total_seconds() if crime.allocated_at else float("-inf")
    return (-stamp, crime.reference)


def fingerprint(
    officers: Iterable[OfficerLoad],
    crimes: Iterable[LiveCrime],
    policy: Policy | Policies,
    links: Mapping[int, Sequence[int]],
    teams: Collection[int] | None,
    *,
    steps: Collection[int] = ALL_STEPS,
    leaving: Collection[int] = (),
) -> str:
    """A digest of everything a plan depends on: a changed store gives another plan id."""
    digest = hashlib.sha256()
    digest.update(
        "\n".join(
            "|".join(str(getattr(o, f)) for f in _OFFICER_FIELDS)
            for o in sorted(officers, key=lambda o: o.id)
        ).encode()
    )
    # Each crime as eight 64-bit integers: formatting 60,000 datetimes as text took
    # longer than planning the moves.
    numbers = array("q")
    extend = numbers.extend
    for c in sorted(crimes, key=itemgetter(0)):
        at = c.allocated_at
        extend(
            (
                c.id,
                c.team_id,
                RANK[c.required_level],
                c.victim_enhanced,
                -1 if c.holder_id is None else c.holder_id,
                -1 if at is None else (at - _EPOCH) // _MICROSECOND,
                c.reassignments,
                GRADE_RANK.get(c.risk, 0),
            )
        )
    digest.update(numbers.tobytes())
    policies = as_policies(policy)
    digest.update(repr(sorted(policies.force.as_dict().items())).encode())
    if any(policies.overrides.values()):
        digest.update(policies.key().encode())
    digest.update(repr(sorted((k, sorted(v)) for k, v in links.items())).encode())
    digest.update(repr(sorted(teams) if teams is not None else None).encode())
    if set(steps) != ALL_STEPS or leaving:  # a partial plan or a handover is another plan
        digest.update(repr((sorted(steps), sorted(leaving))).encode())
    return digest.hexdigest()[:12]


_OFFICER_FIELDS = (
    "id",
    "collar",
    "team_id",
    "accreditation",
    "status",
    "inexperienced",
    "experience_months",
    "capacity",
    "live",
    "weighted_load",
)


def plan_rebalance(
    officers: Sequence[OfficerLoad],
    crimes: Sequence[LiveCrime],
    policy: Policy | Policies,
    *,
    links: Mapping[int, Sequence[int]] | None = None,
    teams: Collection[int] | None = None,
    steps: Collection[int] = ALL_STEPS,
    leaving: Collection[int] = (),
) -> Plan:
    """The rebalance plan for ``teams`` (default: every team a crime or officer is in).

    ``officers`` must include every holder of a listed crime; only crimes of ``teams``
    move, and only to active officers of the crime's own team. Each officer's limit,
    each crime's churn limit and each team's evening threshold are their team's policy.

    ``steps`` (numbers of ``STEP_NAMES``) chooses the steps that run. ``leaving`` makes
    a handover: every live crime (of ``teams``) those officers hold is re-homed in step
    1 as an inactive holder's would be, they receive nothing, and step 1 re-homes no
    other officer's crimes.
    """
    links = links or {}
    policies = as_policies(policy)
    leaving = frozenset(leaving)
    scope = set(teams) if teams is not None else {o.team_id for o in officers}
    state = _State.start(officers, crimes, policies, links, leaving)
    gaps_before = _gaps(state, scope)
    movable = _movable(state, crimes, scope)
    churned = {c.id for c in movable if c.reassignments > policies.of(c.team_id).reassign_churn}

    shortfall = _Shortfall()
    fixes = [
        fix(state, movable, churned, shortfall) for step, fix in _FIXES.items() if step in steps
    ]
    _fix_while_placing(fixes)
    for fix in fixes:
        fix.report(shortfall)
    if 4 in steps:  # a team short of qualified room gets no evening: it would shuffle the shortfall
        _even_out(state, movable, scope - shortfall.short_teams, churned)

    plan_id = fingerprint(officers, crimes, policies, links, teams, steps=steps, leaving=leaving)
    return _assemble(plan_id, state, officers, scope, gaps_before, shortfall)


def _movable(state: _State, crimes: Sequence[LiveCrime], scope: set[int]) -> list[LiveCrime]:
    """The crimes the plan may move: of the teams planned, held by an officer it knows."""
    known = state.officers
    return [
        c for c in crimes if c.team_id in scope and c.holder_id is not None and c.holder_id in known
    ]


@dataclass
class _Shortfall:
    """What steps 1-3 leave undone: the plan's ``remaining``, the live crimes left with no
    qualified room (by required level), and the teams short of that room."""

    remaining: list[Remaining] = field(default_factory=list)
    missing: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    short_teams: set[int] = field(default_factory=set)

    def set_aside_churned(
        self, state: _State, waiting: list[LiveCrime], churned: set[int], because: str
    ) -> list[LiveCrime]:
        """``waiting`` without the crimes reassigned too often to move, each of which
        remains for a supervisor (``because`` it would have moved)."""
        for c in waiting:
            if c.id in churned:
                self.remaining.append(_churn(state, c, because))
        return [c for c in waiting if c.id not in churned]

    def no_room(self, crime: LiveCrime, kind: str, collar: str, detail: str) -> None:
        """A crime no round could place: it remains, and its team lacks room at its level."""
        self.remaining.append(
            Remaining(kind, crime.team_id, collar, crime.reference, crime.required_level, detail)
        )
        self.missing[crime.required_level] += 1
        self.short_teams.add(crime.team_id)


class _Fix(Protocol):
    """Steps 1-3: each gathers what it must fix when made (reporting the crimes it may not
    move), places what it can in rounds, then reports what is left."""

    def place(self) -> bool:
        """One round; whether it moved anything."""
        ...

    def report(self, shortfall: _Shortfall) -> None:
        """What no round could fix."""
        ...


def _placing_order(crime: LiveCrime) -> tuple[bool, int, tuple[float, str]]:
    """Which crime steps 1 and 3 place first: an enhanced-service victim's, then the
    highest level, then the most recently allocated."""
    return (not crime.victim_enhanced, -RANK[crime.required_level], _most_recent_first(crime))


def _giving_order(
    officer: OfficerLoad,
) -> Callable[[LiveCrime], tuple[bool, bool, tuple[float, str]]]:
    """Which of an officer's crimes step 2 moves first: one above their accreditation, then
    one that is not an enhanced-service victim's, then the most recently allocated."""
    accreditation = officer.accreditation

    def key(crime: LiveCrime) -> tuple[bool, bool, tuple[float, str]]:
        return (
            is_accredited_for(accreditation, crime.required_level),
            crime.victim_enhanced,
            _most_recent_first(crime),
        )

    return key


class _Waiting:
    """Steps 1 and 3: a queue of crimes, each placed with ``_State.target`` in turn; a
    crime with no receiver waits for the next round, and remains after the last."""

    step: ClassVar[int]
    kind: ClassVar[str]  # the ``Remaining`` kind of a crime no round could place
    state: _State
    waiting: list[LiveCrime]

    def settled(self, source: int, crime: LiveCrime) -> bool:
        """Whether the crime no longer needs to move from ``source``, its holder now."""
        raise NotImplementedError

    def cause(self, holder: OfficerLoad, crime: LiveCrime) -> str:
        """Why the crime must leave its holder (the start of a move's or remainder's why)."""
        raise NotImplementedError

    def why(self, holder: OfficerLoad, crime: LiveCrime) -> str:
        """A move's reason; the cause, unless a step says more."""
        return self.cause(holder, crime)

    def place(self) -> bool:
        state = self.state
        by_id, step = state.officers, self.step
        placed = False
        still: list[LiveCrime] = []
        for c in self.waiting:
            source = state.holder[c.id]
            if source is None or self.settled(source, c):
                continue
            to = state.target(c)
            if to is None:
                still.append(c)
                continue
            state.move(c, to, step, self.why(by_id[source], c))
            placed = True
        self.waiting = still
        return placed

    def report(self, shortfall: _Shortfall) -> None:
        state = self.state
        for c in self.waiting:
            source = state.holder[c.id]
            assert source is not None
            holder = state.officers[source]
            shortfall.no_room(
                c,
                self.kind,
                holder.collar,
                f"{self.cause(holder, c)}; no active officer of the team accredited to "
                f"{c.required_level} has room",
            )


class _ReHome(_Waiting):
    """Step 1: the live crimes of officers who are not active (in a handover: of those
    handing over, and no one else's) go to active officers of the crime's team."""

    step, kind = 1, "holder-unavailable"

    def __init__(
        self, state: _State, movable: list[LiveCrime], churned: set[int], shortfall: _Shortfall
    ) -> None:
        self.state = state
        leaving, active = state.leaving, state.active_ids
        waiting = sorted(
            (
                c
                for c in movable
                if (c.holder_id in leaving if leaving else c.holder_id not in active)
            ),
            key=_placing_order,
        )
        because = "its holder hands over" if leaving else "its holder is not active"
        self.waiting = shortfall.set_aside_churned(state, waiting, churned, because)

    def settled(self, source: int, crime: LiveCrime) -> bool:
        return self.state.active(source)

    def cause(self, holder: OfficerLoad, crime: LiveCrime) -> str:
        return _away_words(holder, self.state.leaving)


class _WithinLimit:
    """Step 2: an active officer holding more than their ceiling (the inexperienced limit,
    their personal capacity) gives crimes until they are within it."""

    def __init__(
        self, state: _State, movable: list[LiveCrime], churned: set[int], shortfall: _Shortfall
    ) -> None:
        self.state = state
        by_id, active = state.officers, state.active_ids
        holders = {c.holder_id for c in movable}
        self.over = sorted(
            (oid for oid in holders if oid in active and not state.room(oid)),
            key=lambda oid: by_id[oid].collar,
        )
        held: dict[int, list[LiveCrime]] = {oid: [] for oid in self.over}
        if held:
            for c in movable:
                mine = held.get(c.holder_id)  # type: ignore[arg-type]
                if mine is not None and c.id not in churned:
                    mine.append(c)
        for oid in self.over:
            held[oid].sort(key=_giving_order(by_id[oid]))
        self.held = held

    def place(self) -> bool:
        state = self.state
        placed = False
        for oid in self.over:
            cap = state.cap[oid]
            assert cap is not None
            if state.count[oid] <= cap:
                continue
            officer = state.officers[oid]
            for c in self.held[oid]:
                if state.count[oid] <= cap:
                    break
                if state.holder[c.id] != oid:
                    continue
                to = state.target(c)
                if to is None:
                    continue
                state.move(c, to, 2, _over_words(officer, state.count[oid], cap, state.policy))
                placed = True
        return placed

    def report(self, shortfall: _Shortfall) -> None:
        state = self.state
        for oid in self.over:
            cap = state.cap[oid]
            assert cap is not None
            excess = state.count[oid] - cap
            if excess <= 0:
                continue
            officer = state.officers[oid]
            left = [c for c in self.held[oid] if state.holder[c.id] == oid][:excess]
            for c in left:
                shortfall.missing[c.required_level] += 1
            if left:
                shortfall.short_teams.add(officer.team_id)
            kind = (
                "inexperienced-over-limit"
                if officer.inexperienced
                and cap == state.policy.of(officer.team_id).inexperienced_limit
                else "over-capacity"
            )
            stuck = excess - len(left)
            shortfall.remaining.append(
                Remaining(
                    kind,
                    officer.team_id,
                    officer.collar,
                    None,
                    None,
                    _over_words(officer, state.count[oid], cap, state.policy)
                    + f"; {excess} more must move but no eligible officer has room"
                    + (f" ({stuck} reassigned too often to move)" if stuck > 0 else ""),
                )
            )


class _Accreditation(_Waiting):
    """Step 3: a crime whose holder is not accredited to its level goes to an officer who is."""

    step, kind = 3, "accreditation-mismatch"

    def __init__(
        self, state: _State, movable: list[LiveCrime], churned: set[int], shortfall: _Shortfall
    ) -> None:
        self.state = state
        active = state.active_ids
        accredited_to = {oid: RANK[o.accreditation] for oid, o in state.officers.items()}
        waiting = sorted(
            (
                c
                for c in movable
                if c.holder_id in active and accredited_to[c.holder_id] < RANK[c.required_level]
            ),
            key=_placing_order,
        )
        self.waiting = shortfall.set_aside_churned(
            state, waiting, churned, "it needs a higher accreditation"
        )

    def settled(self, source: int, crime: LiveCrime) -> bool:
        accreditation = self.state.officers[source].accreditation
        return is_accredited_for(accreditation, crime.required_level)

    def cause(self, holder: OfficerLoad, crime: LiveCrime) -> str:
        return f"needs {crime.required_level}"

    def why(self, holder: OfficerLoad, crime: LiveCrime) -> str:
        acc = holder.accreditation
        return f"{self.cause(holder, crime)}; {holder.collar} " + (
            "has no accreditation" if acc == "none" else f"is accredited to {acc}"
        )


# The steps that put a team right, by step number (STEP_NAMES), in the order they run.
_FIXES: dict[int, Callable[[_State, list[LiveCrime], set[int], _Shortfall], _Fix]] = {
    1: _ReHome,
    2: _WithinLimit,
    3: _Accreditation,
}


def _fix_while_placing(fixes: Sequence[_Fix]) -> None:
    """Steps 1-3 in turn, round after round, while a round places something (a step-3
    move frees room that an earlier step could not find)."""
    placing = True
    while placing:
        placing = False
        for fix in fixes:
            placing = fix.place() or placing


def _even_out(
    state: _State, movable: list[LiveCrime], teams: Collection[int], churned: set[int]
) -> None:
    """Step 4: even out each team's weighted load among its active officers
    (``_even_team``), team by team."""
    team_crimes: dict[int, list[LiveCrime]] = defaultdict(list)
    for c in movable:
        team_crimes[c.team_id].append(c)
    team_members: dict[int, set[int]] = defaultdict(set)
    for o in state.officers.values():
        if o.status == "active":
            team_members[o.team_id].add(o.id)
    for team_id in sorted(teams):
        _even_team(state, team_id, team_members[team_id], team_crimes[team_id], churned)


def _assemble(
    plan_id: str,
    state: _State,
    officers: Sequence[OfficerLoad],
    scope: Collection[int],
    gaps_before: Mapping[int, int],
    shortfall: _Shortfall,
) -> Plan:
    """The plan: the moves in order; every officer of the teams planned, and anyone who
    gives a crime, before and after; what remains; each team's gap before and after."""
    moves = tuple(state.moves)
    givers = {m.from_id for m in moves}
    changes = tuple(
        OfficerChange(o, state.cap[o.id], state.count[o.id], state.weight[o.id])
        for o in sorted(officers, key=lambda o: (o.team, o.team_id, o.collar))
        if o.team_id in scope or o.id in givers
    )
    gaps_after = _gaps(state, scope)
    gaps = {t: (gaps_before[t], gaps_after[t]) for t in sorted(scope)}
    missing = {lvl: shortfall.missing[lvl] for lvl in LEVELS if shortfall.missing.get(lvl)}
    return Plan(plan_id, moves, changes, tuple(shortfall.remaining), missing, gaps)


def _away_words(officer: OfficerLoad, leaving: Collection[int]) -> str:
    """Why step 1 re-homes an officer's crimes."""
    if officer.id in leaving:
        return f"{officer.collar} hands over"
    return f"{officer.collar} is {_STATUS_WORDS.get(officer.status, officer.status)}"


def _over_words(officer: OfficerLoad, live: int, cap: int, policy: Policy | Policies) -> str:
    policy = _team_policy(policy, officer.team_id)
    if officer.inexperienced and cap == policy.inexperienced_limit:
        return f"{officer.collar} is inexperienced and holds {live} live crimes; limit {cap}"
    return f"{officer.collar} holds {live} live crimes, past their personal capacity of {cap}"


def _churn(state: _State, crime: LiveCrime, because: str) -> Remaining:
    holder = state.officers[crime.holder_id].collar  # type: ignore[index]
    return Remaining(
        "reassign-churn",
        crime.team_id,
        holder,
        crime.reference,
        crime.required_level,
        f"{because}, but it has been reassigned {crime.reassignments} times "
        f"(more than {state.policy.of(crime.team_id).reassign_churn}); a supervisor must decide",
    )


def _gaps(state: _State, teams: Collection[int]) -> dict[int, int]:
    """Each team's gap between its most and least loaded active officers."""
    low: dict[int, int] = {}
    high: dict[int, int] = {}
    for oid, o in state.officers.items():
        if o.status == "active" and o.team_id in teams:
            w = state.weight[oid]
            low[o.team_id] = min(low.get(o.team_id, w), w)
            high[o.team_id] = max(high.get(o.team_id, w), w)
    return {t: high.get(t, 0) - low.get(t, 0) for t in teams}


def _even_team(
    state: _State, team_id: int, members: set[int], crimes: list[LiveCrime], churned: set[int]
) -> None:
    """Step 4 for one team: repeat the best justified move until none is left.

    A move of weight w from giver A to receiver B is justified when A - B exceeds both
    the threshold and w (so B ends below what A had: the maximum never rises, and the
    sum of squared loads falls, so the loop ends). Each round takes, per level, the most
    loaded giver holding a movable crime of that level and the least loaded officer
    who can take it; the heaviest giver wins, then the move that leaves the pair's
    larger load smallest, then the lower level.

    Each officer's movable crimes of one level wait in a bucket, given from its end:
    crimes not yet moved in this plan first, most recently allocated first; then crimes
    steps 1-3 moved; a crime evening moves goes to the front (a last resort).
    """
    policy = state.policy.of(team_id)
    buckets: dict[tuple[int, str], list[LiveCrime]] = {}
    levels_of: dict[int, set[str]] = defaultdict(set)
    holder_of, moved = state.holder, state.moved
    mixed: set[tuple[int, str]] = set()  # buckets holding a moved or undated crime
    for c in crimes:
        holder = holder_of[c.id]
        if (
            holder is None
            or holder not in members
            or c.victim_enhanced
            or c.risk == "high"
            or c.id in churned
        ):
            continue
        slot = (holder, c.required_level)
        bucket = buckets.get(slot)
        if bucket is None:
            bucket = buckets[slot] = []
            levels_of[holder].add(c.required_level)
        bucket.append(c)
        if c.allocated_at is None or c.id in moved:
            mixed.add(slot)
    recency = attrgetter("allocated_at", "reference")  # C-level key for the usual bucket
    for slot, bucket in buckets.items():
        if slot in mixed:
            bucket.sort(
                key=lambda c: (c.id not in moved, c.allocated_at or datetime.min, c.reference)
            )
        else:
            bucket.sort(key=recency)
    givers: dict[str, list[tuple[int, str, int, int]]] = defaultdict(list)
    weight, version, officers = state.weight, state.version, state.officers
    heappush, heappop = heapq.heappush, heapq.heappop

    def push_giver(oid: int) -> None:
        entry = (-weight[oid], officers[oid].collar, version[oid], oid)
        for level in levels_of[oid]:
            if buckets[(oid, level)]:
                heappush(givers[level], entry)

    for oid in sorted(levels_of):
        push_giver(oid)
    threshold = policy.rebalance_threshold
    facts = [(lvl, RANK[lvl], state.weights[lvl]) for lvl in LEVELS]
    why = "evens the weighted load: {} against {}, a gap over the threshold of {}"
    while True:
        best: tuple[tuple[int, int, int], str, int, int, int] | None = None
        tops = state.receiver_tops(team_id)
        for level, rank, w in facts:
            top = tops[rank]
            heap = givers.get(level)
            if top is None or not heap:
                continue
            while heap:  # drop entries made stale by a later move or an emptied bucket
                entry = heap[0]
                oid = entry[3]
                if entry[2] == version[oid] and buckets[(oid, level)]:
                    break
                heappop(heap)
            else:
                continue
            # Entries are current (versions match), so their loads are the officers' now.
            a, b = -entry[0], top[0]
            if a - b <= threshold or a - b <= w:
                continue
            order = (-a, max(a - w, b + w), rank)
            if best is None or order < best[0]:
                best = (order, level, w, entry[3], top[3])
        if best is None:
            return
        _, level, w, giver, receiver = best
        crime = buckets[(giver, level)].pop()
        state.move(crime, receiver, 4, why.format(weight[giver], weight[receiver], threshold))
        into = buckets.get((receiver, level))
        if into is None:
            into = buckets[(receiver, level)] = []
            levels_of[receiver].add(level)
        into.insert(0, crime)  # moves on again only as a last resort
        push_giver(giver)
        push_giver(receiver)
