"""Bulk import: one streaming framework for every kind of CSV file.

A kind is a column spec (``domain.csvschema.Spec``) plus a writer (a subclass
of ``KindWriter`` here). The framework does the rest, the same way for all:

1. ``open_source`` opens the file (``-`` spools stdin to a temporary file so it
   can be read twice), refuses a missing, empty, binary or non-UTF-8 file,
   strips a byte-order mark and finds the delimiter in the header line (comma,
   semicolon or tab) unless one is given. Blank lines and rows of only commas
   (Excel's) are skipped and counted.
2. ``check`` streams the file once in a read transaction: header, every row's
   cells, the within-file key with a hash of the row's cells (kept in a temporary
   table: memory stays flat), and the writer's store checks per batch
   (``check_batch``: e.g. unknown holders). A row repeating an earlier one exactly
   is imported once (its line is noted in ``Source.skip``); the same key with
   other cells is a problem. Every problem is collected; any problem is an
   ``InputError`` (exit 2) counting the problems by kind, listing ``line N,
   column C: problem`` (the first 50), and nothing is written.
3. ``write`` streams the file (or several: ``import police-uk``) again inside ONE
   write transaction and hands the writer batches of ``BATCH`` rows
   (``write_batch``), then ``finish``. Rows are
   matched by key (collar, reference, ...): new rows are inserted, changed rows
   updated, unchanged rows left alone, so re-importing is safe. A dry run does
   the same and rolls back, so it also reports what would change and whether a
   block-mode rule would refuse it.

Holders named in a crime import go through ``store.allocation.allocate_many``,
the one allocation path, so the 25-crime and accreditation rules hold on
import too (a block-mode breach refuses the whole import, exit 3).
"""

from __future__ import annotations

import csv
import shutil
import sys
import tempfile
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    and_,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection

from caseload import interrupts
from caseload.domain.csvschema import SPECS, Header, Spec, match_header, parse_row, problem_text
from caseload.domain.risk import DEFAULT_GRADE
from caseload.domain.teams import key as team_key
from caseload.domain.teams import near_misses
from caseload.errors import InputError
from caseload.store import log
from caseload.store.bulk import insert_rows, update_rows
from caseload.store.connection import Store, refresh_statistics
from caseload.store.models import (
    allocation_table,
    crime_risk_table,
    crime_table,
    finalisation_table,
    officer_table,
)
from caseload.store.reference import (
    ensure_teams,
    matrix,
    required_level_for,
    risk_matrix,
    set_matrix,
    team_ids,
    team_names,
)
from caseload.store.sqlfunc import one_of

if TYPE_CHECKING:
    from caseload.store.allocation import HoldingChange

BATCH = 5000  # rows per executemany and per store check
ANALYZE_AFTER = 1000  # rows written; a bulk load refreshes the query planner's statistics
MAX_LISTED = 50  # problems listed in one error; the rest are counted
SNIFF_BYTES = 8192
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}  # the ones detected or accepted


Row = tuple[int, dict[str, Any]]  # (line number, parsed values)
Advance = Callable[[int], None]


def _no_progress(_n: int = 1) -> None:
    return None


# --- the source file -----------------------------------------------------------------------


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


def _header(source: Source, spec: Spec, ignore_unknown: bool) -> tuple[Header, Iterator[Any]]:
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


# --- problems ------------------------------------------------------------------------------


def plural(noun: str) -> str:
    """``repeated reference`` -> ``repeated references``; ``review (reference and day)`` ->
    ``reviews (reference and day)``."""
    head, paren, tail = noun.partition(" (")
    return f"{head}s{paren}{tail}"


@dataclass
class Problems:
    """Every bad row's problems: the first ``MAX_LISTED`` kept as text, the rest counted,
    and every problem counted by kind (``repeated reference``, ``bad reported_on cell``)
    so that what lies behind "... and 37 more" is still told."""

    listed: list[tuple[int, str]] = field(default_factory=list)
    total: int = 0
    rows: set[int] = field(default_factory=set)
    kinds: Counter[str] = field(default_factory=Counter)

    def add(self, line: int, column: str | None, message: str, kind: str | None = None) -> None:
        self.total += 1
        self.kinds[kind or (f"bad {column} cell" if column else "bad row")] += 1
        if len(self.rows) < MAX_LISTED * 4:
            self.rows.add(line)
        if len(self.listed) < MAX_LISTED:
            self.listed.append((line, problem_text(line, column or None, message)))

    def by_kind(self) -> str:
        """``12 repeated references, 3 bad reported_on cells``: the commonest first."""
        ordered = sorted(self.kinds.items(), key=lambda item: (-item[1], item[0]))
        return ", ".join(f"{n:,} {kind if n == 1 else plural(kind)}" for kind, n in ordered)

    def details(self) -> list[str]:
        extra = self.total - len(self.listed)
        ordered = [text for _, text in sorted(self.listed, key=lambda item: item[0])]
        counted = [f"by kind: {self.by_kind()}"] if self.total > 1 else []
        return counted + ordered + ([f"... and {extra:,} more"] if extra else [])


# --- results -------------------------------------------------------------------------------


@dataclass
class Counts:
    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    warnings: list[str] = field(default_factory=list)
    warned: int = 0  # allocations that raised a warning
    blank: int = 0  # blank rows skipped (empty lines, rows of only commas)
    repeats: int = 0  # rows repeating an earlier row exactly, imported once
    conflicts: int = 0  # rows repeating a key with other cells, passed over (keep_first)
    skipped: Counter[str] = field(default_factory=Counter)  # rows a kind passes over, by why
    new_teams: list[str] = field(default_factory=list)  # teams the file named, created
    near_teams: dict[str, str] = field(default_factory=dict)  # new name -> existing look-alike
    defaulted: list[tuple[str, int]] = field(default_factory=list)  # (crime type, new crimes)

    def warn(self, message: str) -> None:
        self.warned += 1
        if len(self.warnings) < MAX_LISTED:
            self.warnings.append(message)


@dataclass(frozen=True)
class Options:
    actor: str
    reason: str = "import"
    override: str | None = None
    kind_options: Mapping[str, Any] = field(default_factory=dict)  # e.g. police-uk's team
    at: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))


# --- the writers: one per kind -------------------------------------------------------------


class KindWriter:
    """What a kind adds to the framework. Subclass it and register it in ``WRITERS``."""

    spec: Spec
    keep_first = False  # a key repeated with other cells: keep the first row (not an error)
    adds_crimes = False  # new crimes: the import says how many took the default level

    def __init__(self, options: Options) -> None:
        self.options = options

    def prepare_check(self, conn: Connection) -> None:
        """Load what ``check_batch`` needs (kept small: e.g. the set of collars)."""

    def check_batch(self, conn: Connection, rows: Sequence[Row], problems: Problems) -> None:
        """Store checks for a batch of rows; a cell that did not parse is None."""

    def prepare_write(self, conn: Connection) -> None:
        """Load what ``write_batch`` needs."""

    def write_batch(self, conn: Connection, rows: Sequence[Row], counts: Counts) -> None:
        raise NotImplementedError

    def finish(self, conn: Connection, counts: Counts) -> None:
        """Work after the last batch (cross-batch checks, set-based updates)."""

    def passes_over(self, values: Mapping[str, Any]) -> str | None:
        """Why a row is not imported at all (counted in the summary), or None to import
        it: e.g. police.uk's anti-social behaviour rows, which have no Crime ID."""
        return None

    def log_detail(self, source: Source) -> dict[str, Any]:
        """What the import's log entry adds for this kind (e.g. rows passed over)."""
        return {"repeats": source.repeats} if source.repeats else {}

    def _log(self, conn: Connection, entries: list[dict[str, Any]]) -> None:
        if entries:
            log.append_many(conn, entries)

    def _entry(self, kind: str, detail: Mapping[str, Any], **keys: Any) -> dict[str, Any]:
        return {
            "at": self.options.at,
            "actor": self.options.actor,
            "kind": kind,
            "reason": self.options.reason,
            "detail": dict(detail),
            **keys,
        }


