"""Schema revisions: checking a store's revision cheaply, and upgrading it with Alembic.

Opening a store reads ``alembic_version`` with one query. A store at an older
known revision is upgraded on the spot (so users never forget a step); one at an
unknown revision was written by a newer caseload and is refused, never written.
Alembic itself is imported only when an upgrade is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from caseload.errors import StoreError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from caseload.store.connection import Store

# Every revision this version knows, oldest first. A test checks this against
# the Alembic scripts so the two cannot drift.
REVISIONS: tuple[str, ...] = (
    "0001",
    "0002",
    "0003",
    "0004",
    "0005",
    "0006",
    "0007",
    "0008",
    "0009",
)
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
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except DatabaseError as exc:
        message = str(exc.orig) if exc.orig is not None else str(exc)
        if "not a database" in message or "file is encrypted" in message:
            raise StoreError(f"{store.location} is not a caseload store.") from None
        raise StoreError(f"The store {store.location} cannot be opened: {message}.") from None
    if not rows:
        raise StoreError(f"{store.location} is not a caseload store.")
    return revision_label(store, rows, names)


def revision_label(store: Store, rows: Sequence[Any], tables: set[str]) -> str:
    """The one revision ``alembic_version`` names, checked against the schema: two rows,
    or the current label on a store lacking this version's tables, mean the label cannot
    be trusted, and using it would upgrade (or write to) the wrong schema: exit 4."""
    labels = sorted({str(row[0]) for row in rows})
    if len(rows) > 1:
        raise StoreError(
            f"The store {store.location} names {len(rows)} schema revisions "
            f"({', '.join(labels)}) where it should name one; it was not used. Restore it "
            "from a backup, or keep the row that matches its schema."
        )
    label = labels[0]
    if label == HEAD:
        from caseload.store.models import metadata

        missing = sorted(set(metadata.tables) - tables)
        if missing:
            raise StoreError(
                f"The store {store.location} says it has schema {label} but lacks its "
                f"table{'s' if len(missing) > 1 else ''} {', '.join(missing)}; it was not "
                "used. Restore it from a backup."
            )
    return label


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
    from caseload.store.connection import Store, open_read_only_if_needed

    store = Store(url)
    if store.path is not None and not store.path.is_file():
        raise StoreError(
            f"There is no caseload store at {store.location}; run 'caseload init' to create one."
        )
    open_read_only_if_needed(store)
    revision = current_revision(store)
    check_revision(store, revision)
    store.ensure_wal()
    if revision != HEAD:
        if store.read_only:
            raise StoreError(
                f"The store {store.location} has schema {revision} and needs upgrading to "
                f"{HEAD}, but it is {store.read_only}; open it once where it can be written."
            )
        upgrade(store)
    return store


def init_store(url: str) -> tuple[Store, str | None]:
    """Create a store or upgrade an older one; returns the store and its previous revision."""
    from caseload.store.connection import Store, open_read_only_if_needed

    store = Store(url)
    try:
        store.create_file()
    except OSError as exc:
        raise StoreError(f"Cannot create the store {store.location}: {exc.strerror}.") from None
    try:
        open_read_only_if_needed(store)
        revision = current_revision(store)
        if revision is not None:
            check_revision(store, revision)
        store.ensure_wal()
        if revision != HEAD:
            if store.read_only:
                raise StoreError(
                    f"The store {store.location} cannot be created or upgraded: it is "
                    f"{store.read_only}."
                )
            upgrade(store)
    except BaseException as exc:
        removed_after_failure(store, exc)
        raise
    return store, revision


def removed_after_failure(store: Store, exc: BaseException) -> None:
    """After ``init`` failed (a full disk, Ctrl-C): remove the store it had just created
    and say so in the error's details."""
    from caseload.errors import CaseloadError

    if store.remove_created() and isinstance(exc, CaseloadError):
        exc.details.append(
            f"caseload init removed the store it had just created ({store.location}); "
            "nothing is left behind."
        )
