"""The compliance return's queries (``report compliance``): one grouped count per duty.

Each duty is a set of deadlines rebuilt from the stored records (crimes, reviews, key
events, victim updates, referrals, finalisations), each with the day it was met; the
database counts them per team with one aggregate (``_counted``). Working-day deadlines
are counted in Python for each calendar day of the period only (``domain.compliance.
deadlines``) and joined as a small ``VALUES`` calendar, as the audit does; nothing loops
over crimes or records in Python.

A duty belongs to the crime's current team. Rebuilt as at the end of ``--to``: a record
dated after it does not meet anything. What the store keeps no history of is taken as it
is now: whether the victim is enhanced and the update frequency agreed with them.

Beside the duties, the quality reviews recorded in the period (``review --quality``): one
grouped count per team and result (``quality``), by the crime's current team too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Date,
    and_,
    case,
    column,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
    values,
)
from sqlalchemy.engine import Connection

from caseload.domain.compliance import deadlines, look_back
from caseload.domain.policy import Policy
from caseload.domain.risk import GRADES, review_interval
from caseload.store.models import (
    crime_table,
    event_table,
    finalisation_table,
    referral_table,
    review_table,
    team_table,
    victim_update_table,
)
from caseload.store.sqlfunc import date_literal, plus_days, unindexed


@dataclass
class ComplianceReturn:
    """One return's period and scope, and its per-duty queries."""

    conn: Connection
    policy: Policy
    start: date
    end: date
    team_id: int | None = None

    # -- shared --

    def _scoped(self, query: Any, team_column: Any) -> Any:
        """One team's duties: the team is a filter on the rows found, never the way in (a
        busy team's crimes are most of the store: from the period's few records, not from
        every crime of the team)."""
        if self.team_id is None:
            return query
        return query.where(unindexed(team_column) == self.team_id)

    def _live_on(self, crime_id: Any, day: Any) -> Any:
        """The crime was live at the end of ``day`` (no finalisation in force then)."""
        f = finalisation_table
        return ~exists().where(
            f.c.crime_id == crime_id,
            f.c.finalised_on <= day,
            or_(f.c.reopened_on.is_(None), f.c.reopened_on > day),
        )

    def _counted(self, duty: str, rows: Any) -> Any:
        """Per team: how many fell due, met on time, met late, outstanding at the end."""
        end = date_literal(self.end)
        met, due = rows.c.met, rows.c.due
        return (
            select(
                literal(duty).label("duty"),
                rows.c.team_id,
                func.count().label("due"),
                func.sum(case((met <= due, 1), else_=0)).label("on_time"),
                func.sum(case((and_(met > due, met <= end), 1), else_=0)).label("late"),
                func.sum(case((or_(met.is_(None), met > end), 1), else_=0)).label("outstanding"),
            )
            .where(due >= date_literal(self.start), due <= end)
            .group_by(rows.c.team_id)
        )

    def _calendar(self, name: str, working_days: tuple[int, ...]) -> Any:
        first = look_back(self.start, max(working_days))
        rows = deadlines(first, self.end, *working_days)
        names = [column("day", Date)] + [column(f"due{i}", Date) for i in range(len(working_days))]
        return values(*names, name=name).data(rows).cte(name)

    def _interval_duty(
        self, duty: str, records: Any, day_column: str, every: Any, longest: int, note: Any
    ) -> Any:
        """A routine duty renewed by each record (reviews, victim updates): one deadline
        per crime and day from its report and each record, ``every`` days on (or a
        next-review date, ``note``, if sooner); met by the next record after that day; not
        due if the crime was finalised by its deadline. ``longest``: the longest interval,
        so that only records whose deadline can fall in the period are read."""
        c = crime_table
        earliest = date_literal(date.fromordinal(self.start.toordinal() - longest))
        end = date_literal(self.end)
        record_day = records.c[day_column]
        reported = select(
            c.c.id.label("crime_id"),
            c.c.reported_on.label("day"),
            literal(None, Date()).label("next_due"),
        ).where(c.c.reported_on >= earliest, c.c.reported_on <= end)
        recorded = select(
            records.c.crime_id,
            record_day.label("day"),
            (note if note is not None else literal(None, Date())).label("next_due"),
        ).where(record_day >= earliest, record_day <= end)
        if self.team_id is not None:
            # Only the team's anchors (its crimes through the team index: a busy team holds
            # much of what is live, but the store's history is mostly other teams'); the
            # filter on the rows found below still applies, so the counts are the same.
            reported = reported.where(c.c.team_id == self.team_id)
            mine = select(c.c.id).where(c.c.team_id == self.team_id)
            recorded = recorded.where(records.c.crime_id.in_(mine))
        anchors_all = union_all(reported, recorded).subquery("anchors_all")
        anchors = (
            select(
                anchors_all.c.crime_id,
                anchors_all.c.day,
                func.min(anchors_all.c.next_due).label("next_due"),
            )
            .group_by(anchors_all.c.crime_id, anchors_all.c.day)
            .subquery("anchors")
        )
        # The day each deadline was met, once per anchor (a grouped, so materialised,
        # subquery: the counts below read it five times).
        nxt = records.alias("nxt")
        met = (
            select(
                anchors.c.crime_id,
                anchors.c.day,
                anchors.c.next_due,
                func.min(nxt.c[day_column]).label("met"),
            )
            .select_from(anchors)
            .outerjoin(
                nxt,
                and_(nxt.c.crime_id == anchors.c.crime_id, nxt.c[day_column] > anchors.c.day),
            )
            .group_by(anchors.c.crime_id, anchors.c.day, anchors.c.next_due)
            .subquery("met")
        )
        by_rule = plus_days(met.c.day, every)
        due = case(
            (and_(met.c.next_due.is_not(None), met.c.next_due < by_rule), met.c.next_due),
            else_=by_rule,
        )
        return self._scoped(
            select(c.c.team_id, due.label("due"), met.c.met)
            .select_from(met)
            .join(c, c.c.id == met.c.crime_id)
            .where(self._live_on(met.c.crime_id, due)),
            c.c.team_id,
        ).subquery(f"{duty.replace('-', '_')}_duties")

    # -- the duties --

    def reviews(self) -> Any:
        # The interval for the crime's risk grade (its grade now: domain.risk.review_interval).
        c = crime_table
        days = {grade: review_interval(grade, self.policy) for grade in GRADES}
        every = case(
            *((c.c.risk == grade, literal(n)) for grade, n in days.items() if grade != "standard"),
            else_=literal(days["standard"]),
        )
        duties = self._interval_duty(
            "supervisory-review",
            review_table,
            "reviewed_on",
            every,
            max(days.values()),
            review_table.c.next_due,
        )
        return self._counted("supervisory-review", duties)

    def updates(self) -> Any:
        c = crime_table
        default = self.policy.victim_update_days
        longest_agreed = select(func.max(c.c.victim_update_every))
        if self.team_id is not None:  # the team's crimes (the team index), not every crime
            longest_agreed = longest_agreed.where(c.c.team_id == self.team_id)
        agreed = self.conn.execute(longest_agreed).scalar()
        longest = max(default, int(agreed or 0))
        every = func.coalesce(c.c.victim_update_every, default)
        duties = self._interval_duty(
            "victim-update", victim_update_table, "updated_on", every, longest, None
        )
        return self._counted("victim-update", duties)

    def notifications(self) -> Any:
        e, c, u = event_table, crime_table, victim_update_table
        standard = self.policy.notify_working_days
        enhanced = self.policy.notify_working_days_enhanced
        calendar = self._calendar("notify_calendar", (standard, enhanced))
        due = case((c.c.victim_enhanced.is_(True), calendar.c.due1), else_=calendar.c.due0)
        # Met by the first update on or after the event: grouped by event, so the day is
        # worked out once and materialised for the counts.
        rows = self._scoped(
            select(c.c.team_id, due.label("due"), func.min(u.c.updated_on).label("met"))
            .select_from(e)
            .join(calendar, calendar.c.day == e.c.occurred_on)
            .join(c, c.c.id == e.c.crime_id)
            .outerjoin(u, and_(u.c.crime_id == e.c.crime_id, u.c.updated_on >= e.c.occurred_on))
            .group_by(e.c.id, c.c.team_id, c.c.victim_enhanced, calendar.c.due0, calendar.c.due1),
            c.c.team_id,
        ).subquery("notifications")
        return self._counted("right-6-notification", rows)

    def referrals(self, since: date | None) -> Any | None:
        if since is None:
            return None
        c, f = crime_table, referral_table
        calendar = self._calendar("referral_calendar", (self.policy.referral_working_days,))
        rows = self._scoped(
            select(
                c.c.team_id, calendar.c.due0.label("due"), func.min(f.c.referred_on).label("met")
            )
            .select_from(c)
            .join(calendar, calendar.c.day == c.c.reported_on)
            .outerjoin(f, f.c.crime_id == c.c.id)
            .where(c.c.reported_on >= date_literal(since))
            .group_by(c.c.id, c.c.team_id, calendar.c.due0),
            c.c.team_id,
        ).subquery("referrals")
        return self._counted("right-4-referral", rows)

    # -- quality --

    def quality(self) -> Any:
        """Per (team, result): how many quality reviews are dated in the period."""
        r, c = review_table, crime_table
        return self._scoped(
            select(c.c.team_id, r.c.quality, func.count().label("reviews"))
            .select_from(r)
            .join(c, c.c.id == r.c.crime_id)
            .where(
                r.c.quality.is_not(None),
                r.c.reviewed_on >= date_literal(self.start),
                r.c.reviewed_on <= date_literal(self.end),
            )
            .group_by(c.c.team_id, r.c.quality),
            c.c.team_id,
        )

    def quality_counts(self) -> list[dict[str, Any]]:
        """Per (team_id, quality): reviews (teams and results with none left out)."""
        return [dict(row._mapping) for row in self.conn.execute(self.quality())]

    # -- running --

    def counts(self) -> list[dict[str, Any]]:
        """Per (duty, team): due, on_time, late, outstanding (teams with none left out)."""
        from caseload.store.victims import referral_start

        queries = [self.reviews(), self.updates(), self.notifications()]
        referrals = self.referrals(referral_start(self.conn))
        if referrals is not None:
            queries.append(referrals)
        found: list[dict[str, Any]] = []
        for query in queries:
            found.extend(dict(row._mapping) for row in self.conn.execute(query))
        return found

    def teams(self) -> dict[int, str]:
        t = team_table
        query = select(t.c.id, t.c.name)
        if self.team_id is not None:
            query = query.where(t.c.id == self.team_id)
        return {int(i): str(n) for i, n in self.conn.execute(query)}


def compliance_return(
    conn: Connection, policy: Policy, *, start: date, end: date, team: str | None = None
) -> list[dict[str, Any]]:
    """The return's rows (``domain.compliance.COLUMNS``): each duty per team, then the
    force's total (not with ``team``); the supervisory-review rows carry the period's
    quality review results."""
    from caseload.domain.compliance import return_rows
    from caseload.store.reference import resolve_team

    team_id = None if team is None else resolve_team(conn, team)[0]
    found = ComplianceReturn(conn, policy, start, end, team_id)
    return return_rows(
        found.counts(), found.teams(), force=team_id is None, quality=found.quality_counts()
    )
