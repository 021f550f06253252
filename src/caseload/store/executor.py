"""Executors: the one small interface the store's quick operations are written against.

An operation that touches a handful of rows (one allocation, one officer's workload, a
team's plan, appending to the decision log) is written once, against ``Executor``: it
runs named statements (``store.statements``) and hands rows to ``executemany``. Two
executors serve it:

* ``SqliteExecutor``: Python's ``sqlite3`` on a SQLite store already at this version's
  schema, running the statements' SQLite text compiled ahead (``precompiled.json``).
  Such a command's time is start-up, and importing SQLAlchemy is most of it, so this
  executor never imports SQLAlchemy. It opens the store as ``store.connection`` does: the
  same busy timeout and pragmas, BEGIN IMMEDIATE for a write (DEFERRED for a read), and
  the same refusal of a damaged file.
* ``SqlAlchemyExecutor``: a SQLAlchemy Connection inside ``Store.read``/``Store.write``,
  building the same named statements for the connection's dialect (PostgreSQL, a store
  that must be upgraded or explained first, ``CASELOAD_DIRECT=0``).

Values on SQLite are bound and read back by ``store.sqlite_values`` either way.
``open_executor`` makes the choice: the quick executor where it can serve, else the
full store's. tests/test_direct.py holds the two to the same results.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from caseload import interrupts
from caseload.store import sqlite_values
from caseload.store.bulk import insert_sql
from caseload.store.connection import (
    BUSY_TIMEOUT_SECONDS,
    SQLITE_PRAGMAS,
    STATEMENT_CACHE,
    refuse_if_damaged,
    store_trouble,
    unusable,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from caseload.store.connection import Store


class Executor(Protocol):
    """Named statements and driver-level writes inside one transaction."""

    dialect: str  # "sqlite" or "postgresql"
    placeholder: str  # the driver's parameter marker in ``executemany``'s SQL

    def rows(self, name: str, **inputs: Any) -> Sequence[Sequence[Any]]:
        """The named statement's rows, its inputs bound by name."""
        ...

    def first(self, name: str, **inputs: Any) -> Sequence[Any] | None: ...

    def records(self, name: str, **inputs: Any) -> list[dict[str, Any]]:
        """The named statement's rows as dicts by column name, values as SQLAlchemy's
        types give them (a date, a timestamp, a bool), whichever the executor."""
        ...

    def bind(self, value: Any) -> Any:
        """A value (a timestamp) as the driver must be given it to store it as Core does."""
        ...

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """Driver SQL (``placeholder`` marks) run once per row; values already bound."""
        ...

    def insert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert rows (dicts with the same keys) into ``table``, values bound."""
        ...

    def write_lock(self) -> None:
        """Take the store's write lock if the transaction does not hold it already."""
        ...

    def advance_ids(self, table: str, last_id: int) -> None:
        """Keep ``table``'s id sequence ahead of explicit ids written up to ``last_id``."""
        ...

    def login(self) -> str:
        """Who is acting (``store.identity``): PostgreSQL's ``session_user``, on SQLite
        the operating-system user."""
        ...


# --- Python's sqlite3, statements compiled ahead ----------------------------------------------

# The named statements' SQLite text, written by ``store.statements`` (``python -m
# caseload.store.statements``); read here without importing the queries they come from.
PRECOMPILED = Path(__file__).with_name("precompiled.json")

_precompiled: dict[str, dict[str, Any]] | None = None


def _statement(name: str) -> dict[str, Any]:
    """The named statement's entry in ``precompiled.json``: its SQLite text, constants
    and result columns."""
    global _precompiled
    if _precompiled is None:
        _precompiled = json.loads(PRECOMPILED.read_text(encoding="utf-8"))
    return _precompiled[name]


# How many rows a raw cursor read hands over at a time (exports, whole-force listings).
RAW_BATCH = 5000


def _fetch(cursor: sqlite3.Cursor) -> Iterator[list[tuple[Any, ...]]]:
    """Every raw read of the quick executor, ``RAW_BATCH`` rows at a time (the one place
    the tests interrupt or slow its cursor, as ``store.export._fetch`` is the full path's)."""
    try:
        while batch := cursor.fetchmany(RAW_BATCH):
            yield batch
    finally:
        cursor.close()


