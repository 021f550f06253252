"""The append-only log's guards: the triggers migration 0005 creates, and the check
that they are still there.

The decision log (``log_entry``) is never updated or deleted, and an allocation
interval is never deleted and, once closed, never changed (closing an open one is
the only update caseload makes). On both databases triggers refuse anything else,
so plain SQL cannot rewrite history either; on PostgreSQL ``TRUNCATE`` is refused
too, every new log entry must name the login writing it and each new interval is
stamped with it (``store.identity``).

Whoever owns the tables can drop the triggers, so ``caseload verify`` checks that
they exist and are enabled (``missing``) and fails if not. The hash chain still
catches what was changed while they were gone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

# (trigger, table) on every store; PostgreSQL has the PG_ONLY ones as well.
TRIGGERS: tuple[tuple[str, str], ...] = (
    ("log_entry_no_update", "log_entry"),
    ("log_entry_no_delete", "log_entry"),
    ("allocation_no_delete", "allocation"),
    ("allocation_closed", "allocation"),
)
PG_ONLY: tuple[tuple[str, str], ...] = (
    ("log_entry_no_truncate", "log_entry"),
    ("allocation_no_truncate", "allocation"),
    ("log_entry_login", "log_entry"),
    ("allocation_login", "allocation"),
)


def expected(dialect: str) -> tuple[tuple[str, str], ...]:
    return TRIGGERS + PG_ONLY if dialect == "postgresql" else TRIGGERS


def missing(conn: Connection) -> list[str]:
    """The guard triggers that are absent (or, on PostgreSQL, disabled), as
    ``"trigger on table"``; empty when all are in place."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        present = {
            (str(name), str(table))
            for name, table in conn.exec_driver_sql(
                "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'"
            )
        }
    else:
        present = {
            (str(name), str(table))
            for name, table in conn.exec_driver_sql(
                "SELECT t.tgname, c.relname FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE c.relnamespace = current_schema()::regnamespace "
                "AND NOT t.tgisinternal AND t.tgenabled <> 'D'"
            )
        }
    wanted = expected(dialect)
    return [f"{name} on {table}" for name, table in wanted if (name, table) not in present]