def _as_datetime(value: Any) -> datetime:
    """A timestamp an aggregate returned as SQLite's text."""
    return datetime.fromisoformat(str(value))


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


class OfficerWriter(KindWriter):
    FIELDS = (
        "name",
        "team_id",
        "rank",
        "accreditation",
        "investigator_since",
        "status",
        "capacity",
        "trainee",
    )

    def prepare_write(self, conn: Connection) -> None:
        self.teams = team_ids(conn)
        # (line, collar, supervisor, state): set after the last batch, since a
        # supervisor may be a later row of the file
        self.supervisors: list[tuple[int, str, str | None, str]] = []  # state: new, same, changed

    def write_batch(self, conn: Connection, rows: Sequence[Row], counts: Counts) -> None:
        o = officer_table
        collars = [values["collar"] for _, values in rows]
        existing = {
            str(r.collar): r._mapping
            for r in conn.execute(select(o).where(one_of(conn, o.c.collar, collars)))
        }
        ensure_teams(conn, {v["team"]: None for _, v in rows}, self.teams)
        team_names = {team_id: name for name, team_id in self.teams.items()}
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        entries: list[dict[str, Any]] = []
        changed: list[tuple[int, Mapping[str, Any], Mapping[str, Any]]] = []
        checked: dict[int, tuple[int, dict[str, Any], str]] = {}  # id: line, entry, team
        for line, values in rows:
            row = {key: values[key] for key in self.FIELDS if key != "team_id"}
            row["team_id"] = self.teams[values["team"].lower()]
            current = existing.get(values["collar"])
            if current is None:
                self.supervisors.append((line, values["collar"], values.get("supervisor"), "new"))
                inserts.append({"collar": values["collar"], **row})
                counts.new += 1
                added: dict[str, Any] = {k: _text(v) for k, v in values.items()}
                entries.append(self._entry("officer-add", added, collar=values["collar"]))
                continue
            diff = {k: (current[k], v) for k, v in row.items() if current[k] != v}
            state = "changed" if diff else "same"
            self.supervisors.append((line, values["collar"], values.get("supervisor"), state))
            if not diff:
                counts.unchanged += 1
                continue
            updates.append({"id": current["id"], **{k: row[k] for k in self.FIELDS}})
            counts.updated += 1
            detail = {
                ("team" if k == "team_id" else k): [
                    _text(team_names.get(old) if k == "team_id" else old),
                    _text(team_names.get(new) if k == "team_id" else new),
                ]
                for k, (old, new) in diff.items()
            }
            entries.append(self._entry("officer-update", detail, collar=values["collar"]))
            changed.append((int(current["id"]), dict(current), {**current, **row}))
            checked[int(current["id"])] = (line, entries[-1], values["team"])
        self._check_holdings(conn, changed, checked, counts)
        insert_rows(conn, o, inserts)
        update_rows(conn, o, "id", updates)
        self._log(conn, entries)
        self.touched = True

    def finish(self, conn: Connection, counts: Counts) -> None:
        """The rows' supervisors (``_supervisors``), then officers' history: one interval
        closed and one opened for each changed officer (``store.officer_history.sync``,
        set-based over the whole table, once)."""
        from caseload.store.officer_history import sync

        self._supervisors(conn, counts)
        if getattr(self, "touched", False):
            sync(conn, on=self.options.at.date())

    def _supervisors(self, conn: Connection, counts: Counts) -> None:
        """Each row's supervisor: an officer of the store or the file, not themself (else
        the whole file is refused, naming the lines); a change is logged per officer."""
        from caseload.store.supervisors import check_supervisor

        o = officer_table
        ids = {
            str(c): (int(i), s)
            for i, c, s in conn.execute(select(o.c.id, o.c.collar, o.c.supervisor_id))
        }
        known = {collar: oid for collar, (oid, _) in ids.items()}
        collar_of = {oid: collar for collar, oid in known.items()}
        problems = Problems()
        updates: list[dict[str, Any]] = []
        entries: list[dict[str, Any]] = []
        for line, collar, supervisor, state in self.supervisors:
            problem = check_supervisor(collar, supervisor, known)
            if problem is not None:
                problems.add(line, "supervisor", problem)
                continue
            oid, old_id = ids[collar]
            new_id = known[supervisor] if supervisor else None
            if new_id == old_id:
                continue
            updates.append({"id": oid, "supervisor_id": new_id})
            old = collar_of.get(old_id) if old_id is not None else None
            if state == "new":
                continue  # the officer-add entry names the supervisor
            entries.append(
                self._entry(
                    "officer-update", {"supervisor": [old or "", supervisor or ""]}, collar=collar
                )
            )
            if state == "same":
                counts.unchanged -= 1
                counts.updated += 1
        if problems.total:
            raise InputError(
                "Some supervisors cannot be recorded; nothing was imported.", problems.details()
            )
        update_rows(conn, o, "id", updates)
        self._log(conn, entries)

    def _check_holdings(
        self,
        conn: Connection,
        changed: Sequence[tuple[int, Mapping[str, Any], Mapping[str, Any]]],
        checked: Mapping[int, tuple[int, dict[str, Any], str]],
        counts: Counts,
    ) -> None:
        """An update that puts what the officer holds in breach of the allocation rules
        (``store.officers.change_breaches``) warns, naming the fix, and is recorded in
        the row's ``officer-update`` entry; as ``officer update`` does."""
        from caseload.domain.rules import rebalance_hint
        from caseload.store.officers import breach_detail, change_breaches

        for officer_id, breaches in change_breaches(
            conn, changed, on=self.options.at.date()
        ).items():
            line, entry, team = checked[officer_id]
            entry["detail"].update(breach_detail(breaches))
            for breach in breaches:
                counts.warn(f"line {line}: {breach.text()}; {rebalance_hint(team)}")


def victim_entitlement(values: Mapping[str, Any], current: Any) -> tuple[bool, str | None]:
    """A crime row's enhanced entitlement and category (``domain.victims``). A category
    makes the victim enhanced; an enhanced row without one keeps the category already
    recorded for the crime (a re-imported yes/no file does not erase it); a standard row
    has none."""
    category = values.get("victim_category")
    enhanced = bool(values.get("victim_enhanced")) or category is not None
    if enhanced and category is None and current is not None and current["victim_enhanced"]:
        category = current["victim_category"]
    return enhanced, category if enhanced else None


