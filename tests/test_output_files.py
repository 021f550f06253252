"""Where ``export`` and ``backup`` write: a new or regular file atomically (and an
existing one only with ``--overwrite``), a device, FIFO or terminal straight, anything
else refused; default export names never collide; nothing that is part of the store
is ever a backup target; partial files say what they are and stale ones are removed.

Devices are only ever those of a private mount namespace (a tmpfs over /dev with its
own nodes, see ``in_private_dev``): no test touches the machine's real /dev.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import Runner, caseload_exe
from tests.force import Force, at, days_ago, refs

HEADER = "reference,crime_type,reported_on,team"


@pytest.fixture
def force(store: Runner, db_url: str) -> Iterator[Force]:
    built = Force(db_url)
    yield built
    built.close()


@pytest.fixture
def filled(store: Runner, force: Force) -> Runner:
    force.officer("AB1")
    force.crimes(refs("CR", 3), reported=days_ago(10))
    force.assign(refs("CR", 2), "AB1", at(days_ago(8)))
    return store


def listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """A folder for what the test writes (the SQLite store sits in tmp_path itself)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


# --- names that are not files ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["", " ", "   "])
def test_blank_names_are_refused(
    filled: Runner, out: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.chdir(out)
    result = filled("export", "crimes", "-o", name)
    assert result.exit_code == 2
    assert result.stderr == f"Error: --output needs a file name; '{name}' is blank.\n"
    assert listing(out) == {}


@pytest.mark.sqlite_only
@pytest.mark.parametrize("name", ["", " "])
def test_blank_backup_names_are_refused(
    filled: Runner, out: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.chdir(out)
    result = filled("backup", name)
    assert result.exit_code == 2
    assert result.stderr == f"Error: FILE needs a file name; '{name}' is blank.\n"
    assert listing(out) == {}


def test_a_folder_or_a_socket_is_refused(filled: Runner, tmp_path: Path) -> None:
    sock_path = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(sock_path))
    try:
        for target, kind in ((tmp_path, "a folder"), (sock_path, "a socket")):
            result = filled("export", "crimes", "-o", str(target), "--overwrite")
            assert result.exit_code == 2, result.output
            assert result.stderr == f"Error: {target} is {kind}; give a file name.\n"
        assert stat.S_ISSOCK(sock_path.stat().st_mode)
    finally:
        server.close()


# --- regular files --------------------------------------------------------------------------


def test_an_existing_file_is_replaced_only_with_overwrite(filled: Runner, out: Path) -> None:
    target = out / "crimes.csv"
    target.write_text("keep me\n", encoding="utf-8")
    result = filled("export", "crimes", "-o", str(target))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {target} already exists; give --overwrite to replace it, or another name.\n"
    )
    assert target.read_text(encoding="utf-8") == "keep me\n"
    result = filled("export", "crimes", "-o", str(target), "--overwrite")
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8").startswith(HEADER)
    assert sorted(p.name for p in out.iterdir()) == ["crimes.csv"]


