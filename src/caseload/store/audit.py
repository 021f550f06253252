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
* ``victim-referral-overdue``: the day after the referral deadline
  (``referral_working_days`` after reporting). Only crimes reported on or after the day
  the store began recording referrals (``duty_start``, set by migration 0009) are
  checked: older ones, such as imported police.uk history, could never have had one.

Per-team policy (``domain.team_policy``): each threshold is the value of the team it
judges (an officer's team for the officer codes, a crime's team for the crime codes).
With no team overriding a setting it is one constant, as before; otherwise it is one
``CASE`` on the team id over the few overriding teams' values (``_setting``,
``_cutoff``), so every check stays one set-based query.

Victims' Code deadlines are counted in working days in Python (``domain.workdays``)
for each distinct key-event date only (at most one per calendar day of the
store's history), then joined to the events as a small ``VALUES`` calendar; no
Python loop runs over the crimes or events themselves.

Rebuilt for a past day: who held what and what was live (from the intervals),
reviews, events and updates dated up to that day, and the officers as they stood that
day (``store.officer_history.officers_on``: team, status, accreditation, trainee flag,
capacity and investigator_since from their history, and the absences covering the
day). A crime's agreed update frequency is its current value.

* ``allocated-while-absent``: the day the holding began (an away absence covered it
  and no override was recorded).
* ``absence-handover-due``: the day the notice period opened (the absence's start less
  ``absence_notice_days``), or the day audited if the absence was booked later.
A crime's risk grade is kept with history: the audited day's grade is used.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator
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

from caseload.domain.absences import REDUCED
from caseload.domain.audit import CODES, counts_from, finding, review_due
from caseload.domain.officers import UNAVAILABLE_STATUSES
from caseload.domain.policy import Policy
from caseload.domain.risk import review_interval
from caseload.domain.team_policy import Policies
from caseload.domain.values import end_of_day
from caseload.domain.workdays import add_working_days
from caseload.store.holdings import live_holdings, open_at
from caseload.store.models import (
    absence_table,
    allocation_table,
    audit_run_table,
    crime_table,
    event_table,
    log_table,
    officer_table,
    referral_table,
    review_table,
    team_table,
    victim_update_table,
)
from caseload.store.officer_history import covering, officers_on
from caseload.store.risk import graded_since
from caseload.store.sqlfunc import (
    date_literal,
    day_of,
    inexperienced_after,
    inexperienced_since,
    later_of,
    level_rank,
    one_of,
    plus_days,
    unindexed,
)

BATCH = 2000


# --- the audit -----------------------------------------------------------------------------


@dataclass
class Audit:
    """One audit run's parameters and its queries, built once, run for counts and rows."""

    conn: Connection
    policy: Policy
    as_of: date | None = None
    team_id: int | None = None
    today: date = field(default_factory=date.today)
    # The crime queries (and the absences): only the crimes these officers hold, a set of
    # ids or a query of them (``due --officer``, ``due --supervisor``); None: everybody's.
    holders: Collection[int] | Select[Any] | None = None
    teams: Policies | None = None  # the teams' overrides; read from the store when None
    _queries: dict[str, Select[Any] | None] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.teams is None:
            from caseload.domain.team_policy import policies_from_rows
            from caseload.store.team_policy import team_policy_query

            self.teams = policies_from_rows(self.policy, self.conn.execute(team_policy_query()))

    @property
    def policies(self) -> Policies:
        assert self.teams is not None
        return self.teams

    def _setting(self, name: str, team: Any) -> Any:
        """A setting as SQL for the team in ``team`` (a team id column): the force's
        value, or a CASE over the teams whose value differs."""
        force = getattr(self.policy, name)
        differing = self.policies.differing(name)
        if not differing:
            return literal(force)
        return case(
            *((team == team_id, literal(value)) for team_id, value in differing.items()),
            else_=literal(force),
        )

    def _by_team(
        self, value_of: Callable[[Policy], Any], team: Any, as_sql: Callable[[Any], Any] = literal
    ) -> Any:
        """A value worked out from a team's whole policy (``value_of(policy)``, e.g.
        ``domain.risk.review_interval``) for the team in ``team``, as SQL (``as_sql``
        of it: one value, or a CASE over the teams whose value differs)."""
        force = value_of(self.policy)
        differing = {
            team_id: value_of(policy)
            for team_id, policy in sorted(self.policies.teams.items())
            if value_of(policy) != force
        }
        if not differing:
            return as_sql(force)
        return case(
            *((team == team_id, as_sql(value)) for team_id, value in differing.items()),
            else_=as_sql(force),
        )

    def _cutoff(self, name: str, team: Any, day_for: Callable[[Any], date]) -> Any:
        """A date worked out from a setting's value (``day_for(value)``) for the team in
        ``team``, as SQL: one date, or a CASE over the teams whose value differs."""
        force = date_literal(day_for(getattr(self.policy, name)))
        differing = self.policies.differing(name)
        if not differing:
            return force
        return case(
            *(
                (team == team_id, date_literal(day_for(value)))
                for team_id, value in differing.items()
            ),
            else_=force,
        )

    @property
    def day(self) -> date:
        """The day audited: the as-of day, else today."""
        return self.as_of or self.today

    @property
    def end(self) -> datetime:
        return end_of_day(self.day)

    # -- shared building blocks --

    def _officers(self, name: str = "o") -> Any:
        """The officers as they stood on the day audited: that day's team, status,
        accreditation, trainee flag, capacity and investigator_since, absences applied
        (``store.officer_history.officers_on``)."""
        return officers_on(self.as_of, name=name, today=self.today)

    def _limit(self, o: Any) -> Any:
        """The inexperienced limit for an officer of ``o``: their team's, scaled on
        reduced duties."""
        limit = self._setting("inexperienced_limit", o.c.team_id)
        return case((o.c.percent.is_(None), limit), else_=(o.c.percent * limit).op("/")(100))

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

    def _officer_check(self, flag: Callable[[Any, Any], Any], nth: Callable[[Any], Any]) -> Any:
        """Officers flagged by ``flag(load)`` (load: holder_id, live), with their live
        count, the day of their oldest current holding and the day they reached their
        ``nth()`` current holding. Two stages, so that only flagged officers' holdings are
        ranked: a grouped count over the live-crime index, then a window over the few."""
        h = self._holdings()
        o, a = self._officers("o_load"), allocation_table
        counted = select(h.c.holder_id, func.count().label("live"))
        counted = counted.where(h.c.holder_id.is_not(None))
        if self.team_id is not None:
            # Only the team's officers' crimes are counted (all they hold, of any team):
            # through the holder index for them, not a grouped count over every holder.
            team_officers = self._officers("o_team")
            counted = counted.where(
                h.c.holder_id.in_(
                    select(team_officers.c.id).where(team_officers.c.team_id == self.team_id)
                )
            )
        load = counted.group_by(h.c.holder_id).subquery("load")
        officers = select(load.c.holder_id, load.c.live).join(o, o.c.id == load.c.holder_id)
        if self.team_id is not None:  # only the team's officers are ranked (and reported)
            officers = officers.where(o.c.team_id == self.team_id)
        flagged = officers.where(flag(load, o)).subquery("flagged")
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
        o = self._officers("o_nth")
        return (
            select(
                ranked.c.holder_id,
                ranked.c.live,
                func.min(ranked.c.held_since).label("first_held"),
                func.max(case((ranked.c.rn == nth(o), ranked.c.held_since))).label("nth_since"),
            )
            .join(o, o.c.id == ranked.c.holder_id)
            .group_by(ranked.c.holder_id, ranked.c.live)
            .subquery("checked")
        )

    def _officer_finding(self, checked: Any, *extra: Callable[[Any], Any]) -> Select[Any]:
        o, t = self._officers(), team_table
        query = (
            select(
                t.c.name.label("team"),
                o.c.collar,
                o.c.rank,
                o.c.name,
                o.c.status,
                o.c.accreditation,
                checked.c.live,
                *(column(o) for column in extra),
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
        if self.holders is not None:
            query = query.where(self._held_by(h.c.holder_id))
        return query

    def _held_by(self, officer_id: Any) -> Any:
        """``officer_id`` (a column) is one of ``holders``."""
        holders = self.holders
        assert holders is not None
        return officer_id.in_(holders if isinstance(holders, Select) else sorted(holders))

    def _scanned_finding(self, inner: Any, *columns: Any) -> Select[Any]:
        """A per-crime finding over ``inner`` (team_id, holder_id, reference, ...) built on
        ``live_holdings(scan=True)``: team and collar first, ordered by team, collar and
        crime, the team joined without its index so that the crimes stay in table order."""
        o, t = officer_table, team_table
        return (
            select(t.c.name.label("team"), o.c.collar, o.c.name, inner.c.reference, *columns)
            .select_from(inner)
            .join(t, t.c.id == unindexed(inner.c.team_id))
            .outerjoin(o, o.c.id == inner.c.holder_id)
            .order_by(t.c.name, o.c.collar.asc().nulls_last(), inner.c.reference)
        )

    # -- one query per code --

    def q_inexperienced_over_limit(self) -> Select[Any]:
        def inexperienced(o: Any) -> Any:
            cutoff = self._cutoff(
                "inexperienced_months", o.c.team_id, lambda m: inexperienced_after(self.day, m)
            )
            return inexperienced_since(o, cutoff)

        checked = self._officer_check(
            lambda load, o: and_(load.c.live > self._limit(o), inexperienced(o)),
            lambda o: self._limit(o) + 1,
        )
        return self._officer_finding(
            checked,
            lambda o: self._limit(o).label("limit"),
            lambda o: checked.c.nth_since.label("since"),
        )

    def q_over_capacity(self) -> Select[Any]:
        checked = self._officer_check(
            lambda load, o: and_(o.c.capacity.is_not(None), load.c.live > o.c.capacity),
            lambda o: o.c.capacity + 1,
        )
        return self._officer_finding(
            checked,
            lambda o: o.c.capacity.label("limit"),
            lambda o: checked.c.nth_since.label("since"),
        )

    def q_holder_unavailable(self) -> Select[Any]:
        g, ab = log_table, absence_table
        checked = self._officer_check(
            lambda load, o: o.c.status.in_(UNAVAILABLE_STATUSES), lambda o: literal(1)
        )

        def since(o: Any) -> Any:
            # The last logged change that set the officer's status (add, update, status,
            # import), or the start of the absence in force on the day.
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
            absent_since = (
                select(func.max(ab.c.starts_on))
                .where(
                    ab.c.officer_id == o.c.id,
                    ab.c.kind != REDUCED,
                    covering(date_literal(self.day)),
                )
                .scalar_subquery()
            )
            changed = case((o.c.recorded_status == "active", absent_since), else_=status_changed)
            return later_of(changed, checked.c.first_held).label("since")

        return self._officer_finding(checked, since)

    def q_accreditation_mismatch(self) -> Select[Any]:
        h = self._holdings()
        o, t, a = self._officers(), team_table, allocation_table
        # First the few officers holding anything above their accreditation: the highest
        # level each holds, from the live-crime index alone; then only their crimes.
        held = self._holdings()
        top = (
            select(held.c.holder_id, func.max(level_rank(held.c.required_level)).label("top"))
            .where(held.c.holder_id.is_not(None))
            .group_by(held.c.holder_id)
            .subquery("top")
        )
        p = self._officers("o_top")
        suspects = (
            select(top.c.holder_id)
            .join(p, p.c.id == top.c.holder_id)
            .where(top.c.top > level_rank(p.c.accreditation))
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
            # unindexed: the few suspects' crimes through the holder index, not every
            # team's live crimes tried against the list
            .join(t, t.c.id == unindexed(h.c.team_id))
            .outerjoin(a, self._interval(h))
            .where(
                h.c.holder_id.in_(suspects),
                level_rank(h.c.required_level) > level_rank(o.c.accreditation),
            )
        )
        return self._crime_scope(query, h).order_by(
            t.c.name, o.c.collar.asc().nulls_last(), h.c.reference
        )

    def _notify_periods(self) -> list[int]:
        """Every notification period in force, in working days: the standard and the
        enhanced one, the force's and the teams'."""
        return sorted(
            {
                int(days)
                for name in ("notify_working_days", "notify_working_days_enhanced")
                for days in self.policies.values_of(name)
            }
        )

    def _notify_calendar(self, before: date) -> Any | None:
        """``VALUES (event_on, due_N, ...)``: for each distinct key-event date of a live
        crime, its deadline after each period N in force (``_notify_periods``), where the
        earliest is before ``before``; None when there is none. One row per date, joined by
        date."""
        h = self._holdings()
        e = event_table
        query = (
            select(e.c.occurred_on)
            .distinct()
            .join(h, h.c.crime_id == e.c.crime_id)
            .where(e.c.occurred_on <= date_literal(self.day))
        )
        query = self._crime_scope(query, h)
        periods = self._notify_periods()
        rows = []
        for (event_on,) in self.conn.execute(query):
            dues = [add_working_days(event_on, days) for days in periods]
            if min(dues) < before:
                rows.append((event_on, *dues))
        if not rows:
            return None
        return (
            values(
                column("event_on", Date),
                *(column(f"due_{days}", Date) for days in periods),
                name="notify_calendar",
            )
            .data(rows)
            .cte("notify_calendar")
        )

    def q_victim_notify_overdue(self) -> Select[Any] | None:
        return self.notify_rows(self.day)

    def notify_rows(self, before: date) -> Select[Any] | None:
        """Key events of live crimes not yet told to the victim (by the day audited) whose
        Victims' Code deadline (the crime's team's working days) is before ``before``: the
        audit's overdue ones with ``before`` the day audited; ``due`` looks further."""
        calendar = self._notify_calendar(before)
        if calendar is None:
            return None
        h = self._holdings()
        e, u, o, t = event_table, victim_update_table, officer_table, team_table

        def period(name: str, of: Callable[[int], Any]) -> Any:
            """``of(days)`` for the team's value of the setting ``name``."""
            differing = self.policies.differing(name)
            force = of(int(getattr(self.policy, name)))
            if not differing:
                return force
            return case(
                *((h.c.team_id == team_id, of(int(v))) for team_id, v in differing.items()),
                else_=force,
            )

        def due(days: int) -> Any:
            return calendar.c[f"due_{days}"]

        enhanced = h.c.victim_enhanced.is_(True)
        deadline = case(
            (enhanced, period("notify_working_days_enhanced", due)),
            else_=period("notify_working_days", due),
        )
        working_days = case(
            (enhanced, period("notify_working_days_enhanced", literal)),
            else_=period("notify_working_days", literal),
        )
        # Met by any update on or after the event, late or not (the lateness stays in
        # the record: ``crime show``); one dated after the audited day does not count.
        told = exists().where(
            u.c.crime_id == e.c.crime_id,
            u.c.updated_on >= e.c.occurred_on,
            u.c.updated_on <= date_literal(self.day),
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
            # unindexed: the calendar is looked up by the event's day (an automatic index
            # on its few rows), not scanned once per event of a team's crimes
            .join(calendar, calendar.c.event_on == unindexed(e.c.occurred_on))
            .join(t, t.c.id == h.c.team_id)
            .outerjoin(o, o.c.id == h.c.holder_id)
            .where(deadline < date_literal(before), ~told)
        )
        return self._crime_scope(query, h).order_by(
            t.c.name, o.c.collar.asc().nulls_last(), h.c.reference, e.c.occurred_on, e.c.id
        )

    def q_unallocated(self) -> Select[Any]:
        return self.unallocated_rows(self.day)

    def unallocated_rows(self, before: date) -> Select[Any]:
        """Live crimes with no holder on the day audited whose ``unallocated_days`` (the
        crime's team's) run out before ``before`` (since + limit < before)."""
        h = self._holdings()
        a, t = allocation_table, team_table
        last_end = (
            select(day_of(func.max(a.c.end_at)))
            .where(a.c.crime_id == h.c.crime_id, a.c.end_at < self.end)
            .scalar_subquery()
        )
        since = later_of(last_end, h.c.reported_on)
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
                null().label("name"),
                inner.c.reference,
                inner.c.since,
                self._setting("unallocated_days", inner.c.team_id).label("limit"),
            )
            .join(t, t.c.id == inner.c.team_id)
            .where(
                inner.c.since
                < self._cutoff(
                    "unallocated_days",
                    inner.c.team_id,
                    lambda n: before - timedelta(days=n),
                )
            )
            .order_by(t.c.name, inner.c.reference)
        )

    def q_review_overdue(self) -> Select[Any]:
        return self.review_rows(self.day)

    def review_interval(self, team: Any, risk: Any, *, before: date | None = None) -> Any:
        """The review interval of a crime of the team in ``team`` (a team id column) and the
        risk grade in ``risk``, as SQL: ``domain.risk.review_interval`` of that grade under
        that team's policy; with ``before``, the date that interval ahead of ``before``, so
        that a review due before ``before`` is one whose base date is before it."""

        def for_grade(grade: str) -> Any:
            if before is None:
                return self._by_team(lambda p: review_interval(grade, p), team)
            return self._by_team(
                lambda p: before - timedelta(days=review_interval(grade, p)),
                team,
                as_sql=date_literal,
            )

        return case(
            (risk == "high", for_grade("high")),
            (risk == "medium", for_grade("medium")),
            else_=for_grade("standard"),
        )

    def review_rows(self, before: date) -> Select[Any]:
        """Live crimes whose next supervisory review (``domain.audit.review_due``: the
        last review or report plus the team's interval, or a sooner next-review date) is
        due before ``before``: the audit's overdue ones with ``before`` the day audited."""
        h = live_holdings(self.as_of, scan=True)  # every live crime's row is read
        r = review_table
        day = date_literal(self.day)
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
        cutoff = self.review_interval(inner.c.team_id, inner.c.risk, before=before)
        return self._scanned_finding(
            inner,
            inner.c.reported_on,
            inner.c.last_review,
            inner.c.next_due,
            self.review_interval(inner.c.team_id, inner.c.risk).label("limit"),
            inner.c.risk,
            # only for the findings: the day the grade in force began (None: never graded)
            graded_since(inner.c.crime_id, self.end).label("graded_since"),
        ).where(
            or_(
                base < cutoff,
                and_(inner.c.next_due.is_not(None), inner.c.next_due < date_literal(before)),
            )
        )

    def q_victim_update_overdue(self) -> Select[Any]:
        return self.victim_update_rows(self.day)

    def victim_update_rows(self, before: date) -> Select[Any]:
        """Live crimes whose next routine victim update (the last update or report plus
        the agreed frequency or the team's ``victim_update_days``) is due before ``before``."""
        h = live_holdings(self.as_of, scan=True)  # every live crime's row is read
        u = victim_update_table
        last_update = (
            select(func.max(u.c.updated_on))
            .where(u.c.crime_id == h.c.crime_id, u.c.updated_on <= date_literal(self.day))
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
        every = func.coalesce(
            inner.c.victim_update_every, self._setting("victim_update_days", inner.c.team_id)
        )
        base = func.coalesce(inner.c.last_update, inner.c.reported_on)
        return self._scanned_finding(
            inner,
            inner.c.reported_on,
            inner.c.last_update,
            every.label("limit"),
            inner.c.victim_update_every.is_not(None).label("agreed"),
        ).where(plus_days(base, every) < date_literal(before))

    def q_victim_referral_overdue(self) -> Select[Any] | None:
        return self.referral_rows(self.day)

    def referral_rows(self, before: date) -> Select[Any] | None:
        """Live crimes reported on or after the day the store began recording referrals
        (``duty_start``), with no referral or recorded decline dated by the audited day,
        whose deadline (``referral_working_days`` after reporting) is before ``before``. The
        deadlines are counted in Python for each distinct report date only, then joined as
        a small calendar."""
        from caseload.store.victims import referral_start

        start = referral_start(self.conn)
        if start is None or start > self.day:
            return None
        # the report dates from every live crime's row, in table order (not through an
        # index and the row of each crime it finds)
        every = live_holdings(self.as_of, scan=True)
        days = self.policy.referral_working_days
        dates = self._crime_scope(
            select(every.c.reported_on)
            .distinct()
            .where(
                every.c.reported_on >= date_literal(start),
                every.c.reported_on <= date_literal(self.day),
            ),
            every,
        )
        h = self._holdings()
        rows = []
        for (reported_on,) in self.conn.execute(dates):
            due = add_working_days(reported_on, days)
            if due < before:
                rows.append((reported_on, due))
        if not rows:
            return None
        calendar = (
            values(column("reported", Date), column("due", Date), name="referral_calendar")
            .data(rows)
            .cte("referral_calendar")
        )
        f, o, t = referral_table, officer_table, team_table
        referred = exists().where(
            f.c.crime_id == h.c.crime_id, f.c.referred_on <= date_literal(self.day)
        )
        query = (
            select(
                t.c.name.label("team"),
                o.c.collar,
                o.c.name,
                h.c.reference,
                h.c.reported_on,
                h.c.victim_enhanced,
                calendar.c.due.label("deadline"),
                literal(days).label("limit"),
            )
            .select_from(h)
            .join(calendar, calendar.c.reported == h.c.reported_on)
            .join(t, t.c.id == h.c.team_id)
            .outerjoin(o, o.c.id == h.c.holder_id)
            .where(~referred)
        )
        return self._crime_scope(query, h).order_by(
            t.c.name, o.c.collar.asc().nulls_last(), h.c.reference
        )

    def q_reassign_churn(self) -> Select[Any]:
        h = self._holdings()
        a, o, t = allocation_table, officer_table, team_table
        force = self.policy.reassign_churn
        differing = self.policies.differing("reassign_churn")
        lowest = min([force, *(int(v) for v in differing.values())])
        intervals = select(a.c.crime_id, (func.count() - 1).label("reassignments")).where(
            a.c.start_at < self.end
        )
        if self.team_id is not None:  # only the team's crimes' intervals are grouped
            c = crime_table
            intervals = intervals.where(
                a.c.crime_id.in_(select(c.c.id).where(c.c.team_id == self.team_id))
            )
        churn = intervals.group_by(a.c.crime_id).having(func.count() - 1 > lowest).subquery("churn")
        # Only for the few churned crimes: the start of the interval that made one too many.
        b = allocation_table.alias("crossing")

        def crossing(limit: int) -> Any:
            return (
                select(b.c.start_at)
                .where(b.c.crime_id == churn.c.crime_id, b.c.start_at < self.end)
                .order_by(b.c.start_at, b.c.id)
                .limit(1)
                .offset(limit + 1)
                .scalar_subquery()
            )

        crossed = crossing(force)
        if differing:  # an OFFSET is a constant: one crossing per limit in force
            by_limit: dict[int, list[int]] = {}
            for team_id, value in differing.items():
                by_limit.setdefault(int(value), []).append(team_id)
            crossed = case(
                *((h.c.team_id.in_(ids), crossing(value)) for value, ids in by_limit.items()),
                else_=crossed,
            )
        limit = self._setting("reassign_churn", h.c.team_id)
        query = (
            select(
                t.c.name.label("team"),
                o.c.collar,
                h.c.reference,
                churn.c.reassignments,
                day_of(crossed).label("since"),
                limit.label("limit"),
            )
            .select_from(h)
            .join(
                churn,
                and_(churn.c.crime_id == h.c.crime_id, churn.c.reassignments > limit)
                if differing
                else churn.c.crime_id == h.c.crime_id,
            )
            .join(t, t.c.id == h.c.team_id)
            .outerjoin(o, o.c.id == h.c.holder_id)
        )
        return self._crime_scope(query, h).order_by(
            t.c.name, o.c.collar.asc().nulls_last(), h.c.reference
        )

    def _absent_officers(self, *condition: Any) -> list[int] | None:
        """The officers with an away absence (not cancelled) meeting ``condition``: read
        first from the small absence table, so that only their crimes are read (through
        the holder index); None when there are none (the query is not run)."""
        ab = absence_table
        ids = self.conn.execute(
            select(ab.c.officer_id)
            .distinct()
            .where(ab.c.kind != REDUCED, ab.c.cancelled_at.is_(None), *condition)
        ).scalars()
        found = sorted(int(i) for i in ids)
        return found or None

    def q_allocated_while_absent(self) -> Select[Any] | None:
        """Live crimes whose current holding began on a day an away absence of the holder
        covered, with no override recorded. Only the absent officers' crimes are read."""
        ab, a, t = absence_table, allocation_table, team_table
        absent = self._absent_officers(ab.c.starts_on <= date_literal(self.day))
        if absent is None:
            return None
        h = self._holdings()
        o = self._officers()
        began = day_of(a.c.start_at)
        query = (
            select(
                t.c.name.label("team"),
                o.c.collar,
                o.c.rank,
                o.c.name,
                h.c.reference,
                ab.c.kind,
                ab.c.starts_on,
                ab.c.ends_on,
                began.label("since"),
            )
            .select_from(ab)
            .join(h, h.c.holder_id == ab.c.officer_id)
            .join(a, self._interval(h))
            .join(o, o.c.id == h.c.holder_id)
            .join(t, t.c.id == h.c.team_id)
            .where(
                one_of(self.conn, h.c.holder_id, absent),
                ab.c.kind != REDUCED,
                ab.c.cancelled_at.is_(None),
                ab.c.starts_on <= date_literal(self.day),
                a.c.override_reason.is_(None),
                ab.c.starts_on <= began,
                or_(ab.c.ends_on.is_(None), ab.c.ends_on >= began),
            )
        )
        return self._crime_scope(query, h).order_by(
            t.c.name, o.c.collar, h.c.reference, ab.c.starts_on
        )

    def absence_rows(
        self, first: date, last: date, *, within: Callable[[Any], Any] | None = None
    ) -> Select[Any] | None:
        """Away absences (not cancelled, not reduced duties) starting from ``first`` to
        ``last``, one row each, of officers holding live crimes on the day, with their live
        count and their team's ``absence_notice_days`` (``limit``); ``within(o)``: a further
        condition on the officer row. None when no such absence exists. The audit's
        ``absence-handover-due`` and ``due``'s absences."""
        ab, t = absence_table, team_table
        starting = and_(
            ab.c.kind != REDUCED,
            ab.c.cancelled_at.is_(None),
            ab.c.starts_on >= date_literal(first),
            ab.c.starts_on <= date_literal(last),
        )
        found = self._absent_officers(starting)
        if found is None:
            return None
        h = self._holdings()
        o = self._officers()
        load = (
            select(h.c.holder_id, func.count().label("live"))
            .where(one_of(self.conn, h.c.holder_id, found))
            .group_by(h.c.holder_id)
            .subquery("load")
        )
        query = (
            select(
                t.c.name.label("team"),
                o.c.collar,
                o.c.rank,
                o.c.name,
                load.c.live,
                ab.c.kind,
                ab.c.starts_on,
                ab.c.ends_on,
                ab.c.percent,
                self._setting("absence_notice_days", o.c.team_id).label("limit"),
            )
            .select_from(ab)
            .join(load, load.c.holder_id == ab.c.officer_id)
            .join(o, o.c.id == ab.c.officer_id)
            .join(t, t.c.id == o.c.team_id)
            .where(starting, o.c.status != "left")
        )
        if self.team_id is not None:
            query = query.where(o.c.team_id == self.team_id)
        if self.holders is not None:
            query = query.where(self._held_by(o.c.id))
        if within is not None:
            query = query.where(within(o))
        return query.order_by(t.c.name, o.c.collar, ab.c.starts_on)

    def q_absence_handover_due(self) -> Select[Any] | None:
        """Officers holding live crimes on the day whose away absence starts within their
        team's ``absence_notice_days`` after it (one finding per absence)."""
        day = self.day
        # as far ahead as any team looks; each officer's team's notice is applied within
        widest = day + timedelta(days=self.policies.widest("absence_notice_days"))
        return self.absence_rows(
            day + timedelta(days=1),
            widest,
            within=lambda o: (
                absence_table.c.starts_on
                <= self._cutoff(
                    "absence_notice_days", o.c.team_id, lambda n: day + timedelta(days=n)
                )
            ),
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

    def head(self, code: str, limit: int) -> tuple[int, list[dict[str, Any]]]:
        """The code's count (as ``count``) and its first ``limit`` finding rows (as
        ``rows``), from one query: the count is a window over the whole result, so the
        query is compiled and run once and only ``limit`` rows are fetched."""
        query = self.query(code)
        if query is None:
            return 0, []
        assert not query._distinct  # a window is counted before DISTINCT
        total = func.count().over().label("_findings_total")
        result = self.conn.execute(query.add_columns(total).limit(max(1, limit)))
        keys = list(result.keys())[:-1]
        found = result.all()
        count = int(found[0][-1]) if found else 0
        day, policy = self.day, self.policy
        rows = [
            _with_since(code, dict(zip(keys, row[:-1], strict=True)), day, policy)
            for row in found[:limit]
        ]
        return count, rows

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
    if code in ("victim-notify-overdue", "victim-referral-overdue"):
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
    elif code == "absence-handover-due":
        row["since"] = row["starts_on"] - timedelta(days=int(row["limit"]))
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