class CrimeWriter(KindWriter):
    """Crimes by reference. Live crimes' holders go through ``allocate_many``.

    Each change to an existing crime is logged (``crime-update``); new crimes are
    covered by the import's summary entry.

    A finalised crime's holder is a record of who held it, not an allocation made
    now: the live-crime rules cannot apply (``allocate_many`` refuses finalised
    crimes), so its holding is recorded as an interval directly, as the history
    import does.
    """

    adds_crimes = True

    FIELDS = (
        "crime_type",
        "required_level",
        "level_defaulted",
        "reported_on",
        "team_id",
        "victim_enhanced",
        "victim_category",
        "risk",
        "base_level",
        "finalised_on",
        "outcome",
    )

    def prepare_check(self, conn: Connection) -> None:
        self.collars = {str(c) for (c,) in conn.execute(select(officer_table.c.collar))}

    def check_batch(self, conn: Connection, rows: Sequence[Row], problems: Problems) -> None:
        for line, values in rows:
            holder = values["holder"]
            if holder is not None and holder not in self.collars:
                problems.add(
                    line, "holder", f"there is no officer with collar {holder}", "unknown holder"
                )

    def prepare_write(self, conn: Connection) -> None:
        self.teams = team_ids(conn)
        self.levels = matrix(conn)
        self.risks = risk_matrix(conn)
        self.officers = {
            str(collar): int(officer_id)
            for officer_id, collar in conn.execute(
                select(officer_table.c.id, officer_table.c.collar)
            )
        }
        self.collar_of = {officer_id: collar for collar, officer_id in self.officers.items()}
        # Into an empty table every row is new: skip looking each batch up.
        self.had_rows = conn.execute(select(crime_table.c.id).limit(1)).first() is not None

    def write_batch(self, conn: Connection, rows: Sequence[Row], counts: Counts) -> None:
        from caseload.domain.levels import RANK
        from caseload.store.allocation import AllocationRequest, HoldingChange, allocate_many

        c = crime_table
        at = self.options.at
        refs = [values["reference"] for _, values in rows]
        existing = (
            {
                str(r.reference): r._mapping
                for r in conn.execute(select(c).where(one_of(conn, c.c.reference, refs)))
            }
            if self.had_rows
            else {}
        )
        ensure_teams(conn, {v["team"]: None for _, v in rows}, self.teams)
        team_names = {team_id: name for name, team_id in self.teams.items()}

        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        finalise: list[tuple[str, date, int]] = []  # (reference, on, outcome): new rows
        reopen: list[int] = []
        refinalise: list[dict[str, Any]] = []
        unassign: list[tuple[str, str]] = []  # (reference, collar) of live crimes
        allocations: list[tuple[int, dict[str, Any], int]] = []  # line, values, holder id
        # Finalised crimes' holdings (reference, officer id or 0, start): existing, new.
        records: list[tuple[str, int, datetime]] = []
        recorded: list[tuple[str, int, datetime]] = []
        entries: list[dict[str, Any]] = []
        held: list[tuple[dict[str, Any], HoldingChange]] = []  # (its log entry, the change)
        record_lines: dict[str, tuple[int, bool]] = {}  # records: line, allocated_on given
        graded: list[tuple[str, str, bool, date]] = []  # reference, grade, new crime, reported

        for line, values in rows:
            ref = values["reference"]
            current = existing.get(ref)
            enhanced, category = victim_entitlement(values, current)
            row: dict[str, Any] = {
                "crime_type": values["crime_type"],
                "reported_on": values["reported_on"],
                "team_id": self.teams[values["team"].lower()],
                "victim_enhanced": enhanced,
                "victim_category": category,
                # blank: standard for a new crime; an existing one keeps its grade
                "risk": values.get("risk")
                or (current["risk"] if current is not None else DEFAULT_GRADE),
                "finalised_on": values["finalised_on"],
                "outcome": values["outcome"],
            }
            if row["risk"] != (current["risk"] if current is not None else DEFAULT_GRADE):
                graded.append((ref, row["risk"], current is None, values["reported_on"]))
            same_level = current is not None and values["required_level"] in (
                None,
                current["required_level"],
            )
            if same_level:
                # Blank keeps the crime's level (as a matrix change does); the same level
                # (e.g. a re-imported export) keeps whether it came from the default.
                row["required_level"] = current["required_level"]  # type: ignore[index]
                row["level_defaulted"] = current["level_defaulted"]  # type: ignore[index]
            elif values["required_level"] is not None:
                row["required_level"], row["level_defaulted"] = values["required_level"], False
            else:
                row["required_level"], row["level_defaulted"] = required_level_for(
                    values["crime_type"], self.levels
                )
            self._with_risk(row, current, given=values["required_level"] is not None)
            holder = values["holder"]
            holder_id = self.officers[holder] if holder is not None else None
            old_holder = current["holder_id"] if current is not None else None
            holder_changes = holder_id != old_holder
            finalised = values["finalised_on"] is not None

            if current is None:
                # A new finalised crime is inserted with its holder (a record of who held
                # it; its interval is opened below). Live crimes are allocated below.
                recorded_holder = holder_id if finalised else None
                inserts.append(
                    {"reference": ref, "created_at": at, "holder_id": recorded_holder, **row}
                )
                if finalised:
                    finalise.append((ref, values["finalised_on"], values["outcome"]))
                counts.new += 1
                # New crimes are recorded by the import's own log entry (and created_at),
                # not one entry each: a force-sized import stays a bulk insert.
            else:
                diff = {k: (current[k], v) for k, v in row.items() if current[k] != v}
                if not diff and not holder_changes:
                    counts.unchanged += 1
                    continue
                counts.updated += 1
                if diff:
                    updates.append({"id": current["id"], **{k: row[k] for k in self.FIELDS}})
                    was_finalised = current["finalised_on"] is not None
                    if finalised and not was_finalised:
                        finalise.append((ref, values["finalised_on"], values["outcome"]))
                    elif was_finalised and not finalised:
                        reopen.append(int(current["id"]))
                    elif finalised and ("finalised_on" in diff or "outcome" in diff):
                        refinalise.append(
                            {
                                "b_crime": current["id"],
                                "b_on": values["finalised_on"],
                                "b_outcome": values["outcome"],
                            }
                        )
                if diff:  # a change of holder alone is logged by the allocation path
                    detail = {
                        ("team" if k == "team_id" else k): [
                            _text(team_names.get(old) if k == "team_id" else old),
                            _text(team_names.get(new) if k == "team_id" else new),
                        ]
                        for k, (old, new) in diff.items()
                    }
                    entries.append(self._entry("crime-update", detail, crime_ref=ref))
                    if old_holder is not None and not holder_changes and not finalised:
                        # Kept by its holder, live after the row: reopened, or its level
                        # raised, is checked as the allocation rules would.
                        reopened = current["finalised_on"] is not None
                        raised = RANK[row["required_level"]] > RANK[current["required_level"]]
                        if reopened or raised:
                            held.append(
                                (
                                    entries[-1],
                                    HoldingChange(
                                        crime_id=int(current["id"]),
                                        reference=ref,
                                        officer_id=int(old_holder),
                                        collar=self.collar_of.get(int(old_holder), ""),
                                        required_level=row["required_level"],
                                        reopened=reopened,
                                        old_level=None if reopened else current["required_level"],
                                        line=line,
                                    ),
                                )
                            )
            if holder_changes:
                if finalised:  # held from the allocation date, else from the report's day
                    start = values["allocated_on"] or datetime.combine(
                        values["reported_on"], time.min
                    )
                    if current is None:
                        recorded.append((ref, holder_id or 0, start))
                    else:  # checked against its recorded holdings below
                        records.append((ref, holder_id or 0, start))
                        record_lines[ref] = (line, values["allocated_on"] is not None)
                elif holder_id is None:
                    unassign.append((ref, self.collar_of.get(int(old_holder or 0), "")))
                else:
                    allocations.append((line, values, holder_id))

        if held:  # before the rows change: the holders' counts must not include them yet
            self._check_held(conn, held, counts)
        insert_rows(conn, c, inserts)
        update_rows(conn, c, "id", updates)
        wanted = [ref for ref, _, _ in finalise] + [ref for ref, _, _ in records]
        wanted += [ref for ref, _, _ in recorded]
        wanted += [values["reference"] for _, values, _ in allocations]
        wanted += [ref for ref, _, _, _ in graded]
        ids = (
            {
                str(reference): int(crime_id)
                for crime_id, reference in conn.execute(
                    select(c.c.id, c.c.reference).where(one_of(conn, c.c.reference, wanted))
                ).all()
            }
            if wanted
            else {}
        )
        if finalise:
            insert_rows(
                conn,
                finalisation_table,
                [
                    {
                        "crime_id": ids[ref],
                        "finalised_on": on,
                        "outcome": outcome,
                        "actor": self.options.actor,
                    }
                    for ref, on, outcome in finalise
                ],
            )
        if reopen:
            f = finalisation_table
            conn.execute(
                update(f)
                .where(one_of(conn, f.c.crime_id, reopen), f.c.reopened_on.is_(None))
                .values(reopened_on=at.date())
            )
        if refinalise:
            f = finalisation_table
            conn.execute(
                update(f)
                .where(f.c.crime_id == bindparam("b_crime"), f.c.reopened_on.is_(None))
                .values(finalised_on=bindparam("b_on"), outcome=bindparam("b_outcome")),
                refinalise,
            )
        self._log(conn, entries)
        if graded:
            self._grade(conn, [(ids[ref], grade, new, on) for ref, grade, new, on in graded])
        if unassign:
            from caseload.store.allocation import unassign as unassign_crime

            for ref, _collar in unassign:
                unassign_crime(
                    conn, ref, actor=self.options.actor, at=at, reason=self.options.reason
                )
        if recorded:
            self._open_holdings(
                conn, [(ids[ref], officer, start) for ref, officer, start in recorded]
            )
        starts = [  # (line, crime id, start, given) of holdings after existing ones
            (record_lines[ref][0], ids[ref], start, record_lines[ref][1])
            for ref, _, start in records
        ] + [
            (line, ids[values["reference"]], values["allocated_on"], True)
            for line, values, _ in allocations
            if values["allocated_on"] is not None
        ]
        floors = self._not_before(conn, starts)
        if records:
            self._record_holdings(
                conn,
                [
                    # A start the file did not give (the report's day) would lie under the
                    # recorded holdings: the record changes now.
                    (
                        ids[ref],
                        officer,
                        self.options.at
                        if ids[ref] in floors and not record_lines[ref][1]
                        else start,
                    )
                    for ref, officer, start in records
                ],
            )
        if allocations:
            requests = [
                AllocationRequest(
                    crime_id=ids[values["reference"]],
                    reference=values["reference"],
                    officer_id=holder_id,
                    collar=values["holder"],
                    line=line,
                    start_at=values["allocated_on"],
                )
                for line, values, holder_id in allocations
            ]
            outcomes = allocate_many(
                conn,
                requests,
                actor=self.options.actor,
                at=at,
                reason=self.options.reason,
                override=self.options.override,
            )
            for outcome in outcomes:
                for message in outcome.warnings:
                    counts.warn(
                        f"line {outcome.request.line}: {outcome.request.reference}: {message}"
                    )

    def _with_risk(self, row: dict[str, Any], current: Any, *, given: bool) -> None:
        """The row's required level at its risk grade (``domain.risk.level_with_risk``),
        worked out for a new crime, a new grade or a level the file gives; otherwise the
        crime keeps its levels (as it does when the matrix changes)."""
        from caseload.domain.risk import level_with_risk

        if current is not None and not given and row["risk"] == current["risk"]:
            row["base_level"] = current["base_level"]
            return
        own = row["required_level"]
        if current is not None and not given:
            own = current["base_level"] or current["required_level"]
        row["required_level"], row["base_level"] = level_with_risk(
            own, row["crime_type"], row["risk"], self.risks
        )

    def _grade(self, conn: Connection, graded: Sequence[tuple[int, str, bool, date]]) -> None:
        """Risk grade intervals: a new crime's grade from the day it was reported, an
        existing crime's new grade from now (its open interval closed)."""
        from caseload.store.risk import open_interval

        reason = self.options.reason
        new = [
            {
                "crime_id": crime_id,
                "grade": grade,
                "start_at": datetime.combine(on, time.min),
                "end_at": None,
                "actor": self.options.actor,
                "reason": reason,
            }
            for crime_id, grade, is_new, on in graded
            if is_new
        ]
        insert_rows(conn, crime_risk_table, new)
        for crime_id, grade, is_new, _ in graded:
            if not is_new:
                open_interval(
                    conn,
                    crime_id,
                    grade,
                    at=self.options.at,
                    actor=self.options.actor,
                    reason=reason,
                )

    def _not_before(
        self, conn: Connection, starts: Sequence[tuple[int, int, datetime, bool]]
    ) -> dict[int, datetime]:
        """History is added to, never rewritten: a holding that follows a crime's recorded
        ones starts when they end (the current one: when it began, as it is closed then).
        An ``allocated_on`` before that is an error naming the line; a start the file did
        not give is the caller's to move (the floors are returned by crime id)."""
        a = allocation_table
        crime_ids = sorted({crime_id for _, crime_id, _, _ in starts})
        if not crime_ids:
            return {}
        floors: dict[int, datetime] = {}
        for crime_id, floor in conn.execute(
            select(a.c.crime_id, func.max(func.coalesce(a.c.end_at, a.c.start_at)))
            .where(one_of(conn, a.c.crime_id, crime_ids))
            .group_by(a.c.crime_id)
        ):
            floors[int(crime_id)] = floor if isinstance(floor, datetime) else _as_datetime(floor)
        problems = Problems()
        for line, crime_id, start, given in starts:
            floor = floors.get(crime_id)
            if given and floor is not None and start < floor:
                problems.add(
                    line,
                    "allocated_on",
                    f"{_text(start)} is before the crime's recorded holdings end "
                    f"({_text(floor)}); history is added to, never rewritten",
                )
        if problems.total:
            raise InputError(
                "Some allocation dates would rewrite recorded holdings; nothing was imported.",
                problems.details(),
            )
        return floors

    def _check_held(
        self,
        conn: Connection,
        held: Sequence[tuple[dict[str, Any], HoldingChange]],
        counts: Counts,
    ) -> None:
        """Reopened and re-levelled crimes kept by their holder: the allocation rules
        (``store.allocation.check_holdings``: a block-mode breach refuses the file unless
        ``--override``); each warning is recorded in the row's ``crime-update`` entry."""
        from caseload.store.allocation import check_holdings

        outcomes = check_holdings(
            conn,
            [change for _, change in held],
            at=self.options.at,
            override=self.options.override,
        )
        for (entry, change), outcome in zip(held, outcomes, strict=True):
            entry["collar"] = change.collar
            entry["detail"].update(outcome.detail())
            for message in outcome.warnings:
                counts.warn(f"line {change.line}: {change.reference}: {message}")

    def _record_holdings(
        self, conn: Connection, holdings: Sequence[tuple[int, int, datetime]]
    ) -> None:
        """Existing finalised crimes: close any open interval when the new holding starts,
        open the named holder's (if any) and record them as the holder."""
        a = allocation_table
        conn.execute(
            update(a)
            .where(a.c.crime_id == bindparam("b_crime"), a.c.end_at.is_(None))
            .values(
                end_at=bindparam("b_end"),
                ended_by=self.options.actor,
                end_reason=self.options.reason,
            ),
            [{"b_crime": crime_id, "b_end": start} for crime_id, _, start in holdings],
        )
        self._open_holdings(conn, holdings)
        update_rows(
            conn,
            crime_table,
            "id",
            [{"id": cid, "holder_id": oid or None} for cid, oid, _ in holdings],
        )

    def _open_holdings(
        self, conn: Connection, holdings: Sequence[tuple[int, int, datetime]]
    ) -> None:
        """Open an interval for each finalised crime's named holder (officer id 0: none)."""
        from caseload.store.identity import store_login

        login = store_login(conn)
        opened = [
            {
                "crime_id": crime_id,
                "officer_id": officer_id,
                "start_at": start,
                "end_at": None,
                "actor": self.options.actor,
                "login": login,
                "reason": self.options.reason,
                "warnings": "",
                "auto": False,
            }
            for crime_id, officer_id, start in holdings
            if officer_id
        ]
        insert_rows(conn, allocation_table, opened)


