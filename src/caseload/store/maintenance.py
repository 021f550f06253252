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
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from caseload.domain.ledger import GENESIS, HASHED_FIELDS, entry_hash
from caseload.domain.policy import bad_stored_settings
from caseload.errors import InputError
from caseload.store.connection import BUSY_TIMEOUT_SECONDS, Store
from caseload.store.models import log_table
from caseload.store.reference import policy_query

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


# The decision log replayed against the data: what an edit of the data tables alone
# (or a deletion of their rows) leaves behind. The kinds whose entry names a crime's
# holder at that moment: an allocation or transfer names the new holder, an unassign the
# old one (the crime is then unallocated), a finalisation or reopening the holder then.
HOLDER_KINDS = ("allocate", "transfer", "unassign", "finalise", "reopen")
_KINDS = ", ".join(f"'{kind}'" for kind in HOLDER_KINDS)
_LOGGED_HOLDER = "CASE WHEN e.kind = 'unassign' THEN NULL ELSE e.collar END"
LOG_REPLAY: tuple[tuple[str, str], ...] = (
    (
        "crime holder differs from the decision log",
        f"""SELECT c.reference || ': the log says '
                  || COALESCE({_LOGGED_HOLDER}, 'unallocated')
                  || ', the store says ' || COALESCE(o.collar, 'unallocated')
           FROM crime c
           JOIN (SELECT crime_ref, max(id) AS last_id FROM log_entry
                 WHERE kind IN ({_KINDS}) AND crime_ref IS NOT NULL
                 GROUP BY crime_ref) l ON l.crime_ref = c.reference
           JOIN log_entry e ON e.id = l.last_id
           LEFT JOIN officer o ON o.id = c.holder_id
           WHERE ({_LOGGED_HOLDER} IS NULL AND c.holder_id IS NOT NULL)
              OR ({_LOGGED_HOLDER} IS NOT NULL AND o.collar IS NULL)
              OR {_LOGGED_HOLDER} <> o.collar
           ORDER BY c.id""",
    ),
    (
        "allocation decision without its interval",
        """SELECT e.crime_ref || ' to ' || e.collar || ' (log entry '
                  || CAST(e.id AS VARCHAR) || ')'
           FROM log_entry e
           JOIN crime c ON c.reference = e.crime_ref
           LEFT JOIN officer o ON o.collar = e.collar
           WHERE e.kind IN ('allocate', 'transfer') AND NOT EXISTS (
               SELECT 1 FROM allocation a
               WHERE a.crime_id = c.id AND a.officer_id = o.id
                 AND (a.start_at = e.at OR e.detail LIKE '%"start_at"%'))
           ORDER BY e.id""",
    ),
    (
        "crime in the decision log missing from the store",
        """SELECT l.crime_ref || ' (' || CAST(count(*) AS VARCHAR) || ' log entries)'
           FROM log_entry l LEFT JOIN crime c ON c.reference = l.crime_ref
           WHERE l.crime_ref IS NOT NULL AND c.id IS NULL
           GROUP BY l.crime_ref ORDER BY min(l.id)""",
    ),
    (
        "officer in the decision log missing from the store",
        """SELECT l.collar || ' (' || CAST(count(*) AS VARCHAR) || ' log entries)'
           FROM log_entry l LEFT JOIN officer o ON o.collar = l.collar
           WHERE l.collar IS NOT NULL AND l.collar <> '' AND o.id IS NULL
           GROUP BY l.collar ORDER BY min(l.id)""",
    ),
)


