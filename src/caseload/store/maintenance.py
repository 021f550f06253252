"""Looking after a store: consistency checks, the decision log's chain, and backups.

* ``check_store`` runs SQLite's own ``integrity_check`` and ``foreign_key_check``
  (PostgreSQL enforces its keys itself) and then caseload's invariants, each one
  SQL query that returns the offending rows: at most one open allocation per
  crime, every allocation to an existing officer and crime, ``crime.holder_id``
  equal to the crime's open allocation, and a crime's finalisation intervals
  agreeing with whether it is live.
* ``verify_log`` walks ``log_entry`` in id order, streamed in batches, and
  recomputes each entry's hash (``domain.ledger``). It stops at the first entry
  that was changed, removed or inserted and says which.
* ``backup_sqlite`` uses SQLite's online backup API: one read transaction, so the
  copy is consistent while others write, written to a partial file
  (``.NAME.caseload-backup-PID.part``, see ``caseload.files``) and renamed so that an
  interrupted backup never leaves a partial file under the name given.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from caseload.domain.ledger import GENESIS, HASHED_FIELDS, entry_hash
from caseload.errors import InputError
from caseload.store.engine import BUSY_TIMEOUT_SECONDS, Store
from caseload.store.models import log_table

EXAMPLES = 5  # offending rows named per problem; the count covers them all


@dataclass(frozen=True)
class Problem:
    check: str
    count: int
    examples: list[str] = field(default_factory=list)

    def as_row(self) -> dict[str, Any]:
        more = (
            f" (and {self.count - len(self.examples)} more)"
            if self.count > len(self.examples)
            else ""
        )
        return {
            "check": self.check,
            "count": self.count,
            "examples": "; ".join(self.examples) + more,
        }


# Each invariant: (name, SQL selecting one descriptive text per offending row).
# Plain SQL that reads the same on SQLite and PostgreSQL.
INVARIANTS: tuple[tuple[str, str], ...] = (
    (
        "more than one open allocation for a crime",
        """SELECT 'crime id ' || CAST(crime_id AS VARCHAR) || ': '
                  || CAST(count(*) AS VARCHAR) || ' open allocations'
           FROM allocation WHERE end_at IS NULL
           GROUP BY crime_id HAVING count(*) > 1 ORDER BY crime_id""",
    ),
    (
        "allocation to a missing officer",
        """SELECT 'allocation id ' || CAST(a.id AS VARCHAR) || ' names officer id '
                  || CAST(a.officer_id AS VARCHAR)
           FROM allocation a LEFT JOIN officer o ON o.id = a.officer_id
           WHERE o.id IS NULL ORDER BY a.id""",
    ),
    (
        "allocation of a missing crime",
        """SELECT 'allocation id ' || CAST(a.id AS VARCHAR) || ' names crime id '
                  || CAST(a.crime_id AS VARCHAR)
           FROM allocation a LEFT JOIN crime c ON c.id = a.crime_id
           WHERE c.id IS NULL ORDER BY a.id""",
    ),
    (
        "allocation that ends before it starts",
        """SELECT 'allocation id ' || CAST(id AS VARCHAR)
           FROM allocation WHERE end_at IS NOT NULL AND end_at < start_at ORDER BY id""",
    ),
    (
        "crime held by a missing officer",
        """SELECT c.reference FROM crime c LEFT JOIN officer o ON o.id = c.holder_id
           WHERE c.holder_id IS NOT NULL AND o.id IS NULL ORDER BY c.id""",
    ),
    (
        "crime holder differs from its open allocation",
        """SELECT c.reference FROM crime c
           LEFT JOIN allocation a ON a.crime_id = c.id AND a.end_at IS NULL
           WHERE (c.holder_id IS NULL AND a.id IS NOT NULL)
              OR (c.holder_id IS NOT NULL AND a.id IS NULL)
              OR (c.holder_id <> a.officer_id)
           ORDER BY c.id""",
    ),
    (
        "live crime with an open finalisation",
        """SELECT c.reference FROM crime c
           WHERE c.finalised_on IS NULL AND EXISTS (
               SELECT 1 FROM finalisation f WHERE f.crime_id = c.id AND f.reopened_on IS NULL)
           ORDER BY c.id""",
    ),
    (
        "finalised crime without a matching finalisation",
        """SELECT c.reference FROM crime c
           WHERE c.finalised_on IS NOT NULL AND NOT EXISTS (
               SELECT 1 FROM finalisation f WHERE f.crime_id = c.id AND f.reopened_on IS NULL
                 AND f.finalised_on = c.finalised_on)
           ORDER BY c.id""",
    ),
    (
        "more than one open finalisation for a crime",
        """SELECT 'crime id ' || CAST(crime_id AS VARCHAR)
           FROM finalisation WHERE reopened_on IS NULL
           GROUP BY crime_id HAVING count(*) > 1 ORDER BY crime_id""",
    ),
)


def _problem(conn: Connection, name: str, sql: str) -> Problem | None:
    counted = conn.execute(text(f"SELECT count(*) FROM ({sql}) AS found")).scalar_one()
    if not counted:
        return None
    examples = [str(r[0]) for r in conn.execute(text(f"{sql} LIMIT {EXAMPLES}"))]
    return Problem(name, int(counted), examples)


def check_store(store: Store) -> tuple[int, list[Problem]]:
    """Run every check; returns (checks run, problems found)."""
    problems: list[Problem] = []
    checks = 0
    with store.read() as conn:
        if conn.dialect.name == "sqlite":
            checks += 2
            integrity = [str(r[0]) for r in conn.exec_driver_sql("PRAGMA integrity_check")]
            if integrity != ["ok"]:
                problems.append(Problem("SQLite integrity", len(integrity), integrity[:EXAMPLES]))
            broken = [
                f"{r[0]} row {r[1]} -> {r[2]}"
                for r in conn.exec_driver_sql("PRAGMA foreign_key_check")
            ]
            if broken:
                problems.append(Problem("foreign key", len(broken), broken[:EXAMPLES]))
        for name, sql in INVARIANTS:
            checks += 1
            found = _problem(conn, name, sql)
            if found is not None:
                problems.append(found)
    return checks, problems


# --- the decision log's chain -----------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head_id: int | None
    head_hash: str
    broken_at: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def _entries(conn: Connection, batch: int) -> Iterator[dict[str, Any]]:
    columns = [log_table.c[name] for name in (*HASHED_FIELDS, "prev_hash", "hash")]
    query = select(*columns).order_by(log_table.c.id)
    for row in conn.execution_options(yield_per=batch).execute(query):
        yield dict(row._mapping)


def _lookahead(rows: Iterator[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], Any]]:
    current = next(rows, None)
    while current is not None:
        following = next(rows, None)
        yield current, following
        current = following


def verify_log(store: Store, *, batch: int = 5000) -> ChainReport:
    """Walk the chain in id order; stop at the first entry changed, removed or inserted.

    Entry ids are consecutive from 1 and each hash covers the entry's id, its fields
    and the previous entry's hash. Which entry to name when the chain breaks:

    * an id missing: that entry was removed;
    * the next entry chains past this one to the previous: this one was inserted;
    * this entry chains to the one before the previous: the previous was inserted;
    * this entry is self-consistent but does not chain to the previous: the previous
      was changed and its hash recomputed;
    * otherwise this entry was changed (or, the newest entry, changed or appended).

    The newest entries removed from the end leave no gap: compare the printed head with
    one kept elsewhere to catch that.
    """
    count = 0
    prev_id = 0
    prev_hash = GENESIS
    before_prev: str | None = None  # the hash of the entry before the previous one

    def name(entry_id: int) -> str:
        return "the start" if entry_id == 0 else f"entry {entry_id}"

    def broken(at: int, problem: str, intact: int) -> ChainReport:
        return ChainReport(intact, prev_id or None, prev_hash, broken_at=at, problem=problem)

    with store.read() as conn:
        for row, following in _lookahead(_entries(conn, batch)):
            entry_id = int(row["id"])
            if entry_id != prev_id + 1:
                first = prev_id + 1
                missing = (
                    f"entry {first}" if entry_id == first + 1 else f"entries {first}-{entry_id - 1}"
                )
                return broken(first, f"entry {first} was removed ({missing} missing)", count)
            own_hash_ok = entry_hash(row["prev_hash"], row) == row["hash"]
            chained = row["prev_hash"] == prev_hash
            if chained and own_hash_ok:
                count += 1
                before_prev = prev_hash
                prev_id, prev_hash = entry_id, str(row["hash"])
                continue
            if following is not None and following["prev_hash"] == prev_hash:
                return broken(
                    entry_id,
                    f"entry {entry_id} was inserted (entry {entry_id + 1} chains past it "
                    f"to {name(prev_id)})",
                    count,
                )
            if not chained and before_prev is not None and row["prev_hash"] == before_prev:
                return broken(
                    prev_id,
                    f"entry {prev_id} was inserted (entry {entry_id} chains past it "
                    f"to {name(prev_id - 1)})",
                    count - 1,
                )
            if not chained and own_hash_ok and prev_id > 0:
                return broken(
                    prev_id,
                    f"entry {prev_id} was changed (its hash was recomputed; entry {entry_id} "
                    "no longer chains to it)",
                    count - 1,
                )
            if following is None and chained:
                return broken(
                    entry_id,
                    f"entry {entry_id} was changed or inserted (its contents do not match "
                    "its hash)",
                    count,
                )
            detail = (
                "its contents no longer match its hash"
                if not own_hash_ok
                else f"it does not chain to {name(prev_id)}"
            )
            return broken(entry_id, f"entry {entry_id} was changed ({detail})", count)
    return ChainReport(count, prev_id or None, prev_hash)


# --- backup -----------------------------------------------------------------------------------


def store_files(store: Store) -> list[Path]:
    """The files that make up a SQLite store: the database and its journals."""
    assert store.path is not None
    base = store.path.resolve()
    return [base, *(base.with_name(base.name + suffix) for suffix in ("-wal", "-shm", "-journal"))]


@dataclass(frozen=True)
class Backup:
    size: int
    path: Path
    removed: list[Path]  # stale partial files of killed runs, removed first


def backup_sqlite(store: Store, file: str, *, overwrite: bool = False) -> Backup:
    """Copy a SQLite store to ``file`` consistently while others write.

    The target is checked as every output file is (``caseload.files``): an existing
    regular file only with ``overwrite``; a device, FIFO or terminal is written
    straight (the copy is made beside the store, then streamed); any file of the store
    itself (the database, its ``-wal``, ``-shm`` or ``-journal``) is refused.
    """
    from caseload import files, interrupts

    if store.path is None:
        raise InputError(
            "caseload backup copies SQLite stores only; for PostgreSQL use pg_dump, e.g. "
            f"pg_dump --format=custom --file=FILE '{_libpq_url(store)}'."
        )
    if file.strip():
        given = Path(file).expanduser()
        resolved = given.resolve()
        parts = store_files(store)
        if resolved in parts or any(_same_file(given, part) for part in parts):
            raise InputError(
                f"{file} is part of the store {store.location}; "
                "the backup must go to a file of its own."
            )
    target = files.output_target(file, option="FILE", overwrite=overwrite)
    beside = store.path.resolve() if target.stream else target.real
    removed = files.remove_stale_partials(beside.parent)
    partial, lock = files.claim_partial(beside, "backup")
    try:
        try:
            source = sqlite3.connect(store.path, timeout=BUSY_TIMEOUT_SECONDS)
            copy = sqlite3.connect(partial)
            try:
                # pages=-1: the whole store in one step, inside one read transaction; under
                # WAL writers carry on meanwhile and the copy is the store as of the step's
                # start.
                source.backup(copy, pages=-1)
                result = copy.execute("PRAGMA quick_check").fetchone()
            finally:
                copy.close()
                source.close()
        except sqlite3.Error as exc:
            from caseload.errors import StoreError

            raise StoreError(f"The backup of {store.location} failed: {exc}.") from None
        if result is None or result[0] != "ok":
            raise InputError(f"The copy failed its integrity check ({result}); nothing was kept.")
        size = partial.stat().st_size
        interrupts.checkpoint("backup-copied")
        try:
            if target.stream:
                _stream_copy(partial, target.path)
            else:
                files.place(partial, target, overwrite=overwrite)
        except OSError as exc:
            raise InputError(f"Cannot write {target.path}: {exc.strerror}.") from None
    finally:
        partial.unlink(missing_ok=True)
        os.close(lock)
    return Backup(size, target.path, removed)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _stream_copy(source: Path, target: Path) -> None:
    import shutil

    with open(source, "rb") as reader, open(target, "ab") as writer:
        shutil.copyfileobj(reader, writer, 1 << 20)


def _libpq_url(store: Store) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(store.url).set(drivername="postgresql")
    return url.render_as_string(hide_password=True)