class MatrixWriter(KindWriter):
    def write_batch(self, conn: Connection, rows: Sequence[Row], counts: Counts) -> None:
        added, changed = set_matrix(
            conn,
            [
                (values["crime_type"], values["required_level"], values.get("risk"))
                for _, values in rows
            ],
            actor=self.options.actor,
            at=self.options.at,
        )
        counts.new += added
        counts.updated += changed
        counts.unchanged += len(rows) - added - changed


_history_meta = MetaData()
_history_stage = Table(
    "import_history_stage",
    _history_meta,
    Column("line", Integer, nullable=False),
    Column("crime_id", Integer, nullable=False),
    Column("officer_id", Integer, nullable=False),
    Column("start_at", DateTime, nullable=False),
    Column("end_at", DateTime),
    Column("actor", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("matched", Boolean, nullable=False, default=False),
    # The checks join the file's rows with each other by crime (overlaps, two current
    # holdings): without it, a large file's self-join is quadratic.
    Index("ix_import_history_stage_crime", "crime_id", "start_at"),
    prefixes=["TEMPORARY"],
)


class HistoryWriter(KindWriter):
    """Allocation intervals as they were. History is added to, never rewritten:

    * a row for an interval the store holds (same crime and ``from``) must say what the
      store says (holder, ``to``, reason): then it is unchanged; any difference is an
      error naming the line (exit 2), so a past day's holder or the current holder
      cannot be moved by a file;
    * a new closed interval (``to`` given) is a past holding: it must not overlap the
      crime's other intervals (the store's or the file's), and it is recorded as it was
      (the live-crime rules are about today's holdings) with a ``past-holding`` log entry;
    * a new open interval (``to`` blank) is a current holding: the crime must be live and
      have no holder, and it is an allocation like any other, through
      ``store.allocation.allocate_many`` (limit, accreditation, status and capacity rules;
      a block-mode breach refuses the file, exit 3, unless ``--override``), logged as
      ``allocate``.

    The log's actor is whoever runs the import; the file's ``actor`` column is kept in
    each entry's detail as ``recorded_actor``, and each interval keeps its row's reason.
    Rows are staged in a temporary table (with their line numbers) and checked with SQL
    before anything is written.
    """

    def prepare_check(self, conn: Connection) -> None:
        self.collars = {str(c) for (c,) in conn.execute(select(officer_table.c.collar))}

    def check_batch(self, conn: Connection, rows: Sequence[Row], problems: Problems) -> None:
        refs = {values["reference"] for _, values in rows if values["reference"]}
        reported = {
            str(r): day
            for r, day in conn.execute(
                select(crime_table.c.reference, crime_table.c.reported_on).where(
                    one_of(conn, crime_table.c.reference, refs)
                )
            )
        }
        for line, values in rows:
            ref, start = values["reference"], values["from"]
            if ref and ref not in reported:
                problems.add(line, "reference", f"there is no crime {ref}")
            elif ref and start is not None and start.date() < reported[ref]:
                problems.add(
                    line,
                    "from",
                    f"{_text(start)} is before the crime was reported ({reported[ref]})",
                )
            if values["holder"] and values["holder"] not in self.collars:
                problems.add(line, "holder", f"there is no officer with collar {values['holder']}")

    def prepare_write(self, conn: Connection) -> None:
        _history_stage.drop(conn, checkfirst=True)
        _history_stage.create(conn)
        self.officers = {
            str(collar): int(officer_id)
            for officer_id, collar in conn.execute(
                select(officer_table.c.id, officer_table.c.collar)
            )
        }

    def write_batch(self, conn: Connection, rows: Sequence[Row], counts: Counts) -> None:
        refs = {values["reference"] for _, values in rows}
        ids = {
            str(r.reference): int(r.id)
            for r in conn.execute(
                select(crime_table.c.id, crime_table.c.reference).where(
                    one_of(conn, crime_table.c.reference, refs)
                )
            )
        }
        conn.execute(
            insert(_history_stage),
            [
                {
                    "line": line,
                    "crime_id": ids[v["reference"]],
                    "officer_id": self.officers[v["holder"]],
                    "start_at": v["from"],
                    "end_at": v["to"],
                    "actor": v["actor"],
                    "reason": v["reason"],
                }
                for line, v in rows
            ],
        )

    def finish(self, conn: Connection, counts: Counts) -> None:
        a, s = allocation_table, _history_stage
        same = and_(a.c.crime_id == s.c.crime_id, a.c.start_at == s.c.start_at)
        conn.execute(update(s).where(select(a.c.id).where(same).exists()).values(matched=True))
        self._check_unchanged(conn)
        counts.unchanged = int(
            conn.execute(select(func.count()).select_from(s).where(s.c.matched)).scalar_one()
        )
        self._check_open(conn)
        self._check_overlaps(conn)
        counts.new = self._record_past(conn) + self._allocate_current(conn, counts)
        _history_stage.drop(conn)

    def _check_unchanged(self, conn: Connection) -> None:
        """A row for an interval the store holds must say what the store says."""
        a, s, o = allocation_table, _history_stage, officer_table
        same = and_(a.c.crime_id == s.c.crime_id, a.c.start_at == s.c.start_at)
        differs = conn.execute(
            select(s.c.line, s.c.officer_id, s.c.end_at, a.c.officer_id, o.c.collar, a.c.end_at)
            .join(a, same)
            .join(o, o.c.id == a.c.officer_id)
            .where(
                or_(
                    a.c.officer_id != s.c.officer_id,
                    a.c.end_at.is_distinct_from(s.c.end_at),
                    a.c.reason != s.c.reason,
                )
            )
            .order_by(s.c.line)
            .limit(MAX_LISTED + 1)
        ).all()
        if not differs:
            return
        problems = Problems()
        for line, officer, end, held_by, collar, ended in differs:
            column = "holder" if officer != held_by else "to" if end != ended else "reason"
            held = f"{collar} until {_text(ended)}" if ended is not None else f"{collar}, now"
            problems.add(
                line,
                column,
                f"the store already holds this interval ({held}) and the row differs; "
                "history is never rewritten (to change who holds a crime now, use "
                "'caseload assign')",
            )
        raise InputError(
            "Some rows would change allocation intervals the store already holds; "
            "nothing was imported.",
            problems.details(),
        )

    def _check_open(self, conn: Connection) -> None:
        """A new current holding: the crime is live and has no holder (one in the file)."""
        a, s, c = allocation_table, _history_stage, crime_table
        s2 = s.alias("s2")
        new_open = and_(s.c.matched.is_(False), s.c.end_at.is_(None))
        clash = conn.execute(
            select(s.c.line)
            .where(
                new_open,
                or_(
                    select(a.c.id)
                    .where(a.c.crime_id == s.c.crime_id, a.c.end_at.is_(None))
                    .exists(),
                    select(s2.c.line)
                    .where(
                        s2.c.crime_id == s.c.crime_id,
                        s2.c.end_at.is_(None),
                        s2.c.matched.is_(False),
                        s2.c.line < s.c.line,
                    )
                    .exists(),
                ),
            )
            .order_by(s.c.line)
            .limit(MAX_LISTED + 1)
        ).all()
        if clash:
            problems = Problems()
            for row in clash:
                problems.add(
                    row.line,
                    "to",
                    "the crime already has a current holder (an interval with no end); "
                    "to move it, use 'caseload assign'",
                )
            raise InputError(
                "Some allocation intervals clash with a current holding; nothing was imported.",
                problems.details(),
            )
        finalised = conn.execute(
            select(s.c.line, c.c.reference)
            .join(c, c.c.id == s.c.crime_id)
            .where(new_open, c.c.finalised_on.is_not(None))
            .order_by(s.c.line)
            .limit(MAX_LISTED + 1)
        ).all()
        if finalised:
            problems = Problems()
            for line, reference in finalised:
                problems.add(
                    line,
                    "to",
                    f"{reference} is finalised: a current holding (blank 'to') is for a live "
                    "crime (a finalised crime's last holder is the crimes file's 'holder')",
                )
            raise InputError(
                "Some current holdings are for finalised crimes; nothing was imported.",
                problems.details(),
            )

    def _check_overlaps(self, conn: Connection) -> None:
        """A new interval overlaps none of the crime's others, the store's or the file's."""
        a, s = allocation_table, _history_stage
        s2 = s.alias("s2")
        far = datetime(9999, 12, 31)

        def overlapping(other: Any) -> Any:
            return and_(
                other.c.crime_id == s.c.crime_id,
                other.c.start_at < func.coalesce(s.c.end_at, far),
                s.c.start_at < func.coalesce(other.c.end_at, far),
            )

        stored = (
            select(s.c.line, a.c.start_at.label("other_start"), literal(0).label("other_line"))
            .join(a, overlapping(a))
            .where(s.c.matched.is_(False))
        )
        in_file = (
            select(s.c.line, s2.c.start_at.label("other_start"), s2.c.line.label("other_line"))
            .join(s2, and_(overlapping(s2), s2.c.line < s.c.line))
            .where(s.c.matched.is_(False), s2.c.matched.is_(False))
        )
        found = conn.execute(stored.union_all(in_file).order_by("line").limit(MAX_LISTED + 1)).all()
        if not found:
            return
        problems = Problems()
        for line, other_start, other_line in found:
            where = f"line {other_line}'s" if other_line else "an interval the store holds"
            problems.add(
                line,
                "from",
                f"the interval overlaps {where} (from {_text(other_start)}); "
                "history is added to, never rewritten",
            )
        raise InputError(
            "Some allocation intervals overlap; nothing was imported.", problems.details()
        )

    def _record_past(self, conn: Connection) -> int:
        """New closed intervals, as they were, each with a ``past-holding`` log entry."""
        a, s, c, o = allocation_table, _history_stage, crime_table, officer_table
        past = and_(s.c.matched.is_(False), s.c.end_at.is_not(None))
        rows = conn.execute(
            select(s.c.start_at, s.c.end_at, s.c.actor, s.c.reason, c.c.reference, o.c.collar)
            .join(c, c.c.id == s.c.crime_id)
            .join(o, o.c.id == s.c.officer_id)
            .where(past)
            .order_by(s.c.line)
        ).all()
        if not rows:
            return 0
        from caseload.store.identity import store_login

        actor = self.options.actor
        conn.execute(
            insert(a).from_select(
                [
                    "crime_id",
                    "officer_id",
                    "start_at",
                    "end_at",
                    "actor",
                    "login",
                    "reason",
                    "warnings",
                ],
                select(
                    s.c.crime_id,
                    s.c.officer_id,
                    s.c.start_at,
                    s.c.end_at,
                    literal(actor),
                    literal(store_login(conn)),
                    s.c.reason,
                    literal(""),
                ).where(past),
            )
        )
        self._log(
            conn,
            [
                {
                    "at": self.options.at,
                    "actor": actor,
                    "kind": "past-holding",
                    "crime_ref": str(reference),
                    "collar": str(collar),
                    "reason": str(reason),
                    "detail": {
                        "start_at": _text(start),
                        "end_at": _text(end),
                        "recorded_actor": str(recorded),
                    },
                }
                for start, end, recorded, reason, reference, collar in rows
            ],
        )
        return len(rows)

    def _allocate_current(self, conn: Connection, counts: Counts) -> int:
        """New open intervals: allocations under the rules, through ``allocate_many``."""
        from caseload.store.allocation import AllocationRequest, allocate_many

        s, c, o = _history_stage, crime_table, officer_table
        rows = conn.execute(
            select(
                s.c.line,
                s.c.crime_id,
                s.c.officer_id,
                s.c.start_at,
                s.c.actor,
                s.c.reason,
                c.c.reference,
                o.c.collar,
            )
            .join(c, c.c.id == s.c.crime_id)
            .join(o, o.c.id == s.c.officer_id)
            .where(s.c.matched.is_(False), s.c.end_at.is_(None))
            .order_by(s.c.line)
        ).all()
        if not rows:
            return 0
        requests = [
            AllocationRequest(
                crime_id=int(crime_id),
                reference=str(reference),
                officer_id=int(officer_id),
                collar=str(collar),
                line=int(line),
                start_at=start,
                reason=str(reason),
                note={"recorded_actor": str(recorded)},
            )
            for line, crime_id, officer_id, start, recorded, reason, reference, collar in rows
        ]
        outcomes = allocate_many(
            conn,
            requests,
            actor=self.options.actor,
            at=self.options.at,
            reason=self.options.reason,
            override=self.options.override,
        )
        for outcome in outcomes:
            for message in outcome.warnings:
                counts.warn(f"line {outcome.request.line}: {outcome.request.reference}: {message}")
        return len(outcomes)


class SupervisionWriter(KindWriter):
    """Reviews, key events and victim updates (issue 4): rows added to a crime's record.

    Checked: the crime exists and the day is not before it was reported. A row already
    recorded (same crime and day; for events also the same kind) is left alone, so a
    file can be imported again. Writing goes through ``store.supervision.add_many``.
    """

    record = ""  # store.supervision kind: review, key-event, victim-update
    day = "on"  # the CSV column with the day

    def check_batch(self, conn: Connection, rows: Sequence[Row], problems: Problems) -> None:
        refs = {values["reference"] for _, values in rows if values["reference"]}
        reported = {
            str(r.reference): r.reported_on
            for r in conn.execute(
                select(crime_table.c.reference, crime_table.c.reported_on).where(
                    one_of(conn, crime_table.c.reference, refs)
                )
            )
        }
        for line, values in rows:
            ref, day = values["reference"], values[self.day]
            if not ref:
                continue
            if ref not in reported:
                problems.add(line, "reference", f"there is no crime {ref}", "unknown crime")
            elif day is not None and day < reported[ref]:
                problems.add(
                    line,
                    self.day,
                    f"{day.isoformat()} is before the crime was reported "
                    f"({reported[ref].isoformat()})",
                )

    def write_batch(self, conn: Connection, rows: Sequence[Row], counts: Counts) -> None:
        from caseload.store.supervision import add_many, existing_keys

        refs = {values["reference"] for _, values in rows}
        crimes = {
            str(r.reference): (int(r.id), r.collar)
            for r in conn.execute(
                select(crime_table.c.id, crime_table.c.reference, officer_table.c.collar)
                .outerjoin(officer_table, officer_table.c.id == crime_table.c.holder_id)
                .where(one_of(conn, crime_table.c.reference, refs))
            )
        }
        done = existing_keys(conn, self.record, [crime_id for crime_id, _ in crimes.values()])
        new: list[dict[str, Any]] = []
        for _, values in rows:
            crime_id, holder = crimes[values["reference"]]
            key = (
                (crime_id, values["kind"], values[self.day])
                if self.record == "key-event"
                else (crime_id, values[self.day])
            )
            if key in done:
                counts.unchanged += 1
                continue
            done.add(key)
            new.append(
                {
                    **values,
                    "crime_id": crime_id,
                    "holder": holder,
                    "on": values[self.day],
                }
            )
        counts.new += add_many(conn, self.record, new, actor=self.options.actor, at=self.options.at)


class ReviewWriter(SupervisionWriter):
    record = "review"


class EventWriter(SupervisionWriter):
    record = "key-event"


class VictimUpdateWriter(SupervisionWriter):
    record = "victim-update"


class AbsenceWriter(KindWriter):
    """Absences (``store.absences``): checked against the officers and each officer's
    absences in the store and earlier in the file (``domain.absences.clashes``); a row the
    store already holds (same officer, kind, dates and percentage) is left alone, so a
    file can be imported again. Each new absence is logged as ``officer absence add``'s."""

    def prepare_check(self, conn: Connection) -> None:
        self.booked: dict[str, list[Any]] = {}  # collar -> absences (store, then file)
        self.officers: dict[str, tuple[int, str]] = {}

    def _known(self, conn: Connection, collars: set[str]) -> None:
        from caseload.store.absences import officer_absences

        wanted = collars - self.officers.keys()
        if not wanted:
            return
        o = officer_table
        for row in conn.execute(
            select(o.c.id, o.c.collar, o.c.status).where(one_of(conn, o.c.collar, wanted))
        ):
            self.officers[str(row.collar)] = (int(row.id), str(row.status))
            self.booked[str(row.collar)] = officer_absences(conn, int(row.id))

    def check_batch(self, conn: Connection, rows: Sequence[Row], problems: Problems) -> None:
        from caseload.domain.absences import Absence, clashes

        self._known(conn, {values["collar"] for _, values in rows if values["collar"]})
        for line, values in rows:
            collar, kind, start = values["collar"], values["kind"], values["from"]
            if not collar or kind is None or start is None:
                continue
            if collar not in self.officers:
                problems.add(line, "collar", f"there is no officer {collar}", "unknown officer")
                continue
            if self.officers[collar][1] == "left":
                problems.add(line, "collar", f"{collar} has left", "officer who has left")
                continue
            end, percent = values["to"], values["percent"]
            if end is not None and end < start:
                continue  # the row check has said so
            existing = self.booked[collar]
            same = [
                a
                for a in existing
                if (a.kind, a.starts_on, a.ends_on, a.percent) == (kind, start, end, percent)
            ]
            if same:
                continue  # already booked: left alone
            found = clashes(kind, start, end, existing)
            if found:
                shown = "; ".join((f"#{a.id} " if a.id > 0 else "") + a.words() for a in found)
                problems.add(
                    line,
                    "from",
                    f"{collar} already has an absence on those days ({shown})",
                    "overlapping absence",
                )
                continue
            existing.append(Absence(-line, kind, start, end, percent))

    def write_batch(self, conn: Connection, rows: Sequence[Row], counts: Counts) -> None:
        from caseload.store.absences import add, officer_absences

        o = officer_table
        ids = {
            str(row.collar): int(row.id)
            for row in conn.execute(
                select(o.c.id, o.c.collar).where(
                    one_of(conn, o.c.collar, {values["collar"] for _, values in rows})
                )
            )
        }
        for line, values in rows:
            collar = values["collar"]
            officer_id = ids[collar]
            wanted = (values["kind"], values["from"], values["to"], values["percent"])
            if any(
                (a.kind, a.starts_on, a.ends_on, a.percent) == wanted
                for a in officer_absences(conn, officer_id)
            ):
                counts.unchanged += 1
                continue
            add(
                conn,
                collar,
                kind=values["kind"],
                starts_on=values["from"],
                ends_on=values["to"],
                percent=values["percent"],
                reason=values["reason"],
                actor=self.options.actor,
                at=self.options.at,
                line=line,
            )
            counts.new += 1


class VictimReferralWriter(SupervisionWriter):
    record = "victim-referral"


WRITERS: dict[str, type[KindWriter]] = {
    "officers": OfficerWriter,
    "crimes": CrimeWriter,
    "matrix": MatrixWriter,
    "history": HistoryWriter,
    "reviews": ReviewWriter,
    "events": EventWriter,
    "victim-updates": VictimUpdateWriter,
    "absences": AbsenceWriter,
    "victim-referrals": VictimReferralWriter,
}
for _kind, _writer in WRITERS.items():
    _writer.spec = SPECS[_kind]


# --- the framework -------------------------------------------------------------------------


Parsed = tuple[int, dict[str, Any], list[tuple[str, str]], list[str]]  # + the raw cells


def _batches(
    source: Source, spec: Spec, ignore_unknown: bool, *, skip: Sequence[int] = ()
) -> Iterator[list[Parsed]]:
    """Parsed rows in batches; lines in ``skip`` (sorted) are passed over."""
    header, rows = _header(source, spec, ignore_unknown)
    batch: list[Parsed] = []
    skipping = iter(skip)
    next_skip = next(skipping, None)
    for line, cells in rows:
        while next_skip is not None and next_skip < line:
            next_skip = next(skipping, None)
        if next_skip == line:
            continue
        values, problems = parse_row(spec, header, cells)
        batch.append((line, values, problems, cells))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _cells_hash(cells: Sequence[str]) -> int:
    """A row's cells as one 64-bit number (trailing empty cells ignored): rows with the
    same key and the same number repeat each other exactly. Python's string hash is
    stable within one process, which is all the check needs (both rows are hashed in
    the same pass), and costs far less than a cryptographic digest per row."""
    end = len(cells)
    while end and not cells[end - 1]:
        end -= 1
    return hash(tuple(cells[:end]))


def check(
    store: Store,
    source: Source,
    kind: str,
    *,
    options: Options,
    ignore_unknown: bool = False,
    advance: Advance = _no_progress,
) -> int:
    """Validate the whole file (streaming); InputError listing every problem. Returns rows.

    A row that repeats an earlier row exactly (same key, every cell the same) is no
    problem: its line goes into ``source.skip`` and the write imports the row once. The
    same key with other cells is a problem naming both lines, unless the kind keeps the
    first such row (``KindWriter.keep_first``: police.uk files), when it is skipped too.
    """
    writer = WRITERS[kind](options)
    spec = writer.spec
    problems = Problems()
    rows = 0
    source.skip, source.repeats, source.conflicts = array("i"), 0, 0
    source.repeat_example = source.conflict_example = None
    with store.read(read_only=False) as conn:
        writer.prepare_check(conn)
        keys = _FileKeys(conn)
        try:
            for batch in _batches(source, spec, ignore_unknown):
                parsed: list[Row] = []
                keyed: list[dict[str, Any]] = []
                for line, values, row_problems, cells in batch:
                    rows += 1
                    if writer.passes_over(values) is not None and all(
                        column != spec.key_column for column, _ in row_problems
                    ):
                        continue  # passed over whole (a key that did not parse is a problem)
                    for column, message in row_problems:
                        problems.add(line, column, message)
                    parsed.append((line, values))
                    key = _key(spec, values)
                    if key is not None:
                        shown = _text(values[spec.key_column])
                        keyed.append(
                            {
                                "key": repr(key),
                                "line": line,
                                "shown": shown,
                                "cells": _cells_hash(cells),
                            }
                        )
                writer.check_batch(conn, parsed, problems)
                keys.add(keyed)
                advance(len(batch))
            for line, shown, first, same in keys.repeated():
                if same:
                    source.repeats += 1
                    source.repeat_example = source.repeat_example or (line, first)
                    source.skip.append(line)
                elif writer.keep_first:
                    source.conflicts += 1
                    source.conflict_example = source.conflict_example or (line, first)
                    source.skip.append(line)
                else:
                    problems.add(
                        line,
                        spec.key_column,
                        f"the {spec.key_label} {shown} appears earlier in the file "
                        f"(line {first}) with other cells",
                        f"repeated {spec.key_label}",
                    )
        except BaseException:
            keys.close_after_error()
            raise
        keys.close()
    if problems.total:
        bad = len(problems.rows)
        raise InputError(
            f"{source.label}: {problems.total:,} problem{'s' if problems.total != 1 else ''} "
            f"in {'at least ' if bad >= MAX_LISTED * 4 else ''}{bad:,} of {rows:,} "
            f"row{'s' if rows != 1 else ''}; nothing was imported.",
            problems.details(),
        )
    return rows


_file_keys = Table(
    "import_file_keys",
    MetaData(),
    Column("key", Text, nullable=False),
    Column("line", Integer, nullable=False),
    Column("shown", Text, nullable=False),
    Column("cells", BigInteger, nullable=False),  # the row's cells hashed (_cells_hash)
    prefixes=["TEMPORARY"],
)


class _FileKeys:
    """Each row's key (collar, reference, ...) with its line, kept in a temporary table
    rather than in memory (a million references would hold some 90 MB): one GROUP BY at
    the end finds every key that appears more than once in the file, and a hash of
    each row's cells tells an exact repeat from the same key with other cells."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        _file_keys.drop(conn, checkfirst=True)
        _file_keys.create(conn)

    def add(self, keyed: Sequence[Mapping[str, Any]]) -> None:
        insert_rows(self.conn, _file_keys, keyed)

    def repeated(self) -> Iterator[tuple[int, str, int, bool]]:
        """(line, key as written, the key's first line, whether every cell is the same as
        on that first line) of every occurrence after a key's first, by line."""
        k = _file_keys
        first = (  # each repeated key and the line it first appears on
            select(k.c.key, func.min(k.c.line).label("first"))
            .group_by(k.c.key)
            .having(func.count() > 1)
            .subquery()
        )
        f = k.alias("f")  # the first occurrence's row, for its cells
        query = (
            select(k.c.line, k.c.shown, first.c.first, (k.c.cells == f.c.cells).label("same"))
            .join(first, and_(first.c.key == k.c.key, k.c.line > first.c.first))
            .join(f, and_(f.c.key == first.c.key, f.c.line == first.c.first))
            .order_by(k.c.line)
        )
        for line, shown, first_line, same in self.conn.execute(query):
            yield int(line), str(shown), int(first_line), bool(same)

    def close(self) -> None:
        _file_keys.drop(self.conn, checkfirst=True)

    def close_after_error(self) -> None:
        """``close`` while an error or Ctrl-C propagates: an interrupt inside a statement
        leaves the connection unusable (it is discarded with its temporary table), and a
        failed drop must not hide what happened behind a traceback."""
        if self.conn.invalidated:
            return
        with suppress(Exception):
            self.close()


def _key(spec: Spec, values: Mapping[str, Any]) -> Any:
    """The row's within-file key, or None when it has none or a key cell did not parse."""
    if spec.key is None:
        return None
    try:
        key = spec.key(values)
    except (TypeError, AttributeError):  # a key cell failed to parse (None)
        return None
    if key is None or (isinstance(key, tuple) and None in key):
        return None
    return key


class _DryRun(Exception):
    pass


def write(
    store: Store,
    source: Source | Sequence[Source],
    kind: str,
    *,
    options: Options,
    ignore_unknown: bool = False,
    dry_run: bool = False,
    advance: Advance = _no_progress,
) -> Counts:
    """Write checked files in ONE transaction, in batches; a dry run rolls it back.

    Several files (``import police-uk``) are written in the order given, all or
    nothing; a key in a later file updates what an earlier one wrote, as a re-import
    would. Rows the check found repeated (``Source.skip``) are passed over. The
    import's time is taken once the transaction holds the write lock.
    """
    sources = [source] if isinstance(source, Source) else list(source)
    counts = Counts()
    try:
        with store.write(bulk=True) as conn:
            options = replace(options, at=log.decision_time(conn, whole_seconds=True))
            writer = WRITERS[kind](options)
            teams_before = team_names(conn)
            last_crime = _last_crime_id(conn) if writer.adds_crimes else 0
            for one in sources:
                before = (counts.rows, counts.new, counts.updated, counts.unchanged)
                teams_known = team_names(conn) if one is not sources[0] else teams_before
                writer.prepare_write(conn)
                for batch in _batches(one, writer.spec, ignore_unknown, skip=one.skip):
                    rows = []
                    for line, values, _, _ in batch:
                        why = writer.passes_over(values)
                        if why is None:
                            rows.append((line, values))
                        else:
                            counts.skipped[why] += 1
                    writer.write_batch(conn, rows, counts)
                    counts.rows += len(rows)
                    advance(len(rows))
                    interrupts.checkpoint("import-writing")
                writer.finish(conn, counts)
                counts.blank += one.blank_rows
                counts.repeats += one.repeats
                counts.conflicts += one.conflicts
                created = _created_teams(conn, teams_known)
                counts.new_teams += created
                new, updated = counts.new - before[1], counts.updated - before[2]
                if new or updated:
                    log.append(
                        conn,
                        at=options.at,
                        actor=options.actor,
                        kind="import",
                        reason=options.reason,
                        detail={
                            "kind": kind,
                            "file": one.label,
                            "rows": counts.rows - before[0],
                            "new": new,
                            "updated": updated,
                            "unchanged": counts.unchanged - before[3],
                            **writer.log_detail(one),
                            **({"new_teams": created} if created else {}),
                        },
                    )
            counts.new_teams.sort()
            counts.near_teams = near_misses(counts.new_teams, teams_before)
            if writer.adds_crimes:
                counts.defaulted = defaulted_types(conn, after=last_crime, at=options.at)
            if dry_run:
                raise _DryRun
            if counts.new + counts.updated >= ANALYZE_AFTER:
                refresh_statistics(conn)
    except _DryRun:
        pass
    return counts


def repeat_warnings(sources: Sequence[Source], spec: Spec) -> list[str]:
    """Warnings for the rows passed over as repeats, counted, with the first example."""
    found: list[str] = []
    where = (lambda s: f"{s.label} ") if len(sources) > 1 else (lambda s: "")
    repeats = sum(s.repeats for s in sources)
    if repeats:
        first = next(s for s in sources if s.repeat_example)
        line, earlier = first.repeat_example or (0, 0)
        found.append(
            f"{repeats:,} row{'s' if repeats != 1 else ''} repeat{'s' if repeats == 1 else ''} "
            f"an earlier row exactly and {'was' if repeats == 1 else 'were'} imported once "
            f"(first: {where(first)}line {line} repeats line {earlier})"
        )
    conflicts = sum(s.conflicts for s in sources)
    if conflicts:
        first = next(s for s in sources if s.conflict_example)
        line, earlier = first.conflict_example or (0, 0)
        found.append(
            f"{conflicts:,} row{'s' if conflicts != 1 else ''} "
            f"repeat{'s' if conflicts == 1 else ''} a {spec.key_label} with other cells; "
            f"the first row of each {spec.key_label} "
            f"was kept (first: {where(first)}line {line} repeats line {earlier})"
        )
    return found


def _created_teams(conn: Connection, before: Sequence[str]) -> list[str]:
    """The teams there are now that were not among ``before`` (names compared as teams are)."""
    known = {team_key(name) for name in before}
    return sorted(name for name in team_names(conn) if team_key(name) not in known)


def _last_crime_id(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(crime_table.c.id), 0))).scalar_one())


