"""Export queries: crimes (now or as of a day), allocation history, and streaming.

Each export is one Core query streamed from the cursor in batches
(``yield_per``), so exporting the whole store never holds it in memory. The
crimes export uses the import columns (``store.crimes.CRIME_COLUMNS``) so that
``caseload import crimes`` reads it back; as of a past day it gives the holder
and finalised state of that day, rebuilt from the allocation and finalisation
intervals. ``workload`` reuses the workload report's own query
(``store.workload``) and ``findings`` the audit's (``store.audit``).

How the rows leave the store is one choice, ``export_rows``, made by what the store can
do (``capability``): PostgreSQL on psycopg writes the CSV itself (``COPY (query) TO
STDOUT``, each cell rendered in SQL as ``cli.output.csv_cell`` writes it: ``CopyRows``);
SQLite hands over its raw cursor (``RawRows``) or, for crimes, whole rows joined in SQL
(``LineSource``); anything else streams SQLAlchemy's rows as dicts (``stream``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import suppress
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.engine import Connection

from caseload.domain.values import end_of_day
from caseload.store.bulk import driver_batches, driver_statement
from caseload.store.crimes import CRIME_COLUMNS, crime_columns, crime_rows
from caseload.store.executor import RAW_BATCH, SEPARATOR, JoinedLines, RawRows
from caseload.store.holdings import finalised_by, open_at, still_open_at
from caseload.store.models import (
    allocation_table,
    crime_table,
    finalisation_table,
    officer_table,
    team_table,
)
from caseload.store.risk import grade_at
from caseload.store.sqlfunc import sqlite_line

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
    "CopyRows",
    "LineSource",
    "RawRows",
    "capability",
    "copy_rows",
    "crime_lines",
    "crimes_query",
    "export_rows",
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


def count_query(query: Select[Any]) -> Select[Any]:
    """How many rows ``query`` gives, as one query."""
    return select(func.count()).select_from(query.order_by(None).subquery())


def count(conn: Connection, query: Select[Any]) -> int:
    return int(conn.execute(count_query(query)).scalar_one())


def stream(conn: Connection, query: Select[Any]) -> Iterator[dict[str, Any]]:
    """The query's rows as dicts, fetched from the cursor ``BATCH`` at a time."""
    result = conn.execution_options(yield_per=BATCH).execute(query)
    keys = list(result.keys())  # once: row._mapping rebuilds its key view on every row
    for row in result:
        yield dict(zip(keys, row, strict=True))


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
    read = cursor_reads(conn.dialect.name, query)
    if read is None:
        return None
    compiled = driver_statement(conn, read)
    return None if compiled is None else _fetch(conn, *compiled)


def driver_cells(dialect: str, query: Select[Any]) -> list[Any] | None:
    """The query's columns as the raw cursor paths read them on SQLite (``dialect``): a
    Boolean as 'yes'/'no' text (NULL stays NULL). None where those paths do not apply:
    another database, or a DateTime column, whose stored text differs from its display."""
    from sqlalchemy import Boolean, DateTime, case

    if dialect != "sqlite":
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


def cursor_reads(dialect: str, query: Select[Any]) -> Select[Any] | None:
    """``query`` with its columns as the raw cursor paths read them (``driver_cells``), or
    None where those paths do not apply."""
    cells = driver_cells(dialect, query)
    return None if cells is None else query.with_only_columns(*cells)


# --- whole rows joined by SQLite --------------------------------------------------------


class LineSource(JoinedLines):
    """A crimes export as ``JoinedLines`` read through a SQLAlchemy connection on SQLite:
    the lines from the driver's cursor, a batch's cells from the same query limited to the
    batch's key range."""

    def __init__(self, conn: Connection, query: Select[Any], key: Any, sql: str, params: Any):
        self._conn = conn
        self._query = query
        self._key = key
        self._sql = sql
        self._params = params
        self.width = len(query.selected_columns)

    @property
    def batches(self) -> Iterator[list[Any]]:
        return _fetch(self._conn, self._sql, self._params)

    def rows(self, first: Any, last: Any) -> list[tuple[Any, ...]]:
        """The cells of the rows with keys ``first``..``last``, as ``row_batches`` gives them."""
        batches = row_batches(self._conn, key_range(self._query, self._key, first, last))
        if batches is None:  # pragma: no cover - line_source checked the same conditions
            raise RuntimeError("the raw cursor path does not apply")
        return [row for batch in batches for row in batch]


def key_range(query: Select[Any], key: Any, first: Any, last: Any) -> Select[Any]:
    """``query`` limited to the rows whose ``key`` is ``first``..``last`` (values or bound
    parameters): the cells of one batch of joined lines."""
    return query.where(key >= first, key <= last)


