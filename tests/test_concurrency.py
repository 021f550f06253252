"""Several supervisors at once: the inexperienced-officer limit holds under a burst of
parallel ``caseload assign`` processes, on SQLite and PostgreSQL, and nobody sees
"database is locked"."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from tests.conftest import caseload_exe

PROCESSES = 30
HELD = 20
LIMIT = 25
COLLAR = "TR1"
HELD_EACH = 21  # each of the two trainees in ``trainees``


def _ref(n: int) -> str:
    return f"LW/{n:04d}/26"


@pytest.fixture
def crowded(store, tmp_path):  # type: ignore[no-untyped-def]
    """An inexperienced officer holding 20 live crimes, 30 unallocated crimes, block mode."""
    officers = tmp_path / "officers.csv"
    officers.write_text(
        "collar,name,team,accreditation,investigator_since,trainee\n"
        f"{COLLAR},Tia Rainer,Lewisham CID,PIP2,2025-06-01,yes\n"
    )
    assert store("import", "officers", str(officers)).exit_code == 0
    crimes = tmp_path / "crimes.csv"
    lines = ["reference,crime_type,reported_on,team,holder"]
    for n in range(HELD + PROCESSES):
        holder = COLLAR if n < HELD else ""
        lines.append(f"{_ref(n)},Burglary,2026-11-0{1 + n % 9},Lewisham CID,{holder}")
    crimes.write_text("\n".join(lines) + "\n")
    result = store("import", "crimes", str(crimes))
    assert result.exit_code == 0, result.output
    for name, value in (("limit_mode", "block"), ("inexperienced_limit", str(LIMIT))):
        assert store("policy", "set", name, value).exit_code == 0
    return store


@pytest.mark.slow
def test_thirty_parallel_assigns_to_one_officer_respect_the_limit(crowded, db_url, sql) -> None:  # type: ignore[no-untyped-def]
    before = sql("SELECT count(*) FROM allocation")[0][0]
    env = {**os.environ, "CASELOAD_DB": db_url, "CASELOAD_ACTOR": "sgt-burst"}
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            [*caseload_exe(), "assign", _ref(HELD + n), COLLAR, "--reason", "burst"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for n in range(PROCESSES)
    ]
    outcomes = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        outcomes.append((proc.returncode, err))
    elapsed = time.monotonic() - started
    codes = sorted(code for code, _ in outcomes)
    errors = "\n".join(err for _, err in outcomes)
    assert "locked" not in errors and "busy" not in errors, errors
    assert "Traceback" not in errors, errors
    assert codes.count(0) == LIMIT - HELD, errors
    assert codes.count(3) == PROCESSES - (LIMIT - HELD), errors
    assert sql("SELECT count(*) FROM allocation")[0][0] == before + LIMIT - HELD
    held = sql(
        "SELECT count(*) FROM crime c JOIN officer o ON o.id = c.holder_id "
        "WHERE o.collar = :c AND c.finalised_on IS NULL",
        c=COLLAR,
    )
    assert held == [(LIMIT,)]
    assert crowded("db", "check").exit_code == 0
    assert crowded("verify").exit_code == 0
    print(f"{PROCESSES} processes in {elapsed:.1f}s: {codes.count(0)} allocated, "
          f"{codes.count(3)} refused with exit 3")  # fmt: skip


@pytest.mark.slow
def test_readers_never_wait_for_or_see_half_a_rebalance(store, db_url, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """While ``rebalance --apply`` moves 1,500 crimes off an officer on leave, readers
    (``sql`` here, and ``export``/``workload`` through the CLI) see all of them moved or
    none, and are never held up by the writer."""
    n = 1500
    officers = tmp_path / "officers.csv"
    officers.write_text(
        "collar,name,team,accreditation,investigator_since\n"
        + "".join(f"{c},Officer {c},Lewisham CID,PIP2,2015-01-01\n" for c in ("LV1", "AA1", "BB1"))
    )
    assert store("import", "officers", str(officers)).exit_code == 0
    crimes = tmp_path / "crimes.csv"
    crimes.write_text(
        "reference,crime_type,reported_on,team,holder\n"
        + "".join(f"RB/{i:05d},Burglary,2026-10-01,Lewisham CID,LV1\n" for i in range(n))
    )
    assert store("import", "crimes", str(crimes)).exit_code == 0
    assert store("officer", "status", "LV1", "leave", "--reason", "test").exit_code == 0
    env = {**os.environ, "CASELOAD_DB": db_url}
    proc = subprocess.Popen(
        [*caseload_exe(), "rebalance", "--apply", "--reason", "leave cover"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: set[int] = set()
    slowest = 0.0
    reads = 0
    query = (
        "SELECT count(*) FROM crime c JOIN officer o ON o.id = c.holder_id "
        "WHERE o.collar = 'LV1' AND c.finalised_on IS NULL"
    )
    while proc.poll() is None:
        began = time.monotonic()
        seen.add(sql(query)[0][0])
        slowest = max(slowest, time.monotonic() - began)
        reads += 1
    assert proc.wait() == 0, proc.stderr.read() if proc.stderr else ""
    seen.add(sql(query)[0][0])
    assert seen <= {n, 0}, seen
    assert 0 in seen
    assert slowest < 10, f"a reader waited {slowest:.1f}s"
    exported = store("export", "workload", "-o", "-")
    assert exported.exit_code == 0, exported.output
    print(f"{reads} reads during the rebalance saw {sorted(seen)}; slowest {slowest:.2f}s")


# --- one crime, many supervisors; decisions during an import; automatic picks and plans -----


def _launch(db_url: str, commands: list[list[str]]) -> list[subprocess.Popen[str]]:
    env = {**os.environ, "CASELOAD_DB": db_url, "CASELOAD_ACTOR": "sgt-race"}
    return [
        subprocess.Popen(
            [*caseload_exe(), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for args in commands
    ]


def _finish(procs: list[subprocess.Popen[str]]) -> list[tuple[int, str]]:
    outcomes = []
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        outcomes.append((proc.returncode, err))
    return outcomes


def _import_csv(run, kind: str, path, text: str) -> None:  # type: ignore[no-untyped-def]
    path.write_text(text)
    result = run("import", kind, str(path))
    assert result.exit_code == 0, result.output


def _coherent_history(sql, reference: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Assert that a crime's intervals and its log entries tell one story, and return
    the holders in order: each interval ends where the next starts (never before it
    began), no officer follows themself, one interval is open, and each log entry is
    stamped with its interval's start and names the real previous holder."""
    import json

    intervals = sql(
        "SELECT o.collar, a.start_at, a.end_at FROM allocation a "
        "JOIN crime c ON c.id = a.crime_id JOIN officer o ON o.id = a.officer_id "
        "WHERE c.reference = :r ORDER BY a.id",
        r=reference,
    )
    entries = sql(
        "SELECT kind, collar, detail, at FROM log_entry WHERE crime_ref = :r "
        "AND kind IN ('allocate', 'transfer', 'unassign') ORDER BY id",
        r=reference,
    )
    holders = [collar for collar, _, _ in intervals]
    assert holders == [collar for _, collar, _, _ in entries]
    for (first, start, end), (second, next_start, _) in zip(intervals, intervals[1:], strict=False):
        assert end is not None and start <= end == next_start, (first, start, end, next_start)
        assert first != second, f"{first} -> {second}"
    assert intervals[-1][2] is None
    assert [start for _, start, _ in intervals] == [at for *_, at in entries]
    previous = None
    for kind, collar, detail, _ in entries:
        assert json.loads(detail).get("from") == previous, (kind, collar, detail)
        assert kind == ("transfer" if previous else "allocate")
        previous = collar
    return holders