def defaulted_types(conn: Connection, *, after: int, at: datetime) -> list[tuple[str, int]]:
    """The crime types whose new crimes (ids after ``after``, created at ``at``) took the
    default level because the matrix has no row for them, with how many, most first: one
    grouped count over the new rows' id range."""
    c = crime_table
    rows = conn.execute(
        select(c.c.crime_type, func.count())
        .where(c.c.id > after, c.c.created_at == at, c.c.level_defaulted.is_(True))
        .group_by(c.c.crime_type)
        .order_by(func.count().desc(), c.c.crime_type)
    ).all()
    return [(str(kind), int(n)) for kind, n in rows]


def teams_message(counts: Counts) -> tuple[str | None, list[str]]:
    """``2 new teams: Bexley CID, Lewisham CDI.``, and a warning per near miss."""
    if not counts.new_teams:
        return None, []
    n = len(counts.new_teams)
    warnings = [
        f"the new team '{new}' is close to the existing team '{existing}'; if it is a typo, "
        "correct the file and import it again, or see 'caseload team rename'"
        for new, existing in counts.near_teams.items()
    ]
    return f"{n} new team{'' if n == 1 else 's'}: {', '.join(counts.new_teams)}.", warnings


def defaults_message(counts: Counts, *, top: int = 5) -> str | None:
    """``120 crimes took the default level PIP1 (type not in the allocation matrix):
    Burglary 80, Drugs 30, and 2 other types 10.``"""
    if not counts.defaulted:
        return None
    from caseload.domain.levels import DEFAULT_REQUIRED_LEVEL

    total = sum(n for _, n in counts.defaulted)
    parts = [f"{kind} {n:,}" for kind, n in counts.defaulted[:top]]
    others = counts.defaulted[top:]
    if others:
        n_types = len(others)
        parts.append(
            f"and {n_types:,} other type{'' if n_types == 1 else 's'} {sum(n for _, n in others):,}"
        )
    return (
        f"{total:,} new crime{'' if total == 1 else 's'} took the default level "
        f"{DEFAULT_REQUIRED_LEVEL} (type not in the allocation matrix): {', '.join(parts)}. "
        "See 'caseload crime list --defaulted'; set levels with 'caseload matrix set'."
    )


