"""An analyst exports CSV snapshots: crimes, workload, findings and history.

Files land under their final name only when complete; formula-like cells are
neutralised and read back by ``caseload import``; ``--excel`` adds a BOM.
"""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from caseload.cli.app import app
from caseload.domain.audit import FINDING_COLUMNS
from caseload.store.crimes import CRIME_COLUMNS
from caseload.store.export import HISTORY_COLUMNS
from caseload.store.workload import WORKLOAD_COLUMNS
from tests.helpers.cli import Runner
from tests.helpers.force import Force, at, days_ago, refs

TRICKY = {
    '=HYPERLINK("http://x")': "formula",
    "+44 20 7946 0000": "plus",
    "-2+3": "minus",
    "@SUM(A1)": "at",
    "'=already quoted": "quote",
}


@pytest.fixture
def force(store: Runner, db_url: str) -> Iterator[Force]:
    built = Force(db_url)
    yield built
    built.close()


@pytest.fixture
def filled(store: Runner, force: Force) -> Runner:
    force.officer("AB1", name="Zoë Brontë")
    force.officer("AB2", name="Sam Patel")
    force.crimes(refs("CR", 3), reported=days_ago(10))
    force.crime("=CMD|calc", reported=days_ago(9), crime_type="-Criminal damage")
    force.crime("CLOSED", reported=days_ago(9), crime_type="@Shoplifting")
    force.assign(refs("CR", 2), "AB1", at(days_ago(8)))
    force.assign("=CMD|calc", "AB2", at(days_ago(7)))
    force.assign("CR001", "AB2", at(days_ago(5)))
    force.finalise("CLOSED", days_ago(2))
    return store


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_default_file_name_in_the_current_folder(
    filled: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)
    result = filled("export", "crimes")
    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip())
    assert path.parent == out
    assert re.fullmatch(r"caseload-crimes-\d{8}-\d{6}\.csv", path.name)
    assert "Exported 5 rows of crimes" in result.stderr
    rows = read_csv(path.read_text(encoding="utf-8"))
    assert list(rows[0]) == list(CRIME_COLUMNS)
    assert [r["reference"] for r in rows][:3] == refs("CR", 3)
    assert {r["reference"]: r["holder"] for r in rows}["CR001"] == "AB2"
    assert [p.name for p in out.iterdir()] == [path.name]  # no temporary file left


def test_every_kind_to_standard_output(filled: Runner) -> None:
    expected = {
        "crimes": CRIME_COLUMNS,
        "workload": WORKLOAD_COLUMNS,
        "findings": FINDING_COLUMNS,
        "history": HISTORY_COLUMNS,
    }
    for what, columns in expected.items():
        result = filled("export", what, "-o", "-")
        assert result.exit_code == 0, result.output
        rows = read_csv(result.stdout)
        assert rows, what
        assert list(rows[0]) == list(columns), what
    history = read_csv(filled("export", "history", "-o", "-").stdout)
    assert [(r["reference"], r["holder"]) for r in history if r["reference"] == "CR001"] == [
        ("CR001", "AB1"),
        ("CR001", "AB2"),
    ]
    workload = {r["collar"]: r for r in read_csv(filled("export", "workload", "-o", "-").stdout)}
    assert workload["AB1"]["live"] == "1"
    assert workload["AB2"]["live"] == "2"


def test_formula_cells_are_neutralised(filled: Runner) -> None:
    text = filled("export", "crimes", "-o", "-").stdout
    assert "'=CMD|calc" in text
    assert "'-Criminal damage" in text
    assert "'@Shoplifting" in text
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            assert not cell or cell[0] not in "=+-@\t\r", cell


def test_round_trip_through_import(filled: Runner, force: Force, tmp_path: Path) -> None:
    for value in TRICKY:
        force.crime(value, reported=days_ago(3), crime_type=value)
    crimes_file = tmp_path / "crimes.csv"
    officers_file = tmp_path / "officers.csv"
    assert filled("export", "crimes", "-o", str(crimes_file)).exit_code == 0
    officers = filled("officer", "list", "-f", "csv")
    officers_file.write_text(officers.stdout, encoding="utf-8")

    runner = CliRunner()
    other = str(tmp_path / "other.db")

    def again(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, ["--db", other, *args])

    assert again("init").exit_code == 0
    result = again("import", "officers", str(officers_file))
    assert result.exit_code == 0, result.output
    result = again("import", "crimes", str(crimes_file), "--override", "round trip")
    assert result.exit_code == 0, result.output
    first = read_csv(crimes_file.read_text(encoding="utf-8"))
    second = read_csv(again("export", "crimes", "-o", "-").stdout)
    assert second == first
    assert "''=already quoted" in {r["reference"] for r in first}  # neutralised once more
    import json

    def stored(result) -> dict[str, str]:  # type: ignore[no-untyped-def]
        return {r["reference"]: r["crime_type"] for r in json.loads(result.stdout)}

    copied = stored(again("crime", "list", "-f", "json"))
    assert copied == stored(filled("crime", "list", "-f", "json"))
    assert {ref: copied[ref] for ref in TRICKY} == {value: value for value in TRICKY}


