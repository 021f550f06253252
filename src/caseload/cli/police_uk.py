"""``caseload import police-uk FILE...``: police.uk street-level files as published.

Thin: open every file, check each whole, write them all in one transaction
(``store.importer.write`` with several sources), report. The columns and the
outcome table are ``domain.police_uk``; the writer is ``store.importer.police_uk``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from caseload.cli.common import ActorOption, open_store, parse_text_arg, resolve_actor
from caseload.cli.importing import (
    DelimiterOption,
    DryRunOption,
    ReasonOption,
    report_defaults,
    tell_delimiter,
)
from caseload.cli.output import info, progress, warn

FilesArg = Annotated[
    list[str],
    typer.Argument(
        metavar="FILE...",
        help="police.uk street-level CSV files (e.g. 2023-01-metropolitan-street.csv).",
    ),
]
TeamOption = Annotated[
    str | None,
    typer.Option(
        "--team",
        metavar="NAME",
        parser=parse_text_arg,
        help="Put every crime in this team (instead of --team-by).",
    ),
]
TeamByOption = Annotated[
    str | None,
    typer.Option(
        "--team-by",
        metavar="borough|force",
        help="The team of each crime: the LSOA name's borough (default; a row without a "
        "location goes to its force) or the force ('Falls within').",
    ),
]


def command(
    ctx: typer.Context,
    files: FilesArg,
    team: TeamOption = None,
    team_by: TeamByOption = None,
    dry_run: DryRunOption = False,
    actor: ActorOption = None,
    reason: ReasonOption = "import",
    delimiter: DelimiterOption = None,
) -> None:
    """Import police.uk street-level files: Crime ID is the reference, Month the first of
    the month, Last outcome category live or finalised (the README's table). Rows without
    a Crime ID (anti-social behaviour) and repeated rows are skipped and counted. All the
    files in one transaction; importing them again changes nothing."""
    from contextlib import ExitStack

    from caseload.domain.police_uk import POLICE_UK, TEAM_BY
    from caseload.domain.values import clean_text
    from caseload.errors import InputError
    from caseload.store.importer import (
        Options,
        check,
        open_source,
        parse_delimiter,
        repeat_warnings,
        summary,
        write,
    )

    if team is not None and team_by is not None:
        raise InputError("Give --team NAME or --team-by borough|force, not both.")
    by = (team_by or "borough").strip().lower()
    if by not in TEAM_BY:
        raise InputError(f"'{team_by}' is not a --team-by choice (borough or force).")
    name = clean_text(team, "the team", max_length=100) if team is not None else None
    given = parse_delimiter(delimiter) if delimiter is not None else None
    store = open_store(ctx)
    options = Options(
        actor=resolve_actor(actor),
        reason=reason or "import",
        kind_options={"team": name, "team_by": by},
    )
    with ExitStack() as stack:
        sources = [stack.enter_context(open_source(f, delimiter=given)) for f in files]
        rows = 0
        for source in sources:
            tell_delimiter(source)
            with progress(f"Checking {source.label}") as advance:
                rows += check(store, source, POLICE_UK.kind, options=options, advance=advance)
        with progress("Importing crimes", total=rows) as advance:
            counts = write(
                store, sources, POLICE_UK.kind, options=options, dry_run=dry_run, advance=advance
            )
        repeats = repeat_warnings(sources, POLICE_UK)
    for message in repeats:
        warn(message + ".")
    report_defaults(counts)
    text = summary(POLICE_UK.kind, counts, dry_run=dry_run)
    if len(sources) > 1:
        text = text.replace(" crimes: ", f" crimes from {len(sources)} files: ", 1)
        text = text.replace(" crime: ", f" crime from {len(sources)} files: ", 1)
    info(text)


def register(import_app: typer.Typer) -> None:
    """Add ``police-uk`` to ``caseload import`` (``cli.imports.import_app``)."""
    import_app.command("police-uk")(command)