# Kept: with cursor tuples instead, a crimes export takes 1.22x the CPU.
def crime_lines(conn: Connection, query: Select[Any]) -> LineSource | None:
    """``crimes_query`` (ordered by crime id) as joined lines; None off SQLite."""
    return _line_source(conn, query, crime_table.c.id)


def joined(dialect: str, query: Select[Any], key: Any) -> Select[Any] | None:
    """``query`` as (key, line) rows, each row's cells joined by SQLite (``JoinedLines``);
    None off SQLite."""
    columns = driver_cells(dialect, query)
    if columns is None:
        return None
    return query.with_only_columns(key, sqlite_line(columns).label("line"))


def _line_source(conn: Connection, query: Select[Any], key: Any) -> LineSource | None:
    lines = joined(conn.dialect.name, query, key)
    if lines is None:
        return None
    compiled = driver_statement(conn, lines)
    if compiled is None or driver_statement(conn, query) is None:
        return None
    return LineSource(conn, query, key, *compiled)


def _fetch(conn: Connection, sql: str, params: Any) -> Iterator[list[Any]]:
    """Every raw export read, ``RAW_BATCH`` rows at a time (the one place the tests
    interrupt or slow an export's cursor): a ``COPY ... TO STDOUT`` statement's lines
    (``CopyRows``), else the driver cursor's tuples."""
    if sql.startswith("COPY "):
        return _copy_batches(conn, sql, params, RAW_BATCH)
    return driver_batches(conn, (sql, params), RAW_BATCH)


# --- the one choice -----------------------------------------------------------------------


def capability(conn: Connection) -> str:
    """How an export's rows can leave this store fastest: ``"copy"`` (PostgreSQL on
    psycopg: the server writes the CSV, ``COPY ... TO STDOUT``), ``"cursor"`` (SQLite: the
    driver's raw cursor), ``"rows"`` (SQLAlchemy's rows: any other database or driver)."""
    dialect = conn.dialect
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        return "copy"
    return "cursor" if dialect.name == "sqlite" else "rows"


# Kept: through SQLAlchemy's rows instead, a crimes export on PostgreSQL takes 7.5x psql's
# \copy (issue 21); see benchmarks/RESULTS.md.
def export_rows(
    conn: Connection,
    query: Select[Any],
    columns: Sequence[str] | None = None,
    *,
    lines: bool = False,
    copy: bool = True,
) -> CopyRows | LineSource | RawRows | Iterator[dict[str, Any]]:
    """An export's rows for ``cli.csv_writer.write_rows``, in ``columns`` (default: the
    query's own), read the fastest way the store allows (``capability``): the one place
    that chooses. ``lines``: the query is ``crimes_query`` (ordered by crime id), whose
    rows SQLite may join itself (``crime_lines``). ``copy=False``: the caller reads each
    row's cells, so PostgreSQL's own CSV lines (``CopyRows``) will not do.

    A faster path that does not apply (a column COPY cannot render as the writer would,
    SQLite's raw cursor and a bound value it might store differently, columns selected
    in another order than written) falls back to the next, and in the end to ``stream``."""
    names = [column.name for column in query.selected_columns]
    wanted = list(columns) if columns is not None else names
    kind = capability(conn)
    if kind == "copy" and copy:
        copied = copy_rows(conn, query, wanted)
        if copied is not None:
            return copied
    elif kind == "cursor" and names == wanted:
        joined = crime_lines(conn, query) if lines else None
        if joined is not None:  # SQLite joins each row's cells: one string per row
            return joined
        batches = row_batches(conn, query)
        if batches is not None:  # the raw cursor: millions of rows without row objects
            return RawRows(batches, text_positions(query))
    return stream(conn, query)


# --- COPY (query) TO STDOUT on PostgreSQL -------------------------------------------------


class CopyRows:
    """An export written by PostgreSQL itself: ``COPY (query) TO STDOUT WITH (FORMAT csv)``
    over the query with each cell rendered in SQL as ``cli.output.csv_cell`` writes it
    (``_copy_cell``), so Python only passes the server's lines on. ``batches`` yields
    lists of lines, each one row's bytes ending in ``\n`` as the server sent it, in
    ``encoding`` (the connection's client encoding, a Python codec name).

    The server quotes a cell holding a comma, quote, CR or LF, as the csv module does
    (it also quotes a lone CR, which the module does not when its line ends in LF only),
    so the writer passes a line without a quote through as it is and re-writes the rare
    line with one through the csv module."""

    def __init__(self, conn: Connection, sql: str, params: Any, encoding: str) -> None:
        self._conn = conn
        self._sql = sql
        self._params = params
        self.encoding = encoding

    @property
    def batches(self) -> Iterator[list[Any]]:
        return _fetch(self._conn, self._sql, self._params)


