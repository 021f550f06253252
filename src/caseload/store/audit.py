"""The audit's queries: one SQL query per finding code, over ``live_holdings(as_of)``.

Every check is a set-based query (joins, grouped aggregates, window functions)
that the database runs over the whole store; Python only turns the finding rows
it returns into sentences. So the audit scales with the database, not with a
loop, and ``--as-of`` works for every code because each query starts from the
same building block as ``workload``: ``store.holdings.live_holdings(as_of)``.

How "since" is derived (the day from which a finding has held, where SQL can say):

* ``inexperienced-over-limit`` / ``over-capacity``: the officer's current holdings
  ranked by the start of their allocation interval; the start of the (limit+1)-th
  is the moment since which they have continuously held more than the limit (of
  the crimes they hold now; an earlier spell over the limit is not joined on).
* ``holder-unavailable``: the later of the officer's last logged status change and
  the start of their oldest current holding.
* ``accreditation-mismatch``: the start of the current holder's interval.
* ``victim-notify-overdue``: the day after the deadline. A victim update dated on or
  after the event (and by the audited day) meets the duty, on time or late, and
  clears the finding; ``crime show`` keeps the lateness.
* ``unallocated``: the later of the report date and the end of the crime's last
  allocation interval.
* ``review-overdue`` / ``victim-update-overdue``: the day after the interval ran
  out (last review, last update, or the report date, plus the interval), or the
  day after an explicit next-review date, whichever came first. A review's interval is
  the one for the crime's risk grade on the audited day (``review_days_high``,
  ``review_days_medium``, ``review_days``); when that grade began later than the
  interval ran out, the finding holds from the day the grade began (the first day it
  was overdue under the grade it has now).
* ``reassign-churn``: the start of the interval that made one reassignment too many.

Victims' Code deadlines are counted in working days in Python (``domain.workdays``)
for each distinct key-event date only (at most one per calendar day of the
store's history), then joined to the events as a small ``VALUES`` calendar; no
Python loop runs over the crimes or events themselves.

Rebuilt for a past day: who held what and what was live (from the intervals),
reviews, events and updates dated up to that day. Officers' status, trainee flag,
capacity and accreditation, and a crime's agreed update frequency, are current
values: the store keeps no history of them (status changes are in the decision log,
which dates ``holder-unavailable`` but is not replayed). A crime's risk grade is kept
with history: the audited day's grade is used.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    and_,
    case,
    column,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    values,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from caseload.domain.audit import CODES, counts_from, finding, review_due
from caseload.domain.officers import UNAVAILABLE_STATUSES
from caseload.domain.policy import Policy
from caseload.domain.risk import review_interval
from caseload.domain.workdays import add_working_days
from caseload.store.holdings import end_of_day, live_holdings, open_at
from caseload.store.models import (
    allocation_table,
    audit_run_table,
    event_table,
    log_table,
    officer_table,
    review_table,
    team_table,
    victim_update_table,
)
from caseload.store.risk import graded_since
from caseload.store.sqlfunc import day_of, inexperienced_on, level_rank, plus_days, unindexed

BATCH = 2000


def _later(a: Any, b: Any) -> Any:
    """The later of two dates; ``b`` when ``a`` is NULL."""
    return case((a > b, a), else_=b)


def _as_date(value: date) -> Any:
    return literal(value, Date())


# --- the audit -----------------------------------------------------------------------------


@dataclass
class Audit:
    """One audit run's parameters and its queries, built once, run for counts and rows."""

    conn: Connection
    policy: Policy
    as_of: date | None = None
    team_id: int | None = None
    today: date = field(default_factory=date.today)
    _queries: dict[str, Select[Any] | None] = field(default_factory=dict, repr=False)

    @property
    def day(self) -> date:
        """The day audited: the as-of day, else today."""
        return self.as_of or self.today

    @property
    def end(self) -> datetime:
        return end_of_day(self.day)

    # -- shared building blocks --

    def _holdings(self) -> Any:
        return live_holdings(self.as_of)

    def _interval(self, h: Any) -> Any:
        """Join condition: the allocation interval in which the crime is held on the day.

        A crime has at most one interval open at a moment, and it is the holder's, so
        the join is by crime alone: the database then uses the (crime_id, ...) indexes
        instead of walking every interval of each officer.
        """
        a = allocation_table
        if self.as_of is None:
            return and_(a.c.crime_id == h.c.crime_id, a.c.end_at.is_(None))
        return and_(a.c.crime_id == h.c.crime_id, open_at(self.end))

    def _officer_check(self, flag: Callable[[Any], Any], nth: Callable[[], Any]) -> Any:
        """Officers flagged by ``flag(load)`` (load: holder_id, live), with their live
        count, the day of their oldest current holding and the day they reached their
        ``nth()`` current holding. Two stages, so that only flagged officers' holdings are
        ranked: a grouped count over the live-crime index, then a window over the few."""
        h = self._holdings()
        o, a = officer_table, allocation_table
        load = (
            select(h.c.holder_id, func.count().label("live"))
            .where(h.c.holder_id.is_not(None))
            .group_by(h.c.holder_id)
            .subquery("load")
        )
        flagged = (
            select(load.c.holder_id, load.c.live)
            .join(o, o.c.id == load.c.holder_id)
            .where(flag(load))
            .subquery("flagged")
        )
        mine = self._holdings()
        ranked = (
            select(
                mine.c.holder_id,
                flagged.c.live,
                func.coalesce(day_of(a.c.start_at), mine.c.reported_on).label("held_since"),
                func.row_number()
                .over(
                    partition_by=mine.c.holder_id,
                    order_by=(func.coalesce(a.c.start_at, mine.c.reported_on), mine.c.crime_id),
                )
                .label("rn"),
            )
            .select_from(mine)
            .join(flagged, flagged.c.holder_id == mine.c.holder_id)
            .outerjoin(a, self._interval(mine))
            .subquery("ranked")
        )
        return (
            select(
                ranked.c.holder_id,
                ranked.c.live,
                func.min(ranked.c.held_since).label("first_held"),
                func.max(case((ranked.c.rn == nth(), ranked.c.held_since))).label("nth_since"),
            )
            .join(o, o.c.id == ranked.c.holder_id)
            .group_by(ranked.c.holder_id, ranked.c.live)
            .subquery("checked")
        )

    def _officer_finding(self, checked: Any, *extra: Any) -> Select[Any]:
        o, t = officer_table, team_table
        query = (
            select(
                t.c.name.label("team"),
                o.c.collar,
                o.c.rank,
                o.c.name,
                o.c.status,
                o.c.accreditation,
                checked.c.live,
                *extra,
            )
            .select_from(checked)
            .join(o, o.c.id == checked.c.holder_id)
            .join(t, t.c.id == o.c.team_id)
        )
        if self.team_id is not None:
            query = query.where(o.c.team_id == self.team_id)
        return query.order_by(t.c.name, o.c.collar)

    def _crime_scope(self, query: Select[Any], h: Any) -> Select[Any]:
        if self.team_id is not None:
            query = query.where(h.c.team_id == self.team_id)
        return query

    def _scanned_finding(self, inner: Any, *columns: Any) -> Select[Any]:
        """A per-crime finding over ``inner`` (team_id, holder_id, reference, ...) built on
        ``live_holdings(scan=True)``: team and collar first, ordered by team, collar and
        crime, the team joined without its index so that the crimes stay in table order."""
        o, t = officer_table, team_table
        return (
            select(t.c.name.label("team"), o.c.collar, inner.c.reference, *columns)
            .select_from(inner)
            .join(t, t.c.id == unindexed(inner.c.team_id))
            .outerjoin(o, o.c.id == inner.c.holder_id)
            .order_by(t.c.name, o.c.collar.asc().nulls_last(), inner.c.reference)
        )

    # -- one query per code --

    def q_inexperienced_over_limit(self) -> Select[Any]:
        o = officer_table
        limit = self.policy.inexperienced_limit
        inexperienced = inexperienced_on(o, self.day, self.policy.inexperienced_months)
        checked = self._officer_check(
            lambda load: and_(load.c.live > limit, inexperienced), lambda: limit + 1
        )
        return self._officer_finding(
            checked, literal(limit).label("limit"), checked.c.nth_since.label("since")
        )

    def q_over_capacity(self) -> Select[Any]:
        o = officer_table
        checked = self._officer_check(
            lambda load: and_(o.c.capacity.is_not(None), load.c.live > o.c.capacity),
            lambda: o.c.capacity + 1,
        )
        return self._officer_finding(
            checked, o.c.capacity.label("limit"), checked.c.nth_since.label("since")
        )

    def q_holder_unavailable(self) -> Select[Any]:
        o, g = officer_table, log_table
        checked = self._officer_check(
            lambda load: o.c.status.in_(UNAVAILABLE_STATUSES), lambda: literal(1)
        )
        # The last logged change that set the officer's status (add, update, status, import).
        status_changed = (
            select(day_of(func.max(g.c.at)))
            .where(
                g.c.collar == o.c.collar,
                g.c.kind.like("officer%"),
                g.c.detail.like('%"status"%'),
                g.c.at < self.end,
            )
            .scalar_subquery()
        )
        return self._officer_finding(
            checked, _later(status_changed, checked.c.first_held).label("since")
        )

    def q_accreditation_mismatch(self) -> Select[Any]:
        h = self._holdings()
        o, t, a = officer_table, team_table, allocation_table
        # First the few officers holding anything above their accreditation: the highest
        # level each holds, from the live-crime index alone; then only their crimes.
        held = self._holdings()
        top = (
            select(held.c.holder_id, func.max(level_rank(held.c.required_level)).label("top"))
            .where(held.c.holder_id.is_not(None))
            .group_by(held.c.holder_id)
            .subquery("top")
        )
        suspects = (
            select(top.c.holder_id)
            .join(o, o.c.id == top.c.holder_id)
            .where(top.c.top > level_rank(o.c.accreditation))
        )
        query = (
            select(
                t.c.name.label("team"),
                o.c.collar,
                o.c.rank,
                o.c.name,
                o.c.accreditation,
                h.c.reference,
                h.c.crime_type,
                h.c.required_level,
                func.coalesce(day_of(a.c.start_at), h.c.reported_on).label("since"),
            )
            .select_from(h)
            .join(o, o.c.id == h.c.holder_id)
            .join(t, t.c.id == h.c.team_id)
            .outerjoin(a, self._interval(h))
            .where(
                h.c.holder_id.in_(suspects),
                level_rank(h.c.required_level) > level_rank(o.c.accreditation),
            )
        )
        return self._crime_scope(query, h).order_by(
            t.c.name, o.c.collar.asc().nulls_last(), h.c.reference
        )

    def _notify_calendar(self) -> Any | None:
        """``VALUES (event_on, due_standard, due_enhanced)`` for each distinct key-event date
        of a live crime whose earliest deadline has passed; None when there is none."""
        h = self._holdings()
        e = event_table
        query = (
            select(e.c.occurred_on)
            .distinct()
            .join(h, h.c.crime_id == e.c.crime_id)
            .where(e.c.occurred_on <= _as_date(self.day))
        )
        query = self._crime_scope(query, h)
        standard = self.policy.notify_working_days
        enhanced = self.policy.notify_working_days_enhanced
        rows = []
        for (event_on,) in self.conn.execute(query):
            due_standard = add_working_days(event_on, standard)
            due_enhanced = add_working_days(event_on, enhanced)
            if min(due_standard, due_enhanced) < self.day:
                rows.append((event_on, due_standard, due_enhanced))
        if not rows:
            return None
        return (
            values(
                column("event_on", Date),
                column("due_standard", Date),
                column("due_enhanced", Date),
                name="notify_calendar",
            )
            .data(rows)
            .cte("notify_calendar")
        )

    def q_victim_notify_overdue(self) -> Select[Any] | None:
        calendar = self._notify_calendar()
        if calendar is None:
            return None
        h = self._holdings()
        e, u, o, t = event_table, victim_update_table, officer_table, team_table
        deadline = case(
            (h.c.victim_enhanced.is_(True), calendar.c.due_enhanced),
            else_=calendar.c.due_standard,
        )
        working_days = case(
            (h.c.victim_enhanced.is_(True), self.policy.notify_working_days_enhanced),
            else_=self.policy.notify_working_days,
        )
        # Met by any update on or after the event, late or not (the lateness stays in
        # the record: ``crime show``); one dated after the audited day does not count.
        told = exists().where(
            u.c.crime_id == e.c.crime_id,
            u.c.updated_on >= e.c.occurred_on,
            u.c.updated_on <= _as_date(self.day),
        )
        query = (
            select(
                t.c.name.label("team"),
                o.c.collar,
                o.c.rank,
                o.c.name,
                h.c.reference,
                h.c.victim_enhanced,
                e.c.kind,
                e.c.occurred_on,
                deadline.label("deadline"),
                working_days.label("working_days"),
            )
            .select_from(e)
            .join(h, h.c.crime_id == e.c.crime_id)
            .join(calendar, calendar.c.event_on == e.c.occurred_on)
            .join(t, t.c.id == h.c.team_id)
            .outerjoin(o, o.c.id == h.c.holder_id)
            .where(deadline < _as_date(self.day), ~told)
        )
        return self._crime_scope(query, h).order_by(
            t.c.name, o.c.collar.asc().nulls_last(), h.c.reference, e.c.occurred_on, e.c.id
        )

    def q_unallocated(self) -> Select[Any]:
        h = self._holdings()
        a, t = allocation_table, team_table
        last_end = (
            select(day_of(func.max(a.c.end_at)))
            .where(a.c.crime_id == h.c.crime_id, a.c.end_at < self.end)
            .scalar_subquery()
        )
        since = _later(last_end, h.c.reported_on)
        cutoff = self.day - timedelta(days=self.policy.unallocated_days)
        inner = self._crime_scope(
            select(
                h.c.team_id,
                h.c.reference,
                since.label("since"),
            ).where(h.c.holder_id.is_(None)),
            h,
        ).subquery("unheld")
        return (
            select(
                t.c.name.label("team"),
                null().label("collar"),
                inner.c.reference,
                inner.c.since,
                literal(self.policy.unallocated_days).label("limit"),
            )
            .join(t, t.c.id == inner.c.team_id)
            .where(inner.c.since < _as_date(cutoff))
            .order_by(t.c.name, inner.c.reference)
        )

    def q_review_overdue(self) -> Select[Any]:
        h = live_holdings(self.as_of, scan=True)  # every live crime's row is read
        r = review_table
        day = _as_date(self.day)
        # Index seeks per live crime on (crime_id, reviewed_on): the last review by the day
        # and the next-review date that review set.
        last_review = (
            select(func.max(r.c.reviewed_on))
            .where(r.c.crime_id == h.c.crime_id, r.c.reviewed_on <= day)
            .scalar_subquery()
        )
        next_due = (
            select(r.c.next_due)
            .where(r.c.crime_id == h.c.crime_id, r.c.reviewed_on <= day)
            .order_by(r.c.reviewed_on.desc(), r.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        inner = self._crime_scope(
            select(
                h.c.crime_id,
                h.c.team_id,
                h.c.holder_id,
                h.c.reference,
                h.c.reported_on,
                h.c.risk,
                last_review.label("last_review"),
                next_due.label("next_due"),
            ),
            h,
        ).subquery("reviewed")
        base = func.coalesce(inner.c.last_review, inner.c.reported_on)
        # The interval for the crime's grade on the audited day (domain.risk.review_interval).
        days = {grade: review_interval(grade, self.policy) for grade in ("medium", "high")}
        standard = review_interval("standard", self.policy)

        def by_grade(value: Callable[[int], Any]) -> Any:
            return case(
                *((inner.c.risk == grade, value(n)) for grade, n in days.items()),
                else_=value(standard),
            )

        cutoff = by_grade(lambda n: _as_date(self.day - timedelta(days=n)))
        return self._scanned_finding(
            inner,
            inner.c.reported_on,
            inner.c.last_review,
            inner.c.next_due,
            by_grade(literal).label("limit"),
            inner.c.risk,
            # only for the findings: the day the grade in force began (None: never graded)
            graded_since(inner.c.crime_id, self.end).label("graded_since"),
        ).where(
            or_(
                base < cutoff,
                and_(inner.c.next_due.is_not(None), inner.c.next_due < day),
            )
        )

    def q_victim_update_overdue(self) -> Select[Any]:
        h = live_holdings(self.as_of, scan=True)  # every live crime's row is read
        u = victim_update_table
        last_update = (
            select(func.max(u.c.updated_on))
            .where(u.c.crime_id == h.c.crime_id, u.c.updated_on <= _as_date(self.day))
            .scalar_subquery()
        )
        inner = self._crime_scope(
            select(
                h.c.team_id,
                h.c.holder_id,
                h.c.reference,
                h.c.reported_on,
                last_update.label("last_update"),
                h.c.victim_update_every,
            ),
            h,
        ).subquery("updated")
        every = func.coalesce(inner.c.victim_update_every, self.policy.victim_update_days)
        base = func.coalesce(inner.c.last_update, inner.c.reported_on)
        return self._scanned_finding(
            inner,
            inner.c.reported_on,
            inner.c.last_update,
            every.label("limit"),
            inner.c.victim_update_every.is_not(None).label("agreed"),
        ).where(plus_days(base, every) < _as_date(self.day))

    def q_reassign_churn(self) -> Select[Any]:
        h = self._holdings()
        a, o, t = allocation_table, officer_table, team_table
        limit = self.policy.reassign_churn
        churn = (
            select(a.c.crime_id, (func.count() - 1).label("reassignments"))
            .where(a.c.start_at < self.end)
            .group_by(a.c.crime_id)
            .having(func.count() - 1 > limit)
            .subquery("churn")
        )
        # Only for the few churned crimes: the start of the interval that made one too many.
        b = allocation_table.alias("crossing")
        crossed = (
            select(b.c.start_at)
            .where(b.c.crime_id == churn.c.crime_id, b.c.start_at < self.end)
            .order_by(b.c.start_at, b.c.id)
            .limit(1)
            .offset(limit + 1)
            .scalar_subquery()
        )
        query = (
            select(
                t.c.name.label("team"),
                o.c.collar,
                h.c.reference,
                churn.c.reassignments,
                day_of(crossed).label("since"),
                literal(limit).label("limit"),
            )
            .select_from(h)
            .join(churn, churn.c.crime_id == h.c.crime_id)
            .join(t, t.c.id == h.c.team_id)
            .outerjoin(o, o.c.id == h.c.holder_id)
        )
        return self._crime_scope(query, h).order_by(
            t.c.name, o.c.collar.asc().nulls_last(), h.c.reference
        )

    # -- running --

    def query(self, code: str) -> Select[Any] | None:
        if code not in self._queries:
            builder: Callable[[], Select[Any] | None] = getattr(self, "q_" + code.replace("-", "_"))
            self._queries[code] = builder()
        return self._queries[code]

    def count(self, code: str) -> int:
        query = self.query(code)
        if query is None:
            return 0
        inner = query.order_by(None).subquery()
        return int(self.conn.execute(select(func.count()).select_from(inner)).scalar_one())

    def counts(self) -> dict[str, dict[str, int]]:
        """Counts by code (every code, in order) and by severity: one count per query."""
        return counts_from({code: self.count(code) for code in CODES})

    def rows(self, code: str) -> Iterator[dict[str, Any]]:
        """The code's finding rows as the query returns them, streamed in batches."""
        query = self.query(code)
        if query is None:
            return
        result = self.conn.execution_options(yield_per=BATCH).execute(query)
        keys = list(result.keys())  # once: row._mapping rebuilds its key view on every row
        day, policy = self.day, self.policy
        for batch in result.partitions():  # a batch per fetch, not a call per row
            for row in batch:
                yield _with_since(code, dict(zip(keys, row, strict=True)), day, policy)

    def findings(self, codes: tuple[str, ...] | None = None) -> Iterator[dict[str, Any]]:
        """Every finding, in code order (high severity first), then team, collar, crime."""
        for code in codes or tuple(CODES):
            for row in self.rows(code):
                yield finding(code, row, self.day)


def _with_since(code: str, row: dict[str, Any], day: date, policy: Policy) -> dict[str, Any]:
    """Fill in the 'since' of a finding row where it is date arithmetic on its columns."""
    one = timedelta(days=1)
    if code == "victim-notify-overdue":
        row["since"] = row["deadline"] + one
    elif code == "review-overdue":
        due = review_due(
            row["last_review"],
            row["reported_on"],
            row["next_due"],
            int(row["limit"]),
            _day(row["graded_since"]),
        )
        row["since"] = due + one
    elif code == "victim-update-overdue":
        base = row["last_update"] or row["reported_on"]
        row["since"] = base + timedelta(days=int(row["limit"])) + one
    elif isinstance(row.get("since"), datetime):
        row["since"] = row["since"].date()
    return row


def _day(value: Any) -> date | None:
    """A date an aggregate gave back (SQLite: ISO text)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def team_id_for(conn: Connection, team: str | None) -> int | None:
    if not team:
        return None
    from caseload.store.reference import team_id

    return team_id(conn, team)


# --- recorded runs -------------------------------------------------------------------------


def record_run(
    conn: Connection,
    *,
    at: datetime,
    as_of: date,
    team: str | None,
    counts: dict[str, dict[str, int]],
) -> int:
    """Store one audit run's counts (for ``audit trend``); returns its id."""
    document = {"team": team, **counts}
    result = conn.execute(
        insert(audit_run_table).values(
            at=at, as_of=as_of, counts=json.dumps(document, sort_keys=True)
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def list_runs(conn: Connection, *, team: str | None, limit: int) -> list[dict[str, Any]]:
    """The latest ``limit`` recorded runs for the whole store (or one team), oldest first."""
    r = audit_run_table
    query = select(r.c.id, r.c.at, r.c.as_of, r.c.counts).order_by(r.c.at.desc(), r.c.id.desc())
    runs: list[dict[str, Any]] = []
    wanted = team.strip().lower() if team else None
    for row in conn.execution_options(yield_per=BATCH).execute(query):
        document = json.loads(row.counts)
        run_team = document.get("team")
        if (run_team.lower() if run_team else None) != wanted:
            continue
        runs.append(
            {
                "at": row.at,
                "as_of": row.as_of,
                "team": run_team,
                "by_code": document.get("by_code", {}),
            }
        )
        if len(runs) >= limit:
            break
    runs.reverse()
    return runs
