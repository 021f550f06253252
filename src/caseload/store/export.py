"""Export queries: crimes (now or as of a day), allocation history, and streaming.

Each export is one Core query streamed from the cursor in batches
(``yield_per``), so exporting the whole store never holds it in memory. The
crimes export uses the import columns (``store.crimes.CRIME_COLUMNS``) so that
``caseload import crimes`` reads it back; as of a past day it gives the holder
and finalised state of that day, rebuilt from the allocation and finalisation
intervals. ``workload`` reuses the workload report's own query
(``store.workload``) and ``findings`` the audit's (``store.audit``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.engine import Connection

from caseload.store.bulk import driver_batches, driver_statement
from caseload.store.crimes import CRIME_COLUMNS, crime_columns, crime_rows
from caseload.store.holdings import end_of_day, finalised_by, open_at, still_open_at
from caseload.store.models import (
    allocation_table,
    crime_table,
    finalisation_table,
    officer_table,
    team_table,
)
from caseload.store.risk import grade_at

BATCH = 2000

# The history import's columns first (reference .. reason), then what only export shows.
HISTORY_COLUMNS: tuple[str, ...] = (
    "reference",
    "holder",
    "from",
    "to",
    "actor",
    "reason",
    "team",
    "warnings",
    "override_reason",
    "ended_by",
    "end_reason",
    "login",
)

__all__ = [
    "CRIME_COLUMNS",
    "HISTORY_COLUMNS",
    "SEPARATOR",
    "LineSource",
    "crime_lines",
    "crimes_query",
    "history_query",
    "row_batches",
    "stream",
    "text_positions",
]


def crimes_query(*, as_of: date | None = None, team_id: int | None = None) -> Select[Any]:
    """Crimes in the import columns, in the order they were recorded; as they were at the
    end of ``as_of`` when given (reported by then, that day's holder and finalised state).

    Record order is the table's own order, so the whole store streams without a sort
    (sorting 1M rows by report date cost more than writing them; an analyst sorts in
    the spreadsheet). Crimes recorded as they are reported come oldest first anyway."""
    c = crime_table
    if as_of is None:
        query = crime_rows()
    else:
        end = end_of_day(as_of)
        a, f, o, t = allocation_table, finalisation_table, officer_table, team_table
        query = (
            select(
                *crime_columns(
                    finalised_on=f.c.finalised_on,
                    outcome=f.c.outcome,
                    risk=grade_at(c.c.id, end),
                )
            )
            .select_from(c)
            .join(t, t.c.id == c.c.team_id)
            .outerjoin(a, and_(a.c.crime_id == c.c.id, open_at(end)))
            .outerjoin(o, o.c.id == a.c.officer_id)
            .outerjoin(f, and_(f.c.crime_id == c.c.id, finalised_by(as_of)))
            .where(c.c.reported_on <= as_of)
        )
    if team_id is not None:
        query = query.where(c.c.team_id == team_id)
    return query.order_by(c.c.id)


def history_query(*, as_of: date | None = None, team_id: int | None = None) -> Select[Any]:
    """Every allocation interval, crime by crime in time order. As of a day: the
    intervals begun by its end, an interval ended later shown as still open."""
    a, c, o, t = allocation_table, crime_table, officer_table, team_table
    end_at: Any = a.c.end_at
    ended_by: Any = a.c.ended_by
    end_reason: Any = a.c.end_reason
    if as_of is not None:
        from sqlalchemy import case, null

        end = end_of_day(as_of)
        still_open = still_open_at(end)
        end_at = case((still_open, null()), else_=a.c.end_at)
        ended_by = case((still_open, null()), else_=a.c.ended_by)
        end_reason = case((still_open, null()), else_=a.c.end_reason)
    query = (
        select(
            c.c.reference,
            t.c.name.label("team"),
            o.c.collar.label("holder"),
            a.c.start_at.label("from"),
            end_at.label("to"),
            a.c.actor,
            a.c.reason,
            a.c.warnings,
            a.c.override_reason,
            ended_by.label("ended_by"),
            end_reason.label("end_reason"),
            a.c.login,
        )
        .select_from(a)
        .join(c, c.c.id == a.c.crime_id)
        .join(t, t.c.id == c.c.team_id)
        .join(o, o.c.id == a.c.officer_id)
    )
    if as_of is not None:
        query = query.where(a.c.start_at < end_of_day(as_of))
    if team_id is not None:
        query = query.where(c.c.team_id == team_id)
    return query.order_by(c.c.reference, a.c.start_at, a.c.id)


def count(conn: Connection, query: Select[Any]) -> int:
    inner = query.order_by(None).subquery()
    return int(conn.execute(select(func.count()).select_from(inner)).scalar_one())


def stream(conn: Connection, query: Select[Any]) -> Iterator[dict[str, Any]]:
    """The query's rows as dicts, fetched from the cursor ``BATCH`` at a time."""
    result = conn.execution_options(yield_per=BATCH).execute(query)
    keys = list(result.keys())  # once: row._mapping rebuilds its key view on every row
    for row in result:
        yield dict(zip(keys, row, strict=True))


RAW_BATCH = 5000


def text_positions(query: Select[Any]) -> list[int]:
    """Positions of the query's columns that may hold text: all but the integer,
    date and boolean ones (a TypeDecorator is unwrapped to its implementation)."""
    from sqlalchemy import Boolean, Date, Integer

    positions = []
    for i, column in enumerate(query.selected_columns):
        kind = getattr(column.type, "impl_instance", column.type)
        if not isinstance(kind, Integer | Date | Boolean):
            positions.append(i)
    return positions


# Kept: through SQLAlchemy's rows instead, a whole-force workload CSV takes 1.17x the CPU
# and a crimes export 2.5x.
def row_batches(conn: Connection, query: Select[Any]) -> Iterator[list[tuple[Any, ...]]] | None:
    """The query's rows as plain tuples, ``RAW_BATCH`` at a time, straight from the
    DBAPI cursor, without SQLAlchemy's row processing: on SQLite dates come back as
    their stored ISO text, and Boolean columns are turned into 'yes'/'no' in SQL.

    ``None`` when this fast path does not apply (not SQLite, a DateTime column whose
    stored text differs from the display format, or a bound value the driver might
    store differently than SQLAlchemy does): the caller then uses ``stream``."""
    cells = _driver_cells(conn, query)
    if cells is None:
        return None
    compiled = driver_statement(conn, query.with_only_columns(*cells))
    return None if compiled is None else _fetch(conn, *compiled)


def _driver_cells(conn: Connection, query: Select[Any]) -> list[Any] | None:
    """The query's columns as the raw cursor paths read them on SQLite: a Boolean as
    'yes'/'no' text (NULL stays NULL). None where those paths do not apply: another
    database, or a DateTime column, whose stored text differs from its display."""
    from sqlalchemy import Boolean, DateTime, case

    if conn.dialect.name != "sqlite":
        return None
    columns = list(query.selected_columns)
    if any(isinstance(column.type, DateTime) for column in columns):
        return None
    return [
        case((column.is_(None), None), (column, "yes"), else_="no").label(column.name)
        if isinstance(column.type, Boolean)
        else column
        for column in columns
    ]


# --- whole rows joined by SQLite --------------------------------------------------------

SEPARATOR = "\x1f"  # ASCII unit separator: between the cells of a row joined in SQL


class LineSource:
    """A crimes export as one string per row, its cells joined by SQLite itself
    (``cell || SEPARATOR || cell ...``, NULL as empty, Boolean as yes/no): Python
    then handles a million strings instead of nine million cells. The writer checks
    each batch in one pass and, for a batch it cannot pass through as it is (a cell
    that needs quoting or neutralising, or holds the separator), asks ``rows`` for
    that batch's cells: the same query limited to the batch's key range.

    ``batches`` yields lists of ``(key, line)``, in key order."""

    def __init__(self, conn: Connection, query: Select[Any], key: Any, sql: str, params: Any):
        self._conn = conn
        self._query = query
        self._key = key
        self._sql = sql
        self._params = params
        self.width = len(query.selected_columns)

    @property
    def batches(self) -> Iterator[list[tuple[Any, str]]]:
        return _fetch(self._conn, self._sql, self._params)

    def rows(self, first: Any, last: Any) -> list[tuple[Any, ...]]:
        """The cells of the rows with keys ``first``..``last``, as ``row_batches`` gives them."""
        key = self._key
        batches = row_batches(self._conn, self._query.where(key >= first, key <= last))
        if batches is None:  # pragma: no cover - line_source checked the same conditions
            raise RuntimeError("the raw cursor path does not apply")
        return [row for batch in batches for row in batch]


# Kept: with cursor tuples instead, a crimes export takes 1.22x the CPU.
def crime_lines(conn: Connection, query: Select[Any]) -> LineSource | None:
    """``crimes_query`` (ordered by crime id) as joined lines; None off SQLite."""
    return _line_source(conn, query, crime_table.c.id)


def _line_source(conn: Connection, query: Select[Any], key: Any) -> LineSource | None:
    from sqlalchemy import literal

    columns = _driver_cells(conn, query)
    if columns is None:
        return None
    cells = [func.coalesce(column, "") for column in columns]  # NULL as an empty cell
    line: Any = cells[0]
    for cell in cells[1:]:
        line = line.op("||")(literal(SEPARATOR)).op("||")(cell)
    lines = query.with_only_columns(key, line.label("line"))
    compiled = driver_statement(conn, lines)
    if compiled is None or driver_statement(conn, query) is None:
        return None
    return LineSource(conn, query, key, *compiled)


def _fetch(conn: Connection, sql: str, params: Any) -> Iterator[list[tuple[Any, ...]]]:
    """Every raw export read, ``RAW_BATCH`` rows at a time (the one place the tests
    interrupt or slow an export's cursor)."""
    return driver_batches(conn, (sql, params), RAW_BATCH)