def summary(kind: str, counts: Counts, *, dry_run: bool = False) -> str:
    """``Imported 1,000 crimes: 950 new, 50 updated, 0 unchanged.`` and, when there were
    any, ``; skipped 2 blank rows.`` (and what else was passed over, with why)."""
    spec = SPECS[kind]
    noun = spec.noun if counts.rows == 1 else spec.plural
    verb = "Checked" if dry_run else "Imported"
    text = (
        f"{verb} {counts.rows:,} {noun}: {counts.new:,} new, {counts.updated:,} updated, "
        f"{counts.unchanged:,} unchanged"
    )
    passed = [f"{n:,} {why}" for why, n in counts.skipped.items() if n]
    if counts.blank:
        passed.append(f"{counts.blank:,} blank row{'s' if counts.blank != 1 else ''}")
    text += f"; skipped {', '.join(passed)}." if passed else "."
    if dry_run:
        text += " Nothing was written (dry run)."
    return text


def import_file(
    store: Store,
    source: Source,
    kind: str,
    *,
    options: Options,
    ignore_unknown: bool = False,
    dry_run: bool = False,
) -> Counts:
    """Check, then write: the whole import without progress display (used by the sample)."""
    check(store, source, kind, options=options, ignore_unknown=ignore_unknown)
    return write(
        store, source, kind, options=options, ignore_unknown=ignore_unknown, dry_run=dry_run
    )


# The police.uk kind lives in its own module; importing it registers it here.
from caseload.store import police_uk as _police_uk  # noqa: E402,F401
