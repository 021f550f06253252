"""Allocating crimes to officers: the one write path every allocation goes through.

``allocate_many`` serves ``assign``, transfers, an import that names holders and
the engine's plans, so the policy rules hold on every path. It runs inside the
caller's write transaction (BEGIN IMMEDIATE on SQLite; on PostgreSQL the store's
write lock, and it locks the crime rows and then the officer rows FOR UPDATE, each in
id order, before reading them), so the facts it checks cannot change before it
writes. The caller takes the decision's time inside that transaction
(``log.decision_time``), so an interval never ends before it starts:

1. load policy; read the facts of every crime in bulk (id IN chunks) and of every
   officer involved with one aggregate query (officer LEFT JOIN grouped live count);
2. evaluate ``domain.rules`` per request with running counts (a transfer
   decrements the old holder, each allocation increments the new one);
3. refuse the whole batch (``PolicyRefused``, nothing written) on any blocking
   breach without an override, naming every offending row;
4. otherwise write in batches with executemany: close open intervals, insert new
   intervals, set ``crime.holder_id``, and append one decision-log entry each.

Nothing is overwritten: an interval is closed (end_at, ended_by, end_reason) and a
new one opened.

Steps 2-4 are ``apply``, given the facts, writing through a ``BatchWriter`` on an
executor (``store.executor``). ``allocate``, one crime to one officer (``assign``), is
written once against the executor: it reads the two rows' facts with named statements
(``store.statements``), so the quick sqlite3 executor serves it on SQLite without
SQLAlchemy and a SQLAlchemy connection serves it everywhere else.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from caseload.domain.policy import Policy
from caseload.domain.rules import (
    ABSENCE_DUE,
    ABSENT,
    Breach,
    OfficerFacts,
    check_allocation,
    officer_is_inexperienced,
    policy_for,
)
from caseload.domain.team_policy import Policies
from caseload.errors import InputError, NotFound, PolicyRefused
from caseload.store import log
from caseload.store.executor import Executor, executor_of
from caseload.store.sqlite_values import parse_date

if TYPE_CHECKING:  # imported where used: the quick executor runs ``allocate`` without
    # SQLAlchemy
    from sqlalchemy import Select
    from sqlalchemy.engine import Connection

CHUNK = 5000  # ids per IN (...) query and rows per executemany batch
WARNINGS_SEPARATOR = "\n"  # how an interval's warnings column joins its sentences


@dataclass(frozen=True)
class AllocationRequest:
    crime_id: int
    reference: str
    officer_id: int
    collar: str
    line: int | None = None  # source line of an import row, for messages
    start_at: datetime | None = None  # when the holding began (import's allocated_on); default at
    reason: str | None = None  # this allocation's own reason (a history row's); default the batch's
    note: Mapping[str, Any] | None = (
        None  # recorded in the log entry's detail (e.g. a file's actor)
    )


@dataclass
class AllocationOutcome:
    request: AllocationRequest
    previous_collar: str | None  # transfer from, or None
    warnings: list[str]  # plain sentences, already recorded on the interval and log
    overridden: bool = False  # a block-mode rule was overridden (the reason is recorded)


@dataclass(slots=True)
class CrimeFacts:
    reference: str
    holder_id: int | None
    holder_collar: str | None
    required_level: str
    finalised: bool


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _where(request: AllocationRequest) -> str:
    head = f"line {request.line}: " if request.line is not None else ""
    return f"{head}{request.reference} to {request.collar}"


# --- facts, read in bulk -------------------------------------------------------------------


def crime_facts_query() -> Select[Any]:
    """What an allocation needs of a crime (``crime_fact`` reads the row); callers add
    the WHERE."""
    from sqlalchemy import select

    from caseload.store.models import crime_table as c
    from caseload.store.models import officer_table as o

    return select(
        c.c.id,
        c.c.reference,
        c.c.holder_id,
        o.c.collar,
        c.c.required_level,
        c.c.finalised_on,
    ).outerjoin(o, o.c.id == c.c.holder_id)


def crime_fact(row: Sequence[Any]) -> tuple[int, CrimeFacts]:
    """A ``crime_facts_query`` row as (crime id, facts)."""
    crime_id, reference, holder_id, collar, level, finalised_on = row
    return int(crime_id), CrimeFacts(
        reference=str(reference),
        holder_id=holder_id,
        holder_collar=collar,
        required_level=str(level),
        finalised=finalised_on is not None,
    )


def _crime_facts(
    conn: Connection, crime_ids: Sequence[int], *, lock: bool = True
) -> dict[int, CrimeFacts]:
    """Each crime's facts, by id. On PostgreSQL the crime rows are locked FOR UPDATE (in
    id order, before any officer row) as they are read: two allocations of one crime
    queue, and the second reads the holder the first left."""
    from caseload.store.models import crime_table as c
    from caseload.store.sqlfunc import one_of

    facts: dict[int, CrimeFacts] = {}
    wanted = set(crime_ids)
    locking = lock and conn.dialect.name != "sqlite"
    for chunk in _chunks(sorted(wanted)):
        # An import's new crimes have consecutive ids: a range scan is far cheaper than
        # binding thousands of IN parameters. Scattered ids fall back to IN.
        dense = chunk[-1] - chunk[0] < 2 * len(chunk)
        where = c.c.id.between(chunk[0], chunk[-1]) if dense else one_of(conn, c.c.id, chunk)
        query = crime_facts_query().where(where)
        if locking:
            query = query.order_by(c.c.id).with_for_update(of=c)
        for row in conn.execute(query):
            crime_id, fact = crime_fact(row)
            if not dense or crime_id in wanted:
                facts[crime_id] = fact
    return facts


def officer_facts_query(officers: Any, holders: Any) -> Select[Any]:
    """Officers (``officers``: a condition on the officer table) with their live counts
    (``holders``: a condition on crime.holder_id that selects the same officers' crimes);
    ``officer_fact`` reads the row."""
    from sqlalchemy import func, select

    from caseload.store.models import crime_table as c
    from caseload.store.models import officer_table as o

    live = (
        select(c.c.holder_id, func.count().label("live"))
        .where(holders, c.c.finalised_on.is_(None))
        .group_by(c.c.holder_id)
        .subquery()
    )
    return (
        select(
            o.c.id,
            o.c.collar,
            o.c.name,
            o.c.rank,
            o.c.accreditation,
            o.c.status,
            o.c.capacity,
            o.c.trainee,
            o.c.investigator_since,
            o.c.team_id,
            func.coalesce(live.c.live, 0).label("live"),
        )
        .outerjoin(live, live.c.holder_id == o.c.id)
        .where(officers)
    )


def officer_fact(row: Sequence[Any]) -> tuple[int, tuple[OfficerFacts, int]]:
    """An ``officer_facts_query`` row as (officer id, (facts, live count))."""
    officer_id, collar, name, rank, accreditation, status, capacity, trainee, since, team, live = (
        row
    )
    facts = OfficerFacts(
        collar=str(collar),
        name=str(name),
        rank=str(rank or ""),
        accreditation=str(accreditation),
        status=str(status),
        capacity=capacity,
        trainee=bool(trainee),
        investigator_since=parse_date(since),
        team_id=int(team),
    )
    return int(officer_id), (facts, int(live))


def officer_facts(
    conn: Connection, officer_ids: Sequence[int], *, lock: bool = True
) -> dict[int, tuple[OfficerFacts, int]]:
    """Each officer's facts and current live count, by id: one aggregate query per chunk.

    On PostgreSQL the officer rows are first locked FOR UPDATE (in id order, so two
    writers cannot deadlock); SQLite's BEGIN IMMEDIATE already serialises writers.
    """
    from sqlalchemy import select

    from caseload.store.models import crime_table as c
    from caseload.store.models import officer_table as o
    from caseload.store.sqlfunc import one_of

    result: dict[int, tuple[OfficerFacts, int]] = {}
    for chunk in _chunks(sorted(set(officer_ids))):
        if lock and conn.dialect.name != "sqlite":
            conn.execute(
                select(o.c.id).where(one_of(conn, o.c.id, chunk)).order_by(o.c.id).with_for_update()
            ).all()
        query = officer_facts_query(one_of(conn, o.c.id, chunk), one_of(conn, c.c.holder_id, chunk))
        result.update(officer_fact(row) for row in conn.execute(query))
    return result


def with_outlooks(
    conn: Connection,
    officers: dict[int, tuple[OfficerFacts, int]],
    *,
    on: date,
    policy: Policies,
) -> dict[int, tuple[OfficerFacts, int]]:
    """The officers' facts with their absences as an allocation on ``on`` sees them
    (one query for all: ``store.absences.outlooks``), as far ahead as any team's
    ``absence_notice_days`` (the rules apply the officer's team's)."""
    from caseload.store.absences import outlooks

    notice = policy.widest("absence_notice_days")
    seen = outlooks(conn, list(officers), on=on, notice_days=notice)
    for officer_id, outlook in seen.items():
        facts, live = officers[officer_id]
        officers[officer_id] = (replace(facts, outlook=outlook), live)
    return officers


# --- evaluation ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Planned:
    request: AllocationRequest
    previous_id: int | None
    previous_collar: str | None
    breaches: list[Breach]


def _evaluate(
    requests: Sequence[AllocationRequest],
    crimes: Mapping[int, CrimeFacts],
    officers: Mapping[int, tuple[OfficerFacts, int]],
    *,
    at: datetime,
    policy: Policy | Policies,
) -> list[_Planned]:
    problems: list[tuple[AllocationRequest, str]] = []
    for request in requests:
        if request.crime_id not in crimes:
            problems.append((request, "there is no such crime"))
        elif request.officer_id not in officers:
            problems.append((request, "there is no such officer"))
        elif crimes[request.crime_id].finalised:
            problems.append((request, "it is finalised; reopen it before allocating"))
    if problems:
        _raise_input(problems, requests)
    live = {officer_id: count for officer_id, (_, count) in officers.items()}
    holder = {cid: (f.holder_id, f.holder_collar) for cid, f in crimes.items()}
    on = at.date()
    # Each officer is judged by their team's policy, worked out once per officer.
    judged_by = {
        officer_id: policy_for(facts, policy) for officer_id, (facts, _) in officers.items()
    }
    inexperienced = {
        officer_id: officer_is_inexperienced(facts, on, judged_by[officer_id])
        for officer_id, (facts, _) in officers.items()
    }
    planned: list[_Planned] = []
    for request in requests:
        crime = crimes[request.crime_id]
        previous_id, previous_collar = holder[request.crime_id]
        if previous_id == request.officer_id:
            problems.append((request, f"{request.collar} already holds it"))
            continue
        if previous_id is not None and previous_id in live:
            live[previous_id] -= 1
        live[request.officer_id] += 1
        facts = officers[request.officer_id][0]
        breaches = check_allocation(
            facts,
            live_after=live[request.officer_id],
            required_level=crime.required_level,
            on=on,
            policy=judged_by[request.officer_id],
            inexperienced=inexperienced[request.officer_id],
        )
        holder[request.crime_id] = (request.officer_id, facts.collar)
        planned.append(_Planned(request, previous_id, previous_collar, breaches))
    if problems:
        _raise_input(problems, requests)
    return planned


def _raise_input(
    problems: list[tuple[AllocationRequest, str]], requests: Sequence[AllocationRequest]
) -> None:
    if len(requests) == 1:
        request, problem = problems[0]
        raise InputError(
            f"Cannot allocate {request.reference} to {request.collar}: {problem}; "
            "nothing was changed."
        )
    raise InputError(
        f"{len(problems)} of {len(requests)} allocations cannot be made; nothing was written.",
        [f"{_where(request)}: {problem}" for request, problem in problems],
    )


def _refuse(refused: list[_Planned], total: int) -> None:
    if total == 1:
        plan = refused[0]
        blocking = [b.text(done=False) for b in plan.breaches if b.blocking]
        raise PolicyRefused(
            f"Refused by policy: {_where(plan.request)}: "
            + "; and ".join(blocking)
            + ". Nothing was changed; an override with a recorded reason may allow it."
        )
    details = [
        f"{_where(plan.request)}: "
        + "; and ".join(b.text(done=False) for b in plan.breaches if b.blocking)
        for plan in refused
    ]
    raise PolicyRefused(
        f"Refused by policy: {len(refused)} of {total} allocations break a block-mode rule; "
        "nothing was written (an override with a recorded reason may allow them).",
        details,
    )


# --- the write path ------------------------------------------------------------------------

_INTERVAL_COLUMNS = (
    "crime_id",
    "officer_id",
    "start_at",
    "actor",
    "reason",
    "warnings",
    "override_reason",
    "plan_id",
    "auto",
    "login",  # appended by BatchWriter.write: who acted (store.identity)
)


class BatchWriter:
    """executemany straight to the driver: SQLAlchemy's per-row parameter handling cost
    more than the database work for large imports. Timestamps are bound as the executor
    binds them (stored exactly as Core would store them); the log entries are appended
    through the same executor."""

    def __init__(self, executor: Executor) -> None:
        self.executemany = executor.executemany
        self.when = executor.bind
        self.log = lambda entries: log.append_many(executor, entries)
        self.login = executor.login()  # who acted (store.identity), on every interval
        mark = executor.placeholder
        self.close_sql = (
            f"UPDATE allocation SET end_at = {mark}, ended_by = {mark}, end_reason = {mark} "
            f"WHERE crime_id = {mark} AND end_at IS NULL"
        )
        self.insert_sql = (
            f"INSERT INTO allocation ({', '.join(_INTERVAL_COLUMNS)}) "
            f"VALUES ({', '.join([mark] * len(_INTERVAL_COLUMNS))})"
        )
        self.holder_sql = f"UPDATE crime SET holder_id = {mark} WHERE id = {mark}"

    def write(
        self,
        closes: Sequence[tuple[Any, ...]],
        intervals: Sequence[tuple[Any, ...]],
        holders: Sequence[tuple[int, int]],
    ) -> None:
        when = self.when
        if closes:
            self.executemany(
                self.close_sql, [(when(end), by, why, crime) for end, by, why, crime in closes]
            )
        if intervals:
            login = self.login
            rows = [(*r[:2], when(r[2]), *r[3:], login) for r in intervals]
            self.executemany(self.insert_sql, rows)
        if holders:
            self.executemany(self.holder_sql, list(holders))


def allocate_many(
    conn: Connection,
    requests: Sequence[AllocationRequest],
    *,
    actor: str,
    at: datetime,
    reason: str,
    override: str | None = None,
    plan_id: str | None = None,
    auto: bool = False,
) -> list[AllocationOutcome]:
    """Allocate each request's crime to its officer (transferring if held); see module doc."""
    if not requests:
        return []
    from caseload.store.team_policy import load_policies

    policy = load_policies(conn)
    crimes = _crime_facts(conn, [r.crime_id for r in requests])
    officers = with_outlooks(
        conn, officer_facts(conn, [r.officer_id for r in requests]), on=at.date(), policy=policy
    )
    return apply(
        BatchWriter(executor_of(conn)),
        requests,
        crimes,
        officers,
        policy=policy,
        actor=actor,
        at=at,
        reason=reason,
        override=override,
        plan_id=plan_id,
        auto=auto,
    )


def apply(
    writer: BatchWriter,
    requests: Sequence[AllocationRequest],
    crimes: Mapping[int, CrimeFacts],
    officers: Mapping[int, tuple[OfficerFacts, int]],
    *,
    policy: Policy | Policies,
    actor: str,
    at: datetime,
    reason: str,
    override: str | None = None,
    plan_id: str | None = None,
    auto: bool = False,
) -> list[AllocationOutcome]:
    """Steps 2-4 of the module doc, given the facts of step 1: evaluate the rules, refuse
    a blocking breach without an override, else write through ``writer``."""
    planned = _evaluate(requests, crimes, officers, at=at, policy=policy)
    refused = [p for p in planned if any(b.blocking for b in p.breaches)]
    if refused and not override:
        _refuse(refused, len(planned))

    outcomes: list[AllocationOutcome] = []
    closes: list[tuple[Any, ...]] = []
    intervals: list[tuple[Any, ...]] = []  # in _INTERVAL_COLUMNS order
    holders: list[tuple[int, int]] = []
    entries: list[dict[str, Any]] = []
    pending: set[int] = set()  # crimes with an interval in the unflushed batch

    def flush() -> None:
        writer.write(closes, intervals, holders)
        if entries:
            writer.log(entries)
        for batch in (closes, intervals, holders, entries):
            batch.clear()
        pending.clear()

    for plan in planned:
        request = plan.request
        start = request.start_at or at
        why = request.reason or reason
        warnings = [b.text() for b in plan.breaches]
        overridden = [b.text() for b in plan.breaches if b.blocking]
        # An override given for an absence warning is recorded too (the audit's
        # allocated-while-absent then counts it as overridden), in warn mode as well.
        acknowledged = override is not None and any(
            b.code in (ABSENT, ABSENCE_DUE) for b in plan.breaches
        )
        if plan.previous_id is not None:
            # A second request for the same crime in one batch must see the first one's
            # interval, so flush before closing it.
            if request.crime_id in pending:
                flush()
            closes.append((start, actor, why, request.crime_id))
        intervals.append(
            (
                request.crime_id,
                request.officer_id,
                start,
                actor,
                why,
                WARNINGS_SEPARATOR.join(warnings),
                override if overridden or acknowledged else None,
                plan_id,
                auto,
            )
        )
        holders.append((request.officer_id, request.crime_id))
        pending.add(request.crime_id)
        detail: dict[str, Any] = dict(request.note or {})
        if plan.previous_collar:
            detail["from"] = plan.previous_collar
        if warnings:
            detail["warnings"] = warnings
            detail["codes"] = [b.code for b in plan.breaches]
        if overridden:
            detail["override"] = override
            detail["overridden"] = overridden
        elif acknowledged:
            detail["override"] = override
        if plan_id:
            detail["plan_id"] = plan_id
        if auto:
            detail["auto"] = True
        if request.start_at is not None and request.start_at != at:
            detail["start_at"] = start.isoformat(timespec="seconds")
        entries.append(
            {
                "at": at,
                "actor": actor,
                "kind": "transfer" if plan.previous_id is not None else "allocate",
                "crime_ref": request.reference,
                "collar": request.collar,
                "reason": why,
                "detail": detail,
            }
        )
        outcomes.append(
            AllocationOutcome(request, plan.previous_collar, warnings, bool(overridden))
        )
        if len(intervals) >= CHUNK:
            flush()
    flush()
    return outcomes


def allocate(
    conn: Executor | Connection,
    reference: str,
    collar: str,
    *,
    actor: str,
    at: datetime,
    reason: str,
    override: str | None = None,
    plan_id: str | None = None,
    auto: bool = False,
) -> AllocationOutcome:
    """Allocate one crime (by reference) to one officer (by collar); transfer if held.

    The facts of step 1 come from two named statements; on PostgreSQL the crime row and
    then the officer row are locked FOR UPDATE before the officer's live count is read."""
    from caseload.store.team_policy import policies_of

    executor = executor_of(conn)
    ref = reference.strip()
    crime_row = executor.first("allocation.crime", reference=ref)
    if crime_row is None:
        raise NotFound.crime(ref)
    wanted = collar.strip().upper()
    if executor.dialect != "sqlite":  # SQLite's BEGIN IMMEDIATE already serialises writers
        executor.rows("allocation.officer.lock", collar=wanted)
    officer_row = executor.first("allocation.officer", collar=wanted)
    if officer_row is None:
        raise NotFound.officer(wanted)
    crime_id, crime = crime_fact(crime_row)
    officer_id, officer = officer_fact(officer_row)
    request = AllocationRequest(crime_id, crime.reference, officer_id, officer[0].collar)
    policies = policies_of(executor)
    from caseload.store.absences import outlook_for

    notice = policies.widest("absence_notice_days")
    seen = outlook_for(executor, wanted, on=at.date(), notice_days=notice).get(officer_id)
    if seen is not None:
        officer = (replace(officer[0], outlook=seen), officer[1])
    return apply(
        BatchWriter(executor),
        [request],
        {crime_id: crime},
        {officer_id: officer},
        policy=policies,
        actor=actor,
        at=at,
        reason=reason,
        override=override,
        plan_id=plan_id,
        auto=auto,
    )[0]


# --- changes to a live holding that are not allocations ---------------------------------------


@dataclass(frozen=True)
class HoldingChange:
    """A crime that goes back to, or stays with, its holder while a fact the rules read
    changes: reopened (the holder gains a live crime: the allocation rules apply as to any
    allocation) and/or its required level raised (the accreditation rule applies)."""

    crime_id: int
    reference: str
    officer_id: int
    collar: str
    required_level: str  # the crime's level after the change
    reopened: bool = False
    old_level: str | None = None  # the level before, when it changes; None: unchanged
    line: int | None = None  # source line of an import row, for messages

    @property
    def what(self) -> str:
        if self.reopened:
            return f"reopening {self.reference} gives it back to {self.collar}"
        return f"raising {self.reference} to {self.required_level} leaves it with {self.collar}"


@dataclass
class HoldingOutcome:
    change: HoldingChange
    breaches: list[Breach]
    override: str | None = None

    @property
    def warnings(self) -> list[str]:
        return [b.text() for b in self.breaches]

    @property
    def overridden(self) -> list[str]:
        return [b.text() for b in self.breaches if b.blocking]

    def detail(self) -> dict[str, Any]:
        """What the change's log entry records (the keys an allocation's entry uses)."""
        detail: dict[str, Any] = {}
        if self.breaches:
            detail["warnings"] = self.warnings
            detail["codes"] = [b.code for b in self.breaches]
        if self.overridden:
            detail["override"] = self.override
            detail["overridden"] = self.overridden
        return detail


def check_holdings(
    conn: Connection,
    changes: Sequence[HoldingChange],
    *,
    at: datetime,
    override: str | None = None,
) -> list[HoldingOutcome]:
    """The allocation rules for reopened and re-levelled held crimes, before they are
    written (the holders' live counts must not yet include a reopened crime): the
    officers are locked and counted as ``allocate_many`` does; a blocking breach without
    an override refuses every change (``PolicyRefused``, naming each row)."""
    if not changes:
        return []
    from caseload.store.team_policy import load_policies

    policy = load_policies(conn)
    officers = with_outlooks(
        conn,
        officer_facts(conn, [change.officer_id for change in changes]),
        on=at.date(),
        policy=policy,
    )
    return judge_holdings(changes, officers, at=at, policy=policy, override=override)


def judge_holdings(
    changes: Sequence[HoldingChange],
    officers: Mapping[int, tuple[OfficerFacts, int]],
    *,
    at: datetime,
    policy: Policy | Policies,
    override: str | None = None,
) -> list[HoldingOutcome]:
    """``check_holdings`` given the facts: ``domain.rules`` per change, running counts."""
    from caseload.domain.rules import check_level_raise

    on = at.date()
    live = {officer_id: count for officer_id, (_, count) in officers.items()}
    outcomes: list[HoldingOutcome] = []
    for change in changes:
        facts = officers[change.officer_id][0]
        if change.reopened:
            live[change.officer_id] += 1
            breaches = check_allocation(
                facts,
                live_after=live[change.officer_id],
                required_level=change.required_level,
                on=on,
                policy=policy,
            )
        elif change.old_level is not None:
            breaches = check_level_raise(
                facts,
                live=live[change.officer_id],
                old_level=change.old_level,
                new_level=change.required_level,
                policy=policy,
            )
        else:
            breaches = []
        outcomes.append(HoldingOutcome(change, breaches, override))
    refused = [outcome for outcome in outcomes if outcome.overridden]
    if refused and not override:
        if len(changes) == 1:
            line = refused[0].change.line
            raise PolicyRefused(
                "Refused by policy: "
                + (f"line {line}: " if line is not None else "")
                + f"{refused[0].change.what}: "
                + "; and ".join(b.text(done=False) for b in refused[0].breaches if b.blocking)
                + ". Nothing was changed; an override with a recorded reason may allow it."
            )
        raise PolicyRefused(
            f"Refused by policy: {len(refused)} of {len(changes)} changes to held crimes break "
            "a block-mode rule; nothing was written (an override with a recorded reason may "
            "allow them).",
            [
                (f"line {o.change.line}: " if o.change.line is not None else "")
                + f"{o.change.what}: "
                + "; and ".join(b.text(done=False) for b in o.breaches if b.blocking)
                for o in refused
            ],
        )
    return outcomes


def unassign(conn: Connection, reference: str, *, actor: str, at: datetime, reason: str) -> str:
    """Take a live crime off its holder (it becomes unallocated); returns the old collar."""
    from sqlalchemy import update

    from caseload.store import crimes
    from caseload.store.models import allocation_table, crime_table

    crime = crimes.find(conn, reference)
    if crime["finalised_on"] is not None:
        raise InputError(
            f"Crime {crime['reference']} is finalised; reopen it before changing its holder."
        )
    if crime["holder_id"] is None:
        raise InputError(f"Crime {crime['reference']} is already unallocated; nothing to do.")
    conn.execute(
        update(allocation_table)
        .where(allocation_table.c.crime_id == crime["id"], allocation_table.c.end_at.is_(None))
        .values(end_at=at, ended_by=actor, end_reason=reason)
    )
    conn.execute(update(crime_table).where(crime_table.c.id == crime["id"]).values(holder_id=None))
    log.append(
        conn,
        at=at,
        actor=actor,
        kind="unassign",
        crime_ref=str(crime["reference"]),
        collar=str(crime["holder"]),
        reason=reason,
    )
    return str(crime["holder"])
