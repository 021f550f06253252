"""``caseload export``: CSV snapshots of crimes, workload, audit findings and history.

Rows stream from the store in batches into a partial file beside the target,
which is renamed into place only when complete: an interrupted export never
leaves a half-written file under the final name. A device, FIFO or terminal is
written straight; what may be written where is ``caseload.files``. Cells a spreadsheet would run
as a formula are neutralised (``cli.output.neutralise``), and ``caseload import``
reverses it, so a crimes export reads back to the same values.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from caseload.cli.common import AsOfOption, TeamFilter, open_executor
from caseload.cli.csv_writer import write_file, write_rows

if TYPE_CHECKING:
    from collections.abc import Sequence

    from caseload.cli.csv_writer import Rows
    from caseload.files import Target
    from caseload.store.executor import Executor


class What(StrEnum):
    crimes = "crimes"
    workload = "workload"
    findings = "findings"
    history = "history"


def export(
    ctx: typer.Context,
    what: Annotated[
        What,
        typer.Argument(
            case_sensitive=False,
            metavar="WHAT",
            help="crimes (the import columns), workload (per officer), findings (the audit) "
            "or history (every allocation interval).",
        ),
    ],
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write to FILE ('-' for standard output; a device or named pipe is written "
            "straight). Default: caseload-WHAT-YYYYmmdd-HHMMSS.csv in the current folder "
            "(_02, _03 ... added when taken).",
        ),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace FILE if it already exists.")
    ] = False,
    as_of: AsOfOption = None,
    team: TeamFilter = None,
    excel: Annotated[
        bool,
        typer.Option(
            "--excel",
            help="Start the file with a UTF-8 byte-order mark so spreadsheets show accents right.",
        ),
    ] = False,
) -> None:
    """Write a CSV snapshot, now or as of the end of a past day."""
    import sys
    from datetime import datetime

    from caseload import interrupts
    from caseload.cli.output import info
    from caseload.errors import InputError
    from caseload.files import output_target

    if as_of is not None and as_of > date.today():
        raise InputError(f"--as-of {as_of} is in the future; give today or an earlier day.")
    now = datetime.now()
    target: Target | None = None
    default_stem = f"caseload-{what.value}-{now:%Y%m%d-%H%M%S}"
    if output is not None and output != "-":
        target = output_target(output, option="--output", overwrite=overwrite)
    if output != "-" and (target is None or not target.stream):
        _clean_up((target.real.parent if target else Path.cwd().resolve()), "export")
    interrupts.note(
        unsaved=(
            "the export to standard output is incomplete"
            if output == "-"
            else f"the export to {target.path} is incomplete"
            if target is not None and target.stream
            else "no file was written (the partial file was removed)"
        ),
        saved="nothing was changed",
    )
    # every crime today: the named statements, on the quick executor where it serves
    named = what is What.crimes and as_of is None and team is None
    with open_executor(ctx, quick=named) as executor:
        columns, rows, total = _source(executor, what, as_of=as_of, team=team, named=named)
        if output == "-":
            if excel:
                sys.stdout.write("\ufeff")
            written = write_rows(rows, columns, sys.stdout, total=None, newline="\n")
            return
        written, written_to = write_file(
            target, rows, columns, excel=excel, total=total, overwrite=overwrite,
            default=(Path.cwd(), default_stem, ".csv"),
        )  # fmt: skip
    info(f"Exported {written:,} row{'' if written == 1 else 's'} of {what.value} to {written_to}.")
    if output is None:
        typer.echo(str(written_to))


def _clean_up(folder: Path, kind: str) -> None:
    """Remove our partial files in ``folder`` left by writers that were killed, and say so."""
    from caseload.cli.output import info
    from caseload.files import remove_stale_partials

    for path in remove_stale_partials(folder):
        info(f"Removed {path.name}, a partial file left by a caseload write that was killed.")


def _source(
    executor: Executor, what: What, *, as_of: date | None, team: str | None, named: bool
) -> tuple[Sequence[str], Rows, int | None]:
    """Columns, a row stream, and (on a terminal only, for the progress bar) the row count;
    ``named``: every crime today, which the store's named statements serve."""
    import sys

    counting = sys.stderr.isatty()
    if named:
        from caseload.store.records import CRIME_COLUMNS, crimes_file

        every, total = crimes_file(executor, count=counting)
        return CRIME_COLUMNS, every, total
    from caseload.store.audit import team_id_for
    from caseload.store.executor import connection_of

    conn = connection_of(executor)
    team_id = team_id_for(conn, team)
    if what in (What.crimes, What.history):
        from caseload.store import export as queries

        if what is What.crimes:
            query = queries.crimes_query(as_of=as_of, team_id=team_id)
            columns: Sequence[str] = queries.CRIME_COLUMNS
        else:
            query = queries.history_query(as_of=as_of, team_id=team_id)
            columns = queries.HISTORY_COLUMNS
        total = queries.count(conn, query) if counting else None
        rows = queries.export_rows(conn, query, columns, lines=what is What.crimes)
        return columns, rows, total
    if what is What.findings:
        from caseload.domain.audit import FINDING_COLUMNS
        from caseload.store.audit import Audit
        from caseload.store.reference import load_policy

        checks = Audit(conn, load_policy(conn), as_of=as_of, team_id=team_id)
        total = sum(checks.counts()["by_severity"].values()) if counting else None
        return FINDING_COLUMNS, checks.findings(), total
    # The workload report's own query.
    from caseload.store.export import export_rows
    from caseload.store.reference import load_policy
    from caseload.store.team_policy import load_policies
    from caseload.store.workload import WORKLOAD_COLUMNS, workload_query

    query = workload_query(load_policies(conn), as_of=as_of, team=team)
    return WORKLOAD_COLUMNS, export_rows(conn, query, WORKLOAD_COLUMNS), None


def register(app: typer.Typer) -> None:
    app.command("export")(export)