def test_excel_adds_a_byte_order_mark(filled: Runner, tmp_path: Path) -> None:
    target = tmp_path / "workload.csv"
    assert filled("export", "workload", "-o", str(target), "--excel").exit_code == 0
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "Zoë Brontë" in raw.decode("utf-8-sig")
    plain = tmp_path / "plain.csv"
    assert filled("export", "workload", "-o", str(plain)).exit_code == 0
    assert not plain.read_bytes().startswith(b"\xef\xbb\xbf")


def test_as_of_gives_that_days_holder_and_state(filled: Runner) -> None:
    def crimes(*args: str) -> dict[str, dict[str, str]]:
        result = filled("export", "crimes", "-o", "-", *args)
        assert result.exit_code == 0, result.output
        return {r["reference"]: r for r in read_csv(result.stdout)}

    six = crimes("--as-of", days_ago(6).isoformat())
    assert six["CR001"]["holder"] == "AB1"
    assert six["CLOSED"]["finalised_on"] == ""
    now = crimes()
    assert now["CR001"]["holder"] == "AB2"
    assert now["CLOSED"]["finalised_on"] == days_ago(2).isoformat()
    assert now["CLOSED"]["outcome"] == "18"
    assert "=CMD|calc" not in crimes("--as-of", days_ago(10).isoformat())  # reported later
    history = read_csv(
        filled("export", "history", "-o", "-", "--as-of", days_ago(6).isoformat()).stdout
    )
    cr001 = [r for r in history if r["reference"] == "CR001"]
    assert [(r["holder"], r["to"]) for r in cr001] == [("AB1", "")]  # the later end not yet known


def test_team_filter_and_bad_usage(filled: Runner, force: Force, tmp_path: Path) -> None:
    force.crime("NORTH", reported=days_ago(1), team="North CID")
    rows = read_csv(filled("export", "crimes", "-o", "-", "--team", "North CID").stdout)
    assert [r["reference"] for r in rows] == ["NORTH"]
    assert filled("export", "crimes", "--team", "Nowhere").exit_code == 2
    assert filled("export", "suspects").exit_code == 2
    missing = filled("export", "crimes", "-o", str(tmp_path / "no" / "such" / "f.csv"))
    assert missing.exit_code == 2
    assert "no folder" in missing.stderr
    assert filled("export", "crimes", "-o", str(tmp_path)).exit_code == 2


