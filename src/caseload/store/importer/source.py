"""An import's source file, which the import reads twice: once to check it, once to write it.

``open_source`` opens it (``-`` spools standard input to a temporary file), refuses a
missing, empty, binary or non-UTF-8 file and finds the delimiter in the header line;
``read_header`` matches the header line to a kind's columns and hands back the rows that
follow, blank ones skipped and counted.
"""

from __future__ import annotations

import csv
import shutil
import sys
import tempfile
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from caseload.domain.csvschema import Header, Spec, match_header, problem_text
from caseload.errors import InputError

SNIFF_BYTES = 8192
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}  # the ones detected or accepted


@dataclass
class Source:
    """A CSV file that can be read twice; ``label`` names it in messages.

    What the check learns about the file is kept here for the write: the delimiter
    (given, or detected from the header line), how many blank rows were skipped, and
    the lines of rows that repeat an earlier row (``skip``: a compact sorted array,
    4 bytes a line: a million repeats cost 4 MB), which the write passes over.
    """

    path: Path
    label: str
    temporary: bool = False
    delimiter: str = ","
    detected: bool = False  # the delimiter was found in the header, not given
    blank_rows: int = 0
    skip: array[int] = field(default_factory=lambda: array("i"))
    repeats: int = 0  # rows that repeat an earlier row exactly (imported once)
    conflicts: int = 0  # rows whose key repeats with other cells, passed over (a kind's choice)
    repeat_example: tuple[int, int] | None = None  # (line, earlier line) of the first repeat
    conflict_example: tuple[int, int] | None = None

    @property
    def delimiter_name(self) -> str:
        return DELIMITERS.get(self.delimiter, repr(self.delimiter))

    def open_text(self) -> IO[str]:
        return self.path.open(encoding="utf-8-sig", newline="")

    def close(self) -> None:
        if self.temporary:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def parse_delimiter(text: str) -> str:
    """``,``, ``;`` or tab (``tab``, ``\\t``, ``comma``, ``semicolon`` also accepted)."""
    value = text if text == "\t" else text.strip().lower()
    names = {"comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t"}
    value = names.get(value, value)
    if value not in DELIMITERS:
        raise InputError(f"'{text}' is not a delimiter caseload reads (comma, semicolon or tab).")
    return value


def open_source(
    name: str, stdin: IO[bytes] | None = None, *, delimiter: str | None = None
) -> Source:
    """Open FILE (or ``-`` for stdin); refuse what cannot be a CSV file, with exit 2.

    The delimiter is ``delimiter`` when given, else detected from the header line
    (``csv.Sniffer`` restricted to comma, semicolon and tab; comma when it cannot tell).
    """
    if name == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        source = _spooled(stream, "standard input")
    else:
        path = Path(name).expanduser()
        if not path.exists():
            raise InputError(f"There is no file {name}.")
        if path.is_dir():
            raise InputError(f"{name} is a folder, not a CSV file.")
        if not path.is_file():  # a pipe, a FIFO, /dev/stdin, <(...): read once, as a stream
            try:
                with path.open("rb") as stream:
                    source = _spooled(stream, name)
            except OSError as exc:
                raise InputError(f"Cannot read {name}: {exc.strerror or exc}.") from None
        else:
            source = Source(path, name)
    try:
        head = _sniff(source)
    except BaseException:
        source.close()
        raise
    if delimiter is not None:
        source.delimiter = delimiter
    else:
        source.delimiter = detect_delimiter(head)
        source.detected = True
    return source


def detect_delimiter(head: bytes) -> str:
    """The header line's delimiter among comma, semicolon and tab (comma if unclear)."""
    text = head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace")
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    try:
        found = csv.Sniffer().sniff(line, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        return ","
    return found if found in DELIMITERS else ","


def _spooled(stream: IO[bytes], label: str) -> Source:
    """A stream (stdin, a pipe, a FIFO) copied once to a temporary file, since the import
    reads its source twice; a binary stream is refused at its first block, not copied."""
    with tempfile.NamedTemporaryFile(
        prefix="caseload-import-", suffix=".csv", delete=False
    ) as spool:
        try:
            first = stream.read(SNIFF_BYTES)
            spool.write(first)
            if b"\x00" not in first:
                shutil.copyfileobj(stream, spool, 1 << 20)
        except BaseException:
            spool.close()
            Path(spool.name).unlink(missing_ok=True)
            raise
    return Source(Path(spool.name), label, temporary=True)


def first_undecodable_line(path: Path) -> int | None:
    """The line (counted as an editor does) holding the file's first byte that is not
    UTF-8, or None if it decodes."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with path.open("rb") as raw:
        for block in iter(lambda: raw.read(1 << 16), b""):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                kept = decoder.getstate()[0]  # bytes of a character cut at the block's start
                start = max(exc.start - len(kept), 0)
                return line + block[:start].count(b"\n")
            line += block.count(b"\n")
    return None


def not_utf8(source: Source) -> InputError:
    line = first_undecodable_line(source.path)
    where = f": line {line} holds a byte that is not UTF-8" if line else ""
    return InputError(
        f"{source.label} is not UTF-8 text{where} (perhaps Latin-1 or Windows-1252); "
        "save it as 'CSV UTF-8' and try again."
    )


def _sniff(source: Source) -> bytes:
    try:
        with source.path.open("rb") as raw:
            head = raw.read(SNIFF_BYTES)
    except OSError as exc:
        raise InputError(f"Cannot read {source.label}: {exc.strerror or exc}.") from None
    if b"\x00" in head:
        raise InputError(f"{source.label} is a binary file, not CSV text.")
    if not head.removeprefix(b"\xef\xbb\xbf").strip():
        raise InputError(f"{source.label} is empty; a CSV file starts with a header line.")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sniff
            raise not_utf8(source) from None
    return head


class _Reader:
    """Streams (line, cells) from a source; decoding and CSV errors end it with exit 2."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.stream = source.open_text()
        self.reader = csv.reader(self._lines(), delimiter=source.delimiter)
        self.blank = 0  # blank lines and rows of empty cells (Excel's ",,,," rows)

    def _lines(self) -> Iterator[str]:
        for number, text in enumerate(self.stream, start=1):
            if "\x00" in text:
                raise InputError(
                    f"{self.source.label} holds a NUL byte at line {number}; it is not CSV text."
                )
            yield text

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        reader = self.reader
        try:
            start = 1
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    yield start, cells
                else:
                    self.blank += 1
                start = reader.line_num + 1
            self.source.blank_rows = self.blank
        except UnicodeDecodeError:
            raise not_utf8(self.source) from None
        except csv.Error as exc:
            raise InputError(
                f"{self.source.label} is not valid CSV at line {reader.line_num}: {exc}."
            ) from None
        finally:
            self.stream.close()


def read_header(source: Source, spec: Spec, ignore_unknown: bool) -> tuple[Header, Iterator[Any]]:
    rows = iter(_Reader(source))
    first = next(rows, None)
    if first is None:
        raise InputError(f"{source.label} is empty; a CSV file starts with a header line.")
    line, cells = first
    header, problems = match_header(spec, cells, ignore_unknown=ignore_unknown)
    if problems:
        details = [problem_text(line, column or None, message) for column, message in problems]
        named = {cell.strip().lower() for cell in cells}
        if spec.kind != "police-uk" and {"crime id", "month", "last outcome category"} <= named:
            details.append(
                "This is a police.uk street-level file: caseload import police-uk FILE reads it."
            )
        raise InputError(
            f"{source.label} does not have the header of a {spec.noun} file "
            f"(columns: {', '.join(spec.names)}); nothing was imported.",
            details,
        )
    return header, rows
