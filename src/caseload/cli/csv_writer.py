"""Rows written as CSV: a header, then cells neutralised (``cli.output.csv_cell``).

Shared by ``caseload export`` and ``caseload workload --format csv``. Rows come
as lines PostgreSQL's COPY wrote (``store.export.CopyRows``), as cursor tuples
(``store.executor.RawRows``), as lines SQLite joined (``store.executor.JoinedLines``) or as
dicts (``store.export.export_rows`` chooses); a file is written into a partial file
beside it and renamed into place when complete (``write_file``).
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from typing import TypeAlias

    from caseload.files import Target
    from caseload.store.executor import JoinedLines, RawRows
    from caseload.store.export import CopyRows

    Rows: TypeAlias = "Iterable[Mapping[str, Any]] | RawRows | JoinedLines | CopyRows"


def query_rows(conn: Any, query: Any, *, copy: bool = True) -> Rows:
    """A query's rows for ``write_rows``, read the fastest way the store allows
    (``store.export.export_rows``: COPY on PostgreSQL unless ``copy`` is False, the raw
    cursor on SQLite, else dicts streamed in batches)."""
    from caseload.store.export import export_rows

    return export_rows(conn, query, copy=copy)


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
    try:
        with progress("Exporting", total=total, over=out) as advance:
            for batch in batches:
                write(writer, batch)
                count += len(batch)
                advance(len(batch))
                interrupts.checkpoint("export-writing")
    finally:
        # Closed here, before the transaction ends: a COPY holds the psycopg connection's
        # lock until its block exits, so a reader left suspended by an error or an
        # interrupt would hang the rollback (store.export._copy_batches).
        close = getattr(batches, "close", None)
        if close is not None:
            close()
    return count


def write_lines(
    source: JoinedLines,
    columns: Sequence[str],
    out: IO[str],
    *,
    total: int | None,
    newline: str = "\r\n",
) -> int:
    """``write_rows`` for rows joined by SQLite (``store.executor.JoinedLines``).

    A batch is written as it is, separators turned into commas, when one pass over
    it shows that no cell needs the csv module's quoting (a comma, quote or line
    break), no cell starts with a character a spreadsheet could run, and no cell
    holds a separator itself (the counts add up). Otherwise (rare) the batch's cells
    are fetched and written cell by cell through ``csv_cell``."""

    from caseload.cli.output import FORMULA_PREFIXES, NEUTRALISER, csv_cell
    from caseload.store.executor import SEPARATOR

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


def write_copy(
    rows: CopyRows,
    columns: Sequence[str],
    out: IO[str],
    *,
    total: int | None,
    newline: str = "\r\n",
) -> int:
    """``write_rows`` for lines PostgreSQL wrote (``store.export.CopyRows``), each cell
    already as ``csv_cell`` gives it. A batch without a quote character is written as it
    is (its only line feeds end rows: ``newline`` put in their place); a line with one (a
    cell the server quoted) is read back into its cells and written by the csv module,
    which quotes as it always has."""
    import csv
    import io

    encoding = rows.encoding
    crlf = newline != "\n"

    def plain(data: bytes) -> None:
        text = data.decode(encoding)
        out.write(text.replace("\n", newline) if crlf else text)

    def write(writer: Any, batch: list[Any]) -> None:
        blob = b"".join(batch)
        if b'"' not in blob:
            plain(blob)
            return
        for line in batch:
            data = bytes(line)
            if b'"' in data:
                writer.writerows(csv.reader(io.StringIO(data.decode(encoding), newline="")))
            else:
                plain(data)

    return _write_batches(rows.batches, write, columns, out, total=total, newline=newline)


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

    from caseload.store.executor import JoinedLines, RawRows

    # before store.export, which imports SQLAlchemy: the quick executor's rows are these
    if isinstance(rows, RawRows):
        return write_raw(rows, columns, out, total=total, newline=newline)
    if isinstance(rows, JoinedLines):
        return write_lines(rows, columns, out, total=total, newline=newline)

    from caseload.store.export import CopyRows

    if isinstance(rows, CopyRows):
        return write_copy(rows, columns, out, total=total, newline=newline)

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
