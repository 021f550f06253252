"""The one ``--format`` option and the one renderer every listing uses.

Rows are dicts keyed by stable snake_case field names (DOMAIN.md). ``table``
draws a Rich table on a colour terminal and falls back to plain text when
stdout is not a terminal or ``NO_COLOR`` is set; ``plain`` and ``markdown`` use
tabulate; ``json`` writes stable keys and ISO dates; ``csv`` writes a header that
``caseload import`` accepts back, with cells that a spreadsheet would run as a
formula neutralised. CSV and JSON stream: rows are written as they come.
Messages (warnings, progress) go to stderr; data goes to stdout.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from enum import StrEnum
from itertools import chain
from typing import IO, Annotated, Any

import typer

from caseload.domain.values import UNPRINTABLE, escape_unprintable

_unprintable = UNPRINTABLE.search


class OutputFormat(StrEnum):
    table = "table"
    plain = "plain"
    markdown = "markdown"
    csv = "csv"
    json = "json"


FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        "-f",
        case_sensitive=False,
        help=(
            "Output format: table (Rich on a terminal, plain otherwise), plain, markdown, "
            "csv (re-importable) or json."
        ),
    ),
]

# A leading character a spreadsheet would treat as the start of a formula (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
NEUTRALISER = "'"


def neutralise(text: str) -> str:
    """Make a CSV cell safe to open in a spreadsheet; ``unneutralise`` reverses it.

    Text that already starts with the neutraliser followed by a formula character or
    another neutraliser gets one more, so that ``unneutralise`` gives it back whole."""
    if text and (
        text[0] in FORMULA_PREFIXES
        or (text[0] == NEUTRALISER and len(text) > 1 and text[1] in _RISKY_FIRST)
    ):
        return NEUTRALISER + text
    return text


def unneutralise(text: str) -> str:
    if (
        len(text) > 1
        and text[0] == NEUTRALISER
        and (text[1] in FORMULA_PREFIXES or text[1] == NEUTRALISER)
    ):
        return text[1:]
    return text


def shown(text: str) -> str:
    """Stored text as it may reach a terminal: the one place text becomes safe text.

    Every character ``values.UNPRINTABLE`` matches (control characters, terminal
    escapes, line breaks, invisible reordering marks) is written as an escape such as
    ``\\x1b`` or ``\\n``, so a value can neither drive the terminal nor forge a line.
    Markup brackets are kept as they are: the Rich renderers take the result as
    ``rich.text.Text`` (``rich_text``), never as markup."""
    return text if not _unprintable(text) else escape_unprintable(text)


def rich_text(text: str) -> Any:
    """``text`` for a Rich renderable: literal text (``[/bold]`` is shown, not parsed)."""
    from rich.text import Text

    return Text(shown(text))


def cell_text(value: Any) -> str:
    """How a value reads in plain text and CSV: ISO dates, yes/no, blank for None. (The
    renderers then pass text through ``shown`` before it reaches a terminal.)"""
    if type(value) is str:  # most cells, first
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def use_rich(stream: IO[str] | None = None) -> bool:
    """Rich output only on a real terminal and when NO_COLOR is not set."""
    target = stream or sys.stdout
    return (
        bool(target.isatty()) and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
    )


def write_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], out: IO[str]) -> int:
    writer = csv.writer(out, lineterminator="\r\n" if out is not sys.stdout else "\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([csv_cell(value) for value in map(row.get, columns)])
        count += 1
    return count


_RISKY_FIRST = frozenset((*FORMULA_PREFIXES, NEUTRALISER))


def csv_cell(value: Any) -> str:
    """A CSV cell: text neutralised for spreadsheets; numbers (e.g. a negative headroom) as is."""
    # Exact-type fast paths first: an export writes millions of cells.
    kind = type(value)
    if kind is str:
        return value if not value or value[0] not in _RISKY_FIRST else neutralise(value)
    if kind is int:
        return str(value)
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return cell_text(value)
    return neutralise(cell_text(value))


def write_json(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], out: IO[str]) -> int:
    out.write("[")
    count = 0
    for row in rows:
        out.write(",\n  " if count else "\n  ")
        out.write(json.dumps({key: json_value(row.get(key)) for key in columns}))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def render(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    fmt: OutputFormat,
    *,
    title: str | None = None,
    styles: Mapping[str, str] | None = None,
    row_style: Any = None,
    out: IO[str] | None = None,
) -> int:
    """Write rows in the chosen format to stdout; returns how many rows were written.

    ``styles`` maps a column to a Rich style and ``row_style(row)`` may return a
    style for a whole row; both apply to the Rich table only.
    """
    stream = out or sys.stdout
    if fmt is OutputFormat.csv:
        return write_csv(rows, columns, stream)
    if fmt is OutputFormat.json:
        return write_json(rows, columns, stream)
    materialised = list(rows)
    if fmt is OutputFormat.table and use_rich(stream):
        _rich_table(materialised, columns, title, styles or {}, row_style, stream)
    else:
        if title and fmt is not OutputFormat.markdown:
            stream.write(f"{shown(title)}\n")
        if materialised:
            body = shown_cells(
                [list(map(cell_text, map(row.get, columns))) for row in materialised]
            )
            if fmt is OutputFormat.markdown or not simple_cells(body):
                from tabulate import tabulate  # only here: importing it costs some 30 ms

                table_format = "github" if fmt is OutputFormat.markdown else "simple"
                text = tabulate(
                    body, headers=list(columns), tablefmt=table_format, disable_numparse=True
                )
            else:
                text = simple_table(body, columns)
            stream.write(text)
            stream.write("\n")
        else:
            stream.write("(none)\n")
    return len(materialised)


def shown_cells(body: list[list[str]]) -> list[list[str]]:
    """``shown`` for a table's cells: one C-level search of them all joined, and cell by
    cell only when something needs escaping (a 12,000-move plan has 100,000 cells)."""
    if not _unprintable("".join(chain.from_iterable(body))):
        return body
    return [list(map(shown, row)) for row in body]


def simple_cells(body: list[list[str]]) -> bool:
    """Whether every cell is one line without terminal codes (what ``simple_table`` lays
    out exactly as tabulate would); others go to tabulate, which splits lines."""
    text = "".join(chain.from_iterable(body))  # one C-level search, not three per cell
    return not ("\n" in text or "\r" in text or "\x1b" in text)


def simple_table(body: list[list[str]], headers: Sequence[str]) -> str:
    """tabulate's "simple" format for one-line text cells, written directly: tabulate
    spends some 20 microseconds a cell guessing types, which a 12,000-move rebalance
    plan turned into two seconds. Same output (tests/test_output.py compares them):
    cells stripped, each column as wide as its widest cell or its header plus two,
    left-aligned, two spaces between columns, no trailing spaces."""
    rows = [list(map(str.strip, row)) for row in body]
    widths = [
        max(len(header) + 2, max(map(len, column), default=0))
        for header, column in zip(headers, zip(*rows, strict=True), strict=True)
    ]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(map(str.ljust, cells, widths)).rstrip()

    return "\n".join(
        [line(headers), line(["-" * width for width in widths]), *(line(row) for row in rows)]
    )


def _rich_table(
    rows: list[Mapping[str, Any]],
    columns: Sequence[str],
    title: str | None,
    styles: Mapping[str, str],
    row_style: Any,
    stream: IO[str],
) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=rich_text(title) if title else None, title_justify="left", header_style="bold"
    )
    for key in columns:
        numeric = (
            bool(rows)
            and all(
                isinstance(row.get(key), int | float) and not isinstance(row.get(key), bool)
                for row in rows
                if row.get(key) is not None
            )
            and any(row.get(key) is not None for row in rows)
        )
        table.add_column(
            key.replace("_", " "), style=styles.get(key), justify="right" if numeric else "left"
        )
    for row in rows:
        table.add_row(
            *(Text(shown(cell_text(row.get(key)))) for key in columns),
            style=row_style(row) if row_style else None,
        )
    Console(file=stream).print(table if rows else "(none)")


def render_record(
    record: Mapping[str, Any], fmt: OutputFormat, *, title: str | None = None
) -> None:
    """One object (e.g. ``officer show``): JSON as an object; otherwise field/value pairs."""
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps({k: json_value(v) for k, v in record.items()}, indent=2))
        sys.stdout.write("\n")
        return
    if fmt is OutputFormat.csv:
        write_csv([record], list(record), sys.stdout)
        return
    rows = [{"field": key, "value": cell_text(value)} for key, value in record.items()]
    render(rows, ["field", "value"], fmt, title=title)


# --- messages on stderr -------------------------------------------------------------------


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True, no_color="NO_COLOR" in os.environ, highlight=False)


def info(message: str) -> None:
    typer.echo(shown_message(message), err=True)


def shown_message(message: str) -> str:
    """A message on stderr: its own line breaks kept, anything else unprintable escaped
    (a message may quote stored text or what was typed)."""
    return "\n".join(map(shown, message.split("\n")))


def warn(message: str) -> None:
    """A warning a supervisor must see: in colour on a terminal, plain text in a pipe."""
    if sys.stderr.isatty() and "NO_COLOR" not in os.environ:
        from rich.markup import escape

        _stderr_console().print(f"[bold yellow]Warning:[/] {escape(shown_message(message))}")
    else:
        typer.echo(f"Warning: {shown_message(message)}", err=True)


@contextmanager
def progress(description: str, total: int | None = None) -> Iterator[Any]:
    """A progress bar on a terminal; a silent stand-in in a pipe or under cron.

    Yields a callable ``advance(n)``.
    """
    if not sys.stderr.isatty():
        yield lambda n=1: None
        return
    from rich.progress import Progress

    with Progress(console=_stderr_console(), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)
