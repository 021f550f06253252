"""What falls due (``caseload due``): one query over every kind of duty, in order.

The crimes' duties are the audit's own deadline queries (``store.audit.Audit``:
``review_rows``, ``victim_update_rows``, ``notify_rows``, ``referral_rows``,
``unallocated_rows``), asked for the deadlines before the day after the window instead
of before the as-of day, so that a deadline is worked out in one place for both. Each
is wrapped in a select that works out, in SQL, the duty's ``due_on`` and ``days_left``
and its action (``domain.due.ACTIONS``, the same words ``domain.due.action`` gives), so
that a store with hundreds of thousands of overdue reviews streams them without a
Python call per row.

The officers' duties (an absence starting in the window while they hold live crimes,
passing from inexperienced to experienced) are few: two small queries (over the same
building blocks, ``officers_on``, ``live_holdings``) whose rows ``domain.due.duty``
turns into duties in Python; they join the others as a ``VALUES`` list.

All of them are one ``UNION ALL``, ordered in SQL as ``domain.due.ordered`` orders rows
(by date, overdue first, then kind, team case aside, officer, crime, action): text is
compared as Python compares it (byte order: SQLite's own, ``COLLATE "C"`` on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from string import Formatter
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    String,
    and_,
    case,
    cast,
    column,
    func,
    literal,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
    values,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from caseload.domain.due import (
    ACTIONS,
    AGREED,
    KIND_ORDER,
    NEVER,
    SERVICE,
    duty,
    team_key,
    window_end,
)
from caseload.domain.events import KEY_EVENTS
from caseload.domain.officers import inexperienced_after
from caseload.domain.policy import Policy
from caseload.store.audit import BATCH, Audit
from caseload.store.models import officer_table, team_table
from caseload.store.sqlfunc import date_literal, date_text, days_between, plus_days, sqlite_line


@dataclass
class Due:
    """One ``due`` run: the as-of day, the window, the scope, and its queries.

    Scope: ``team_id`` (the team's crimes and officers), ``officer_id`` (the crimes that
    officer holds and their own duties) or ``supervisor_id`` (the crimes held by the
    officers that officer supervises, and those officers' own duties); together they
    narrow each other."""

    conn: Connection
    policy: Policy
    days: int
    as_of: date | None = None
    team_id: int | None = None
    officer_id: int | None = None
    today: date | None = None
    supervisor_id: int | None = None
    _holders: Collection[int] | Select[Any] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        o = officer_table
        if self.supervisor_id is not None:
            supervised = select(o.c.id).where(o.c.supervisor_id == self.supervisor_id)
            if self.officer_id is not None:
                supervised = supervised.where(o.c.id == self.officer_id)
            self._holders = supervised
        elif self.officer_id is not None:
            self._holders = {self.officer_id}
        self.audit = Audit(
            self.conn,
            self.policy,
            as_of=self.as_of,
            team_id=self.team_id,
            today=self.today or date.today(),
            holders=self._holders,
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
        if self.team_id is not None:
            query = query.where(o.c.team_id == self.team_id)
        if self._holders is not None:
            query = query.where(audit._held_by(o.c.id))
        return query

    def officer_duties(self) -> list[dict[str, Any]]:
        """The officers' duties (absence, experienced) as ``domain.due.duty`` rows."""
        found: list[dict[str, Any]] = []
        for kind, query in (
            ("absence", self.absence_rows()),
            ("experienced", self.experienced_rows()),
        ):
            if query is None:
                continue
            result = self.conn.execute(query.order_by(None))
            keys = list(result.keys())
            found.extend(duty(kind, dict(zip(keys, row, strict=True)), self.day) for row in result)
        return found

    # -- the crimes' duties, worked out in SQL --

    def crime_queries(self) -> Iterator[tuple[str, Select[Any] | None]]:
        """Each kind of crime duty: the audit's query of its rows (None: there are none)."""
        audit, before = self.audit, self.before
        yield "notification", audit.notify_rows(before)
        yield "referral", audit.referral_rows(before)
        yield "review", audit.review_rows(before)
        yield "victim-update", audit.victim_update_rows(before)
        if self._holders is None:  # an officer holds none of the unallocated crimes
            yield "unallocated", audit.unallocated_rows(before)

    def _crime_duty(self, kind: str, query: Select[Any]) -> Select[Any]:
        """One duty row (``domain.due.COLUMNS`` and the kind's rank) per row of ``query``,
        its due date and action worked out in SQL as ``domain.due.due_on`` and
        ``domain.due.action`` work them out."""
        # OFFSET 0: the rows are worked out once, then the expressions below read their
        # columns (merged into this select, each use of a column such as the last review
        # would run its correlated subquery again).
        needed = _USED[kind]
        query = query.with_only_columns(
            *(selected for selected in query.selected_columns if selected.name in needed)
        )
        r = query.order_by(None).offset(0).subquery(kind.replace("-", "_") + "_rows")
        c = r.c
        if kind == "review":
            every = c["limit"]
            interval_end = plus_days(func.coalesce(c.last_review, c.reported_on), every)
            due: Any = case(
                (and_(c.next_due.is_not(None), c.next_due < interval_end), c.next_due),
                else_=interval_end,
            )
            fields = {"basis": _basis(kind, c.last_review), "every": _plural(every, "day")}
        elif kind == "victim-update":
            every = c["limit"]
            due = plus_days(func.coalesce(c.last_update, c.reported_on), every)
            fields = {
                "basis": _basis(kind, c.last_update),
                "every": _plural(every, "day"),
                "agreed": case((c.agreed, AGREED[0]), else_=AGREED[1]),
            }
        elif kind == "notification":
            due = c.deadline
            fields = {
                "event": case(KEY_EVENTS, value=c.kind, else_=c.kind),
                "occurred_on": date_text(c.occurred_on),
                "working_days": _plural(c.working_days, "working day"),
                "service": case((c.victim_enhanced, SERVICE[0]), else_=SERVICE[1]),
            }
        elif kind == "referral":
            due = c.deadline
            fields = {"reported_on": date_text(c.reported_on)}
        elif kind == "unallocated":
            due = plus_days(c.since, c["limit"])
            fields = {"since": date_text(c.since)}
        else:
            raise ValueError(f"not a crime duty: {kind}")
        # The due date worked out once a row (OFFSET 0 again), then its days left.
        worked = (
            select(
                type_coerce(due, Date).label("due_on"),
                type_coerce(c.team, String).label("team"),
                type_coerce(c.collar, String).label("collar"),
                type_coerce(c.name, String).label("name"),
                type_coerce(c.reference, String).label("reference"),
                _sentence(ACTIONS[kind], fields).label("action"),
            )
            .offset(0)
            .subquery(kind.replace("-", "_") + "_due")
        )
        w = worked.c
        return select(
            literal(kind, String).label("kind"),
            w.due_on,
            self._days_left(w.due_on).label("days_left"),
            w.team,
            w.collar,
            w.name,
            w.reference,
            w.action,
            literal(KIND_ORDER[kind], Integer).label("kind_rank"),
        )

    def _days_left(self, due: Any) -> Any:
        """Days from the as-of day to ``due``, as SQL (on SQLite from the day's Julian day
        number, worked out here once, not parsed again for every row)."""
        if self.conn.dialect.name == "sqlite":
            julian = (self.day - date(1970, 1, 1)).days + 2440587.5
            return type_coerce(
                cast(func.julianday(due) - literal_column(repr(julian)), Integer), Integer
            )
        return type_coerce(days_between(date_literal(self.day), due), Integer)

    def _officer_branch(self, rows: list[dict[str, Any]]) -> Select[Any]:
        """The officers' duty rows as a ``VALUES`` list in the same columns."""
        listed = values(
            column("kind", String),
            column("due_on", Date),
            column("days_left", Integer),
            column("team", String),
            column("collar", String),
            column("name", String),
            column("action", String),
            column("kind_rank", Integer),
            name="officer_duties",
        ).data(
            [
                (
                    row["kind"],
                    row["due_on"],
                    row["days_left"],
                    row["team"],
                    row["collar"],
                    row["name"],
                    row["action"],
                    KIND_ORDER[row["kind"]],
                )
                for row in rows
            ]
        )
        v = listed.cte("officer_duties")
        return select(
            v.c.kind,
            v.c.due_on,
            v.c.days_left,
            v.c.team,
            v.c.collar,
            v.c.name,
            cast(null(), String).label("reference"),
            v.c.action,
            v.c.kind_rank,
        )

    # -- running --

    def _duties(self, *, shared: bool = False) -> tuple[Any, list[Any]]:
        """Every duty's row (the union of the kinds' queries, as a subquery, or with
        ``shared`` a CTE that one statement reads twice) and the expressions that order
        them as ``domain.due.ordered`` does."""
        branches = [
            self._crime_duty(kind, query)
            for kind, query in self.crime_queries()
            if query is not None
        ]
        officers = self.officer_duties()
        if officers:
            branches.append(self._officer_branch(officers))
        if not branches:  # pragma: no cover - review_rows always gives a query
            raise RuntimeError("no duty query")
        every = union_all(*branches) if len(branches) > 1 else branches[0]
        d = every.cte("duty") if shared else every.subquery("duty")
        binary = self._binary
        order = [
            d.c.due_on,
            d.c.kind_rank,
            self._team_order(d.c.team),
            binary(func.coalesce(d.c.collar, "~")),
            binary(func.coalesce(d.c.reference, "")),
            binary(d.c.action),
        ]
        return d, order

    def query(self, *, lines: bool = False) -> Select[Any]:
        """Every duty in the window or overdue (``domain.due.COLUMNS``), in the order of
        ``domain.due.ordered``. ``lines`` (SQLite, for ``cli.due``'s CSV writer: three
        strings a row instead of a Python object a cell): ``head``, kind, due date and days
        left joined by commas (CSV as it stands: none of them is ever quoted or
        neutralised); ``text``, team, collar, name and reference joined by
        ``store.executor.SEPARATOR`` (NULL as empty, ``sqlfunc.sqlite_line``), to be checked;
        and the action."""
        d, order = self._duties()
        cells = [d.c.kind, d.c.due_on, d.c.days_left, d.c.team, d.c.collar, d.c.name]
        cells.append(d.c.reference)
        if lines:
            cells = [
                sqlite_line(cells[:3], ",").label("head"),
                sqlite_line(cells[3:]).label("text"),
            ]
        return select(*cells, d.c.action).order_by(*order)

    def summary(self, listed: int) -> tuple[list[tuple[str, date, int]], list[dict[str, Any]]]:
        """How many duties of each kind fall due on each day (kind, due date, count), and
        the first ``listed`` duties in order, as ``rows`` gives them (the morning report's
        section). One statement: the duties are worked out once (a CTE read twice, which
        both databases materialise), grouped, and their first rows taken by ``LIMIT``;
        the two parts come back as one ``UNION ALL``, told apart by ``part``."""
        d, order = self._duties(shared=True)
        shown = (d.c.days_left, d.c.team, d.c.collar, d.c.name, d.c.reference, d.c.action)
        keys = [f"order_{i}" for i in range(len(order))]
        counted = select(
            literal(1).label("part"),
            d.c.kind,
            d.c.due_on,
            func.count().label("n"),
            *(null().label(c.name) for c in shown),
            *(null().label(key) for key in keys),
        ).group_by(d.c.kind, d.c.due_on)
        first = (
            select(
                literal(2).label("part"),
                d.c.kind,
                d.c.due_on,
                cast(null(), Integer).label("n"),  # typed: a bare NULL leaves a subquery as text
                *shown,
                *(expr.label(key) for expr, key in zip(order, keys, strict=True)),
            )
            .order_by(*order)
            .limit(listed)
            .subquery("first_duties")
        )
        both = union_all(counted, select(first)).order_by(
            literal_column("part"), *(literal_column(key) for key in keys)
        )
        counts: list[tuple[str, date, int]] = []
        rows: list[dict[str, Any]] = []
        columns = ("kind", "due_on", *(c.name for c in shown))
        for row in self.conn.execute(both).mappings():
            if row["part"] == 1:
                counts.append((row["kind"], row["due_on"], int(row["n"])))
            else:
                rows.append({key: row[key] for key in columns})
        return counts, rows

    def _binary(self, expr: Any) -> Any:
        """Text compared character by character, as Python compares it."""
        return expr.collate("C") if self.conn.dialect.name == "postgresql" else expr

    def _team_order(self, team: Any) -> Any:
        """The team's place in ``domain.team_key`` order, as SQL: the name lower-cased in
        SQL (ASCII letters only, on either database) where that sorts the store's teams
        as Python's lower-casing does (it does unless a name has other letters with a
        case), else the team's rank among them (a CASE over the names)."""
        names = [str(name) for (name,) in self.conn.execute(select(team_table.c.name))]
        if _ascii_lowering_agrees(names):
            return self._binary(func.lower(self._binary(team)))
        ranks: dict[str, int] = {}
        for name in sorted(names, key=team_key):
            ranks.setdefault(team_key(name), len(ranks))
        return case({name: ranks[team_key(name)] for name in names}, value=team, else_=len(ranks))

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every duty in the window or overdue, as dicts (``domain.due.COLUMNS``), in order."""
        result = self.conn.execution_options(yield_per=BATCH).execute(self.query())
        keys = list(result.keys())
        for batch in result.partitions():
            for row in batch:
                yield dict(zip(keys, row, strict=True))


# The columns of each audit query a crime duty reads (the others are left out).
_SHOWN = ("team", "collar", "name", "reference")
_USED: dict[str, frozenset[str]] = {
    "review": frozenset((*_SHOWN, "last_review", "reported_on", "next_due", "limit")),
    "victim-update": frozenset((*_SHOWN, "last_update", "reported_on", "limit", "agreed")),
    "notification": frozenset(
        (*_SHOWN, "deadline", "kind", "occurred_on", "working_days", "victim_enhanced")
    ),
    "referral": frozenset((*_SHOWN, "deadline", "reported_on")),
    "unallocated": frozenset((*_SHOWN, "since", "limit")),
}


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _ascii_lowering_agrees(names: list[str]) -> bool:
    """Whether lower-casing ASCII letters only (SQL's ``lower`` in byte order) orders and
    ties ``names`` exactly as ``domain.due.team_key`` does."""
    keyed = sorted((team_key(name), name.translate(_ASCII_LOWER)) for name in names)
    return all(
        (a[0] == b[0]) == (a[1] == b[1]) and a[1] <= b[1]
        for a, b in zip(keyed, keyed[1:], strict=False)
    )


def _plural(n: Any, word: str) -> Any:
    """``domain.due._plural`` in SQL: ``1 day``, ``28 days``."""
    return cast(n, String) + case((n == 1, " " + word), else_=" " + word + "s")


def _basis(kind: str, last: Any) -> Any:
    """``last 2026-03-05``, or the words for none yet."""
    return case((last.is_(None), NEVER[kind]), else_="last " + date_text(last))


def _sentence(template: str, fields: dict[str, Any]) -> Any:
    """``template`` (``domain.due.ACTIONS``) with its fields as SQL text, joined in SQL."""
    parts: list[Any] = []
    for text, name, _spec, _conversion in Formatter().parse(template):
        if text:
            parts.append(literal(text, String))
        if name is not None:
            parts.append(type_coerce(fields[name], String))
    sentence = parts[0]
    for part in parts[1:]:
        sentence = sentence + part
    return type_coerce(sentence, String)


def officer_id_for(conn: Connection, collar: str) -> tuple[int, str]:
    """The id and collar of the officer ``collar`` (any case); NotFound (exit 2) naming
    the nearest collar otherwise."""
    from caseload.domain.due import nearest_collar
    from caseload.errors import NotFound

    o = officer_table
    wanted = collar.strip().upper()
    row = conn.execute(select(o.c.id, o.c.collar).where(o.c.collar == wanted)).first()
    if row is not None:
        return int(row[0]), str(row[1])
    known = [str(c) for (c,) in conn.execute(select(o.c.collar))]
    raise NotFound.officer(wanted, nearest_collar(wanted, known))
