"""Where the store is, how it is opened, and how transactions begin.

* ``--db``/``CASELOAD_DB`` take a file path or a SQLAlchemy URL; the default is
  ``caseload.db`` in the per-user folder.
* SQLite runs with foreign keys on, WAL journal and a busy timeout. Writing
  transactions begin IMMEDIATE so that a check (count an officer's live crimes)
  and the write that follows it cannot interleave with another writer's; reads
  begin DEFERRED so that audits and exports never hold the write lock.
* PostgreSQL's writing transactions take the store's write lock first (a
  transaction-scoped advisory lock, the one the decision log chains under), with
  the same timeout, so writers queue as on SQLite; the allocation code also locks
  the crime rows and then the officer rows ``FOR UPDATE`` (in id order). Reads run
  in one snapshot: REPEATABLE READ, READ ONLY, so a command that runs several
  queries (audit, export, check) never mixes two states of the store.
* The time of a decision is taken inside the write transaction, once the lock is
  held (``Store.write`` yields with it held): an interval never ends before it
  starts and the log's order is the order of the intervals.
* ``store.executor`` hands out one transaction's executor: on a current SQLite store,
  Python's ``sqlite3`` opened with the same timeout, pragmas and BEGIN as here; else a
  connection from ``Store.read``/``Store.write``.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from caseload import interrupts
from caseload.errors import InputError, StoreError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

BUSY_TIMEOUT_SECONDS = 30
PG_WRITE_LOCK = 7305_2026  # the advisory lock PostgreSQL writers (and the log) hold
STATEMENT_CACHE = 16  # prepared statements the SQLite driver keeps per connection
BULK_PAGE_CACHE_KIB = 48 * 1024  # SQLite's page cache while an import writes
SQLITE_PRAGMAS = (  # on every connection (also store.executor's sqlite3 ones)
    "PRAGMA foreign_keys = ON",
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}",
    "PRAGMA synchronous = NORMAL",
)


def unusable(location: str, text: str) -> StoreError:
    """The error for a database error while working: busy (another writer kept the
    lock past the timeout), read-only, full, damaged, or otherwise unusable."""
    if "locked" in text or "busy" in text or "lock timeout" in text:
        return StoreError(
            f"The store {location} stayed busy for {BUSY_TIMEOUT_SECONDS} seconds "
            "(another command is writing); nothing was changed, try again."
        )
    return store_trouble(location, text) or StoreError(
        f"The store {location} cannot be used: {text}."
    )


def store_trouble(location: str, text: str) -> StoreError | None:
    """The one-sentence error for a database error that means the store itself is in
    trouble (read-only, full, damaged), or None for any other error (a constraint, a
    bug) that must not be disguised as one."""
    lowered = text.lower()
    if "readonly database" in lowered or "read-only file system" in lowered:  # SQLite's words
        return StoreError(
            f"The store {location} is read-only here (the file, its folder or the mount); "
            "it can be read but nothing can be written, and nothing was changed."
        )
    if "disk is full" in lowered or "no space" in lowered:
        return StoreError(
            f"The disk holding the store {location} is full; nothing was changed. "
            "Free some space and try again."
        )
    if "malformed" in lowered or "corrupt" in lowered:
        return damaged(location, text)
    if "disk i/o error" in lowered:
        return StoreError(
            f"The store {location} could not be read or written ({text}): is its disk full "
            "or failing? Nothing was changed."
        )
    return None


# Before a command's first write, SQLite's quick check (every page, not the indexes'
# contents) on stores up to this size: measured 2-9 ms on the sample store (1.3 MB), about
# 200 ms on a 25 MB store (50,000 crimes) on a loaded 2-core machine, seconds at full size.
# Larger stores rely on a damaged page failing the statement that reads it (exit 4, the
# transaction rolled back) and on 'caseload db check' / 'caseload verify' run nightly.
QUICK_CHECK_MAX_BYTES = 16 * 1024 * 1024


def damaged(location: str, text: str) -> StoreError:
    return StoreError(
        f"The store {location} is damaged ({text}); nothing was changed. Run "
        "'caseload db check' to see what, and restore it from a backup."
    )


def refuse_if_damaged(driver: Any, path: Path | None, location: str) -> None:
    """Raise StoreError (exit 4) if a SQLite store of at most ``QUICK_CHECK_MAX_BYTES``
    fails ``PRAGMA quick_check``: nothing is ever written to a store known to be damaged.
    ``driver`` is the sqlite3 connection, outside any transaction."""
    import sqlite3

    if path is None:
        return
    try:
        if path.stat().st_size > QUICK_CHECK_MAX_BYTES:
            return
        found = [str(row[0]) for row in driver.execute("PRAGMA quick_check").fetchall()]
    except sqlite3.OperationalError:
        return  # busy or locked: the write that follows says so
    except (sqlite3.DatabaseError, OSError) as exc:
        found = [str(exc)]
    if found != ["ok"]:
        raise damaged(location, "; ".join(found[:3]))


def default_db_path() -> Path:
    """caseload.db in the per-user folder (``~/.config/caseload`` on Linux). An empty or
    relative ``XDG_CONFIG_HOME`` counts as unset, as the XDG specification says: Typer
    would otherwise put the store in whatever folder the command ran in."""
    import os
    import sys

    import typer

    xdg = os.environ.get("XDG_CONFIG_HOME")
    if (
        xdg is not None
        and not os.path.isabs(xdg.strip())
        and sys.platform not in ("win32", "darwin")
    ):
        return Path.home() / ".config" / "caseload" / "caseload.db"
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
    return _parsed(url).render_as_string(hide_password=True)


def _parsed(url: str) -> Any:
    """SQLAlchemy's reading of a database URL; a value it cannot read (a typo, such as a
    port that is not a number) is bad input, never echoed (it may hold a password)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url)
    except (ArgumentError, ValueError):
        raise InputError(
            "The store given with --db (or CASELOAD_DB) is not a database URL caseload can read; "
            "give a file path or a URL such as postgresql+psycopg://USER@HOST:PORT/DATABASE."
        ) from None