def _settings_replay(conn: Connection) -> list[Problem]:
    """Policy settings and the allocation matrix as the log's last change of each left
    them, against the stored rows (a handful of rows: read in Python)."""
    import json

    from caseload.store.models import matrix_risk_table, matrix_table, policy_table
    from caseload.store.team_policy import team_policy_query

    logged: dict[str, dict[str, Any]] = {"policy": {}, "matrix": {}, "team": {}}
    query = (
        select(log_table.c.kind, log_table.c.detail)
        .where(log_table.c.kind.in_(("policy", "matrix")))
        .order_by(log_table.c.id)
    )
    for kind, detail in conn.execute(query):
        try:
            change = json.loads(detail or "{}")
        except ValueError:
            continue
        key = change.get("setting") if kind == "policy" else change.get("crime_type")
        if kind == "policy" and "team_id" in change:  # a team's override (store.team_policy)
            if isinstance(key, str):
                name = f"{key} for team id {change['team_id']}"
                logged["team"][name] = (name, None if change.get("cleared") else change.get("new"))
            continue
        if isinstance(key, str):
            name = key if kind == "policy" else key.lower()
            if kind == "matrix" and change.get("risk"):  # a risk row (migration 0008)
                name, key = f"{name} ({change['risk']})", f"{key} ({change['risk']} risk)"
            logged[kind][name] = (key, change.get("new"))
    problems = []
    stored_policy = {str(n): str(v) for n, v in conn.execute(select(policy_table))}
    stored_matrix = {
        str(key): (str(crime_type), str(level))
        for key, crime_type, level in conn.execute(select(matrix_table))
    }
    stored_team = {
        f"{n} for team id {t}": (f"{n} for team id {t}", str(v))
        for t, n, v in conn.execute(team_policy_query())
    }
    # An override the log says was removed, and the store has no row of: consistent.
    for name, (_, says) in list(logged["team"].items()):
        if says is None and name not in stored_team:
            del logged["team"][name]
        elif says is None:
            logged["team"][name] = (name, "removed")
    stored_matrix.update(
        {
            f"{key} ({risk})": (f"{crime_type} ({risk} risk)", str(level))
            for key, risk, crime_type, level in conn.execute(
                select(
                    matrix_risk_table.c.type_key,
                    matrix_risk_table.c.risk,
                    matrix_risk_table.c.crime_type,
                    matrix_risk_table.c.required_level,
                )
            )
        }
    )
    for kind, stored, label in (
        ("policy", {n: (n, v) for n, v in stored_policy.items()}, "policy setting"),
        ("matrix", stored_matrix, "matrix entry"),
        ("team", stored_team, "team policy setting"),
    ):
        found = []
        for name in sorted(set(stored) | set(logged[kind])):
            says = logged[kind].get(name)
            has = stored.get(name)
            if says is None:
                found.append(
                    f"{has[0] if has else name}: {has[1] if has else ''} is not in the log"
                )
            elif has is None and says is not None:
                found.append(f"{says[0]}: the log says {says[1]}, the store has no row")
            elif says is not None and has is not None and str(says[1]) != has[1]:
                found.append(f"{says[0]}: the log says {says[1]}, the store says {has[1]}")
        if found:
            problems.append(
                Problem(f"{label} differs from the decision log", len(found), found[:EXAMPLES])
            )
    return problems


def _problem(conn: Connection, name: str, sql: str) -> Problem | None:
    counted = conn.execute(text(f"SELECT count(*) FROM ({sql}) AS found")).scalar_one()
    if not counted:
        return None
    examples = [str(r[0]) for r in conn.execute(text(f"{sql} LIMIT {EXAMPLES}"))]
    return Problem(name, int(counted), examples)


@contextmanager
def inspecting(store: Store) -> Iterator[Connection]:
    """A read transaction that ends in a rollback: after a statement hit a damaged page,
    SQLite's COMMIT repeats that error, and a check must report it, not fail on it."""
    with store._translate_errors(), store.engine.connect() as conn:
        conn.begin()
        try:
            yield conn
        finally:
            conn.rollback()


def check_store(store: Store) -> tuple[int, list[Problem]]:
    """Run every check; returns (checks run, problems found). A check that cannot read
    its rows (a corrupted page) is a problem found, not a crash."""
    from sqlalchemy.exc import DatabaseError

    problems: list[Problem] = []
    checks = 0

    def unreadable(name: str, exc: DatabaseError) -> Problem:
        return Problem(name, 1, [f"could not be read: {exc.orig if exc.orig else exc}"])

    with inspecting(store) as conn:
        if conn.dialect.name == "sqlite":
            checks += 2
            try:
                integrity = [str(r[0]) for r in conn.exec_driver_sql("PRAGMA integrity_check")]
            except DatabaseError as exc:
                integrity = [str(exc.orig if exc.orig else exc)]
            if integrity != ["ok"]:
                problems.append(Problem("SQLite integrity", len(integrity), integrity[:EXAMPLES]))
            try:
                broken = [
                    f"{r[0]} row {r[1]} -> {r[2]}"
                    for r in conn.exec_driver_sql("PRAGMA foreign_key_check")
                ]
            except DatabaseError as exc:
                problems.append(unreadable("foreign key", exc))
                broken = []
            if broken:
                problems.append(Problem("foreign key", len(broken), broken[:EXAMPLES]))
        for name, sql in INVARIANTS + LOG_REPLAY:
            checks += 1
            try:
                found = _problem(conn, name, sql)
            except DatabaseError as exc:
                found = unreadable(name, exc)
            if found is not None:
                problems.append(found)
        checks += 3
        problems.extend(_settings_replay(conn))
        try:
            bad = bad_stored_settings(conn.execute(policy_query()))
        except DatabaseError as exc:
            problems.append(unreadable("policy setting caseload cannot use", exc))
        else:
            if bad:
                problems.append(
                    Problem("policy setting caseload cannot use", len(bad), bad[:EXAMPLES])
                )
    return checks, problems


