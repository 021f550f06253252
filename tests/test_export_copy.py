"""On PostgreSQL the server writes an export's CSV itself (``COPY (query) TO STDOUT``, each
cell rendered in SQL as the writer renders it): the file must be byte for byte what the
row-by-row writer writes there, and what SQLite's export writes for the same store.

One store of hostile values (formula characters first, quotes, commas, line breaks, a lone
CR, the neutraliser before and without a formula, empty text, Unicode, timestamps with
fractions of a second) is built twice, on SQLite and on PostgreSQL, and every export kind
is compared: to standard output (LF line ends), to a file (CRLF), and with ``--excel``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from tests.helpers.cli import invoke
from tests.helpers.force import add_crime, add_officer
from tests.helpers.store import pg_schema_url, writing

HOSTILE = [
    "=1+1",
    "+44 20 7946 0000",
    "-2+3",
    "@SUM(A1)",
    "\tTab first",
    "\rCR first",
    "'=already quoted",
    "''=quoted twice",
    "'plain apostrophe",
    "'",
    "''",
    "a, b",
    'say "hi"',
    '"',
    "two\nlines",
    "lone\rcr",
    "crlf\r\ninside",
    " leading space",
    "trailing space ",
    "",
    "Zoë Brontë",
    "\U0001f46e officer",
    "\u2028line separator",
    "\x1b[31mred\x1b[0m",
    "back\\slash",
    "\\.",
    "NULL",
    "x" * 300,
]
TEAM = '=Team, "North"\nCID'
DAY = date(2026, 3, 2)


def build(db_url: str) -> None:
    """The same hostile store on either database, every write at an explicit time."""
    result = invoke(["--db", db_url, "init"])
    assert result.exit_code == 0, result.output
    from caseload.store.allocation import allocate, unassign

    with writing(db_url) as conn:
        for n, value in enumerate(HOSTILE[:10]):
            add_officer(
                conn, f"AB{n}", name=value or "x", rank=value[:20], team=TEAM, capacity=n or None
            )
        add_officer(conn, "PLAIN1", name="Sam Patel", team="Lewisham CID")
        for n, value in enumerate(HOSTILE):
            # crimes export: a hostile reference first (in record order, never sorted)
            add_crime(
                conn,
                value[:64] or f"empty {n}",
                team=TEAM if n % 2 else "Lewisham CID",
                reported_on=DAY,
                level="PIP1" if n % 3 else None,
                actor=value[:100] or "setup",
                at=datetime(2026, 3, 2, 8),
                crime_type=value[:100],
                enhanced=bool(n % 2),
            )
            # history sorts by reference: a prefix that sorts alike under any collation
            reference = f"H{n:02d}<{value[:50]}>"
            add_crime(
                conn,
                reference,
                team=TEAM,
                reported_on=DAY,
                level="PIP1",
                actor="setup",
                at=datetime(2026, 3, 2, 8),
                crime_type="Burglary",
            )
            first = datetime(2026, 3, 3, 9, 15, 7, 999_999)  # a fraction cut off, never rounded
            allocate(
                conn, reference, f"AB{n % 10}", actor=value[:100] or "a", at=first,
                reason=value or "r",
                override=value or None,
            )  # fmt: skip
            if n % 2:
                allocate(
                    conn, reference, "PLAIN1", actor="setup", at=datetime(2026, 3, 4, 10, 0, 1),
                    reason=value or "r", override="test",
                )  # fmt: skip
            if n % 3 == 0:
                unassign(conn, reference, actor="setup", at=datetime(2026, 3, 5, 23, 59, 59, 5),
                         reason=value or "r")  # fmt: skip


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Built once for the module (before the per-test isolation, so isolated here too)."""
    folder = tmp_path_factory.mktemp("copy")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(folder))
        patch.setenv("XDG_CONFIG_HOME", str(folder / ".config"))
        patch.delenv("CASELOAD_DB", raising=False)
        patch.setenv("CASELOAD_ACTOR", "test-supervisor")
        for postgresql in pg_schema_url():
            build(str(folder / "caseload.db"))
            build(postgresql)
            yield {"sqlite": str(folder / "caseload.db"), "postgresql": postgresql}


KINDS = [
    ["crimes"],
    ["crimes", "--as-of", "2026-03-04"],
    ["history"],
    ["history", "--as-of", "2026-03-04"],
    ["workload"],
    ["workload", "--team", TEAM],
]


def export(db_url: str, args: list[str], tmp_path: Path, how: str) -> bytes:
    """One export's bytes: to standard output, to a file, or to a file with --excel."""
    if how == "stdout":
        result = invoke(["--db", db_url, "export", *args, "-o", "-"])
        assert result.exit_code == 0, result.output
        return result.stdout_bytes
    target = tmp_path / f"{how}.csv"
    extra = ["--excel"] if how == "excel" else []
    result = invoke(["--db", db_url, "export", *args, "-o", str(target), "--overwrite", *extra])
    assert result.exit_code == 0, result.output
    return target.read_bytes()


def without_login(data: bytes, login: str) -> bytes:
    """The export with its ``login`` cells (the last column of history) as LOGIN: PostgreSQL
    records the database login, SQLite the operating-system user. (Not parsed: a lone CR
    in a cell is written unquoted to standard output, as it always was, which a CSV reader
    takes for a line end.)"""
    import re

    return re.sub(rb"," + re.escape(login.encode()) + rb"(\r?\n)", rb",LOGIN\1", data)


@pytest.mark.parametrize("args", KINDS, ids=[" ".join(kind) for kind in KINDS])
@pytest.mark.parametrize("how", ["stdout", "file", "excel"])
def test_postgresql_copy_writes_what_the_row_writer_and_sqlite_write(
    stores: dict[str, str],
    args: list[str],
    how: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from caseload.store import export as queries

    copied = export(stores["postgresql"], args, tmp_path, how)
    with monkeypatch.context() as patch:
        patch.setattr(queries, "copy_rows", lambda conn, query, columns: None)
        row_by_row = export(stores["postgresql"], args, tmp_path, how)
    on_sqlite = export(stores["sqlite"], args, tmp_path, how)

    assert copied == row_by_row
    if args[0] == "history":
        from caseload.store.identity import os_login

        pg_login = stores["postgresql"].split("://", 1)[1].split("@", 1)[0]
        assert without_login(copied, pg_login) == without_login(on_sqlite, os_login())
    else:
        assert copied == on_sqlite
    rows = copied.decode("utf-8-sig").split("\r\n" if how != "stdout" else "\n")
    assert len(rows) > 2
    assert copied.startswith(b"\xef\xbb\xbf") == (how == "excel")
    if how != "stdout":  # a file: every row ends CRLF, even one whose cell holds a lone CR
        csv_rows = list(csv.reader(io.StringIO(copied.decode("utf-8-sig"), newline="")))
        assert {len(row) for row in csv_rows} == {len(csv_rows[0])}
        for row in csv_rows[1:]:  # no cell a spreadsheet would run
            assert all(not cell or cell[0] not in "=+-@\t\r" for cell in row), row


def test_the_copy_path_is_the_one_taken_on_postgresql(
    stores: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each export kind but findings goes through COPY there (a quoted line back through
    the csv module), not through rows read one by one."""
    from caseload.store import export as queries

    def refused(conn, query):  # type: ignore[no-untyped-def]
        raise AssertionError("read row by row")

    monkeypatch.setattr(queries, "stream", refused)
    for args in KINDS:
        result = invoke(["--db", stores["postgresql"], "export", *args, "-o", "-"])
        assert result.exit_code == 0, (args, result.output)
        assert len(result.stdout.splitlines()) > 2, args
