"""Bulk writes and reads that go straight to the database driver.

Inserts and updates hand every row to one executemany. ``raw_rows`` runs a Core
query on the driver's cursor and returns plain tuples, for large reads whose
columns need no conversion on SQLite (ints, text; dates as ISO text).

SQLAlchemy's per-row parameter processing costs several times the insert itself
on large imports and logs. Values are converted with each column type's own
bind processor for the connection's dialect, so they are stored exactly as Core
would store them (text that compares correctly on SQLite; native types on
PostgreSQL); a value seen twice in a batch (a shared timestamp) is converted once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import suppress
from datetime import date, datetime
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from caseload.store.sqlite_values import bind

if TYPE_CHECKING:  # the SQL text helpers serve the quick executor, without SQLAlchemy
    from sqlalchemy import Select, Table
    from sqlalchemy.engine import Connection

FETCH_BATCH = 5000  # rows per fetch from the driver's cursor


def placeholder(conn: Connection) -> str:
    """The driver's parameter marker: ``?`` for sqlite3, ``%s`` for psycopg."""
    return "%s" if conn.dialect.paramstyle in ("format", "pyformat") else "?"


def _processor(conn: Connection, table: Table, name: str) -> Callable[[Any], Any] | None:
    return converter(conn, table.c[name].type)


def converter(conn: Connection, column_type: Any) -> Callable[[Any], Any] | None:
    """The type's bind processor for this dialect, remembering each value's result (a
    batch shares few distinct dates and times: each is converted once); None when the
    driver takes the values as they are."""
    process = column_type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    if process is None:
        return None
    cache: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        if value is None:
            return None
        found = cache.get(value)
        if found is None:
            if len(cache) > 10_000:
                cache.clear()
            found = cache[value] = process(value)
        return found

    return convert


def _params(
    conn: Connection, table: Table, names: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> list[tuple[Any, ...]]:
    """The rows' values in ``names`` order, converted column by column (``map`` over a
    column is several times cheaper than a generator over every cell of every row)."""
    pick = itemgetter(*names)
    values = [pick(row) for row in rows] if len(names) > 1 else [(pick(row),) for row in rows]
    converters = [_processor(conn, table, name) for name in names]
    if all(convert is None for convert in converters):
        return values
    columns = [
        column if convert is None else list(map(convert, column))
        for column, convert in zip(zip(*values, strict=True), converters, strict=True)
    ]
    return list(zip(*columns, strict=True))


def insert_sql(table: str, columns: Sequence[str], mark: str) -> str:
    """``INSERT INTO table (columns) VALUES (mark, ...)`` for the driver."""
    names = ", ".join(f'"{name}"' for name in columns)
    return f'INSERT INTO "{table}" ({names}) VALUES ({", ".join(mark for _ in columns)})'


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows (dicts with the same keys) with one driver-level executemany, or on
    PostgreSQL through psycopg one ``COPY ... FROM STDIN`` (``copies_into``)."""
    if not rows:
        return
    columns = list(rows[0])
    params = _params(conn, table, columns, rows)
    if copies_into(conn, table.name):
        copy_in(conn, table.name, columns, params)
        return
    conn.exec_driver_sql(insert_sql(table.name, columns, placeholder(conn)), params)


def copies_into(conn: Connection, table: str) -> bool:
    """Whether ``insert_rows`` writes into ``table`` with COPY: PostgreSQL on psycopg, and
    no row-level security applies to this login there (PostgreSQL refuses COPY FROM into
    such a table; a supervisor's writes into the team-scoped tables stay INSERTs, checked
    row by row by the policies). Asked once per table and connection."""
    dialect = conn.dialect
    if dialect.name != "postgresql" or dialect.driver != "psycopg":
        return False
    known: dict[str, bool] = conn.info.setdefault("caseload_copies_into", {})
    if table not in known:
        secured = conn.exec_driver_sql("SELECT row_security_active(%s)", (table,)).scalar()
        known[table] = not secured
    return known[table]


# Kept: through executemany instead, importing 200,000 crimes on PostgreSQL takes 37.3 s, not
# 23.1 s (benchmarks/RESULTS.md).
def copy_in(
    conn: Connection, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """``rows`` (values already converted by ``_params``) into ``table`` with
    ``COPY table (columns) FROM STDIN`` on the connection's own psycopg cursor, in its
    transaction. A database error is raised as SQLAlchemy's, as an INSERT's would be (a
    refused login: ``store.access.refusal``)."""
    from sqlalchemy.exc import DBAPIError

    names = ", ".join(f'"{name}"' for name in columns)
    sql = f'COPY "{table}" ({names}) FROM STDIN'
    driver = conn.connection.driver_connection
    error = conn.dialect.loaded_dbapi.Error
    try:
        with driver.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
    except error as exc:
        raise DBAPIError.instance(sql, None, exc, error) from None


def update_rows(
    conn: Connection, table: Table, key: str, rows: Sequence[Mapping[str, Any]]
) -> None:
    """``UPDATE table SET ... WHERE key = ?`` for rows (dicts with the same keys, ``key``
    among them), with one driver-level executemany, values converted as ``insert_rows``."""
    if not rows:
        return
    columns = [name for name in rows[0] if name != key]
    params = _params(conn, table, [*columns, key], rows)
    mark = placeholder(conn)
    sets = ", ".join(f'"{name}" = {mark}' for name in columns)
    conn.exec_driver_sql(f'UPDATE "{table.name}" SET {sets} WHERE "{key}" = {mark}', params)


def driver_statement(conn: Connection, query: Select[Any]) -> tuple[str, Any] | None:
    """SQL and driver parameters for the raw cursor (SQLite). A date or a timestamp is
    bound as the text SQLAlchemy's SQLite Date and DateTime types store
    (``sqlite_values.bind``); None when a
    bound value is anything else but a plain int or str (the driver might bind it
    differently)."""
    # render_postcompile: an IN list becomes one bound value per item
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = {}
    for name, value in compiled.construct_params().items():
        params[name] = bind(value) if type(value) in (date, datetime) else value
    if any(type(value) not in (int, str) for value in params.values()):
        return None
    positions = compiled.positiontup
    return str(compiled), [params[name] for name in positions] if positions is not None else params


def driver_batches(
    conn: Connection, statement: tuple[str, Any], size: int
) -> Iterator[list[tuple[Any, ...]]]:
    """A ``driver_statement``'s rows, ``size`` at a time, from the driver's own cursor."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(*statement)
        while batch := cursor.fetchmany(size):
            yield batch
    finally:
        # A reader interrupted mid-stream may close its connection before this
        # generator is collected; the cursor then went with it.
        with suppress(conn.dialect.loaded_dbapi.Error):
            cursor.close()


def raw_rows(conn: Connection, query: Select[Any]) -> list[tuple[Any, ...]]:
    """The query's rows as plain tuples: from the driver's cursor on SQLite (no
    SQLAlchemy row objects or result processing: a Boolean is 0/1, a date its ISO
    text), through SQLAlchemy elsewhere (native values)."""
    statement = driver_statement(conn, query) if conn.dialect.name == "sqlite" else None
    if statement is None:
        return [tuple(row) for row in conn.execute(query)]
    return [row for batch in driver_batches(conn, statement, FETCH_BATCH) for row in batch]
