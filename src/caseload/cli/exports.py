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
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer

from caseload.cli.common import AsOfOption, TeamFilter, open_store

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from typing import TypeAlias

    from caseload.files import Target
    from caseload.store.export import LineSource

    Rows: TypeAlias = "Iterable[Mapping[str, Any]] | RawRows | LineSource"


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
    with open_store(ctx).read() as conn:
        columns, rows, total = _source(conn, what, as_of=as_of, team=team)
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
    conn: Any, what: What, *, as_of: date | None, team: str | None
) -> tuple[Sequence[str], Rows, int | None]:
    """Columns, a row stream, and (on a terminal only, for the progress bar) the row count."""
    import sys

    from caseload.store.audit import team_id_for

    team_id = team_id_for(conn, team)
    counting = sys.stderr.isatty()
    if what in (What.crimes, What.history):
        from caseload.store import export as queries

        if what is What.crimes:
            query = queries.crimes_query(as_of=as_of, team_id=team_id)
            columns: Sequence[str] = queries.CRIME_COLUMNS
        else:
            query = queries.history_query(as_of=as_of, team_id=team_id)
            columns = queries.HISTORY_COLUMNS
        total = queries.count(conn, query) if counting else None
        names = [column.name for column in query.selected_columns]
        if names != list(columns):  # history selects its columns in another order: by name
            return columns, queries.stream(conn, query), total
        lines = queries.crime_lines(conn, query) if what is What.crimes else None
        if lines is not None:  # SQLite joins each row's cells: one string per row
            return columns, lines, total
        return columns, query_rows(conn, query), total
    if what is What.findings:
        from caseload.domain.audit import FINDING_COLUMNS
        from caseload.store.audit import Audit
        from caseload.store.reference import load_policy

        checks = Audit(conn, load_policy(conn), as_of=as_of, team_id=team_id)
        total = sum(checks.counts()["by_severity"].values()) if counting else None
        return FINDING_COLUMNS, checks.findings(), total
    # The workload report's own query.
    from caseload.store.reference import load_policy
    from caseload.store.workload import WORKLOAD_COLUMNS, workload_query

    query = workload_query(load_policy(conn), as_of=as_of, team=team)
    return WORKLOAD_COLUMNS, query_rows(conn, query), None


def query_rows(conn: Any, query: Any) -> RawRows | Iterable[Mapping[str, Any]]:
    """A query's rows for ``write_rows``: plain tuples straight from the cursor where
    that path applies (SQLite), else dicts streamed in batches."""
    from caseload.store import export as queries

    batches = queries.row_batches(conn, query)
    if batches is not None:  # the raw cursor: millions of rows without row objects
        return RawRows(batches, queries.text_positions(query))
    return queries.stream(conn, query)


class RawRows:
    """Batches of plain tuples in the export's column order, straight from the cursor
    (``store.export.row_batches``); ``text``: the positions of text columns."""

    def __init__(self, batches: Iterable[list[tuple[Any, ...]]], text: Sequence[int]):
        self.batches = batches
        self.text = tuple(text)


def write_raw(
    rows: RawRows,
    columns: Sequence[str],
    out: IO[str],
    *,
    total: int | None,
    newline: str = "\r\n",
) -> int:
    """``write_rows`` for cursor tuples. A batch whose text cells all start safely is
    written as it is (the csv module writes ints, and None as blank); the check is
    one search of the batch's text cells joined. A batch with a cell a spreadsheet
    could run (rare) goes cell by cell through ``csv_cell``."""
    from itertools import chain
    from operator import itemgetter

    from caseload.cli.output import FORMULA_PREFIXES, NEUTRALISER, csv_cell

    joint = "\x00"  # in a cell it could only cause a needless cell-by-cell batch
    needles = [joint + first for first in (*FORMULA_PREFIXES, NEUTRALISER)]
    if len(rows.text) > 1:
        texts: Any = itemgetter(*rows.text)
    else:
        only = rows.text[0] if rows.text else None
        texts = (lambda row: (row[only],)) if only is not None else (lambda row: ())

    def safe(batch: list[tuple[Any, ...]]) -> bool:
        try:
            joined = joint + joint.join(filter(None, chain.from_iterable(map(texts, batch))))
        except TypeError:  # a text column holding something else: check cell by cell
            return False
        return not any(needle in joined for needle in needles)

    def write(writer: Any, batch: list[tuple[Any, ...]]) -> None:
        if safe(batch):
            writer.writerows(batch)
        else:
            writer.writerows([csv_cell(value) for value in row] for row in batch)

    return _write_batches(rows.batches, write, columns, out, total=total, newline=newline)


def _write_batches(
    batches: Iterable[list[Any]],
    write: Any,
    columns: Sequence[str],
    out: IO[str],
    *,
    total: int | None,
    newline: str,
) -> int:
    """The header, then ``write(csv_writer, batch)`` for each batch, with a progress bar
    on a terminal; returns the rows written."""
    import csv

    from caseload import interrupts
    from caseload.cli.output import progress

    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(columns)
    count = 0
    with progress("Exporting", total=total, over=out) as advance:
        for batch in batches:
            write(writer, batch)
            count += len(batch)
            advance(len(batch))
            interrupts.checkpoint("export-writing")
    return count


