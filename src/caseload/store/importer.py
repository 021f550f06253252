"""Bulk import: one streaming framework for every kind of CSV file.

A kind is a column spec (``domain.csvschema.Spec``) plus a writer (a subclass
of ``KindWriter`` here). The framework does the rest, the same way for all:

1. ``open_source`` opens the file (``-`` spools stdin to a temporary file so it
   can be read twice), refuses a missing, empty, binary or non-UTF-8 file, and
   strips a byte-order mark.
2. ``check`` streams the file once in a read transaction: header, every row's
   cells, the within-file key (only the keys are kept: memory stays flat), and
   the writer's store checks per batch (``check_batch``: e.g. unknown holders).
   Every problem is collected; any problem is an ``InputError`` (exit 2) listing
   ``line N, column C: problem`` (the first 50) and nothing is written.
3. ``write`` streams the file again inside ONE write transaction and hands the
   writer batches of ``BATCH`` rows (``write_batch``), then ``finish``. Rows are
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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
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

from caseload.domain.csvschema import SPECS, Header, Spec, match_header, parse_row, problem_text
from caseload.errors import InputError
from caseload.store import log
from caseload.store.bulk import insert_rows, update_rows
from caseload.store.engine import Store, refresh_statistics
from caseload.store.models import allocation_table, crime_table, finalisation_table, officer_table
from caseload.store.reference import (
    ensure_teams,
    matrix,
    required_level_for,
    set_matrix,
    team_ids,
    team_names,
)
from caseload.store.sqlfunc import one_of

BATCH = 5000  # rows per executemany and per store check
ANALYZE_AFTER = 1000  # rows written; a bulk load refreshes the query planner's statistics
MAX_LISTED = 50  # problems listed in one error; the rest are counted
SNIFF_BYTES = 8192


Row = tuple[int, dict[str, Any]]  # (line number, parsed values)
Advance = Callable[[int], None]


def _no_progress(_n: int = 1) -> None:
    return None


# --- the source file -----------------------------------------------------------------------


@dataclass
class Source:
    """A CSV file that can be read twice; ``label`` names it in messages."""

    path: Path
    label: str
    temporary: bool = False

    def open_text(self) -> IO[str]:
        return self.path.open(encoding="utf-8-sig", newline="")

    def close(self) -> None:
        if self.temporary:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def open_source(name: str, stdin: IO[bytes] | None = None) -> Source:
    """Open FILE (or ``-`` for stdin); refuse what cannot be a CSV file, with exit 2."""
    if name == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        with tempfile.NamedTemporaryFile(
            prefix="caseload-import-", suffix=".csv", delete=False
        ) as spool:
            shutil.copyfileobj(stream, spool, 1 << 20)
        source = Source(Path(spool.name), "standard input", temporary=True)
    else:
        path = Path(name).expanduser()
        if not path.exists():
            raise InputError(f"There is no file {name}.")
        if path.is_dir():
            raise InputError(f"{name} is a folder, not a CSV file.")
        source = Source(path, name)
    try:
        _sniff(source)
    except BaseException:
        source.close()
        raise
    return source


def _sniff(source: Source) -> None:
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
            raise InputError(
                f"{source.label} is not UTF-8 text; save it as 'CSV UTF-8' and try again."
            ) from None


class _Reader:
    """Streams (line, cells) from a source; decoding and CSV errors end it with exit 2."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.stream = source.open_text()
        self.reader = csv.reader(self._lines())

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
                if cells and (len(cells) > 1 or cells[0].strip()):
                    yield start, cells
                start = reader.line_num + 1
        except UnicodeDecodeError:
            raise InputError(
                f"{self.source.label} is not UTF-8 text (after line {reader.line_num}); "
                "save it as 'CSV UTF-8' and try again."
            ) from None
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
        raise InputError(
            f"{source.label} does not have the header of a {spec.noun} file "
            f"(columns: {', '.join(spec.names)}); nothing was imported.",
            [problem_text(line, column or None, message) for column, message in problems],
        )
    return header, rows