@pytest.mark.slow
def test_twenty_supervisors_allocating_one_crime_queue(store, db_url, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """12 simultaneous ``assign P2-000 E{1..5}``: each either moves the crime (exit 0) or
    finds that officer already holds it (exit 2); no traceback, and the crime's intervals
    and log entries are one coherent story (on PostgreSQL the crime row is locked)."""
    _import_csv(
        store,
        "officers",
        tmp_path / "officers.csv",
        "collar,name,team,accreditation,investigator_since\n"
        + "".join(f"E{n},Officer {n},Lewisham CID,PIP2,2015-01-01\n" for n in range(1, 6)),
    )
    _import_csv(
        store,
        "crimes",
        tmp_path / "crimes.csv",
        "reference,crime_type,reported_on,team,required_level\n"
        "P2-000,Robbery,2026-11-02,Lewisham CID,PIP2\n",
    )
    procs = _launch(
        db_url,
        [["assign", "P2-000", f"E{1 + n % 5}", "--reason", "race"] for n in range(12)],
    )
    outcomes = _finish(procs)
    errors = "\n".join(err for _, err in outcomes)
    assert "Traceback" not in errors and "IntegrityError" not in errors, errors
    codes = [code for code, _ in outcomes]
    assert set(codes) <= {0, 2}, errors
    assert all("already holds it" in err for code, err in outcomes if code == 2), errors
    holders = _coherent_history(sql, "P2-000")
    assert len(holders) == codes.count(0)
    held = sql(
        "SELECT o.collar FROM crime c JOIN officer o ON o.id = c.holder_id "
        "WHERE c.reference = 'P2-000'"
    )
    assert held == [(holders[-1],)]
    assert store("db", "check").exit_code == 0
    assert store("verify").exit_code == 0


@pytest.mark.slow
def test_assigns_during_a_long_import_keep_the_history_in_order(
    store, db_url, sql, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """Supervisors keep assigning a crime while a large import (which also transfers that
    crime) is checked and written: the import's time is taken once it holds the write
    lock, so no interval ends before it starts and the log's order is the intervals'."""
    _import_csv(
        store,
        "officers",
        tmp_path / "officers.csv",
        "collar,name,team,accreditation,investigator_since\n"
        + "".join(f"E{n},Officer {n},Lewisham CID,PIP2,2015-01-01\n" for n in range(1, 5)),
    )
    _import_csv(
        store,
        "crimes",
        tmp_path / "first.csv",
        "reference,crime_type,reported_on,team,holder\nHOT-1,Burglary,2026-11-02,Lewisham CID,E2\n",
    )
    big = tmp_path / "big.csv"
    big.write_text(
        "reference,crime_type,reported_on,team,holder\n"
        "HOT-1,Burglary,2026-11-02,Lewisham CID,E1\n"
        + "".join(f"BULK-{n:05d},Burglary,2026-11-02,Lewisham CID,\n" for n in range(8000))
    )
    [importer] = _launch(db_url, [["import", "crimes", str(big), "--reason", "nightly"]])
    assigned = 0
    deadline = time.monotonic() + 60
    while importer.poll() is None and time.monotonic() < deadline:
        command = ["assign", "HOT-1", f"E{3 + assigned % 2}", "--reason", "busy night"]
        [(code, err)] = _finish(_launch(db_url, [command]))
        assert code in (0, 2), err
        assigned += code == 0
    [(code, err)] = _finish([importer])
    assert code == 0, err
    assert assigned >= 1, "the import finished before any assign ran"
    _coherent_history(sql, "HOT-1")
    backwards = sql("SELECT count(*) FROM allocation WHERE end_at < start_at")
    assert backwards == [(0,)]
    assert store("db", "check").exit_code == 0


@pytest.fixture
def trainees(store, tmp_path):  # type: ignore[no-untyped-def]
    """Two trainees holding 21 live crimes each (limit 25, block mode: 8 places in all)
    and 10 unallocated crimes."""
    _import_csv(
        store,
        "officers",
        tmp_path / "officers.csv",
        "collar,name,team,accreditation,investigator_since,trainee\n"
        + "".join(f"T{n},Trainee {n},Lewisham CID,PIP2,2025-06-01,yes\n" for n in range(1, 3)),
    )
    lines = ["reference,crime_type,reported_on,team,holder"]
    for n in range(2 * HELD_EACH):
        lines.append(f"HELD-{n:03d},Burglary,2026-11-02,Lewisham CID,T{1 + n % 2}")
    for n in range(10):
        lines.append(f"NEW-{n:03d},Burglary,2026-11-03,Lewisham CID,")
    _import_csv(store, "crimes", tmp_path / "crimes.csv", "\n".join(lines) + "\n")
    for name, value in (("limit_mode", "block"), ("inexperienced_limit", str(LIMIT))):
        assert store("policy", "set", name, value).exit_code == 0
    return store


def _trainee_loads(sql) -> dict[str, int]:  # type: ignore[no-untyped-def]
    rows = sql(
        "SELECT o.collar, count(c.id) FROM officer o LEFT JOIN crime c "
        "ON c.holder_id = o.id AND c.finalised_on IS NULL GROUP BY o.collar"
    )
    return {str(collar): int(n) for collar, n in rows}


@pytest.mark.slow
def test_automatic_picks_race_for_the_last_places_without_spurious_refusals(
    trainees, db_url, sql
) -> None:  # type: ignore[no-untyped-def]
    """10 simultaneous ``assign --auto`` for 8 places: the pick is made under the write
    lock, so exactly 8 are allocated (none refused while a place was free) and the
    last 2 are refused (exit 3); both trainees end at the limit exactly."""
    procs = _launch(
        db_url, [["assign", f"NEW-{n:03d}", "--auto", "--reason", "race"] for n in range(10)]
    )
    outcomes = _finish(procs)
    errors = "\n".join(err for _, err in outcomes)
    assert "Traceback" not in errors, errors
    codes = [code for code, _ in outcomes]
    assert codes.count(0) == 8, errors
    assert codes.count(3) == 2, errors
    assert _trainee_loads(sql) == {"T1": LIMIT, "T2": LIMIT}
    assert trainees("db", "check").exit_code == 0


@pytest.mark.slow
def test_rebalance_apply_is_not_refused_by_concurrent_assigns(
    trainees, db_url, sql, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """``rebalance --apply`` re-homing an absent officer's crimes while supervisors assign
    to the same trainees (6 crimes for 8 places): it plans under the write lock, so it
    is never refused for a state it did not see, and no trainee passes the limit."""
    _import_csv(
        trainees,
        "officers",
        tmp_path / "leaver.csv",
        "collar,name,team,accreditation,investigator_since\n"
        "LV1,Lee Vance,Lewisham CID,PIP2,2015-01-01\n",
    )
    _import_csv(
        trainees,
        "crimes",
        tmp_path / "leaver-crimes.csv",
        "reference,crime_type,reported_on,team,holder\n"
        + "".join(f"LV-{n},Burglary,2026-11-01,Lewisham CID,LV1\n" for n in range(2)),
    )
    assert trainees("officer", "status", "LV1", "leave", "--reason", "test").exit_code == 0
    commands = [["assign", f"NEW-{n:03d}", f"T{1 + n % 2}", "-r", "race"] for n in range(4)]
    commands.insert(2, ["rebalance", "--apply", "--reason", "leave cover"])
    outcomes = _finish(_launch(db_url, commands))
    errors = "\n".join(err for _, err in outcomes)
    assert "Traceback" not in errors, errors
    rebalance_code, rebalance_err = outcomes[2]
    assert rebalance_code == 0, rebalance_err
    assert "Applied plan" in rebalance_err, rebalance_err
    assigned = [code for i, (code, _) in enumerate(outcomes) if i != 2]
    assert assigned == [0, 0, 0, 0], errors
    loads = _trainee_loads(sql)
    assert loads["LV1"] == 0
    assert loads["T1"] <= LIMIT and loads["T2"] <= LIMIT, loads
    assert loads["T1"] + loads["T2"] == 2 * HELD_EACH + 2 + 4
    assert trainees("db", "check").exit_code == 0
    backwards = sql("SELECT count(*) FROM allocation WHERE end_at < start_at")
    assert backwards == [(0,)]


def test_a_report_reads_one_state_of_the_store(store, db_url) -> None:  # type: ignore[no-untyped-def]
    """Every reading command runs in ``Store.read``: one snapshot, so a change another
    supervisor commits halfway through a report is not half in it (PostgreSQL: REPEATABLE
    READ, READ ONLY; SQLite: a deferred transaction under WAL)."""
    from sqlalchemy import text
    from sqlalchemy.exc import InternalError

    from caseload.store.connection import Store, to_url
    from caseload.store.reference import load_policy

    reader = Store(to_url(db_url))
    try:
        with reader.read() as conn:
            before = load_policy(conn).review_days
            changed = store("policy", "set", "review_days", "10", "--reason", "meanwhile")
            assert changed.exit_code == 0, changed.output
            assert load_policy(conn).review_days == before != 10
        with reader.read() as conn:
            assert load_policy(conn).review_days == 10
        if not reader.is_sqlite:
            refused = pytest.raises(InternalError, match="read-only transaction")
            with refused, reader.read() as conn:
                conn.execute(text("UPDATE policy_setting SET value = '1'"))
    finally:
        reader.dispose()
    assert store("db", "check").exit_code == 0