def read_only_place(path: Path | None) -> str | None:
    """Why a SQLite store cannot be written where it is (a read-only file, folder or
    mount), or None when it can. SQLite writes beside the file (its -wal, -shm or
    -journal), so the folder counts too."""
    if path is None or not path.is_file():
        return None
    folder = path.parent
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return "on a read-only mount"
    except OSError:
        return None
    if not os.access(path, os.W_OK):
        return "a read-only file"
    if not os.access(folder, os.W_OK):
        return "in a read-only folder"
    return None


def read_only_url(path: Path) -> str:
    """A SQLite URL opening ``path`` read-only: ``mode=ro``, plus ``immutable=1`` unless
    its -wal file holds changes (immutable ignores them). Immutable is what lets SQLite
    read a WAL store whose -shm file cannot be created in a read-only folder; it also
    means changes made meanwhile elsewhere are not seen."""
    from urllib.parse import quote

    wal = path.with_name(path.name + "-wal")
    pending = wal.exists() and wal.stat().st_size > 0
    options = "mode=ro" if pending else "mode=ro&immutable=1"
    return f"sqlite:///file:{quote(str(path))}?{options}&uri=true"


def open_read_only_if_needed(store: Store) -> str | None:
    """Where the store cannot be written, open it read-only (``read_only_url``) so that
    commands that only read still work, and writes fail with one sentence (exit 4);
    returns why (for a note on stderr), or None."""
    reason = read_only_place(store.path)
    if reason is None or store.path is None:
        return None
    store.read_only = reason
    store.engine_url = read_only_url(store.path)
    store.dispose()
    return reason


def _quiet_unwinding_logs() -> None:
    """psycopg and SQLAlchemy's pool log what they ignore while a Ctrl-C unwinds (a
    statement cancelled, a connection that could not be reset before it is discarded);
    with no handler Python prints those records, tracebacks and all, on stderr ahead of
    caseload's one sentence about the interrupt."""
    import logging

    for name in ("psycopg", "sqlalchemy.pool"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(logging.NullHandler())


def create_engine_for(url: str) -> Engine:
    from sqlalchemy import create_engine, event

    _quiet_unwinding_logs()

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
    parsed = _parsed(url)
    try:
        return create_engine(parsed, pool_pre_ping=False)
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


def take_write_lock(conn: Connection) -> None:
    """PostgreSQL: hold the store's write lock until the transaction ends (re-entrant),
    waiting at most ``BUSY_TIMEOUT_SECONDS`` for another writer. The lock is the store's
    own: keyed by its schema too, so stores sharing a database never wait on each other."""
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{BUSY_TIMEOUT_SECONDS}s'")
    conn.exec_driver_sql(
        f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK}, hashtext(current_schema()))"
    )


def _restore_cache_size(driver: Any, kib: int) -> None:
    """Put the page cache back; not when an interrupt mid-statement made SQLAlchemy
    close the connection (the error would hide the interrupt behind a traceback)."""
    import sqlite3

    with suppress(sqlite3.ProgrammingError):  # "Cannot operate on a closed database"
        driver.execute(f"PRAGMA cache_size = {kib}")