# --- problems ------------------------------------------------------------------------------


@dataclass
class Problems:
    """Every bad row's problems: the first ``MAX_LISTED`` kept as text, the rest counted."""

    listed: list[tuple[int, str]] = field(default_factory=list)
    total: int = 0
    rows: set[int] = field(default_factory=set)

    def add(self, line: int, column: str | None, message: str) -> None:
        self.total += 1
        if len(self.rows) < MAX_LISTED * 4:
            self.rows.add(line)
        if len(self.listed) < MAX_LISTED:
            self.listed.append((line, problem_text(line, column or None, message)))

    def details(self) -> list[str]:
        extra = self.total - len(self.listed)
        ordered = [text for _, text in sorted(self.listed, key=lambda item: item[0])]
        return ordered + ([f"... and {extra:,} more"] if extra else [])


# --- results -------------------------------------------------------------------------------


@dataclass
class Counts:
    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    warnings: list[str] = field(default_factory=list)
    warned: int = 0  # allocations that raised a warning
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
    at: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))


# --- the writers: one per kind -------------------------------------------------------------


class KindWriter:
    """What a kind adds to the framework. Subclass it and register it in ``WRITERS``."""

    spec: Spec

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
        for _, values in rows:
            row = {key: values[key] for key in self.FIELDS if key != "team_id"}
            row["team_id"] = self.teams[values["team"].lower()]
            current = existing.get(values["collar"])
            if current is None:
                inserts.append({"collar": values["collar"], **row})
                counts.new += 1
                added: dict[str, Any] = {k: _text(v) for k, v in values.items()}
                entries.append(self._entry("officer-add", added, collar=values["collar"]))
                continue
            diff = {k: (current[k], v) for k, v in row.items() if current[k] != v}
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
        insert_rows(conn, o, inserts)
        update_rows(conn, o, "id", updates)
        self._log(conn, entries)