def copy_rows(conn: Connection, query: Select[Any], columns: Sequence[str]) -> CopyRows | None:
    """``query``'s rows in ``columns`` as PostgreSQL's COPY writes them (``CopyRows``), or
    None where that cannot give what the writer gives: another database or driver, a
    column it does not select, or one whose type is not text, integer, date, timestamp
    or boolean (a number with a fraction, say: ``csv_cell`` formats it in Python)."""
    if capability(conn) != "copy":
        return None
    driver: Any = conn.connection.driver_connection
    # A date as text is ISO under the ISO date style (the default; psycopg reads it too):
    # a plain cast, where to_char() costs a third of the query.
    iso = (driver.info.parameter_status("DateStyle") or "").upper().startswith("ISO")
    by_name = {column.name: column for column in query.selected_columns}
    cells = []
    for name in columns:
        column = by_name.get(name)
        cell = None if column is None else _copy_cell(column, iso_dates=iso)
        if cell is None:
            return None
        cells.append(cell.label(name))
    # render_postcompile: an IN list becomes one bound value per item
    compiled = query.with_only_columns(*cells).compile(
        dialect=conn.dialect, compile_kwargs={"render_postcompile": True}
    )
    processors: Any = compiled._bind_processors  # as SQLAlchemy itself binds them
    params = {
        key: processors[key](value) if key in processors else value
        for key, value in compiled.construct_params().items()
    }
    sql = f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv)"
    return CopyRows(conn, sql, params, driver.info.encoding)


def _copy_cell(column: Any, *, iso_dates: bool) -> Any:
    """SQL giving ``column``'s cell as ``csv_cell`` writes it, for PostgreSQL, or None for
    a type it does not cover. Text neutralised for spreadsheets (``cli.output.neutralise``:
    the neutraliser before a formula character, or before a neutraliser that one
    precedes); a date ``YYYY-MM-DD`` and a timestamp ``YYYY-MM-DD HH:MM:SS`` (fractions
    of a second cut off, as ``isoformat(timespec="seconds")`` does); a boolean yes/no;
    an integer as it is. An empty text becomes NULL, which COPY writes as an empty cell,
    as the csv module writes both None and '': COPY would quote it (``""``), sending the
    line through the writer's slower re-quoting. ``iso_dates``: the session's date style
    writes ISO dates, so a cast to text gives them."""
    from sqlalchemy import (
        Boolean,
        Date,
        DateTime,
        Integer,
        String,
        Text,
        and_,
        case,
        cast,
        literal,
        or_,
    )
    from sqlalchemy.sql.elements import Label

    from caseload.cli.output import FORMULA_PREFIXES, NEUTRALISER

    value = column.element if isinstance(column, Label) else column
    kind = getattr(value.type, "impl_instance", value.type)
    if isinstance(kind, Boolean):
        return case((value.is_(None), None), (value, "yes"), else_="no")
    if isinstance(kind, DateTime):
        if iso_dates:
            return cast(func.date_trunc("second", value), Text)
        return func.to_char(value, "YYYY-MM-DD HH24:MI:SS")
    if isinstance(kind, Date):
        return cast(value, Text) if iso_dates else func.to_char(value, "YYYY-MM-DD")
    if isinstance(kind, Integer):
        return value
    if not isinstance(kind, String):
        return None
    # By code point (ascii() gives the first character's): far cheaper than substr().
    risky = [ord(first) for first in (*FORMULA_PREFIXES, NEUTRALISER)]
    first = func.ascii(value)
    runs = and_(
        first.in_(risky),
        or_(first != ord(NEUTRALISER), func.ascii(func.substr(value, 2)).in_(risky)),
    )
    shown = case((runs, literal(NEUTRALISER, String).op("||")(value)), else_=value)
    return func.nullif(shown, "")


def _copy_batches(conn: Connection, sql: str, params: Any, size: int) -> Iterator[list[Any]]:
    """A COPY ... TO STDOUT statement's lines (one row each), ``size`` at a time, from
    psycopg's ``Cursor.copy`` (its parameters bound client-side by psycopg).

    Close the iterator before the transaction ends (``cli.csv_writer`` does): psycopg
    holds the connection's lock for the whole copy block, so one left suspended there
    would make the rollback of an interrupted export wait for ever. Closing it cancels
    the rest of the copy."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(sql, params) as copy:
            batch: list[Any] = []
            for line in copy:
                batch.append(line)
                if len(batch) == size:
                    yield batch
                    batch = []
            if batch:
                yield batch
    finally:
        with suppress(conn.dialect.loaded_dbapi.Error):
            cursor.close()