class RawRows:
    """Batches of plain tuples straight from a driver's cursor, in the columns' order (an
    export's rows, ``SqliteExecutor.raw_rows``); ``text``: the positions of the columns
    that may hold text, which the CSV writer checks (``cli.csv_writer.write_raw``)."""

    def __init__(self, batches: Iterable[list[tuple[Any, ...]]], text: Sequence[int]):
        self.batches = batches
        self.text = tuple(text)


SEPARATOR = "\x1f"  # ASCII unit separator: between the cells of a row joined in SQL


class JoinedLines:
    """An export's rows as one string each, their cells joined by the database itself
    (``store.sqlfunc.sqlite_line``: SEPARATOR between, NULL as empty, a Boolean as yes/no),
    so that Python handles a million strings instead of nine million cells
    (``cli.csv_writer.write_lines``).
    ``batches`` yields lists of ``(key, line)`` in key order; ``rows(first, last)`` gives
    the cells of the rows with keys ``first``..``last`` (for a batch the writer cannot pass
    through as it is); ``width``: the cells in a row."""

    width: int

    @property
    def batches(self) -> Iterator[list[Any]]:
        raise NotImplementedError

    def rows(self, first: Any, last: Any) -> list[tuple[Any, ...]]:
        raise NotImplementedError


class _NamedLines(JoinedLines):
    """``JoinedLines`` from two named statements: the lines, and the cells by key range."""

    def __init__(self, executor: SqliteExecutor, lines: str, cells: str) -> None:
        self._executor = executor
        self._lines = lines
        self._cells = cells
        self.width = len(_statement(cells)["columns"])

    @property
    def batches(self) -> Iterator[list[Any]]:
        return _fetch(self._executor.cursor(self._lines))

    def rows(self, first: Any, last: Any) -> list[tuple[Any, ...]]:
        return self._executor.rows(self._cells, first=first, last=last)