class CrimeWriter(KindWriter):
    """Crimes by reference. Live crimes' holders go through ``allocate_many``.

    Each change to an existing crime is logged (``crime-update``); new crimes are
    covered by the import's summary entry.

    A finalised crime's holder is a record of who held it, not an allocation made
    now: the live-crime rules cannot apply (``allocate_many`` refuses finalised
    crimes), so its holding is recorded as an interval directly, as the history
    import does.
    """

    FIELDS = (
        "crime_type",
        "required_level",
        "level_defaulted",
        "reported_on",
        "team_id",
        "victim_enhanced",
        "finalised_on",
        "outcome",
    )

    def prepare_check(self, conn: Connection) -> None:
        self.collars = {str(c) for (c,) in conn.execute(select(officer_table.c.collar))}

    def check_batch(self, conn: Connection, rows: Sequence[Row], problems: Problems) -> None:
        for line, values in rows:
            holder = values["holder"]
            if holder is not None and holder not in self.collars:
                problems.add(line, "holder", f"there is no officer with collar {holder}")

    def prepare_write(self, conn: Connection) -> None:
        self.teams = team_ids(conn)
        self.levels = matrix(conn)
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
        from caseload.store.allocation import AllocationRequest, allocate_many

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

        for line, values in rows:
            ref = values["reference"]
            current = existing.get(ref)
            row: dict[str, Any] = {
                "crime_type": values["crime_type"],
                "reported_on": values["reported_on"],
                "team_id": self.teams[values["team"].lower()],
                "victim_enhanced": values["victim_enhanced"],
                "finalised_on": values["finalised_on"],
                "outcome": values["outcome"],
            }
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
            if holder_changes:
                if finalised:  # held from the allocation date, else from the report's day
                    start = values["allocated_on"] or datetime.combine(
                        values["reported_on"], time.min
                    )
                    (recorded if current is None else records).append((ref, holder_id or 0, start))
                elif holder_id is None:
                    unassign.append((ref, self.collar_of.get(int(old_holder or 0), "")))
                else:
                    allocations.append((line, values, holder_id))

        insert_rows(conn, c, inserts)
        update_rows(conn, c, "id", updates)
        wanted = [ref for ref, _, _ in finalise] + [ref for ref, _, _ in records]
        wanted += [ref for ref, _, _ in recorded]
        wanted += [values["reference"] for _, values, _ in allocations]
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
        if records:
            self._record_holdings(
                conn, [(ids[ref], officer, start) for ref, officer, start in records]
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

    def _record_holdings(
        self, conn: Connection, holdings: Sequence[tuple[int, int, datetime]]
    ) -> None:
        """Existing finalised crimes: close any open interval, open the named holder's
        (if any) and record them as the holder."""
        a = allocation_table
        at = self.options.at
        crime_ids = [crime_id for crime_id, _, _ in holdings]
        conn.execute(
            update(a)
            .where(one_of(conn, a.c.crime_id, crime_ids), a.c.end_at.is_(None))
            .values(end_at=at, ended_by=self.options.actor, end_reason=self.options.reason)
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
        opened = [
            {
                "crime_id": crime_id,
                "officer_id": officer_id,
                "start_at": start,
                "end_at": None,
                "actor": self.options.actor,
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
            [(values["crime_type"], values["required_level"]) for _, values in rows],
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
    prefixes=["TEMPORARY"],
)


class HistoryWriter(KindWriter):
    """Allocation intervals as they were: loads past holdings without the live rules.

    Rows are staged in a temporary table (with their line numbers), matched to
    existing intervals by (crime, from), and checked with SQL for overlaps with
    each other and with the store's intervals; any overlap refuses the import.
    Each crime touched then takes as holder the officer of its open interval.
    """

    def prepare_check(self, conn: Connection) -> None:
        self.collars = {str(c) for (c,) in conn.execute(select(officer_table.c.collar))}

    def check_batch(self, conn: Connection, rows: Sequence[Row], problems: Problems) -> None:
        refs = {values["reference"] for _, values in rows if values["reference"]}
        found = {
            str(r)
            for (r,) in conn.execute(
                select(crime_table.c.reference).where(one_of(conn, crime_table.c.reference, refs))
            )
        }
        for line, values in rows:
            if values["reference"] and values["reference"] not in found:
                problems.add(line, "reference", f"there is no crime {values['reference']}")
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
        unchanged = (
            select(s.c.line)
            .join(a, same)
            .where(
                a.c.officer_id == s.c.officer_id,
                a.c.end_at.is_not_distinct_from(s.c.end_at),
                a.c.actor == s.c.actor,
                a.c.reason == s.c.reason,
            )
        )
        counts.unchanged = len(conn.execute(unchanged).all())
        changed = conn.execute(
            select(a.c.id, s.c.officer_id, s.c.end_at, s.c.actor, s.c.reason)
            .join(a, same)
            .where(s.c.line.not_in(unchanged))
        ).all()
        counts.updated = len(changed)
        if changed:
            conn.execute(
                update(a)
                .where(a.c.id == bindparam("b_id"))
                .values(
                    officer_id=bindparam("b_officer"),
                    end_at=bindparam("b_end"),
                    actor=bindparam("b_actor"),
                    reason=bindparam("b_reason"),
                ),
                [
                    {
                        "b_id": r.id,
                        "b_officer": r.officer_id,
                        "b_end": r.end_at,
                        "b_actor": r.actor,
                        "b_reason": r.reason,
                    }
                    for r in changed
                ],
            )
        self._check_open(conn)
        counts.new = int(
            conn.execute(
                select(func.count()).select_from(s).where(s.c.matched.is_(False))
            ).scalar_one()
        )
        if counts.new:
            conn.execute(
                insert(a).from_select(
                    ["crime_id", "officer_id", "start_at", "end_at", "actor", "reason", "warnings"],
                    select(
                        s.c.crime_id,
                        s.c.officer_id,
                        s.c.start_at,
                        s.c.end_at,
                        s.c.actor,
                        s.c.reason,
                        literal(""),
                    ).where(s.c.matched.is_(False)),
                )
            )
        self._check_overlaps(conn)
        open_holder = (
            select(a.c.officer_id)
            .where(a.c.crime_id == crime_table.c.id, a.c.end_at.is_(None))
            .limit(1)
            .scalar_subquery()
        )
        conn.execute(
            update(crime_table)
            .where(crime_table.c.id.in_(select(s.c.crime_id).distinct()))
            .values(holder_id=open_holder)
        )
        _history_stage.drop(conn)

    def _check_open(self, conn: Connection) -> None:
        """A crime has at most one open interval (its current holding)."""
        a, s = allocation_table, _history_stage
        s2 = s.alias("s2")
        clash = conn.execute(
            select(s.c.line)
            .where(
                s.c.matched.is_(False),
                s.c.end_at.is_(None),
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
                    "the crime already has a current holder (an interval with no end)",
                )
            raise InputError(
                "Some allocation intervals clash with a current holding; nothing was imported.",
                problems.details(),
            )

    def _check_overlaps(self, conn: Connection) -> None:
        a, s = allocation_table, _history_stage
        far = datetime(9999, 12, 31)
        b = a.alias("b")
        overlaps = (
            select(s.c.line, a.c.start_at, b.c.start_at.label("other_start"))
            .join(a, and_(a.c.crime_id == s.c.crime_id, a.c.start_at == s.c.start_at))
            .join(
                b,
                and_(
                    b.c.crime_id == a.c.crime_id,
                    b.c.id != a.c.id,
                    b.c.start_at < func.coalesce(a.c.end_at, far),
                    a.c.start_at < func.coalesce(b.c.end_at, far),
                ),
            )
            .order_by(s.c.line)
        )
        found = conn.execute(overlaps.limit(MAX_LISTED + 1)).all()
        if not found:
            return
        problems = Problems()
        for row in found:
            problems.add(
                row.line, "from", f"the interval overlaps another one from {row.other_start}"
            )
        raise InputError(
            "Some allocation intervals overlap; nothing was imported.", problems.details()
        )


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
                problems.add(line, "reference", f"there is no crime {ref}")
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


WRITERS: dict[str, type[KindWriter]] = {
    "officers": OfficerWriter,
    "crimes": CrimeWriter,
    "matrix": MatrixWriter,
    "history": HistoryWriter,
    "reviews": ReviewWriter,
    "events": EventWriter,
    "victim-updates": VictimUpdateWriter,
}
for _kind, _writer in WRITERS.items():
    _writer.spec = SPECS[_kind]


# --- the framework -------------------------------------------------------------------------


def _batches(
    source: Source, spec: Spec, ignore_unknown: bool
) -> Iterator[list[tuple[int, dict[str, Any], list[tuple[str, str]]]]]:
    header, rows = _header(source, spec, ignore_unknown)
    batch: list[tuple[int, dict[str, Any], list[tuple[str, str]]]] = []
    for line, cells in rows:
        values, problems = parse_row(spec, header, cells)
        batch.append((line, values, problems))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def check(
    store: Store,
    source: Source,
    kind: str,
    *,
    options: Options,
    ignore_unknown: bool = False,
    advance: Advance = _no_progress,
) -> int:
    """Validate the whole file (streaming); InputError listing every problem. Returns rows."""
    writer = WRITERS[kind](options)
    spec = writer.spec
    problems = Problems()
    rows = 0
    with store.read() as conn:
        writer.prepare_check(conn)
        keys = _FileKeys(conn)
        try:
            for batch in _batches(source, spec, ignore_unknown):
                parsed: list[Row] = []
                keyed: list[dict[str, Any]] = []
                for line, values, row_problems in batch:
                    rows += 1
                    for column, message in row_problems:
                        problems.add(line, column, message)
                    parsed.append((line, values))
                    key = _key(spec, values)
                    if key is not None:
                        shown = _text(values[spec.key_column])
                        keyed.append({"key": repr(key), "line": line, "shown": shown})
                writer.check_batch(conn, parsed, problems)
                keys.add(keyed)
                advance(len(batch))
            for line, shown in keys.repeated():
                problems.add(
                    line,
                    spec.key_column,
                    f"the {spec.key_label} {shown} appears earlier in the file",
                )
        finally:
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
    prefixes=["TEMPORARY"],
)


class _FileKeys:
    """Each row's key (collar, reference, ...) with its line, kept in a temporary table
    rather than in memory (a million references would hold some 90 MB): one GROUP BY at
    the end finds every key that appears more than once in the file."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        _file_keys.drop(conn, checkfirst=True)
        _file_keys.create(conn)

    def add(self, keyed: Sequence[Mapping[str, Any]]) -> None:
        insert_rows(self.conn, _file_keys, keyed)

    def repeated(self) -> Iterator[tuple[int, str]]:
        """(line, key as written) of every occurrence after a key's first, by line."""
        k = _file_keys
        first = (  # each repeated key and the line it first appears on
            select(k.c.key, func.min(k.c.line).label("first"))
            .group_by(k.c.key)
            .having(func.count() > 1)
            .subquery()
        )
        query = (
            select(k.c.line, k.c.shown)
            .join(first, and_(first.c.key == k.c.key, k.c.line > first.c.first))
            .order_by(k.c.line)
        )
        for line, shown in self.conn.execute(query):
            yield int(line), str(shown)

    def close(self) -> None:
        _file_keys.drop(self.conn, checkfirst=True)


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
    source: Source,
    kind: str,
    *,
    options: Options,
    ignore_unknown: bool = False,
    dry_run: bool = False,
    advance: Advance = _no_progress,
) -> Counts:
    """Write a checked file in one transaction, in batches; a dry run rolls it back."""
    writer = WRITERS[kind](options)
    counts = Counts()
    try:
        with store.write(bulk=True) as conn:
            teams_before = team_names(conn)
            last_crime = _last_crime_id(conn) if kind == "crimes" else 0
            writer.prepare_write(conn)
            for batch in _batches(source, writer.spec, ignore_unknown):
                rows = [(line, values) for line, values, _ in batch]
                writer.write_batch(conn, rows, counts)
                counts.rows += len(rows)
                advance(len(rows))
            writer.finish(conn, counts)
            _note_new_teams(conn, teams_before, counts)
            if kind == "crimes":
                counts.defaulted = defaulted_types(conn, after=last_crime, at=options.at)
            if counts.new or counts.updated:
                log.append(
                    conn,
                    at=options.at,
                    actor=options.actor,
                    kind="import",
                    reason=options.reason,
                    detail={
                        "kind": kind,
                        "file": source.label,
                        "rows": counts.rows,
                        "new": counts.new,
                        "updated": counts.updated,
                        "unchanged": counts.unchanged,
                        **({"new_teams": counts.new_teams} if counts.new_teams else {}),
                    },
                )
            if dry_run:
                raise _DryRun
            if counts.new + counts.updated >= ANALYZE_AFTER:
                refresh_statistics(conn)
    except _DryRun:
        pass
    return counts


def _note_new_teams(conn: Connection, before: Sequence[str], counts: Counts) -> None:
    """The teams the import created (names it gave that no team had), and those that look
    like a typo of a team that was there before."""
    from caseload.domain.teams import key, near_misses

    known = {key(name) for name in before}
    counts.new_teams = sorted(name for name in team_names(conn) if key(name) not in known)
    counts.near_teams = near_misses(counts.new_teams, before)


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
    """``Imported 1,000 crimes: 950 new, 50 updated, 0 unchanged.``"""
    spec = SPECS[kind]
    noun = spec.noun if counts.rows == 1 else spec.plural
    verb = "Checked" if dry_run else "Imported"
    text = (
        f"{verb} {counts.rows:,} {noun}: {counts.new:,} new, {counts.updated:,} updated, "
        f"{counts.unchanged:,} unchanged."
    )
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