def write_lines(
    source: LineSource,
    columns: Sequence[str],
    out: IO[str],
    *,
    total: int | None,
    newline: str = "\r\n",
) -> int:
    """``write_rows`` for rows joined by SQLite (``store.export.LineSource``).

    A batch is written as it is, separators turned into commas, when one pass over
    it shows that no cell needs the csv module's quoting (a comma, quote or line
    break), no cell starts with a character a spreadsheet could run, and no cell
    holds a separator itself (the counts add up). Otherwise (rare) the batch's cells
    are fetched and written cell by cell through ``csv_cell``."""

    from caseload.cli.output import FORMULA_PREFIXES, NEUTRALISER, csv_cell
    from caseload.store.export import SEPARATOR

    end = "\x1e"  # between rows while checking (ASCII record separator)
    quoting = ('"', ",", "\n", "\r")
    risky = (*FORMULA_PREFIXES, NEUTRALISER)
    # Every character a cell must not start with, as NUL: then two searches find a
    # cell start that needs neutralising (bytes.translate is one table lookup a byte).
    as_nul = bytes.maketrans("".join(risky).encode(), b"\0" * len(risky))
    starts = (SEPARATOR.encode() + b"\0", end.encode() + b"\0")
    cells_per_row = source.width - 1

    def plain(lines: list[str], blob: str) -> bool:
        if (
            blob.count(SEPARATOR) != len(lines) * cells_per_row
            or blob.count(end) != len(lines) - 1
            or blob.startswith(risky)
            or any(mark in blob for mark in quoting)
        ):
            return False
        marked = blob.encode().translate(as_nul)
        return not any(start in marked for start in starts)

    def write(writer: Any, batch: list[tuple[Any, str]]) -> None:
        lines = [line for _, line in batch]
        blob = end.join(lines)
        if plain(lines, blob):
            out.write(blob.replace(SEPARATOR, ",").replace(end, newline))
            out.write(newline)
        else:
            cells = source.rows(batch[0][0], batch[-1][0])
            writer.writerows([csv_cell(value) for value in row] for row in cells)

    return _write_batches(source.batches, write, columns, out, total=total, newline=newline)


def write_rows(
    rows: Rows,
    columns: Sequence[str],
    out: IO[str],
    *,
    total: int | None,
    newline: str = "\r\n",
) -> int:
    """Write a header and neutralised rows; a progress bar on a terminal when ``total``."""
    import csv

    if isinstance(rows, RawRows):
        return write_raw(rows, columns, out, total=total, newline=newline)
    from caseload.store.export import LineSource

    if isinstance(rows, LineSource):
        return write_lines(rows, columns, out, total=total, newline=newline)

    from caseload import interrupts
    from caseload.cli.output import csv_cell, progress

    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(columns)
    count = 0
    with progress("Exporting", total=total, over=out) as advance:
        for row in rows:
            writer.writerow([csv_cell(row.get(key)) for key in columns])
            count += 1
            interrupts.checkpoint("export-writing")
            if count % 1000 == 0:
                advance(1000)
        advance(count % 1000)
    return count


def write_file(
    target: Target | None,
    rows: Rows,
    columns: Sequence[str],
    *,
    excel: bool,
    total: int | None,
    overwrite: bool = False,
    default: tuple[Path, str, str] | None = None,
) -> tuple[int, Path]:
    """Write the rows to ``target`` (``files.output_target``), or under the first free
    default name (``default``: folder, stem, suffix) when it is None; returns the rows
    written and the path.

    A device, FIFO or terminal is written straight. A file is written into a partial
    file beside it (``files.claim_partial``) and renamed into place when complete: the
    rename is atomic on one file system, so readers see either the old file or the
    complete new one; on any error or interrupt the partial file is removed.
    """
    import os

    from caseload.errors import InputError
    from caseload.files import claim_partial, open_stream, place, place_under_default_name

    encoding = "utf-8-sig" if excel else "utf-8"
    if target is not None and target.stream:
        out = open_stream(target, encoding=encoding)
        try:
            with out:
                count = write_rows(rows, columns, out, total=total)
        except OSError as exc:
            raise InputError(f"Cannot write {target.path}: {exc.strerror}.") from None
        return count, target.path
    if target is None:
        assert default is not None
        folder, stem, suffix = default
        real = folder.resolve() / f"{stem}{suffix}"
    else:
        real = target.real
    partial, lock = claim_partial(real, "export")
    shown = target.path if target is not None else real
    try:
        # A second descriptor for the writing: the first keeps the lock (and so the
        # partial file safe from another run's clean-up) until the rename is done.
        with os.fdopen(os.dup(lock), "w", encoding=encoding, newline="") as out:
            count = write_rows(rows, columns, out, total=total)
            out.flush()
            os.fsync(out.fileno())
        if target is None:
            shown = place_under_default_name(partial, folder, stem, suffix)
        else:
            place(partial, target, overwrite=overwrite)
    except OSError as exc:
        raise InputError(f"Cannot write {shown}: {exc.strerror}; nothing was left.") from None
    finally:
        partial.unlink(missing_ok=True)
        os.close(lock)
    return count, shown


def register(app: typer.Typer) -> None:
    app.command("export")(export)
