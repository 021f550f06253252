"""What every ``caseload import`` command shares: its options, one import's run
(``run_import``: check the file whole, then write it in one transaction) and what
it reports on stderr. Used by ``cli.imports``, ``cli.police_uk`` and ``matrix import``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from caseload.cli.common import open_store, parse_text_arg, resolve_actor
from caseload.cli.output import info, progress, warn

if TYPE_CHECKING:
    from caseload.store.importer import Counts

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
