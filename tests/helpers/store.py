"""The store under test, opened and read directly: its URL, a fresh PostgreSQL schema,
a write transaction as the commands open one, and the few reads many tests make."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest


def pg_schema_url() -> Iterator[str]:
    """A URL whose search_path is a new, empty schema; the schema is dropped afterwards."""
    import uuid

    base = os.environ.get("CASELOAD_TEST_PG_URL")
    if not base:
        message = "CASELOAD_TEST_PG_URL is not set (start a server: scripts/pg-test-server.sh)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(base, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        try:
            with admin.begin() as conn:
                conn.exec_driver_sql("SET LOCAL lock_timeout = '20s'")
                conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        except sa.exc.OperationalError:
            pass  # a connection left open by the test still holds a lock; the server is throwaway
        admin.dispose()


def sa_url(db_url: str) -> str:
    """The SQLAlchemy URL of a store under test (SQLite paths become sqlite:/// URLs)."""
    return db_url if "://" in db_url else f"sqlite:///{db_url}"


@contextmanager
def writing(db_url: str) -> Iterator[Any]:
    """A write transaction on the store under test (as the commands open one)."""
    from caseload.store.migrate import open_store

    store = open_store(sa_url(db_url))
    try:
        with store.write() as conn:
            yield conn
    finally:
        store.dispose()


def holder(sql, ref: str) -> str | None:  # type: ignore[no-untyped-def]
    rows = sql(
        "SELECT o.collar FROM crime c LEFT JOIN officer o ON o.id = c.holder_id "
        "WHERE c.reference = :r",
        r=ref,
    )
    return rows[0][0]


def log_entries(sql, kind: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    rows = sql(
        "SELECT crime_ref, collar, actor, reason, detail FROM log_entry "
        "WHERE kind = :k ORDER BY id",
        k=kind,
    )
    return [
        {
            "crime_ref": r[0],
            "collar": r[1],
            "actor": r[2],
            "reason": r[3],
            "detail": json.loads(r[4]),
        }
        for r in rows
    ]


def drop_guards(sql, db_url: str) -> None:  # type: ignore[no-untyped-def]
    """Drop the append-only triggers, as the tables' owner can (to tamper in tests)."""
    from caseload.store.guards import expected

    postgres = "://" in db_url
    for name, table in expected("postgresql" if postgres else "sqlite"):
        sql(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgres else ""))