class SqliteExecutor:
    """One transaction on the sqlite3 driver, running the precompiled statements."""

    dialect = "sqlite"
    placeholder = "?"

    def __init__(self, driver: sqlite3.Connection) -> None:
        self.driver = driver

    def rows(self, name: str, **inputs: Any) -> list[tuple[Any, ...]]:
        return self.cursor(name, **inputs).fetchall()

    def first(self, name: str, **inputs: Any) -> tuple[Any, ...] | None:
        found = self.rows(name, **inputs)
        return found[0] if found else None

    def records(self, name: str, **inputs: Any) -> list[dict[str, Any]]:
        columns = _statement(name)["columns"]
        return sqlite_values.records(columns, self.cursor(name, **inputs).fetchall())

    def raw_rows(self, name: str, **inputs: Any) -> RawRows:
        """The named statement's rows as the cursor gives them, ``RAW_BATCH`` at a time
        (a whole force's listing, streamed): a date as its ISO text; a Boolean column is
        one only where the statement turned it into text itself."""
        return RawRows(_fetch(self.cursor(name, **inputs)), _statement(name)["text"])

    def cursor(self, name: str, **inputs: Any) -> sqlite3.Cursor:
        """The named statement run, its rows left on the driver's cursor."""
        statement = _statement(name)
        return self.driver.execute(statement["sql"], self._params(statement, inputs))

    def joined_lines(self, lines: str, cells: str) -> JoinedLines:
        """The rows of the named statement ``lines`` (key, line) as ``JoinedLines``, the
        cells of a key range from ``cells`` (inputs ``first`` and ``last``)."""
        return _NamedLines(self, lines, cells)

    @staticmethod
    def _params(statement: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
        params = dict(statement["constants"])
        params.update((key, sqlite_values.bind(value)) for key, value in inputs.items())
        return params

    def bind(self, value: Any) -> Any:
        return sqlite_values.bind(value)

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        self.driver.executemany(sql, rows)

    def insert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        columns = list(rows[0])
        bind = sqlite_values.bind
        values = [tuple(bind(row[name]) for name in columns) for row in rows]
        self.executemany(insert_sql(table, columns, self.placeholder), values)

    def write_lock(self) -> None:
        """Held already: a write transaction began IMMEDIATE."""

    def advance_ids(self, table: str, last_id: int) -> None:
        """Nothing to do: SQLite's ids follow the largest one written."""

    def login(self) -> str:
        from caseload.store.identity import os_login

        return os_login()


class SqliteStore:
    """A SQLite store opened with ``sqlite3``; see ``open_sqlite``."""

    def __init__(self, driver: sqlite3.Connection, location: str) -> None:
        self.driver = driver
        self.location = location

    @contextmanager
    def read(self) -> Iterator[SqliteExecutor]:
        """A read transaction: never takes SQLite's write lock."""
        with self._transaction("BEGIN DEFERRED") as executor:
            yield executor

    @contextmanager
    def write(self) -> Iterator[SqliteExecutor]:
        """A write transaction: BEGIN IMMEDIATE; commit on success, else roll back."""
        refuse_if_damaged(self.driver, Path(self.location), self.location)
        with self._transaction("BEGIN IMMEDIATE") as executor:
            yield executor

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[SqliteExecutor]:
        try:
            self.driver.execute(begin)
            try:
                yield SqliteExecutor(self.driver)
            except BaseException:
                self.driver.execute("ROLLBACK")
                raise
            interrupts.committed(lambda: self.driver.execute("COMMIT"))
        except sqlite3.OperationalError as exc:
            if self.driver.in_transaction:
                self.driver.execute("ROLLBACK")
            raise unusable(self.location, str(exc)) from None
        except sqlite3.DatabaseError as exc:  # SQLITE_CORRUPT: not an OperationalError
            trouble = store_trouble(self.location, str(exc))
            if trouble is None:
                raise
            if self.driver.in_transaction:
                self.driver.execute("ROLLBACK")
            raise trouble from None

    def close(self) -> None:
        self.driver.close()


def open_sqlite(url: str) -> SqliteStore | None:
    """The store behind ``url`` opened with sqlite3, or None where SQLAlchemy's store
    must serve: it alone creates, upgrades, converts to WAL or explains (PostgreSQL, a URL
    with options, a store at an older revision or not in WAL mode, a file that is not a
    store, a read-only place)."""
    from caseload.store.connection import read_only_place, sqlite_path
    from caseload.store.migrate import HEAD

    path = sqlite_path(url)
    if path is None or "?" in url or not path.is_file() or read_only_place(path):
        return None  # the full store opens a read-only store read-only, and says so
    try:
        driver = sqlite3.connect(
            path,
            timeout=BUSY_TIMEOUT_SECONDS,
            isolation_level=None,
            cached_statements=STATEMENT_CACHE,
        )
    except sqlite3.Error:
        return None
    try:
        revision = driver.execute("SELECT version_num FROM alembic_version").fetchall()
        journal = driver.execute("PRAGMA journal_mode").fetchone()
        if revision != [(HEAD,)] or journal is None or str(journal[0]).lower() != "wal":
            driver.close()
            return None
        for pragma in SQLITE_PRAGMAS:
            driver.execute(pragma)
    except sqlite3.Error:
        driver.close()
        return None
    return SqliteStore(driver, str(path))


# --- SQLAlchemy, the same statements built for the connection's dialect ----------------------

_built: dict[tuple[str, str], Any] = {}


class SqlAlchemyExecutor:
    """A SQLAlchemy Connection (inside ``Store.read`` or ``Store.write``) as an Executor."""

    def __init__(self, connection: Connection) -> None:
        from caseload.store.bulk import placeholder

        self.connection = connection
        self.dialect = connection.dialect.name
        self.placeholder = placeholder(connection)

    def rows(self, name: str, **inputs: Any) -> list[tuple[Any, ...]]:
        from caseload.store.bulk import raw_rows

        return raw_rows(self.connection, self._bound(name, inputs))

    def first(self, name: str, **inputs: Any) -> tuple[Any, ...] | None:
        found = self.rows(name, **inputs)
        return found[0] if found else None

    def records(self, name: str, **inputs: Any) -> list[dict[str, Any]]:
        return [dict(row._mapping) for row in self.connection.execute(self._bound(name, inputs))]

    def _bound(self, name: str, inputs: dict[str, Any]) -> Any:
        """The named statement built for this dialect, ``inputs`` bound."""
        built = (name, self.dialect)
        if built not in _built:
            from caseload.store.statements import build

            _built[built] = build(name, self.connection.dialect)
        if self.dialect == "sqlite":  # a key list is one JSON value there (sqlfunc.one_of)
            inputs = {
                key: sqlite_values.key_list(value)
                if isinstance(value, sqlite_values.KEY_LISTS)
                else value
                for key, value in inputs.items()
            }
        else:
            inputs = {
                key: list(value) if isinstance(value, sqlite_values.KEY_LISTS) else value
                for key, value in inputs.items()
            }
        return _built[built].params(**inputs)

    def bind(self, value: Any) -> Any:
        return sqlite_values.bind(value) if self.dialect == "sqlite" else value

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        self.connection.exec_driver_sql(sql, rows)

    def insert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        from caseload.store.bulk import insert_rows
        from caseload.store.models import metadata

        insert_rows(self.connection, metadata.tables[table], rows)

    def write_lock(self) -> None:
        if self.dialect == "postgresql":
            from caseload.store.connection import take_write_lock

            take_write_lock(self.connection)

    def advance_ids(self, table: str, last_id: int) -> None:
        if self.dialect == "postgresql":
            from sqlalchemy import text

            self.connection.execute(
                text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v)"),
                {"t": table, "v": last_id},
            )

    def login(self) -> str:
        from caseload.store.identity import store_login

        return store_login(self.connection)


