"""Schema revisions: checking a store's revision cheaply, and upgrading it with Alembic.

Opening a store reads ``alembic_version`` with one query. A store at an older
known revision is upgraded on the spot (so users never forget a step); one at an
unknown revision was written by a newer caseload and is refused, never written.
Alembic itself is imported only when an upgrade is needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from caseload.errors import StoreError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from caseload.store.engine import Store

# Every revision this version knows, oldest first. A test checks this against
# the Alembic scripts so the two cannot drift.
REVISIONS: tuple[str, ...] = ("0001", "0002", "0003", "0009")
HEAD = REVISIONS[-1]


def migrations_dir() -> Path:
    """The Alembic scripts: inside the installed package, else the repository's own folder."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "migrations", here.parent.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise StoreError("caseload's migration scripts are missing from this installation.")


def alembic_config(conn: Connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["connection"] = conn
    return config


def current_revision(store: Store) -> str | None:
    """The store's schema revision; None for an empty database. Raises StoreError if foreign."""
    from sqlalchemy import inspect, text
    from sqlalchemy.exc import DatabaseError

    try:
        with store.engine.connect() as conn:
            names = set(inspect(conn).get_table_names())
            if "alembic_version" not in names:
                if not names and conn.dialect.name == "postgresql":
                    from caseload.store.access import refuse_without_schema_access

                    refuse_without_schema_access(conn, store.location)
                if names:
                    raise StoreError(f"{store.location} is not a caseload store.")
                return None
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    except DatabaseError as exc:
        message = str(exc.orig) if exc.orig is not None else str(exc)
        if "not a database" in message or "file is encrypted" in message:
            raise StoreError(f"{store.location} is not a caseload store.") from None
        raise StoreError(f"The store {store.location} cannot be opened: {message}.") from None
    if row is None:
        raise StoreError(f"{store.location} is not a caseload store.")
    return str(row[0])


def upgrade(store: Store) -> None:
    """Bring the store to HEAD in one transaction."""
    from alembic import command

    with store.write() as conn:
        command.upgrade(alembic_config(conn), "head")


def check_revision(store: Store, revision: str | None) -> None:
    """Refuse a store that is empty or newer than this version."""
    if revision is None:
        raise StoreError(
            f"{store.location} is not a caseload store yet; run 'caseload init' to create it."
        )
    if revision not in REVISIONS:
        raise StoreError(
            f"The store {store.location} has schema {revision}, newer than this caseload "
            f"understands ({HEAD}); upgrade caseload to use it."
        )


def open_store(url: str) -> Store:
    """Open an existing store, upgrading an older schema; refuse anything else with exit 4."""
    from caseload.store.engine import Store

    store = Store(url)
    if store.path is not None and not store.path.is_file():
        raise StoreError(
            f"There is no caseload store at {store.location}; run 'caseload init' to create one."
        )
    revision = current_revision(store)
    check_revision(store, revision)
    store.ensure_wal()
    if revision != HEAD:
        upgrade(store)
    return store


def init_store(url: str) -> tuple[Store, str | None]:
    """Create a store or upgrade an older one; returns the store and its previous revision."""
    from caseload.store.engine import Store

    store = Store(url)
    store.create_file()
    revision = current_revision(store)
    if revision is not None:
        check_revision(store, revision)
    store.ensure_wal()
    if revision != HEAD:
        upgrade(store)
    return store, revision
