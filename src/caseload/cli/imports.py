"""``caseload import officers|crimes|matrix|history FILE``: bulk load from CSV.

Thin: open the file, check it, write it, report. The framework (streaming,
all-or-nothing, re-import by key) is ``store.importer``; the columns are
``domain.csvschema``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from caseload.cli.common import ActorOption, open_store, parse_text_arg, resolve_actor
from caseload.cli.output import info, progress, warn

if TYPE_CHECKING:
    from caseload.store.importer import Counts

import_app = typer.Typer(
    help=(
        "Bulk load from CSV: officers, crimes, matrix, history, reviews, events or "
        "victim-updates (one command each; 'caseload import KIND --help' gives its columns). "
        "All or nothing: a file with any bad row writes nothing and lists every problem."
    ),
    no_args_is_help=True,
)

FileArg = Annotated[
    str,
    typer.Argument(
        metavar="FILE",
        help="A CSV file (UTF-8, header on line 1); '-' reads standard input.",
    ),
]
DryRunOption = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="Check the file and report what would change, without writing anything.",
    ),
]
IgnoreUnknownOption = Annotated[
    bool,
    typer.Option(
        "--ignore-unknown", help="Skip columns caseload does not know instead of failing."
    ),
]
ReasonOption = Annotated[
    str,
    typer.Option(
        "--reason",
        "-r",
        metavar="TEXT",
        parser=parse_text_arg,
        help="Reason recorded with every change the import makes (default: import).",
    ),
]
DelimiterOption = Annotated[
    str | None,
    typer.Option(
        "--delimiter",
        metavar="SEP",
        help="The cell delimiter: comma, semicolon or tab (default: found in the header line).",
    ),
]
OverrideOption = Annotated[
    str | None,
    typer.Option(
        "--override",
        metavar="REASON",
        parser=parse_text_arg,
        help="Allocate holders even where a block-mode rule refuses; the reason is recorded.",
    ),
]


def run_import(
    ctx: typer.Context,
    kind: str,
    file: str,
    *,
    dry_run: bool = False,
    ignore_unknown: bool = False,
    actor: str | None = None,
    reason: str = "import",
    override: str | None = None,
    delimiter: str | None = None,
) -> None:
    """Check FILE whole, then write it in one transaction; summary and warnings on stderr."""
    from caseload import interrupts
    from caseload.domain.csvschema import SPECS
    from caseload.errors import PolicyRefused
    from caseload.store.importer import (
        Options,
        check,
        open_source,
        parse_delimiter,
        repeat_warnings,
        summary,
        write,
    )

    interrupts.note(
        unsaved="nothing was imported (nothing is written until the whole file has passed)",
        saved="nothing was changed",
    )
    store = open_store(ctx)
    options = Options(actor=resolve_actor(actor), reason=reason or "import", override=override)
    spec = SPECS[kind]
    given = parse_delimiter(delimiter) if delimiter is not None else None
    with open_source(file, delimiter=given) as source:
        tell_delimiter(source)
        with progress(f"Checking {spec.plural}") as advance:
            rows = check(
                store,
                source,
                kind,
                options=options,
                ignore_unknown=ignore_unknown,
                advance=advance,
            )
        interrupts.note(
            unsaved="nothing was imported (the import's transaction was rolled back)",
            saved=f"the import of {file} was saved (committed) before the interrupt; "
            "only its summary was not printed",
        )
        try:
            with progress(f"Importing {spec.plural}", total=rows) as advance:
                counts = write(
                    store,
                    source,
                    kind,
                    options=options,
                    ignore_unknown=ignore_unknown,
                    dry_run=dry_run,
                    advance=advance,
                )
        except PolicyRefused as exc:
            exc.details.append("To import anyway, add --override REASON (the reason is recorded).")
            raise
        repeats = repeat_warnings([source], spec)
    for message in counts.warnings:
        warn(message + ".")
    if counts.warned > len(counts.warnings):
        warn(f"... and {counts.warned - len(counts.warnings):,} more allocation warnings.")
    for message in repeats:
        warn(message + ".")
    report_defaults(counts)
    info(summary(kind, counts, dry_run=dry_run))


def report_defaults(counts: Counts) -> None:
    """What the import created or assumed without being told: new teams (and any that look
    like a typo of an existing one), and crimes that took the default required level."""
    from caseload.store.importer import defaults_message, teams_message

    created, near = teams_message(counts)
    if created:
        info(created)
    for message in near:
        warn(message + ".")
    defaults = defaults_message(counts)
    if defaults:
        warn(defaults)


def tell_delimiter(source: Any) -> None:
    """Say when the file was found to be separated by something other than commas."""
    if source.detected and source.delimiter != ",":
        info(f"Reading {source.label} as {source.delimiter_name}-separated (found in its header).")


def _command(kind: str, what: str) -> None:
    def command(
        ctx: typer.Context,
        file: FileArg,
        dry_run: DryRunOption = False,
        ignore_unknown: IgnoreUnknownOption = False,
        actor: ActorOption = None,
        reason: ReasonOption = "import",
        delimiter: DelimiterOption = None,
    ) -> None:
        run_import(
            ctx,
            kind,
            file,
            dry_run=dry_run,
            ignore_unknown=ignore_unknown,
            actor=actor,
            reason=reason,
            delimiter=delimiter,
        )

    command.__doc__ = what
    import_app.command(kind)(command)


_command(
    "officers",
    "Import officers (collar, name, team, accreditation, investigator_since; optional rank, "
    "status, capacity, trainee). Existing collars are updated.",
)
_command(
    "matrix",
    "Import the allocation matrix (crime_type, required_level). Existing crimes keep theirs.",
)


_command(
    "reviews",
    "Import supervisory reviews (reference, on, note; optional next_due, actor). "
    "A review already recorded for that crime and day is left alone.",
)
_command(
    "events",
    "Import key investigative events (reference, kind, on; optional actor). Kinds: "
    "arrested, interviewed, released, bailed, charged, nfa.",
)
_command(
    "victim-updates",
    "Import victim updates (reference, on, note; optional actor). An update already "
    "recorded for that crime and day is left alone.",
)


@import_app.command("crimes")
def crimes(
    ctx: typer.Context,
    file: FileArg,
    dry_run: DryRunOption = False,
    ignore_unknown: IgnoreUnknownOption = False,
    actor: ActorOption = None,
    reason: ReasonOption = "import",
    override: OverrideOption = None,
    delimiter: DelimiterOption = None,
) -> None:
    """Import crimes (reference, crime_type, reported_on, team; optional required_level,
    holder, victim_enhanced, finalised_on, outcome, allocated_on). Existing references are
    updated; holders of live crimes are allocated under the allocation rules."""
    run_import(
        ctx,
        "crimes",
        file,
        dry_run=dry_run,
        ignore_unknown=ignore_unknown,
        actor=actor,
        reason=reason,
        override=override,
        delimiter=delimiter,
    )


@import_app.command("history")
def history(
    ctx: typer.Context,
    file: FileArg,
    dry_run: DryRunOption = False,
    ignore_unknown: IgnoreUnknownOption = False,
    actor: ActorOption = None,
    reason: ReasonOption = "import",
    override: OverrideOption = None,
    delimiter: DelimiterOption = None,
) -> None:
    """Import allocation history intervals (reference, holder, from, actor; optional to,
    reason); a blank 'to' is the current holding. History is added to, never rewritten:
    a row for an interval already held must match it, past intervals must not overlap,
    and a current holding is an allocation under the allocation rules. The file's actor
    is recorded as a detail; the decision log's actor is whoever runs the import."""
    run_import(
        ctx,
        "history",
        file,
        dry_run=dry_run,
        ignore_unknown=ignore_unknown,
        actor=actor,
        reason=reason,
        override=override,
        delimiter=delimiter,
    )


def register(app: typer.Typer) -> None:
    """Add ``caseload import ...`` to the root app."""
    from caseload.cli import police_uk

    police_uk.register(import_app)
    app.add_typer(import_app, name="import")