def executor_of(source: Executor | Connection) -> Executor:
    """``source`` as an Executor: an executor as it is, a SQLAlchemy Connection wrapped."""
    if isinstance(source, SqliteExecutor | SqlAlchemyExecutor):
        return source
    return SqlAlchemyExecutor(source)  # type: ignore[arg-type]


def connection_of(executor: Executor) -> Connection:
    """The SQLAlchemy Connection behind an executor, for work beyond the named statements
    (a whole store's plan, ranking suggestions): ``open_executor(..., quick=False)``."""
    if not isinstance(executor, SqlAlchemyExecutor):
        raise TypeError("this work needs the full store: open_executor(..., quick=False)")
    return executor.connection


# --- the choice --------------------------------------------------------------------------------


# Kept: through SQLAlchemy instead, workload --officer and assign take 3.9-4.9x the time, a
# whole force's workload CSV 1.75x, --as-of 1.32x, export crimes 1.18x (benchmarks/RESULTS.md).
def quick_allowed() -> bool:
    """``CASELOAD_DIRECT=0`` sends every operation through SQLAlchemy."""
    return os.environ.get("CASELOAD_DIRECT", "1") != "0"


@contextmanager
def open_executor(
    url: str,
    *,
    full: Callable[[], Store],
    write: bool = False,
    quick: bool = True,
    serves: Callable[[Executor], bool] | None = None,
) -> Iterator[Executor]:
    """One transaction's executor on the store behind ``url``: the sqlite3 executor where
    it can serve (``quick``: the operation needs only named statements; see
    ``open_sqlite``; ``serves``: asked of that executor first, in a read of its own, where
    whether the statements fit depends on what the store holds), else a SQLAlchemy one on
    ``full()``'s store (opened, and upgraded if older, by the caller). A write commits on
    success and rolls back otherwise."""
    sqlite_store = open_sqlite(url) if quick and quick_allowed() else None
    if sqlite_store is not None and serves is not None:
        with sqlite_store.read() as probe:
            fits = serves(probe)
        if not fits:
            sqlite_store.close()
            sqlite_store = None
    if sqlite_store is None:
        store = full()
        with store.write() if write else store.read() as connection:
            yield SqlAlchemyExecutor(connection)
        return
    try:
        with sqlite_store.write() if write else sqlite_store.read() as executor:
            yield executor
    finally:
        sqlite_store.close()
