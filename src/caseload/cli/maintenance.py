"""``caseload verify``, ``caseload backup`` and ``caseload db check``: is the store sound?"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from caseload.cli.common import state
from caseload.cli.output import FormatOption, OutputFormat, WideOption, info, render

if TYPE_CHECKING:
    from caseload.store.connection import Store


def _opened_without_upgrade(ctx: typer.Context) -> Store:
    """The store as it is: refused (exit 4) if missing, foreign or newer; never upgraded."""
    from caseload.cli.common import note_read_only
    from caseload.errors import StoreError
    from caseload.store.connection import Store, open_read_only_if_needed, to_url
    from caseload.store.migrate import check_revision, current_revision

    app_state = state(ctx)
    if app_state._store is not None:
        return app_state._store
    store = Store(to_url(app_state.db))
    if store.path is not None and not store.path.is_file():
        raise StoreError(
            f"There is no caseload store at {store.location}; run 'caseload init' to create one."
        )
    note_read_only(store, open_read_only_if_needed(store))
    check_revision(store, current_revision(store))
    app_state._store = store
    return store


def check(
    ctx: typer.Context, fmt: FormatOption = OutputFormat.table, wide: WideOption = False
) -> None:
    """Check the store: SQLite integrity and foreign keys, and caseload's own invariants.

    Exits 0 when every check passes, 1 listing the problems found.
    """
    from caseload.store.maintenance import check_store

    store = _opened_without_upgrade(ctx)
    checks, problems = check_store(store)
    if not problems:
        if fmt in (OutputFormat.json, OutputFormat.csv):  # scripts read stdout: no problems
            render([], ["check", "count", "examples"], fmt)
        info(f"The store {store.location} passed all {checks} checks.")
        return
    render(
        [p.as_row() for p in problems],
        ["check", "count", "examples"],
        fmt,
        title="Problems found",
        wide=wide,
    )
    info(f"The store {store.location} failed {len(problems)} of {checks} checks.")
    raise typer.Exit(1)


def verify(
    ctx: typer.Context,
    batch: Annotated[
        int,
        typer.Option(
            "--batch", metavar="N", min=1, max=1_000_000, help="Log entries read per batch."
        ),
    ] = 5000,
    anchor: Annotated[
        Path | None,
        typer.Option(
            "--anchor",
            metavar="FILE",
            help="Check the log still holds the head recorded in FILE (a cut tail or a "
            "rewritten chain exits 1), then record the current head there; a missing "
            "FILE is created. Keep it where the store's users cannot edit it.",
        ),
    ] = None,
) -> None:
    """Walk the decision log's hash chain; exit 1 naming the first entry changed, removed
    or inserted (an empty log on a store that holds data counts as removed), or if the
    triggers that keep the log append-only are gone."""
    from datetime import datetime

    from caseload.store.maintenance import Anchor, page_damage, verify_log

    store = _opened_without_upgrade(ctx)
    damage = page_damage(store)
    if damage:
        typer.echo("damaged")
        info(
            f"The store {store.location} is damaged ({'; '.join(damage[:3])}), so its decision "
            "log cannot be trusted; run 'caseload db check' and restore it from a backup."
        )
        raise typer.Exit(1)
    kept = None
    if anchor is not None:
        anchor = anchor.expanduser()
        if anchor.exists():
            kept = Anchor.read(anchor)
        elif not anchor.parent.is_dir():
            from caseload.errors import InputError

            raise InputError(f"The folder {anchor.parent} does not exist.")
    report = verify_log(store, batch=batch, anchor_at=kept.entries if kept else None)
    if report.intact and kept is not None:
        contradiction = kept.contradiction(report)
        if contradiction is not None:
            at, problem = contradiction
            typer.echo(f"broken {at}")
            info(f"The decision log does not match the anchor {anchor}: {problem}.")
            _report_missing_guards(store)
            raise typer.Exit(1)
    if not report.intact:
        typer.echo(f"broken {report.broken_at}")
        intact = (
            ""
            if report.held
            else "; the 1 entry before it is intact"
            if report.entries == 1
            else f"; the {report.entries:,} entries before it are intact"
        )
        info(f"The decision log is broken: {report.problem}{intact}.")
        _report_missing_guards(store)
        raise typer.Exit(1)
    if anchor is not None:
        stamp = datetime.now().isoformat(timespec="seconds")
        Anchor(report.entries, report.head_hash, stamp).write(anchor)
    if report.entries == 0:
        info("The decision log is empty: nothing to verify.")
    else:
        typer.echo(f"head {report.head_id} {report.head_hash}")
        info(
            f"The decision log is intact: {report.entries:,} entries chained from the first to "
            f"entry {report.head_id}."
        )
    if anchor is not None:
        since = f" (it was at entry {kept.entries:,})" if kept is not None else ""
        info(f"Recorded the head, entry {report.entries:,}, in the anchor {anchor}{since}.")
    if _report_missing_guards(store):
        raise typer.Exit(1)


def _report_missing_guards(store: Store) -> bool:
    """Say (stderr) which append-only triggers are missing or disabled; True if any."""
    from caseload.store.guards import missing
    from caseload.store.migrate import HEAD, current_revision

    if current_revision(store) != HEAD:
        return False  # an older store gets its triggers when a command upgrades it
    with store.read() as conn:
        gone = missing(conn)
    if gone:
        info(
            f"The decision log is not protected: {len(gone)} append-only trigger(s) missing or "
            f"disabled ({', '.join(gone)}); anyone who can write the store can rewrite its "
            "history with plain SQL."
        )
    return bool(gone)


def backup(
    ctx: typer.Context,
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE",
            help="Where to write the copy: a new file, or a device or named pipe (written "
            "straight).",
        ),
    ],
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace FILE if it already exists.")
    ] = False,
) -> None:
    """Copy the store to FILE, consistently, while others keep working (SQLite only;
    on PostgreSQL use pg_dump)."""
    from caseload import interrupts
    from caseload.store.maintenance import backup_sqlite

    store = _opened_without_upgrade(ctx)
    interrupts.note(
        unsaved="no backup was written (the partial copy was removed)", saved="nothing was changed"
    )
    done = backup_sqlite(store, file, overwrite=overwrite)
    for path in done.removed:
        info(f"Removed {path.name}, a partial file left by a caseload write that was killed.")
    info(f"Backed up {store.location} to {done.path} ({done.size:,} bytes).")


def register(app: typer.Typer, db_app: typer.Typer) -> None:
    """Add ``verify`` and ``backup`` to the root app, ``check`` to ``caseload db``."""
    db_app.command("check")(check)
    app.command("verify")(verify)
    app.command("backup")(backup)