def test_an_error_mid_stream_leaves_no_file(
    filled: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from caseload.store import executor, export

    target = tmp_path / "crimes.csv"
    target.write_text("the previous export\n", encoding="utf-8")
    real = export.stream

    def failing(conn, query):  # type: ignore[no-untyped-def]
        for n, row in enumerate(real(conn, query)):
            if n == 2:
                raise KeyboardInterrupt
            yield row

    real_fetch = export._fetch

    def failing_fetch(conn, sql, params):  # type: ignore[no-untyped-def]
        # the raw cursor paths (SQLite): one row per batch, interrupted at the third
        inner = real_fetch(conn, sql, params)
        try:
            for n, row in enumerate(row for batch in inner for row in batch):
                if n == 2:
                    raise KeyboardInterrupt
                yield [row]
        finally:
            inner.close()  # as the real generator is closed: its cursor with it

    def failing_quick(cursor):  # type: ignore[no-untyped-def]
        # the quick executor's cursor reads (store.executor): the same, one row per batch
        for n, row in enumerate(row for batch in real_quick(cursor) for row in batch):
            if n == 2:
                raise KeyboardInterrupt
            yield [row]

    real_quick = executor._fetch
    monkeypatch.setattr(export, "stream", failing)
    monkeypatch.setattr(export, "_fetch", failing_fetch)
    monkeypatch.setattr(executor, "_fetch", failing_quick)
    result = filled("export", "crimes", "-o", str(target), "--overwrite")
    assert result.exit_code == 130
    assert "Interrupted; no file was written (the partial file was removed)." in result.stderr
    assert target.read_text(encoding="utf-8") == "the previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".crimes")) == []


_SLOW_EXPORT = """
import sys, time
from caseload.store import export
real = export.stream
def slow(conn, query):
    for row in real(conn, query):
        time.sleep(0.2)
        yield row
export.stream = slow
real_fetch = export._fetch
def slow_fetch(conn, sql, params):
    for batch in real_fetch(conn, sql, params):
        for row in batch:
            time.sleep(0.2)
            yield [row]
export._fetch = slow_fetch
from caseload.store import executor
real_quick = executor._fetch
def slow_quick(cursor):
    for batch in real_quick(cursor):
        for row in batch:
            time.sleep(0.2)
            yield [row]
executor._fetch = slow_quick
from caseload.cli.app import app
app(["--db", sys.argv[1], "export", "crimes", "-o", sys.argv[2]])
"""


@pytest.mark.slow
@pytest.mark.sqlite_only
def test_a_killed_export_never_leaves_a_half_file(
    filled: Runner, db_url: str, tmp_path: Path
) -> None:
    target = tmp_path / "killed.csv"
    process = subprocess.Popen(
        [sys.executable, "-c", _SLOW_EXPORT, db_url, str(target)],
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        deadline = time.monotonic() + 60
        while not any(p.suffix == ".part" for p in tmp_path.iterdir()):
            assert time.monotonic() < deadline, "the export never started"
            assert process.poll() is None, "the export ended too early"
            time.sleep(0.05)
        time.sleep(0.3)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert not target.exists()
    assert date.today()  # the partial file is only ever under a hidden temporary name
    left = [p.name for p in tmp_path.iterdir() if p.suffix == ".part"]
    assert left == [f".killed.csv.caseload-export-{process.pid}.part"]
    # The next write into that folder removes it: its writer is gone (its lock is free).
    again = filled("export", "crimes", "-o", str(tmp_path / "again.csv"))
    assert again.exit_code == 0, again.output
    assert f"Removed {left[0]}, a partial file left by a caseload write that was killed" in (
        again.stderr
    )
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".part"]


def test_rows_joined_in_sql_match_the_cell_by_cell_writer(
    filled: Runner, force: Force, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite a crimes export takes each row as one string joined by SQLite and
    passes whole batches through; a batch with a cell that needs quoting or
    neutralising, or holds the separator itself, goes cell by cell. Both must write
    exactly what the plain cursor path writes, row for row."""
    from caseload.store import export

    awkward = [
        "a, b",
        'say "hi"',
        "two\nlines",
        "unit\x1fseparator",
        "record\x1eseparator",
        "''=quoted twice",
        "'plain apostrophe",
        "tab\tinside",
    ]
    for n, value in enumerate(awkward):
        force.crime(f"AW{n}", reported=days_ago(3), crime_type=value)
    from caseload.store import executor

    quick = filled("export", "crimes", "-o", "-").stdout  # the quick executor's lines
    monkeypatch.setattr(executor, "RAW_BATCH", 1)  # each row alone: plain rows pass through
    quick_one_by_one = filled("export", "crimes", "-o", "-").stdout
    monkeypatch.setenv("CASELOAD_DIRECT", "0")  # through SQLAlchemy: store.export's lines
    joined = filled("export", "crimes", "-o", "-").stdout
    monkeypatch.setattr(export, "RAW_BATCH", 1)
    one_by_one = filled("export", "crimes", "-o", "-").stdout
    monkeypatch.setattr(export, "crime_lines", lambda conn, query: None)
    cell_by_cell = filled("export", "crimes", "-o", "-").stdout
    assert quick == quick_one_by_one == joined == one_by_one == cell_by_cell
    types = {row["reference"]: row["crime_type"] for row in read_csv(joined)}
    assert [types[f"AW{n}"] for n in range(len(awkward))] == [
        "a, b",
        'say "hi"',
        "two\nlines",
        "unit\x1fseparator",
        "record\x1eseparator",
        "'''=quoted twice",  # neutralised, so that import gives back the stored value
        "'plain apostrophe",
        "tab\tinside",
    ]
    assert "'=CMD|calc" in types  # a reference is neutralised like any other cell
