"""Where the store is, how it is opened, and how transactions begin.

* ``--db``/``CASELOAD_DB`` take a file path or a SQLAlchemy URL; the default is
  ``caseload.db`` in the per-user folder.
* SQLite runs with foreign keys on, WAL journal and a busy timeout. Writing
  transactions begin IMMEDIATE so that a check (count an officer's live crimes)
  and the write that follows it cannot interleave with another writer's; reads
  begin DEFERRED so that audits and exports never hold the write lock. On
  PostgreSQL the allocation code also locks the officer row (``FOR UPDATE``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from caseload.errors import StoreError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

BUSY_TIMEOUT_SECONDS = 30
STATEMENT_CACHE = 16  # prepared statements the SQLite driver keeps per connection
BULK_PAGE_CACHE_KIB = 48 * 1024  # SQLite's page cache while an import writes
SQLITE_PRAGMAS = (  # on every connection (also store.direct's)
    "PRAGMA foreign_keys = ON",
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}",
    "PRAGMA synchronous = NORMAL",
)


def unusable(location: str, text: str) -> StoreError:
    """The error for a database error while working: busy (another writer kept the
    lock past the timeout) or otherwise unusable."""
    if "locked" in text or "busy" in text:
        return StoreError(
            f"The store {location} stayed busy for {BUSY_TIMEOUT_SECONDS} seconds "
            "(another command is writing); nothing was changed, try again."
        )
    return StoreError(f"The store {location} cannot be used: {text}.")


def default_db_path() -> Path:
    import typer

    return Path(typer.get_app_dir("caseload")) / "caseload.db"


def to_url(db: str | None) -> str:
    """A SQLAlchemy URL for what the user gave: a URL as it is, a path made absolute."""
    if db and "://" in db:
        return db
    path = Path(db).expanduser() if db else default_db_path()
    return f"sqlite:///{path.resolve()}"


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL (None for other databases or in-memory stores)."""
    if not url.startswith("sqlite"):
        return None
    rest = url.split("///", 1)[1] if "///" in url else ""
    if not rest or rest == ":memory:":
        return None
    return Path(rest.split("?", 1)[0])


def describe(url: str) -> str:
    """The store's location for messages, without any password."""
    path = sqlite_path(url)
    if path is not None:
        return str(path)
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def create_engine_for(url: str) -> Engine:
    from sqlalchemy import create_engine, event

    if url.startswith("sqlite"):
        # The driver keeps prepared statements for reuse (128 by default). A bulk import
        # prepares a statement per batch with thousands of IN-list values, each holding
        # its compiled program: at the default that held some 65 MB on a 200,000-row
        # import. 16 keeps every command's repeated statements and caps that memory.
        engine = create_engine(
            url,
            connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "cached_statements": STATEMENT_CACHE},
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            # Let SQLAlchemy's "begin" event below emit BEGIN itself (SQLite dialect recipe).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            for pragma in SQLITE_PRAGMAS:
                cursor.execute(pragma)
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection):
            mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
            connection.exec_driver_sql(f"BEGIN {mode}")

        return engine
    try:
        return create_engine(url, pool_pre_ping=False)
    except Exception as exc:  # unknown dialect or missing driver
        raise StoreError(f"Cannot use the database URL {describe(url)}: {exc}.") from None


def refresh_statistics(conn: Connection) -> None:
    """ANALYZE, so the query planner knows that a crime has one or two allocation
    intervals but an officer dozens (without statistics SQLite may walk the
    officer's). Run after bulk loads and by migration 0002; sampled on SQLite. On
    PostgreSQL only the store's own tables: a bare ANALYZE visits every table of the
    database that the user can see, and waits on other schemas' locks."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA analysis_limit = 1000")
        conn.exec_driver_sql("ANALYZE")
        return
    from caseload.store.models import metadata

    quote = conn.dialect.identifier_preparer.quote
    conn.exec_driver_sql("ANALYZE " + ", ".join(quote(name) for name in metadata.tables))


class Store:
    """One caseload store: its URL, its engine, and its transactions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = sqlite_path(url)
        self.is_sqlite = url.startswith("sqlite")
        self._engine: Engine | None = None

    @property
    def location(self) -> str:
        return describe(self.url)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine_for(self.url)
        return self._engine

    def ensure_wal(self) -> None:
        """Switch a caseload SQLite store to WAL (persistent in the file). Called only once
        the store is known to be caseload's, so opening a foreign file never writes to it."""
        if not self.is_sqlite:
            return
        with self._translate_errors():
            raw = self.engine.raw_connection()  # outside any transaction, as the pragma needs
            try:
                cursor = raw.cursor()
                if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                    cursor.execute("PRAGMA journal_mode = WAL")
                cursor.close()
            finally:
                raw.close()

    def create_file(self) -> bool:
        """Create an empty SQLite file readable by its owner only; True if it was new."""
        if self.path is None or self.path.exists():
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
        return True

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction: never takes SQLite's write lock."""
        with self._translate_errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self, *, bulk: bool = False) -> Iterator[Connection]:
        """A write transaction: BEGIN IMMEDIATE on SQLite; commit on success, else roll back.

        ``bulk`` (an import) gives SQLite's page cache ``BULK_PAGE_CACHE_KIB`` until
        the commit. The default cache is 2 MB; an import inserts into several indexes
        keyed at random (crimes by holder and team, intervals by officer, log entries
        by collar), and with 2 MB each batch's changed pages are spilled to the WAL and
        read back many times before the commit. 48 MB keeps most of them in memory (a
        million-crime import's write pass: 145 s to 116 s on the benchmark machine)
        and the import's peak memory (124 MB) under its 150 MB budget. PostgreSQL
        manages its own buffers."""
        with self._translate_errors(), self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            driver = conn.connection.dbapi_connection if bulk and self.is_sqlite else None
            if driver is not None:  # on the driver: a pragma through SQLAlchemy would begin
                previous = driver.execute("PRAGMA cache_size").fetchone()[0]
                driver.execute(f"PRAGMA cache_size = -{BULK_PAGE_CACHE_KIB}")
            try:
                with conn.begin():
                    yield conn
            finally:
                if driver is not None:
                    driver.execute(f"PRAGMA cache_size = {int(previous)}")

    @contextmanager
    def _translate_errors(self) -> Iterator[None]:
        from sqlalchemy.exc import DBAPIError, OperationalError

        try:
            yield
        except OperationalError as exc:
            text = str(exc.orig) if exc.orig is not None else str(exc)
            raise unusable(self.location, text) from None
        except DBAPIError as exc:  # a PostgreSQL role or team scope refused (store.access)
            refused = self._refusal(exc)
            if refused is None:
                raise
            raise refused from None

    def _refusal(self, exc: Exception) -> Exception | None:
        if self.is_sqlite:
            return None
        from sqlalchemy.engine import make_url

        from caseload.store.access import refusal
        from caseload.store.identity import os_login

        return refusal(exc, make_url(self.url).username or os_login())

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
