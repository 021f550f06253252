"""The one ``--format`` option and the one renderer every listing uses.

Rows are dicts keyed by stable snake_case field names (DOMAIN.md). ``table`` is
laid out by ``fit_table`` to the terminal's width (or ``COLUMNS``), guided by each
listing's ``Layout`` (which columns may give way, which text wraps), and coloured
on a colour terminal only; ``plain`` writes whole rows and ``markdown`` a GitHub
table; ``json`` writes stable keys and ISO dates; ``csv`` writes a header that
``caseload import`` accepts back, with cells that a spreadsheet would run as a
formula neutralised. CSV and JSON stream: rows are written as they come. Every
cell's text comes from ``cell_text``. Titles and messages (warnings, progress) go
to stderr; data goes to stdout.
"""

from __future__ import annotations

import csv
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
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
        metavar="FORMAT",
        case_sensitive=False,
        help=(
            "Output format: table (fits the terminal), plain (whole rows, for scripts), "
            "markdown, csv (re-importable) or json."
        ),
    ),
]

WideOption = Annotated[
    bool,
    typer.Option(
        "--wide",
        help="Table format: show every column in full, however narrow the terminal.",
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
    row_style: Any = None,
    layout: Layout | None = None,
    wide: bool = False,
    out: IO[str] | None = None,
) -> int:
    """Write rows in the chosen format to stdout; returns how many rows were written.

    ``table`` fits the terminal (``fit_table``, guided by ``layout``) unless ``wide``;
    the title goes to stderr, as every message does. ``row_style(row)`` may return a
    Rich style for a whole row, used on a colour terminal only.
    """
    stream = out or sys.stdout
    if fmt is OutputFormat.csv:
        return write_csv(rows, columns, stream)
    if fmt is OutputFormat.json:
        return write_json(rows, columns, stream)
    materialised = list(rows)
    if title and fmt is not OutputFormat.markdown:
        heading(title)
    if not materialised:
        stream.write("(none)\n")
    elif fmt is OutputFormat.table:
        _write_fitted(
            materialised,
            columns,
            layout or NO_LAYOUT,
            None if wide else output_width(stream),
            row_style,
            stream,
            use_rich(stream),
        )
    else:
        body = shown_cells([list(map(cell_text, map(row.get, columns))) for row in materialised])
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
    return len(materialised)


def heading(title: str) -> None:
    """A table's title, on stderr (bold on a colour terminal), so stdout holds data only."""
    if sys.stderr.isatty() and "NO_COLOR" not in os.environ:
        from rich.text import Text

        _stderr_console().print(Text(shown(title), style="bold"))
    else:
        typer.echo(shown(title), err=True)


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


def render_record(
    record: Mapping[str, Any], fmt: OutputFormat, *, title: str | None = None, wide: bool = False
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
    render(rows, ["field", "value"], fmt, title=title, layout=Layout(wrap=("value",)), wide=wide)


# --- tables that fit the terminal -----------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """How a listing gives way on a narrow terminal (``table`` format only).

    ``drop``: columns a narrow terminal may leave out, the least useful first; every other
    column is always shown whole. ``wrap``: long text (reasons, details) that wraps
    inside its cell rather than widening the table. ``last``: columns left out only when
    the wrapped text is as narrow as it goes and the table is still too wide."""

    drop: Sequence[str] = ()
    last: Sequence[str] = ()
    wrap: Sequence[str] = ("reasons", "reason", "detail", "why", "meaning", "note", "examples")


NO_LAYOUT = Layout()
WRAP_SOFT_MIN = 40  # a wrapped column keeps this much before any droppable column goes
WRAP_HARD_MIN = 16  # and gives way down to this once nothing else can
GAP = 2  # spaces between columns


def output_width(stream: IO[str] | None = None) -> int | None:
    """The width a table must fit: ``COLUMNS`` when set, else the terminal's; None in a
    pipe without ``COLUMNS`` (whole rows, for scripts and ``less -S``)."""
    value = os.environ.get("COLUMNS", "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    target = stream or sys.stdout
    try:
        if target.isatty():
            return os.get_terminal_size(target.fileno()).columns
    except (OSError, ValueError, AttributeError):
        pass
    return None


@dataclass
class FittedTable:
    """A table laid out for a width: which columns show, how wide, and its text lines."""

    shown: list[str]
    dropped: list[str]
    lines: list[str]
    row_spans: list[tuple[int, int]]  # for each data row, its first line and line count
    header_lines: int


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def fit_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    width: int | None,
    layout: Layout = NO_LAYOUT,
) -> FittedTable:
    """Lay rows out in at most ``width`` characters a line (None: no limit).

    Columns not in ``layout.drop`` are never cut or left out. To fit, in order: headers
    wrap between words; wrapped columns narrow to ``WRAP_SOFT_MIN``; droppable columns go,
    least useful first; wrapped columns narrow to ``WRAP_HARD_MIN``; the ``last`` columns
    go. Space left over goes
    back to the wrapped columns, then to the headers."""
    import textwrap

    body = shown_cells([[cell_text(row.get(key)) for key in columns] for row in rows])
    labels = [key.replace("_", " ") for key in columns]
    index = {key: i for i, key in enumerate(columns)}
    cell_width = [
        max((len(line) for row in body for line in row[i].splitlines()), default=0)
        for i in range(len(columns))
    ]
    head_full = [len(label) for label in labels]
    head_min = [max(map(len, re.split(r"(?<=-)|\s", label)), default=0) for label in labels]
    wraps = {index[key] for key in layout.wrap if key in index}
    natural = [max(c, h) for c, h in zip(cell_width, head_full, strict=True)]
    shown = list(range(len(columns)))
    widths = dict(enumerate(natural))

    def total() -> int:
        return sum(widths[i] for i in shown) + GAP * (len(shown) - 1)

    dropped: list[str] = []
    if width is not None and total() > width:
        for i in shown:
            widths[i] = max(
                head_min[i], min(cell_width[i], WRAP_SOFT_MIN) if i in wraps else cell_width[i]
            )
        for key in layout.drop:
            if total() <= width:
                break
            if key in index and index[key] in shown:
                shown.remove(index[key])
                dropped.append(key)
        for i in sorted(wraps & set(shown)):
            if total() > width:
                widths[i] = max(WRAP_HARD_MIN, head_min[i], widths[i] - (total() - width))
        for key in layout.last:
            if total() <= width:
                break
            if key in index and index[key] in shown:
                shown.remove(index[key])
                dropped.append(key)
        spare = width - total()
        for i in sorted(wraps & set(shown)):
            grow = min(spare, natural[i] - widths[i])
            if grow > 0:
                widths[i] += grow
                spare -= grow
        for i in shown:  # a header goes back on one line only whole
            grow = natural[i] - widths[i]
            if 0 < grow <= spare:
                widths[i] += grow
                spare -= grow
    numeric = [
        any(_is_number(row.get(key)) for row in rows)
        and all(_is_number(row.get(key)) for row in rows if row.get(key) is not None)
        for key in columns
    ]

    def cell_lines(text: str, i: int) -> list[str]:
        if len(text) > widths[i] or "\n" in text:
            out: list[str] = []
            for part in text.splitlines() or [""]:
                out.extend(textwrap.wrap(part, widths[i], break_on_hyphens=False) or [""])
            return out
        return [text]

    def join(cells: list[list[str]]) -> list[str]:
        height = max((len(c) for c in cells), default=1)
        out = []
        for n in range(height):
            parts = []
            for i, lines in zip(shown, cells, strict=True):
                text = lines[n] if n < len(lines) else ""
                parts.append(text.rjust(widths[i]) if numeric[i] else text.ljust(widths[i]))
            out.append((" " * GAP).join(parts).rstrip())
        return out

    header_cells = [textwrap.wrap(labels[i], widths[i]) or [""] for i in shown]
    height = max(len(c) for c in header_cells) if header_cells else 1
    header_cells = [[""] * (height - len(c)) + c for c in header_cells]  # bottom-aligned
    lines = join(header_cells)
    header_lines = len(lines)
    lines.append((" " * GAP).join("-" * widths[i] for i in shown))
    spans: list[tuple[int, int]] = []
    # Most rows fit on one line: laid out directly (a 12,000-move plan in a tenth of a
    # second; wrapping every cell took three times as long).
    sep = " " * GAP
    pads = [(str.rjust if numeric[i] else str.ljust, i, widths[i]) for i in shown]
    multi = "\n" in "".join(chain.from_iterable(body))
    blocks: list[list[str]] = []
    wrapped = 0
    for row in body:
        if multi or any(len(row[i]) > w for _, i, w in pads):
            blocks.append(join([cell_lines(row[i], i) for i in shown]))
            wrapped += len(blocks[-1]) > 1
        else:
            blocks.append([sep.join([pad(row[i], w) for pad, i, w in pads]).rstrip()])
    # A blank line between rows when many take several lines (suggest's reasons, audit's
    # details); a few tall rows read well enough with their first column to lead the eye.
    tall = 4 * wrapped >= max(len(blocks), 2)
    for n, block in enumerate(blocks):
        if tall and n:
            lines.append("")
        spans.append((len(lines), len(block)))
        lines.extend(block)
    return FittedTable(
        shown=[columns[i] for i in shown],
        dropped=dropped,
        lines=lines,
        row_spans=spans,
        header_lines=header_lines,
    )


def dropped_note(dropped: Sequence[str], width: int) -> str:
    """The one line (within ``width``) that says which columns a narrow terminal left
    out, and how to see them."""
    tail = "; --wide shows them, as do -f csv and -f json."
    names = list(dropped)
    for shown in range(len(names), 0, -1):
        more = len(names) - shown
        listed = ", ".join(names[:shown]) + (f" and {more} more" if more else "")
        line = f"Not shown: {listed}{tail}"
        if len(line) <= width:
            return line
    return f"Not shown: {len(names)} columns{tail}"


_noted: set[str] = set()  # the columns this command has said it left out


def new_command() -> None:
    """Forget what an earlier command in this process said (tests run many)."""
    _noted.clear()


def _write_fitted(
    rows: list[Mapping[str, Any]],
    columns: Sequence[str],
    layout: Layout,
    width: int | None,
    row_style: Any,
    stream: IO[str],
    rich: bool,
) -> None:
    fitted = fit_table(rows, columns, width, layout)
    new = [key for key in fitted.dropped if key not in _noted]
    if new and width is not None:  # said once a command, however many tables it draws
        _noted.update(new)
        info(dropped_note(new, width))
    if not rich:
        stream.write("\n".join(fitted.lines) + "\n")
        return
    from rich.console import Console
    from rich.text import Text

    styles: list[str | None] = [None] * len(fitted.lines)
    for n in range(fitted.header_lines):
        styles[n] = "bold"
    if row_style is not None:
        for row, (first, count) in zip(rows, fitted.row_spans, strict=True):
            style = row_style(row)
            for n in range(first, first + count):
                styles[n] = style
    console = Console(file=stream, highlight=False, markup=False, emoji=False)
    for line, style in zip(fitted.lines, styles, strict=True):
        console.print(Text(line, style=style or ""), soft_wrap=True)


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


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (ValueError, AttributeError):
        return False


@contextmanager
def progress(
    description: str, total: int | None = None, *, over: IO[str] | None = None
) -> Iterator[Any]:
    """A progress bar when stderr is a terminal; a silent stand-in in a pipe or under cron,
    and while data goes to a terminal too (``over``: where the data is being written),
    so that a bar is never drawn over it.

    Yields a callable ``advance(n)``.
    """
    if not sys.stderr.isatty() or (over is not None and _is_terminal(over)):
        yield lambda n=1: None
        return
    from rich.progress import Progress

    with Progress(console=_stderr_console(), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)


def with_login_shown(rows: list[dict[str, Any]], columns: Sequence[str]) -> list[str]:
    """For a person reading: each row's actor as "DS Morgan (login dmorgan)" and no
    separate login column (CSV and JSON keep ``login`` as a field of its own)."""
    from caseload.store.identity import shown

    for row in rows:
        row["actor"] = shown(row.get("actor"), row.pop("login", None))
    return [c for c in columns if c != "login"]