def test_overwriting_through_a_symlink_keeps_the_link(filled: Runner, tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    result = filled("export", "crimes", "-o", str(link), "--overwrite")
    assert result.exit_code == 0, result.output
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8").startswith(HEADER)


def test_default_names_never_collide_and_sort_by_time(
    filled: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    # Take this second's name and the next few: the export must not replace any of them.
    now = datetime.now()
    taken = {
        f"caseload-crimes-{now + timedelta(seconds=s):%Y%m%d-%H%M%S}.csv" for s in range(-1, 60)
    }
    for name in taken:
        (tmp_path / name).write_text("someone else's\n", encoding="utf-8")
    made = []
    for _ in range(3):
        result = filled("export", "crimes")
        assert result.exit_code == 0, result.output
        made.append(Path(result.stdout.strip()).name)
    assert len(set(made)) == 3
    assert all(re.fullmatch(r"caseload-crimes-\d{8}-\d{6}_\d{2}\.csv", n) for n in made), made
    assert sorted(made) == made  # in the order they were made
    for name in taken:
        assert (tmp_path / name).read_text(encoding="utf-8") == "someone else's\n"
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names.index(made[0]) > names.index(sorted(taken)[0])  # _02 sorts after its second


# --- FIFOs ----------------------------------------------------------------------------------


def _read_fifo(path: Path, into: list[bytes]) -> threading.Thread:
    def reader() -> None:
        with open(path, "rb") as fifo:
            into.append(fifo.read())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    return thread


def test_export_to_a_fifo_is_written_straight(filled: Runner, out: Path) -> None:
    fifo = out / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    thread = _read_fifo(fifo, got)
    result = filled("export", "crimes", "-o", str(fifo))
    thread.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert got and got[0].decode().startswith(HEADER)
    assert got[0].decode().count("\n") == 4
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still the pipe, not a file renamed over it
    assert sorted(p.name for p in out.iterdir()) == ["pipe"]


@pytest.mark.sqlite_only
def test_backup_to_a_fifo_streams_a_sound_copy(filled: Runner, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    thread = _read_fifo(fifo, got)
    result = filled("backup", str(fifo))
    thread.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    copy = tmp_path / "copy.db"
    copy.write_bytes(got[0])
    with sqlite3.connect(copy) as conn:
        assert conn.execute("SELECT count(*) FROM crime").fetchone()[0] == 3
    # the copy was made beside the store and is gone
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


# --- the store's own files ------------------------------------------------------------------


@pytest.mark.sqlite_only
def test_backup_onto_any_file_of_the_store_is_refused(
    filled: Runner, db_url: str, tmp_path: Path
) -> None:
    store = Path(db_url)
    holder = sqlite3.connect(store)  # keeps the -wal and -shm files in being
    try:
        holder.execute("SELECT count(*) FROM crime").fetchone()
        wal, shm = Path(f"{db_url}-wal"), Path(f"{db_url}-shm")
        assert wal.exists() and shm.exists()
        link = tmp_path / "alias.db"
        link.symlink_to(store)
        hard = tmp_path / "wal-by-another-name"
        os.link(wal, hard)
        before = {p: p.read_bytes() for p in (store, wal, shm)}
        for target in (store, wal, shm, Path(f"{db_url}-journal"), link, hard):
            for extra in ((), ("--overwrite",)):
                result = filled("backup", str(target), *extra)
                assert result.exit_code == 2, (target, result.output)
                assert "is part of the store" in result.stderr, result.stderr
        assert {p: p.read_bytes() for p in (store, wal, shm)} == before
        assert not Path(f"{db_url}-journal").exists()
    finally:
        holder.close()
    assert filled("db", "check").exit_code == 0


# --- partial files --------------------------------------------------------------------------

_HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.read()
"""


@pytest.mark.sqlite_only
def test_stale_partial_files_of_ours_are_removed_and_others_kept(
    filled: Runner, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    stale = out / ".nightly.db.caseload-backup-4194000.part"  # its writer was killed
    stale.write_bytes(b"half a copy")
    stale_export = out / ".caseload-crimes-20260101-000000.csv.caseload-export-4194001.part"
    stale_export.write_bytes(b"half an export")
    foreign = out / ".nightly.db.12345.part"  # not our naming: never touched
    foreign.write_bytes(b"someone else's")
    busy = out / ".other.db.caseload-backup-4194002.part"  # being written right now
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(busy)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        result = filled("backup", str(out / "nightly.db"))
        assert result.exit_code == 0, result.output
        assert f"Removed {stale.name}, a partial file left by a caseload write that was killed" in (
            result.stderr
        )
        assert f"Removed {stale_export.name}" in result.stderr
        assert not stale.exists() and not stale_export.exists()
        assert foreign.read_bytes() == b"someone else's"
        assert busy.exists()
    finally:
        holder.communicate("", timeout=30)
    assert (out / "nightly.db").exists()


# --- devices, in a private mount namespace --------------------------------------------------

_PRIVATE_DEV = """
set -e
mount -t tmpfs -o mode=755 tmpfs /dev
mknod -m 666 /dev/null c 1 3
mknod -m 666 /dev/full c 1 7
mknod -m 600 /dev/loop-test b 7 250
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/1 /dev/stdout
mkdir /dev/pts
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
ln -s pts/ptmx /dev/ptmx
exec "$@"
"""

_DRIVER = textwrap.dedent(
    """
    import json, os, pty, stat, subprocess, sys
    exe = json.loads(sys.argv[1])
    sqlite = sys.argv[2] == "sqlite"
    def run(*args, **kw):
        done = subprocess.run([*exe, *args], capture_output=True, **kw)
        return {"rc": done.returncode, "out": done.stdout.decode("utf-8", "replace"),
                "err": done.stderr.decode("utf-8", "replace")}
    report = {}
    report["null"] = run("export", "crimes", "-o", "/dev/null")
    report["null_overwrite"] = run("export", "crimes", "-o", "/dev/null", "--overwrite")
    report["full"] = run("export", "crimes", "-o", "/dev/full")
    report["stdout"] = run("export", "crimes", "-o", "/dev/stdout")
    report["block"] = run("export", "crimes", "-o", "/dev/loop-test", "--overwrite")
    main, child = pty.openpty()
    done = subprocess.run([*exe, "export", "crimes", "-o", os.ttyname(child)],
                          capture_output=True, timeout=120)
    os.set_blocking(main, False)
    try:
        shown = os.read(main, 65536).decode("utf-8", "replace")
    except BlockingIOError:
        shown = ""
    report["tty"] = {"rc": done.returncode, "shown": shown, "err": done.stderr.decode()}
    if sqlite:
        report["backup_null"] = run("backup", "/dev/null")
        report["backup_full"] = run("backup", "/dev/full")
        done = subprocess.run([*exe, "backup", "/dev/stdout"], capture_output=True)
        report["backup_stdout"] = {"rc": done.returncode, "head": done.stdout[:16].hex()}
    report["dev"] = {name: stat.filemode(os.lstat("/dev/" + name).st_mode)[0]
                     for name in sorted(os.listdir("/dev"))}
    print(json.dumps(report))
    """
)


def in_private_dev(*command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in a private mount namespace whose /dev is a fresh tmpfs."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare(1) for a private mount namespace with its own /dev")
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "true"], capture_output=True
    )
    if probe.returncode != 0:
        pytest.skip(f"cannot make a private mount namespace here: {probe.stderr.strip()!r}")
    return subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", _PRIVATE_DEV, "sh",
         *command],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip


def test_devices_are_written_straight_and_never_replaced(filled: Runner, db_url: str) -> None:
    backend = "postgresql" if "://" in db_url else "sqlite"
    env = {**os.environ, "CASELOAD_DB": db_url}
    done = in_private_dev(sys.executable, "-c", _DRIVER, json.dumps(caseload_exe()), backend,
                          env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["null"]["rc"] == 0, report["null"]
    assert report["null_overwrite"]["rc"] == 0
    assert report["full"]["rc"] == 2
    assert report["full"]["err"] == "Error: Cannot write /dev/full: No space left on device.\n"
    assert report["stdout"]["rc"] == 0
    assert report["stdout"]["out"].startswith(HEADER)
    assert report["block"]["rc"] == 2
    assert report["block"]["err"] == (
        "Error: /dev/loop-test is a block device; give a file name.\n"
    )
    assert report["tty"]["rc"] == 0, report["tty"]
    assert HEADER in report["tty"]["shown"]
    if backend == "sqlite":
        assert report["backup_null"]["rc"] == 0, report["backup_null"]
        assert report["backup_full"]["rc"] == 2
        assert report["backup_full"]["err"] == (
            "Error: Cannot write /dev/full: No space left on device.\n"
        )
        assert report["backup_stdout"]["rc"] == 0
        assert bytes.fromhex(report["backup_stdout"]["head"]) == b"SQLite format 3\x00"
    # Every node is still what it was, and nothing was left beside them.
    assert report["dev"] == {
        "fd": "l", "full": "c", "loop-test": "b", "null": "c", "ptmx": "l", "pts": "d",
        "stdout": "l",
    }  # fmt: skip
