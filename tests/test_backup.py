"""``caseload backup FILE``: a consistent copy of a SQLite store, even while others write;
on PostgreSQL it points to pg_dump."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest


def _add_officer(run, collar: str):  # type: ignore[no-untyped-def]
    return run("officer", "add", collar, "--name", f"Officer {collar}", "--team", "Lewisham CID",
               "-a", "PIP2", "--since", "2020-01-01")  # fmt: skip


@pytest.mark.sqlite_only
def test_backup_copies_the_store_privately(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert store("team", "add", "Lewisham CID").exit_code == 0
    for n in range(3):
        assert _add_officer(store, f"AB{n}").exit_code == 0
    target = tmp_path / "copy.db"
    result = store("backup", str(target))
    assert result.exit_code == 0, result.output
    assert f"to {target}" in result.stderr
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []
    from typer.testing import CliRunner

    from caseload.cli.app import app

    runner = CliRunner()
    listed = runner.invoke(app, ["--db", str(target), "officer", "list", "--format", "csv"])
    assert listed.exit_code == 0, listed.output
    assert [line.split(",")[0] for line in listed.stdout.splitlines()[1:]] == ["AB0", "AB1", "AB2"]
    assert runner.invoke(app, ["--db", str(target), "verify"]).exit_code == 0
    assert runner.invoke(app, ["--db", str(target), "db", "check"]).exit_code == 0


@pytest.mark.sqlite_only
def test_an_existing_file_is_not_overwritten_unless_asked(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    result = store("backup", str(target))
    assert result.exit_code == 2
    assert "already exists" in result.stderr
    assert target.read_text() == "keep me"
    result = store("backup", str(target), "--overwrite")
    assert result.exit_code == 0, result.output
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone() is not None


@pytest.mark.sqlite_only
def test_backup_to_a_missing_folder_or_onto_the_store_exits_2(store, tmp_path, db_url) -> None:  # type: ignore[no-untyped-def]
    result = store("backup", str(tmp_path / "no" / "such" / "folder.db"))
    assert result.exit_code == 2
    assert "There is no folder" in result.stderr
    result = store("backup", db_url, "--overwrite")
    assert result.exit_code == 2
    assert "is part of the store" in result.stderr


@pytest.mark.sqlite_only
def test_a_store_from_a_newer_caseload_is_not_backed_up(store, tmp_path, db_url) -> None:  # type: ignore[no-untyped-def]
    with sqlite3.connect(db_url) as raw:
        raw.execute("UPDATE alembic_version SET version_num = '9999'")
    result = store("backup", str(tmp_path / "copy.db"))
    assert result.exit_code == 4
    assert "newer" in result.stderr
    assert not (tmp_path / "copy.db").exists()


def test_postgresql_is_pointed_at_pg_dump(store, db_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = store("backup", str(tmp_path / "copy.db"))
    if "://" in db_url:
        assert result.exit_code == 2
        assert "pg_dump" in result.stderr
        assert not (tmp_path / "copy.db").exists()
    else:
        assert result.exit_code == 0


WRITER = """
import sys, time
from datetime import date, datetime
from pathlib import Path
from caseload.store import officers
from caseload.store.connection import Store, to_url
from caseload.store.reference import ensure_teams, team_ids

store = Store(to_url(sys.argv[1]))
stop = Path(sys.argv[2])
with store.write() as conn:
    ensure_teams(conn, ["Lewisham CID"], team_ids(conn))
n = 0
while not stop.exists():
    with store.write() as conn:
        officers.add(conn, {"collar": f"W{n}", "name": "Writer", "team": "Lewisham CID",
                            "accreditation": "PIP1", "investigator_since": date(2020, 1, 1)},
                     actor="writer", at=datetime.now())
    n += 1
    if n == 1:
        Path(sys.argv[2] + ".started").touch()
print(n)
"""


@pytest.mark.slow
@pytest.mark.sqlite_only
def test_backups_taken_while_others_write_are_consistent(store, tmp_path, db_url) -> None:  # type: ignore[no-untyped-def]
    """Another process keeps adding officers (one officer row + one log entry per
    transaction) while backups are taken: every copy passes db check and verify, and holds
    exactly as many officers as officer-add log entries."""
    import sys
    import time

    from typer.testing import CliRunner

    from caseload.cli.app import app

    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, db_url, str(stop)], stdout=subprocess.PIPE, text=True
    )
    copies = []
    try:
        deadline = time.monotonic() + 60
        while not Path(f"{stop}.started").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        for n in range(5):
            target = tmp_path / f"copy{n}.db"
            result = store("backup", str(target))
            assert result.exit_code == 0, result.output
            copies.append(target)
            time.sleep(0.2)
    finally:
        stop.touch()
        written = int(writer.communicate(timeout=120)[0])
    assert written > 0
    runner = CliRunner()
    sizes = []
    for target in copies:
        with sqlite3.connect(target) as copy:
            assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            officers_n = copy.execute("SELECT count(*) FROM officer").fetchone()[0]
            adds = copy.execute(
                "SELECT count(*) FROM log_entry WHERE kind = 'officer-add'"
            ).fetchone()[0]
        assert officers_n == adds
        sizes.append(officers_n)
        for args in (["verify"], ["db", "check"]):
            checked = runner.invoke(app, ["--db", str(target), *args])
            assert checked.exit_code == 0, (target, checked.output)
    assert sizes == sorted(sizes)
    assert sizes[-1] > sizes[0], "the writer made progress between backups"
    assert sizes[-1] <= written