def page_damage(store: Store) -> list[str]:
    """What SQLite's ``PRAGMA quick_check`` finds wrong with a SQLite store's pages (empty
    when it is sound, and always on PostgreSQL)."""
    from sqlalchemy.exc import DatabaseError

    if not store.is_sqlite:
        return []
    with inspecting(store) as conn:
        try:
            found = [str(r[0]) for r in conn.exec_driver_sql("PRAGMA quick_check")]
        except DatabaseError as exc:
            found = [str(exc.orig if exc.orig else exc)]
    return [] if found == ["ok"] else found


# --- the decision log's chain -----------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head_id: int | None
    head_hash: str
    broken_at: int | None = None
    problem: str = ""
    held: dict[str, int] = field(default_factory=dict)  # data rows, when the log is empty
    anchored: str | None = None  # the hash at the anchor's position, read with the chain

    @property
    def intact(self) -> bool:
        return self.broken_at is None


# What an empty log cannot explain: rows that only a logged decision creates.
DECISION_ROWS = (
    ("crime", "crimes"),
    ("officer", "officers"),
    ("allocation", "allocation intervals"),
    ("policy_setting", "policy settings"),
)


def _held(conn: Connection) -> dict[str, int]:
    found = {}
    for table, noun in DECISION_ROWS:
        n = int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
        if n:
            found[noun] = n
    return found


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


def verify_log(store: Store, *, batch: int = 5000, anchor_at: int | None = None) -> ChainReport:
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
    one kept elsewhere to catch that (``Anchor``; ``anchor_at``: the position whose hash
    to read in the same snapshot). Every entry removed leaves no gap either: an empty
    log on a store that holds crimes, officers, intervals or policy settings is broken
    at entry 1.
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
        anchored = None
        if anchor_at:
            found = conn.execute(
                select(log_table.c.hash).where(log_table.c.id == anchor_at)
            ).scalar()
            anchored = None if found is None else str(found)
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
            if (
                following is not None
                and following["prev_hash"] == prev_hash
                and row["prev_hash"] == following["hash"]
                and int(following["id"]) == entry_id + 1
            ):
                return broken(
                    entry_id,
                    f"entries {entry_id} and {entry_id + 1} were swapped (entry {entry_id} "
                    f"holds what was entry {entry_id + 1} and the other way round)",
                    count,
                )
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
        held = _held(conn) if count == 0 else {}
    if held:
        listed = ", ".join(f"{n:,} {noun}" for noun, n in held.items())
        return ChainReport(
            0,
            None,
            GENESIS,
            broken_at=1,
            problem=f"it is empty, but the store holds {listed}, so its entries were removed",
            held=held,
        )
    return ChainReport(count, prev_id or None, prev_hash, anchored=anchored)


# --- the anchor: the chain's head kept outside the store ------------------------------------


@dataclass(frozen=True)
class Anchor:
    """The log's head (entry count and hash) written to a file after a verify, so the next
    verify can tell that the log still holds that entry at that position: a cut tail or
    a rewritten chain, which an edit of the log alone can make self-consistent, is
    caught against a file the store cannot change."""

    entries: int
    head_hash: str
    written_at: str = ""

    @classmethod
    def read(cls, path: Path) -> Anchor:
        import json

        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            entries, head_hash = int(data["entries"]), str(data["head_hash"])
        except (OSError, ValueError, KeyError, TypeError):
            raise InputError(
                f"{path} is not a caseload anchor file (written by 'caseload verify --anchor')."
            ) from None
        if entries < 0 or len(head_hash) != len(GENESIS):
            raise InputError(f"{path} is not a caseload anchor file.")
        return cls(entries, head_hash, str(data.get("written_at", "")))

    def write(self, path: Path) -> None:
        """Write the file whole or not at all (a temporary file renamed over it)."""
        import json

        body = {"entries": self.entries, "head_hash": self.head_hash}
        body["written_at"] = self.written_at
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        try:
            partial.write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")
            os.replace(partial, path)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise InputError(f"Cannot write the anchor file {path}: {exc.strerror}.") from None

    def contradiction(self, report: ChainReport) -> tuple[int, str] | None:
        """Where and how an intact chain no longer holds this anchor's head, or None."""
        when = f" on {self.written_at}" if self.written_at else ""
        if report.entries < self.entries:
            first = report.entries + 1
            gone = f"entry {first}" if first == self.entries else f"entries {first}-{self.entries}"
            return first, (
                f"it has {report.entries} entries but held {self.entries} when the anchor was "
                f"written{when}: {gone} were removed from its end"
            )
        if self.entries and report.anchored != self.head_hash:
            return self.entries, (
                f"entry {self.entries} no longer has the hash the anchor recorded{when}: "
                "the log was rewritten up to it"
            )
        return None


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
