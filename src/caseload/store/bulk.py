"""Bulk inserts that hand rows straight to the database driver in one executemany.

SQLAlchemy's per-row parameter processing costs several times the insert itself
on large imports and logs. Values are converted with each column type's own
bind processor for the connection's dialect, so they are stored exactly as Core
would store them (text that compares correctly on SQLite; native types on
PostgreSQL); a value seen twice in a batch (a shared timestamp) is converted once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows (dicts with the same keys) with one driver-level executemany."""
    if not rows:
        return
    columns = list(rows[0])
    converters = [(name, _processor(conn, table, name)) for name in columns]
    if all(convert is None for _, convert in converters):
        params = [tuple(row[name] for name in columns) for row in rows]
    else:
        params = [
            tuple(
                row[name] if convert is None else convert(row[name]) for name, convert in converters
            )
            for row in rows
        ]
    mark = placeholder(conn)
    names = ", ".join(f'"{name}"' for name in columns)
    marks = ", ".join(mark for _ in columns)
    conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', params)
