"""``caseload init`` and ``caseload db ...``: create, upgrade and inspect the store."""

from __future__ import annotations

from typing import Annotated

import typer

from caseload.cli.common import ActorOption, resolve_actor, state
from caseload.cli.output import FormatOption, OutputFormat, WideOption, info, render_record

db_app = typer.Typer(help="Inspect and look after the store.", no_args_is_help=True)


def init(
    ctx: typer.Context,
    sample: Annotated[
        bool,
        typer.Option(
            "--sample",
            help="Also load the synthetic sample force from sample_data/ (empty store only).",
        ),
    ] = False,
    actor: ActorOption = None,
) -> None:
    """Create the store, or upgrade an older one to this version's schema."""
    from caseload.store.connection import to_url
    from caseload.store.migrate import HEAD, init_store

    who = resolve_actor(actor) if sample else ""  # a bad --actor refused before anything is made
    store, previous = init_store(to_url(state(ctx).db))
    state(ctx)._store = store
    if previous is None:
        info(f"Created a caseload store at {store.location} (schema {HEAD}).")
    elif previous != HEAD:
        info(f"Upgraded the store at {store.location} from schema {previous} to {HEAD}.")
    else:
        info(f"The store at {store.location} is up to date (schema {HEAD}).")
    if sample:
        from caseload import interrupts
        from caseload.store.migrate import removed_after_failure
        from caseload.store.sample import load_sample

        interrupts.note(
            unsaved=f"the store {store.location} is ready but the sample force was not loaded",
            saved=f"the store {store.location} is ready but only part of the sample force was "
            "loaded (start again on a new store for the whole of it)",
        )
        try:
            summary = load_sample(store, actor=who)
        except BaseException as exc:
            removed_after_failure(store, exc)
            raise
        info(summary or "The sample force is already loaded in this store; nothing was changed.")


@db_app.command("status")
def status(
    ctx: typer.Context, fmt: FormatOption = OutputFormat.table, wide: WideOption = False
) -> None:
    """Show where the store is, its schema revision and how much it holds."""
    from caseload.store.crimes import counts
    from caseload.store.migrate import current_revision

    store = state(ctx).store()
    with store.read() as conn:
        record: dict[str, object] = {
            "store": store.location,
            "backend": store.engine.dialect.name,
            "revision": current_revision(store),
        }
        record.update(counts(conn))
    render_record(record, fmt, title="Store", wide=wide)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(db_app, name="db")