class Store:
    """One caseload store: its URL, its engine, and its transactions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = sqlite_path(url)
        self.is_sqlite = url.startswith("sqlite")
        self._engine: Engine | None = None
        self.engine_url = url  # read_only_url where the store cannot be written
        self.read_only: str | None = None  # why, where it cannot (open_read_only_if_needed)
        self.created = False  # create_file made the file in this command

    @property
    def location(self) -> str:
        return describe(self.url)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine_for(self.engine_url)
        return self._engine

    def ensure_wal(self) -> None:
        """Switch a caseload SQLite store to WAL (persistent in the file). Called only once
        the store is known to be caseload's, so opening a foreign file never writes to it."""
        if not self.is_sqlite or self.read_only:
            return  # read as it is: switching the journal mode would write
        with self._translate_errors():
            raw = self.engine.raw_connection()  # outside any transaction, as the pragma needs
            try:
                cursor = raw.cursor()
                if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                    cursor.execute("PRAGMA journal_mode = WAL")
                cursor.close()
            except sqlite3.Error as exc:  # on the driver: not wrapped by SQLAlchemy
                raise unusable(self.location, str(exc)) from None
            finally:
                raw.close()

    def create_file(self) -> bool:
        """Create an empty SQLite file readable by its owner only; True if it was new. Only
        the per-user folder is made if missing: a folder given with --db must exist (a
        typo there would otherwise make folders nobody asked for)."""
        if self.path is None or self.path.exists():
            return False
        folder = self.path.parent
        if not folder.is_dir():
            if folder.exists():
                raise InputError(f"{folder} is a file, not a folder; give another --db path.")
            if folder != default_db_path().parent:
                raise InputError(
                    f"There is no folder {folder} to create the store in; create it first "
                    "or give another --db path."
                )
            folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
        self.created = True
        return True

    def remove_created(self) -> bool:
        """Remove the file ``create_file`` made in this command, and SQLite's files beside
        it (a failed ``init`` leaves nothing behind); True if there was one to remove."""
        if not self.created or self.path is None:
            return False
        self.dispose()
        for suffix in ("", "-wal", "-shm", "-journal"):
            with suppress(FileNotFoundError):
                self.path.with_name(self.path.name + suffix).unlink()
        self.created = False
        return True

    @contextmanager
    def read(self, *, read_only: bool = True) -> Iterator[Connection]:
        """A read transaction, the one place every reading command opens one: never takes
        SQLite's write lock (a deferred transaction reads one snapshot under WAL); on
        PostgreSQL one snapshot too (REPEATABLE READ, READ ONLY). ``read_only=False``
        keeps the snapshot but allows temporary tables (an import's check pass)."""
        with self._translate_errors(), self.engine.connect() as conn:
            if not self.is_sqlite:
                conn = conn.execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=read_only
                )
            with conn.begin():
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
        manages its own buffers.

        On PostgreSQL the transaction first takes the store's write lock
        (``PG_WRITE_LOCK``), waiting at most ``BUSY_TIMEOUT_SECONDS`` as SQLite does."""
        with self._translate_errors(), self.engine.connect() as conn:
            self._before_first_write(conn)
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            driver = conn.connection.dbapi_connection if bulk and self.is_sqlite else None
            if driver is not None:  # on the driver: a pragma through SQLAlchemy would begin
                previous = driver.execute("PRAGMA cache_size").fetchone()[0]
                driver.execute(f"PRAGMA cache_size = -{BULK_PAGE_CACHE_KIB}")
            try:
                transaction = conn.begin()
                try:
                    if not self.is_sqlite:
                        take_write_lock(conn)
                    yield conn
                except BaseException:
                    # A failed rollback (a connection the interrupt broke) must not hide
                    # what is propagating; the pool resets the connection on return anyway.
                    with suppress(Exception):
                        if transaction.is_active:
                            transaction.rollback()
                    raise
                interrupts.committed(transaction.commit)
            finally:
                if driver is not None:
                    _restore_cache_size(driver, int(previous))

    def _before_first_write(self, conn: Connection) -> None:
        """Once per command, before its first write: ``refuse_if_damaged``."""
        if self.is_sqlite and not getattr(self, "_checked", False):
            self._checked = True
            refuse_if_damaged(conn.connection.dbapi_connection, self.path, self.location)

    @contextmanager
    def _translate_errors(self) -> Iterator[None]:
        from sqlalchemy.exc import DatabaseError, DBAPIError, OperationalError

        try:
            yield
        except OperationalError as exc:
            text = str(exc.orig) if exc.orig is not None else str(exc)
            raise unusable(self.location, text) from None
        except DBAPIError as exc:
            # A PostgreSQL role or team scope refused (store.access, 42501): exit 5.
            refused = self._refusal(exc)
            if refused is not None:
                raise refused from None
            if not isinstance(exc, DatabaseError):
                raise
            # SQLITE_CORRUPT and the like: not an OperationalError
            text = str(exc.orig) if exc.orig is not None else str(exc)
            trouble = store_trouble(self.location, text)
            if trouble is None:
                raise
            raise trouble from None

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
