"""The ORM session the single-record commands write through.

A ``Session`` here is bound to the Connection ``Store.write()`` yields, inside the
transaction that already holds the store's write lock (BEGIN IMMEDIATE on SQLite,
the advisory lock on PostgreSQL). It joins that transaction rather than opening
its own ("Joining a Session into an External Transaction", SQLAlchemy 2): its
``flush()`` writes the row on the same connection as the rule checks before it and
the hash-chained log entry after it, and it never commits; ``Store.write()`` commits
or rolls back the whole. Set work (imports, rebalance, audit) stays Core.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection
from sqlmodel import Session


@contextmanager
def session_on(conn: Connection) -> Iterator[Session]:
    """A Session in ``conn``'s transaction: it flushes, it never commits or rolls back
    that transaction (``conditional_savepoint``, the default, joins it as ``rollback_only``: a
    failure still rolls the whole back through ``Store.write()``)."""
    if not conn.in_transaction():
        raise RuntimeError("session_on needs the store's write transaction")
    session = Session(bind=conn, join_transaction_mode="conditional_savepoint", autoflush=False)
    try:
        yield session
        session.flush()
    finally:
        session.close()
