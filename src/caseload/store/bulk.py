"""Bulk inserts that hand rows straight to the database driver in one executemany.

SQLAlchemy's per-row parameter processing costs several times the insert itself
on large imports and logs. Values are converted with each column type's own
bind processor for the connection's dialect, so they are stored exactly as Core
would store them (text that compares correctly on SQLite; native types on
PostgreSQL); a value seen twice in a batch (a shared timestamp) is converted once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection


def placeholder(conn: Connection) -> str:
    """The driver's parameter marker: ``?`` for sqlite3, ``%s`` for psycopg."""
    return "%s" if conn.dialect.paramstyle in ("format", "pyformat") else "?"


def _processor(conn: Connection, table: Table, name: str) -> Callable[[Any], Any] | None:
    column_type = table.c[name].type
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


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows (dicts with the same keys) with one driver-level executemany."""
    if not rows:
        return
    columns = list(rows[0])
    params = _params(conn, table, columns, rows)
    mark = placeholder(conn)
    names = ", ".join(f'"{name}"' for name in columns)
    marks = ", ".join(mark for _ in columns)
    conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', params)


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
