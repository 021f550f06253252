"""For tests that kill or interrupt a writing command: is it inside its write transaction
right now (``Writing``), the store URL it is given, and the CSV files it imports."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import sqlalchemy as sa

from tests.helpers.store import sa_url


class Writing:
    """Is some other connection inside a write transaction on the store right now?

    SQLite: another connection holds the write lock (our BEGIN IMMEDIATE fails at once).
    PostgreSQL: the tagged connection holds a row-exclusive lock (it has written a row).
    """

    def __init__(self, db_url: str, application_name: str) -> None:
        self.db_url = db_url
        self.name = application_name
        self.engine: sa.Engine | None = None
        self.conn: sa.Connection | None = None
        if "://" in db_url:
            self.engine = sa.create_engine(sa_url(db_url), poolclass=sa.pool.NullPool)
            self.conn = self.engine.connect()

    def __call__(self) -> bool:
        if self.conn is None:
            conn = sqlite3.connect(self.db_url, timeout=0, isolation_level=None)
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
                return False
            except sqlite3.OperationalError:
                return True
            finally:
                conn.close()
        found = self.conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE a.application_name = :n AND l.mode = 'RowExclusiveLock'"
            ),
            {"n": self.name},
        ).scalar()
        self.conn.rollback()  # a fresh snapshot of the statistics next time
        return bool(found)

    def wait_gone(self, timeout: float = 60.0) -> bool:
        """PostgreSQL: wait until the tagged process's server backend has ended (a client
        killed mid-statement leaves its backend finishing that statement, still holding
        the transaction's locks, until the server notices). True once gone; SQLite: True."""
        if self.conn is None:
            return True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            left = self.conn.execute(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :n"),
                {"n": self.name},
            ).scalar()
            self.conn.rollback()
            if not left:
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        if self.engine is not None:
            self.engine.dispose()


def subject_url(db_url: str, name: str) -> str:
    """The store URL the killed command uses: on PostgreSQL, tagged so we can see it."""
    if "://" not in db_url:
        return db_url
    return f"{db_url}{'&' if '?' in db_url else '?'}application_name={name}"


def crimes_csv(path: Path, prefix: str, n: int, holders: list[str], team: str) -> None:
    lines = ["reference,crime_type,reported_on,team,holder"]
    for i in range(n):
        holder = holders[i % len(holders)] if holders else ""
        lines.append(f"{prefix}/{i:05d},Burglary,2026-10-{1 + i % 28:02d},{team},{holder}")
    path.write_text("\n".join(lines) + "\n")


def officers_csv(path: Path, rows: list[tuple[str, str, str]]) -> None:
    lines = ["collar,name,team,accreditation,investigator_since,status"]
    lines += [f"{c},Officer {c},{team},PIP2,2015-01-01,{status}" for c, team, status in rows]
    path.write_text("\n".join(lines) + "\n")
