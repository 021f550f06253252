"""Values on SQLite: how a Python value is bound, and how the text SQLite gives back is read.

SQLite has no date or timestamp type: SQLAlchemy's SQLite ``Date`` stores ISO text and its
``DateTime`` a naive timestamp with microseconds always written (so stored values compare
correctly as text). Everything that binds or reads those values without SQLAlchemy's own
type processing goes through this module, so the store holds one format whichever way it
was written:

* the quick executor (``store.executor.SqliteExecutor``) binds its inputs with ``bind``;
* ``store.bulk``'s driver statements bind a compiled query's values with ``bind``;
* ``sqlfunc.one_of`` binds a key list as the JSON array ``json_each`` reads (``key_list``);
* the readers that take rows straight from the driver's cursor parse ISO text back with
  ``parse_date`` and ``parse_timestamp`` (a value SQLAlchemy already converted passes as
  it is);
* the quick executor's ``records`` reads each result column as its SQLAlchemy type would
  (``records``: the column kinds ``store.statements`` writes beside each statement).

No SQLAlchemy here: the quick path imports this module.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from datetime import date, datetime
from typing import Any

KEY_LISTS = (list, tuple, set, frozenset)


def timestamp(value: datetime) -> str:
    """A naive timestamp as SQLAlchemy's SQLite DateTime stores it (microseconds always
    written, so stored values compare correctly as text)."""
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}"
    )


def key_list(values: Collection[Any]) -> str:
    """A list of keys as the one JSON array ``sqlfunc.one_of`` binds."""
    return json.dumps(list(values))


def bind(value: Any) -> Any:
    """A value as SQLAlchemy binds it on SQLite: a timestamp or a date as the text its
    DateTime or Date type stores, a collection as a ``key_list``, anything else as it is."""
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, KEY_LISTS):
        return key_list(value)
    return value


def parse_date(value: Any) -> Any:
    """A date read from SQLite's cursor (ISO text) as a date; None or a date as it is."""
    return date.fromisoformat(value) if value.__class__ is str else value


def parse_timestamp(value: Any) -> Any:
    """A timestamp read from SQLite's cursor (ISO text) as a datetime; None or a datetime
    as it is."""
    return datetime.fromisoformat(value) if value.__class__ is str else value


def parse_bool(value: Any) -> Any:
    """A Boolean read from SQLite's cursor (0 or 1) as a bool; None as it is."""
    return None if value is None else bool(value)


# How a result column of each kind (``store.statements.column_kind``) is read back.
PARSERS: dict[str, Callable[[Any], Any]] = {
    "date": parse_date,
    "timestamp": parse_timestamp,
    "bool": parse_bool,
}


def records(
    columns: Sequence[Sequence[Any]], rows: Sequence[Sequence[Any]]
) -> list[dict[str, Any]]:
    """Rows from SQLite's cursor as dicts by column name, each value read as its
    SQLAlchemy type reads it; ``columns`` holds (name, kind) pairs, a kind of None
    meaning as it is (an int, text, NULL)."""
    names = [name for name, _ in columns]
    parsers = [(i, PARSERS[kind]) for i, (_, kind) in enumerate(columns) if kind is not None]
    found = []
    for row in rows:
        values = list(row)
        for i, parse in parsers:
            values[i] = parse(values[i])
        found.append(dict(zip(names, values, strict=True)))
    return found
