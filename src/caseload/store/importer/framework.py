"""The import framework every kind of CSV file goes through (the package's docstring
tells its steps): the base of a kind's writer (``KindWriter``) and the registry of them
(``WRITERS``), the problems a check collects (``Problems``), what a write counts
(``Counts``), the import's ``Options``, and ``check``, ``write`` and ``import_file``.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, Column, Integer, MetaData, Table, Text, and_, func, select
from sqlalchemy.engine import Connection

from caseload import interrupts
from caseload.domain.csvschema import Spec, parse_row, problem_text
from caseload.domain.teams import key as team_key
from caseload.domain.teams import near_misses
from caseload.errors import InputError
from caseload.store import log
from caseload.store.bulk import insert_rows
from caseload.store.connection import Store, refresh_statistics
from caseload.store.importer.source import Source, read_header
from caseload.store.models import crime_table
from caseload.store.reference import team_names

if TYPE_CHECKING:
    from caseload.store.allocation import AllocationRequest

BATCH = 5000  # rows per executemany and per store check
ANALYZE_AFTER = 1000  # rows written; a bulk load refreshes the query planner's statistics
MAX_LISTED = 50  # problems listed in one error; the rest are counted

Row = tuple[int, dict[str, Any]]  # (line number, parsed values)
Advance = Callable[[int], None]


def _no_progress(_n: int = 1) -> None:
    return None


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


# --- a kind's writer: what it adds to the framework ----------------------------------------


class KindWriter:
    """What a kind adds to the framework. Subclass it in a module of its own, set its
    ``spec`` and register it in ``WRITERS`` (the package does, by ``spec.kind``)."""

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

    def _allocate_many(
        self, conn: Connection, requests: Sequence[AllocationRequest], counts: Counts
    ) -> int:
        """Allocations through ``store.allocation.allocate_many``, the one allocation path,
        as the import's actor, at its time, for its reason and override; each warning
        counted, naming the line. Returns how many were made."""
        from caseload.store.allocation import allocate_many

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


def as_text(value: Any) -> str:
    """A value as log entries and messages show it: a timestamp to the second, a day in
    ISO form, None as empty."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def change_detail(
    diff: Mapping[str, tuple[Any, Any]], team_name: Mapping[int, str]
) -> dict[str, list[str]]:
    """A row's changes as its ``*-update`` log entry records them: each column's old and
    new value as text, the team (``team_id``) by name."""
    return {
        ("team" if k == "team_id" else k): [
            as_text(team_name.get(old) if k == "team_id" else old),
            as_text(team_name.get(new) if k == "team_id" else new),
        ]
        for k, (old, new) in diff.items()
    }


WRITERS: dict[str, type[KindWriter]] = {}  # kind -> its writer; filled by the package


# --- check, then write ---------------------------------------------------------------------


Parsed = tuple[int, dict[str, Any], list[tuple[str, str]], list[str]]  # + the raw cells


def _batches(
    source: Source, spec: Spec, ignore_unknown: bool, *, skip: Sequence[int] = ()
) -> Iterator[list[Parsed]]:
    """Parsed rows in batches; lines in ``skip`` (sorted) are passed over."""
    header, rows = read_header(source, spec, ignore_unknown)
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
                        shown = as_text(values[spec.key_column])
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
