"""What falls due (``caseload due``): one set-based query per kind of duty.

The crimes' duties are the audit's own deadline queries (``store.audit.Audit``:
``review_rows``, ``victim_update_rows``, ``notify_rows``, ``referral_rows``,
``unallocated_rows``), asked for the deadlines before the day after the window instead
of before the as-of day, so that a deadline is worked out in one place for both. The
officers' duties (an absence starting in the window while they hold live crimes, passing
from inexperienced to experienced) are two small queries here, over the same building
blocks (``officers_on``, ``live_holdings``). The rules (due dates, the sentence, the
order) are ``domain.due``; Python only turns the rows the database returns into them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import literal, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from caseload.domain.due import duty, window_end
from caseload.domain.officers import inexperienced_after
from caseload.domain.policy import Policy
from caseload.store.audit import BATCH, Audit
from caseload.store.models import team_table


@dataclass
class Due:
    """One ``due`` run: the as-of day, the window, the scope, and its queries."""

    conn: Connection
    policy: Policy
    days: int
    as_of: date | None = None
    team_id: int | None = None
    officer_id: int | None = None
    today: date | None = None

    def __post_init__(self) -> None:
        self.audit = Audit(
            self.conn,
            self.policy,
            as_of=self.as_of,
            team_id=self.team_id,
            today=self.today or date.today(),
            holder_id=self.officer_id,
        )

    @property
    def day(self) -> date:
        return self.audit.day

    @property
    def last(self) -> date:
        """The window's last day."""
        return window_end(self.day, self.days)

    @property
    def before(self) -> date:
        """Deadlines before this day are in the window (or overdue)."""
        return self.last + timedelta(days=1)

    # -- the officers' duties --

    def _officer_scope(self, query: Select[Any], o: Any) -> Select[Any]:
        if self.team_id is not None:
            query = query.where(o.c.team_id == self.team_id)
        if self.officer_id is not None:
            query = query.where(o.c.id == self.officer_id)
        return query

    def absence_rows(self) -> Select[Any] | None:
        """Away absences (not cancelled, not reduced duties) starting in the window, one
        row each, of officers holding live crimes on the as-of day, with their count (the
        audit's query for ``absence-handover-due``, over the window)."""
        return self.audit.absence_rows(self.day, self.last)

    def experienced_rows(self) -> Select[Any]:
        """Officers (not trainees, not left) inexperienced on the as-of day and no longer
        by the window's last day, by their team's ``inexperienced_months``."""
        audit, t = self.audit, team_table
        o = audit._officers()

        def cutoff(day: date) -> Any:
            return audit._cutoff(
                "inexperienced_months", o.c.team_id, lambda m: inexperienced_after(day, m)
            )

        query = (
            select(
                t.c.name.label("team"),
                o.c.collar,
                o.c.name,
                literal(None).label("reference"),
                o.c.investigator_since,
                audit._setting("inexperienced_months", o.c.team_id).label("limit"),
                audit._limit(o).label("inexperienced_limit"),
            )
            .join(t, t.c.id == o.c.team_id)
            .where(
                o.c.trainee.is_not(True),
                o.c.status != "left",
                o.c.investigator_since > cutoff(self.day),
                o.c.investigator_since <= cutoff(self.last),
            )
        )
        return self._officer_scope(query, o)

    # -- running --

    def queries(self) -> Iterator[tuple[str, Select[Any] | None]]:
        audit, before = self.audit, self.before
        yield "notification", audit.notify_rows(before)
        yield "referral", audit.referral_rows(before)
        yield "review", audit.review_rows(before)
        yield "victim-update", audit.victim_update_rows(before)
        if self.officer_id is None:  # an officer holds none of the unallocated crimes
            yield "unallocated", audit.unallocated_rows(before)
        yield "absence", self.absence_rows()
        yield "experienced", self.experienced_rows()

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every duty in the window or overdue, as ``domain.due.duty`` rows (unordered)."""
        day = self.day
        for kind, query in self.queries():
            if query is None:
                continue
            result = self.conn.execution_options(yield_per=BATCH).execute(query.order_by(None))
            keys = list(result.keys())
            for batch in result.partitions():
                for row in batch:
                    yield duty(kind, dict(zip(keys, row, strict=True)), day)


def officer_id_for(conn: Connection, collar: str) -> tuple[int, str]:
    """The id and collar of the officer ``collar`` (any case); NotFound (exit 2) naming
    the nearest collar otherwise."""
    from caseload.domain.due import nearest_collar
    from caseload.errors import NotFound
    from caseload.store.models import officer_table

    o = officer_table
    wanted = collar.strip().upper()
    row = conn.execute(select(o.c.id, o.c.collar).where(o.c.collar == wanted)).first()
    if row is not None:
        return int(row[0]), str(row[1])
    known = [str(c) for (c,) in conn.execute(select(o.c.collar))]
    raise NotFound.officer(wanted, nearest_collar(wanted, known))
