"""Crashes: ``import crimes``, ``rebalance --apply`` and ``export`` killed with SIGKILL at
random points leave a store that passes ``caseload db check`` and holds all of the work
or none of it (for export: the file is complete or absent).

Each test first runs the command to completion to time its working window (while it
holds the write lock, or while its temporary file exists), then
repeats it ``REPEATS`` times, killing it at a random point of that window (and a little
past it, so some runs finish first). Kills land while the work is in progress, not
while Python is still starting.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
import uuid
from collections.abc import Callable

import pytest

from tests.helpers.cli import caseload_exe
from tests.helpers.crash import Writing, crimes_csv, officers_csv, subject_url

REPEATS = int(os.environ.get("CASELOAD_CRASH_REPEATS", "20"))
SEED = int(os.environ.get("CASELOAD_CRASH_SEED", "7305"))
TALLY: dict[str, dict[str, int]] = {}
EXPORT_ROWS = 10_000


def run_and_kill(
    args: list[str],
    env: dict[str, str],
    busy: Callable[[], bool],
    kill_after: float | None,
    timeout: float = 240,
) -> tuple[bool, float]:
    """Run the command; once ``busy()`` turns true wait ``kill_after`` seconds and SIGKILL it
    (None: let it finish). Returns (killed, seconds it stayed busy, or until the kill)."""
    proc = subprocess.Popen(
        [*caseload_exe(), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    started = time.monotonic()
    busy_at: float | None = None
    busy_for: float | None = None
    while proc.poll() is None and time.monotonic() - started < timeout:
        now = time.monotonic()
        if busy_at is None:
            if busy():
                busy_at = now
        elif busy_for is None and not busy():
            busy_for = now - busy_at
        if busy_at is not None and kill_after is not None and now - busy_at >= kill_after:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True, now - busy_at
        time.sleep(0.002)
    _, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    end = time.monotonic()
    if busy_for is None:
        busy_for = end - (busy_at or end)
    return False, busy_for


def _tally(name: str, db_url: str, killed: bool, outcome: str) -> None:
    name = f"{name} [{'postgresql' if '://' in db_url else 'sqlite'}]"
    counts = TALLY.setdefault(name, {})
    key = f"{'killed' if killed else 'finished'}-{outcome}"
    counts[key] = counts.get(key, 0) + 1


@pytest.fixture
def env(db_url: str) -> dict[str, str]:
    return {**os.environ, "CASELOAD_ACTOR": "sgt-crash"}


@pytest.mark.slow
def test_import_killed_at_random_is_all_or_nothing(store, db_url, sql, env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(SEED)
    officers = tmp_path / "officers.csv"
    holders = [f"IM{i}" for i in range(8)]
    officers_csv(officers, [(c, "Lewisham CID", "active") for c in holders])
    assert store("import", "officers", str(officers)).exit_code == 0
    n = 1500
    name = f"crash-{uuid.uuid4().hex[:8]}"
    busy = Writing(db_url, name)
    env = {**env, "CASELOAD_DB": subject_url(db_url, name)}
    try:
        window = 0.0
        for rep in range(REPEATS + 1):
            csv = tmp_path / f"crimes{rep}.csv"
            prefix = f"R{rep:02d}"
            crimes_csv(csv, prefix, n, holders, "Lewisham CID")
            log_before = sql("SELECT count(*) FROM log_entry")[0][0]
            kill_after = None if rep == 0 else rng.uniform(0, window * 1.1)
            killed, took = run_and_kill(["import", "crimes", str(csv)], env, busy, kill_after)
            if rep == 0:
                window = took
            crimes = sql("SELECT count(*) FROM crime WHERE reference LIKE :p", p=f"{prefix}/%")[0][
                0
            ]
            allocations = sql(
                "SELECT count(*) FROM allocation a JOIN crime c ON c.id = a.crime_id "
                "WHERE c.reference LIKE :p",
                p=f"{prefix}/%",
            )[0][0]
            log_after = sql("SELECT count(*) FROM log_entry")[0][0]
            assert crimes in (0, n), (rep, crimes)
            assert allocations == crimes, (rep, allocations)
            assert (log_after == log_before) == (crimes == 0), (rep, log_before, log_after)
            assert not killed or crimes in (0, n)
            _tally("import crimes", db_url, killed, "all" if crimes else "none")
            check = store("db", "check")
            assert check.exit_code == 0, (rep, check.output)
    finally:
        busy.close()
    assert store("verify").exit_code == 0
    print(f"import crimes x{n} rows, window {window:.2f}s: {TALLY}")


@pytest.mark.slow
def test_rebalance_apply_killed_at_random_is_all_or_nothing(
    store, db_url, sql, env, tmp_path
) -> None:
    """Each repetition: a new team whose one officer is on leave holding crimes that the
    plan re-homes to two active colleagues; after the kill the leaver holds all of them
    (nothing applied) or none (everything applied)."""
    rng = random.Random(SEED + 1)
    n = 500
    name = f"crash-{uuid.uuid4().hex[:8]}"
    busy = Writing(db_url, name)
    env = {**env, "CASELOAD_DB": subject_url(db_url, name)}
    try:
        window = 0.0
        for rep in range(REPEATS + 1):
            team = f"Team {rep:02d}"
            leaver, a, b = f"LV{rep}", f"AA{rep}", f"BB{rep}"
            officers = tmp_path / f"officers{rep}.csv"
            officers_csv(officers, [(leaver, team, "active"), (a, team, "active"),
                                     (b, team, "active")])  # fmt: skip
            assert store("import", "officers", str(officers)).exit_code == 0
            crimes = tmp_path / f"crimes{rep}.csv"
            crimes_csv(crimes, f"RB{rep:02d}", n, [leaver], team)
            result = store("import", "crimes", str(crimes))
            assert result.exit_code == 0, result.output
            assert (
                store("officer", "status", leaver, "leave", "--reason", "crash test").exit_code == 0
            )
            log_before = sql("SELECT count(*) FROM log_entry")[0][0]
            kill_after = None if rep == 0 else rng.uniform(0, window * 1.1)
            killed, took = run_and_kill(
                ["rebalance", "--team", team, "--apply", "--reason", "crash test"],
                env,
                busy,
                kill_after,
            )
            if rep == 0:
                window = took
            held = sql(
                "SELECT count(*) FROM crime c JOIN officer o ON o.id = c.holder_id "
                "WHERE o.collar = :c AND c.finalised_on IS NULL",
                c=leaver,
            )[0][0]
            log_after = sql("SELECT count(*) FROM log_entry")[0][0]
            assert held in (0, n), (rep, held)
            assert (log_after == log_before) == (held == n), (rep, log_before, log_after)
            if held == 0:
                moved = sql(
                    "SELECT count(*) FROM allocation a JOIN officer o ON o.id = a.officer_id "
                    "WHERE o.collar IN (:a, :b) AND a.end_at IS NULL",
                    a=a,
                    b=b,
                )[0][0]
                assert moved == n
            if rep == 0:
                assert held == 0, "the uninterrupted run applies the plan"
            _tally("rebalance --apply", db_url, killed, "all" if held == 0 else "none")
            check = store("db", "check")
            assert check.exit_code == 0, (rep, check.output)
    finally:
        busy.close()
    assert store("verify").exit_code == 0
    print(f"rebalance x{n} moves, window {window:.2f}s: {TALLY}")


@pytest.mark.slow
def test_export_killed_at_random_leaves_the_file_complete_or_absent(
    store, db_url, sql, env, tmp_path
) -> None:
    rng = random.Random(SEED + 2)
    officers = tmp_path / "officers.csv"
    officers_csv(officers, [("EX1", "Lewisham CID", "active")])
    assert store("import", "officers", str(officers)).exit_code == 0
    crimes = tmp_path / "crimes.csv"
    crimes_csv(crimes, "EX", EXPORT_ROWS, ["EX1"], "Lewisham CID")
    assert store("import", "crimes", str(crimes)).exit_code == 0
    out = tmp_path / "out"
    out.mkdir()
    env = {**env, "CASELOAD_DB": db_url}
    log_before = sql("SELECT count(*), max(hash) FROM log_entry")

    def started() -> bool:
        return any(p.name.endswith(".part") for p in out.iterdir())

    full = out / "full.csv"
    killed, window = run_and_kill(["export", "crimes", "-o", str(full)], env, started, None)
    expected = full.read_bytes()
    assert expected.count(b"\n") == EXPORT_ROWS + 1
    for rep in range(REPEATS):
        target = out / f"export{rep}.csv"
        killed, _ = run_and_kill(
            ["export", "crimes", "-o", str(target)], env, started, rng.uniform(0, window * 1.1)
        )
        if target.exists():
            assert target.read_bytes() == expected, rep
        else:
            assert killed
        _tally("export crimes", db_url, killed, "complete" if target.exists() else "absent")
        for leftover in out.glob("*.part"):
            leftover.unlink()  # a SIGKILLed process cannot tidy up; the name never clashes
    assert sql("SELECT count(*), max(hash) FROM log_entry") == log_before
    assert store("db", "check").exit_code == 0
    print(f"export {EXPORT_ROWS} rows, window {window:.2f}s: {TALLY}")
