"""The two executors (``store.executor``): ``workload --officer``, ``assign`` and a team's
plan on the quick sqlite3 executor, without importing SQLAlchemy, give and write exactly
what they do through SQLAlchemy."""

from __future__ import annotations

import shlex
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from caseload.errors import CaseloadError
from caseload.store import executor as direct
from caseload.store import sqlite_values
from caseload.store.allocation import allocate as allocate_one
from caseload.store.engine_queries import team_plan
from caseload.store.workload import officer_workload
from tests.helpers.cli import invoke, loaded_after
from tests.helpers.store import writing

pytestmark = pytest.mark.sqlite_only

AT = datetime(2026, 11, 27, 14, 5, 6, 789)


def cli(db: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return invoke(["--db", str(db), *args], env=env)


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample force (44 officers, 545 live crimes), built once; tests copy it."""
    path = tmp_path_factory.mktemp("sample") / "caseload.db"
    result = cli(path, "init", "--sample")
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def sample(sample_store: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "caseload.db"
    shutil.copyfile(sample_store, copy)
    return copy


@contextmanager
def opened(path: Path, *, write: bool = False) -> Iterator[direct.SqliteExecutor]:
    store = direct.open_sqlite(f"sqlite:///{path}")
    assert store is not None
    try:
        with store.write() if write else store.read() as conn:
            yield conn
    finally:
        store.close()


def query(path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, params).fetchall()


def collars(path: Path) -> list[str]:
    return [c for (c,) in query(path, "SELECT collar FROM officer ORDER BY collar")]


def set_policy(path: Path, settings: dict[str, str]) -> None:
    """``policy set`` each setting; ``NAME|TEAM`` sets it for that team only."""
    for key, value in settings.items():
        name, _, team = key.partition("|")
        result = cli(path, "policy", "set", name, value, *(("--team", team) if team else ()))
        assert result.exit_code == 0, result.output


def test_precompiled_statements_are_the_queries_compiled_now() -> None:
    from caseload.store.statements import PRECOMPILED, render

    assert PRECOMPILED.read_text(encoding="utf-8") == render(), (
        "store/precompiled.json is stale: run 'python -m caseload.store.statements'"
    )


@pytest.mark.parametrize(
    "settings",
    [
        {},
        # no months of inexperience (only trainees are), a low limit, other weights
        {
            "inexperienced_months": "0",
            "inexperienced_limit": "3",
            "weight_pip1": "5",
            "weight_pip2": "7",
            "weight_pip3": "11",
            "weight_pip4": "13",
        },
        {"inexperienced_months": "120", "inexperienced_limit": "10"},
        # one team's own limit and months (per-team policy: NAME|TEAM)
        {"inexperienced_limit|Lewisham CID": "5", "inexperienced_months|Greenwich CID": "120"},
    ],
    ids=["defaults", "trainees-only", "ten-years", "team-overrides"],
)
def test_each_officers_workload_is_the_full_paths(sample: Path, settings: dict[str, str]) -> None:
    from caseload.store.team_policy import load_policies
    from caseload.store.workload import workload

    set_policy(sample, settings)
    query(sample, "UPDATE officer SET status = 'left' WHERE collar = ?", collars(sample)[0])
    seen_flags = set()
    with writing(str(sample)) as conn, opened(sample) as direct_conn:
        policy = load_policies(conn)
        for collar in [*collars(sample), "NOBODY1"]:
            full = workload(conn, policy, collar=collar)
            assert officer_workload(direct_conn, collar.lower()) == full, collar
            seen_flags.update(row["flags"] for row in full)
    assert len(seen_flags) > 2, "the sample exercises several flags"


def test_the_cli_shows_the_same_officer_either_way(sample: Path) -> None:
    collar = collars(sample)[3]
    for fmt in ("plain", "json", "csv"):
        quick = cli(sample, "workload", "--officer", collar, "-f", fmt)
        full = cli(sample, "workload", "--officer", collar, "-f", fmt, env={"CASELOAD_DIRECT": "0"})
        assert quick.exit_code == full.exit_code == 0
        assert quick.stdout == full.stdout
    missing = cli(sample, "workload", "--officer", "ZZ999")
    assert missing.exit_code == 2
    assert "There is no officer with collar ZZ999." in missing.stderr


@pytest.mark.parametrize(
    ("settings", "quick"),
    [
        ({}, True),
        ({"inexperienced_limit": "3", "weight_pip3": "11"}, True),
        ({"rebalance_threshold|Lewisham CID": "6"}, True),  # no team limit: still the statement
        ({"inexperienced_limit|Lewisham CID": "5"}, False),
        ({"inexperienced_months|Greenwich CID": "120"}, False),
    ],
    ids=["defaults", "force-settings", "other-team-setting", "team-limit", "team-months"],
)
def test_the_whole_forces_csv_is_the_full_paths(
    sample: Path, settings: dict[str, str], quick: bool
) -> None:
    from caseload.store.workload import force_serves

    set_policy(sample, settings)
    query(sample, "UPDATE officer SET status = 'left' WHERE collar = ?", collars(sample)[0])
    with opened(sample) as executor:
        assert force_serves(executor) is quick
    fast = cli(sample, "workload", "-f", "csv")
    full = cli(sample, "workload", "-f", "csv", env={"CASELOAD_DIRECT": "0"})
    assert fast.exit_code == full.exit_code == 0
    assert fast.stdout == full.stdout
    lines = fast.stdout.splitlines()
    assert lines[0].startswith("collar,name,team,rank,accreditation,status,inexperienced,live,")
    shown = (
        "SELECT count(*) FROM officer o WHERE status != 'left' OR EXISTS "
        "(SELECT 1 FROM crime c WHERE c.holder_id = o.id AND c.finalised_on IS NULL)"
    )
    assert len(lines) == 1 + query(sample, shown)[0][0]  # who left shows while holding crimes
    assert {line.split(",")[6] for line in lines[1:]} == {"yes", "no"}
    wanted = ("sqlalchemy",)
    assert loaded_after(["--db", str(sample), "workload", "-f", "csv"], wanted) == (
        [] if quick else ["sqlalchemy"]
    )
    # a past day: the officers' facts and holders then, bound into workload.as_of
    for days in (1, 45, 400):
        day = (date.today() - timedelta(days=days)).isoformat()
        fast = cli(sample, "workload", "--as-of", day, "-f", "csv")
        full = cli(sample, "workload", "--as-of", day, "-f", "csv", env={"CASELOAD_DIRECT": "0"})
        assert fast.exit_code == full.exit_code == 0, fast.output
        assert fast.stdout == full.stdout, day
    past = ["--db", str(sample), "workload", "--as-of", day, "-f", "csv"]
    assert loaded_after(past, wanted) == ([] if quick else ["sqlalchemy"])


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"weight_pip2": "5", "weight_pip4": "9", "rebalance_threshold": "1"},
        {"inexperienced_limit|Bexley Volume Crime": "5", "rebalance_threshold|Lewisham CID": "6"},
    ],
    ids=["defaults", "other-weights", "team-overrides"],
)
def test_a_teams_rebalance_plan_is_the_full_paths(sample: Path, settings: dict[str, str]) -> None:
    from caseload.store.engine_queries import plan_for

    set_policy(sample, settings)
    # someone from another team holds one of Lewisham's crimes, and two crimes are linked
    lewisham = "SELECT id FROM crime WHERE finalised_on IS NULL AND team_id = 1 ORDER BY id"
    crime_id = query(sample, lewisham)[0][0]
    query(
        sample, "UPDATE crime SET holder_id = (SELECT max(id) FROM officer) WHERE id = ?", crime_id
    )
    query(
        sample,
        "INSERT INTO crime_link (crime_a_id, crime_b_id, kind) VALUES (?, ?, 'victim')",
        crime_id,
        crime_id + 1,
    )
    teams = [name for (name,) in query(sample, "SELECT name FROM team ORDER BY name")]
    moves = 0
    with writing(str(sample)) as conn, opened(sample) as direct_conn:
        for team in teams:
            plan = plan_for(conn, team)
            assert team_plan(direct_conn, f" {team.upper()} ") == plan, team
            moves += len(plan.moves)
        with pytest.raises(CaseloadError, match="There is no team called 'Nowhere'"):
            team_plan(direct_conn, "Nowhere")
    assert moves > 0, "the sample's plans move crimes"


def test_the_cli_shows_the_same_plan_either_way(sample: Path) -> None:
    for fmt in ("plain", "json"):
        args = ("rebalance", "--team", "Lewisham CID", "-f", fmt)
        quick = cli(sample, *args)
        full = cli(sample, *args, env={"CASELOAD_DIRECT": "0"})
        assert quick.exit_code == full.exit_code == 0
        assert quick.stdout == full.stdout and quick.stderr == full.stderr
    missing = cli(sample, "rebalance", "--team", "Nowhere")
    assert missing.exit_code == 2
    assert "There is no team called 'Nowhere'" in missing.stderr


def _recorded(path: Path) -> None:
    """The sample with what a record shows beyond it: absences past, present, ahead and
    reduced, an officer on leave, entitlement decisions with reasons, risk grades
    changed, a team's own policy."""
    first, second, third, fourth = collars(path)[:4]
    today = date.today()

    def day(offset: int) -> str:
        return str(today + timedelta(days=offset))

    for command in (
        f"officer absence add {first} --from {day(0)} --to {day(5)} --kind sick",
        f"officer absence add {first} --from {day(20)} --to {day(25)} --kind leave",
        f"officer absence add {second} --from {day(-3)} --kind reduced --percent 50",
        f"officer absence add {third} --from {day(-30)} --to {day(-20)} --kind training",
        f"officer status {fourth} leave",
        "crime victim 26R000090 --standard",
        "crime victim 26R000090 --enhanced most-serious",
        "crime risk 26R000090 high",
        "crime risk 26R000090 medium",
        "policy set inexperienced_limit 3 --team 'Greenwich CID'",
        "policy set review_days 10 --team 'Bexley Volume Crime'",
    ):
        args = shlex.split(command)
        result = cli(path, *args, "--reason", "test")
        assert result.exit_code == 0, (args, result.output)


def _typed(value: Any) -> Any:
    """A record with each value's type beside it (True == 1, so equality alone would not
    tell a bool from SQLite's 0/1)."""
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_typed(item) for item in value]
    return (type(value).__name__, value)


def test_each_crimes_and_officers_record_is_the_full_paths(sample: Path) -> None:
    from caseload.store.executor import executor_of
    from caseload.store.records import crime_record, officer_record

    _recorded(sample)
    references = [r for (r,) in query(sample, "SELECT reference FROM crime ORDER BY id")]
    sections: set[str] = set()
    with writing(str(sample)) as conn, opened(sample) as direct_conn:
        full_conn = executor_of(conn)
        for reference in references:
            quick, full = crime_record(direct_conn, reference), crime_record(full_conn, reference)
            assert _typed(quick.crime) == _typed(full.crime), reference
            assert _typed(quick.story) == _typed(full.story), reference
            assert (quick.policy, quick.entitlement_reason) == (
                full.policy,
                full.entitlement_reason,
            )
            sections.update(name for name, rows in quick.story.items() if rows)
        for collar in collars(sample):
            quick_officer = officer_record(direct_conn, collar.lower())
            full_officer = officer_record(full_conn, collar)
            assert _typed(quick_officer.officer) == _typed(full_officer.officer), collar
            assert quick_officer.absences == full_officer.absences, collar
            assert quick_officer.policy == full_officer.policy, collar
        for wrong in (
            lambda: crime_record(direct_conn, "NOSUCH"),
            lambda: officer_record(direct_conn, "ZZ999"),
        ):
            with pytest.raises(CaseloadError, match="There is no"):
                wrong()
    assert len(sections) == 6, "the sample's stories have every section"


def test_the_cli_shows_the_same_crime_and_officer_either_way(sample: Path) -> None:
    _recorded(sample)
    crimes = [
        "26R000090",
        *(
            r
            for (r,) in query(
                sample,
                "SELECT reference FROM crime c "
                "WHERE EXISTS (SELECT 1 FROM key_event e WHERE e.crime_id = c.id) LIMIT 2",
            )
        ),
    ]
    officers = collars(sample)[:5]
    for fmt in ("table", "plain", "json", "csv"):
        shown = [("crime", "show", ref) for ref in crimes] + [
            ("officer", "show", c) for c in officers
        ]
        for args in shown:
            quick = cli(sample, *args, "-f", fmt)
            full = cli(sample, *args, "-f", fmt, env={"CASELOAD_DIRECT": "0"})
            assert quick.exit_code == full.exit_code == 0, quick.output
            assert quick.stdout == full.stdout and quick.stderr == full.stderr, args
    for args in (("crime", "show", "NOSUCH"), ("officer", "show", "ZZ999")):
        missing = cli(sample, *args)
        assert missing.exit_code == 2
        assert "There is no" in missing.stderr


def _unallocated(path: Path) -> list[str]:
    return [
        ref
        for (ref,) in query(
            path,
            "SELECT reference FROM crime WHERE holder_id IS NULL AND finalised_on IS NULL "
            "ORDER BY reference",
        )
    ]


def _held(path: Path) -> list[tuple[str, str, str]]:
    return query(
        path,
        "SELECT c.reference, o.collar, c.required_level FROM crime c "
        "JOIN officer o ON o.id = c.holder_id WHERE c.finalised_on IS NULL ORDER BY c.reference",
    )


def _officer_below(path: Path, level: str) -> str:
    rank = {"none": 0, "PIP1": 1, "PIP2": 2, "PIP3": 3, "PIP4": 4}
    for collar, accreditation in query(
        path, "SELECT collar, accreditation FROM officer WHERE status = 'active' ORDER BY collar"
    ):
        if rank[accreditation] < rank[level]:
            return str(collar)
    raise AssertionError(f"no officer below {level}")


def _tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    return {
        name: query(path, f"SELECT * FROM {name} ORDER BY rowid")
        for name in ("allocation", "crime", "log_entry")
    }


def test_assign_writes_exactly_what_the_full_path_writes(sample: Path, tmp_path: Path) -> None:
    """The same decisions at the same instant, one store each way: every interval, holder
    and log entry (hashes included) is the same, and so is every refusal."""
    from caseload.store.allocation import allocate

    assert cli(sample, "policy", "set", "limit_mode", "block").exit_code == 0
    other = tmp_path / "other.db"
    shutil.copyfile(sample, other)
    free = _unallocated(sample)
    experienced = query(
        sample,
        "SELECT collar FROM officer WHERE accreditation = 'PIP3' AND status = 'active' "
        "AND capacity IS NULL AND NOT trainee ORDER BY collar",
    )
    receiver = experienced[0][0]
    held_ref = next(ref for ref, holder, _ in _held(sample) if holder != receiver)
    high = next(ref for ref, _, level in _held(sample) if level == "PIP3")
    low_officer = _officer_below(sample, "PIP3")
    finalised = query(sample, "SELECT reference FROM crime WHERE finalised_on IS NOT NULL")[0][0]
    steps: list[tuple[str, str, str | None]] = [
        (free[0], receiver, None),  # allocate
        (held_ref, receiver, None),  # transfer
        (high, low_officer, None),  # above accreditation: refused in block mode
        (high, low_officer, "covering a gap in cover"),  # overridden
        (free[1], receiver.lower() + " ", None),  # collars are normalised
        (free[1], receiver, None),  # already holds it
        (finalised, receiver, None),  # finalised
        ("NO/SUCH/REF", receiver, None),
        (free[2], "ZZ999", None),
    ]

    def outcomes(run: Callable[..., Any]) -> list[Any]:
        results = []
        for reference, collar, override in steps:
            try:
                results.append(run(reference, collar, override))
            except CaseloadError as exc:
                results.append((type(exc).__name__, exc.message, exc.details))
        return results

    def by_direct(reference: str, collar: str, override: str | None) -> Any:
        with opened(sample, write=True) as conn:
            return allocate_one(
                conn, reference, collar, actor="sgt", at=AT, reason="why", override=override
            )

    def by_full(reference: str, collar: str, override: str | None) -> Any:
        with writing(str(other)) as conn:
            return allocate(
                conn, reference, collar, actor="sgt", at=AT, reason="why", override=override
            )

    quick, full = outcomes(by_direct), outcomes(by_full)
    assert quick == full
    assert [type(r).__name__ for r in quick] == [
        "AllocationOutcome",
        "AllocationOutcome",
        "tuple",
        "AllocationOutcome",
        "AllocationOutcome",
        "tuple",
        "tuple",
        "tuple",
        "tuple",
    ]
    assert quick[2][0] == "PolicyRefused" and quick[3].overridden
    assert _tables(sample) == _tables(other)
    assert cli(sample, "verify").exit_code == 0  # the hash chain holds


def test_a_timestamp_is_stored_as_sqlalchemy_stores_it() -> None:
    from sqlalchemy import DateTime
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    store = DateTime().dialect_impl(dialect).bind_processor(dialect)
    assert store is not None
    for value in (AT, datetime(2026, 1, 2, 3, 4, 5), datetime(999, 12, 31, 23, 59, 59, 1)):
        assert sqlite_values.timestamp(value) == store(value)


@pytest.mark.slow
def test_the_quick_commands_never_import_sqlalchemy(sample: Path) -> None:
    collar = collars(sample)[5]
    reference = _unallocated(sample)[0]
    db = ["--db", str(sample)]
    assert loaded_after([*db, "workload", "--officer", collar], ("sqlalchemy",)) == []
    assign = [*db, "assign", reference, collar, "--reason", "cover", "--override", "needed"]
    assert loaded_after(assign, ("sqlalchemy", "alembic")) == []
    plan = [*db, "rebalance", "--team", "Greenwich CID"]
    assert loaded_after(plan, ("sqlalchemy",)) == []
    heavy = ("sqlalchemy", "sqlmodel", "pydantic", "rich", "tabulate")
    assert loaded_after([*db, "crime", "show", reference], heavy) == []
    assert loaded_after([*db, "officer", "show", collar], heavy) == []
    assert loaded_after([*db, "export", "crimes", "-o", "/dev/null"], ("sqlalchemy",)) == []
    # ... while applying a plan, or planning every team, takes the full path
    assert loaded_after([*db, "rebalance"], ("sqlalchemy",)) == ["sqlalchemy"]
    assert [c for ref, c, _ in _held(sample) if ref == reference] == [collar]


@pytest.mark.slow
def test_as_a_user_types_it(sample: Path) -> None:
    import os
    import subprocess

    from tests.helpers.cli import caseload_exe

    collar = collars(sample)[7]
    reference = _unallocated(sample)[0]
    env = {**os.environ, "CASELOAD_DB": str(sample), "CASELOAD_ACTOR": "sgt-shell"}
    done = subprocess.run(
        [*caseload_exe(), "assign", reference, collar, "--reason", "cover", "--override", "ok"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"Allocated {reference} to {collar}." in done.stderr
    shown = subprocess.run(
        [*caseload_exe(), "workload", "--officer", collar, "-f", "csv"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert shown.returncode == 0
    assert shown.stdout.splitlines()[1].startswith(collar + ",")
    entry = query(sample, "SELECT actor, kind, collar FROM log_entry ORDER BY id DESC LIMIT 1")
    assert entry == [("sgt-shell", "allocate", collar)]


def test_only_a_current_caseload_store_in_wal_mode_is_opened_directly(
    sample: Path, tmp_path: Path
) -> None:
    def opens(url: str) -> bool:
        store = direct.open_sqlite(url)
        if store is None:
            return False
        store.close()
        return True

    assert opens(f"sqlite:///{sample}")
    assert not opens(f"sqlite:///{sample}?mode=ro")
    assert not opens(f"sqlite:///{tmp_path / 'missing.db'}")
    assert not opens("postgresql://localhost/caseload")
    assert not opens("sqlite://")
    text = tmp_path / "notes.db"
    text.write_text("not a database\n" * 100)
    assert not opens(f"sqlite:///{text}")
    foreign = tmp_path / "foreign.db"
    query(foreign, "CREATE TABLE t (x)")
    assert not opens(f"sqlite:///{foreign}")
    older = tmp_path / "older.db"
    shutil.copyfile(sample, older)
    query(older, "UPDATE alembic_version SET version_num = '0002'")
    assert not opens(f"sqlite:///{older}")
    rollback = tmp_path / "rollback.db"
    shutil.copyfile(sample, rollback)
    with sqlite3.connect(rollback) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")
    assert not opens(f"sqlite:///{rollback}")
    # ... and the full path serves it: it switches the store back to WAL
    assert cli(rollback, "workload", "--officer", collars(rollback)[0]).exit_code == 0
    assert query(rollback, "PRAGMA journal_mode") == [("wal",)]
    assert cli(foreign, "workload", "--officer", "AB1").exit_code == 4


def test_a_busy_store_is_explained_and_nothing_is_written(
    sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(direct, "BUSY_TIMEOUT_SECONDS", 0.2)
    monkeypatch.setattr(
        direct, "SQLITE_PRAGMAS", tuple(p for p in direct.SQLITE_PRAGMAS if "busy" not in p)
    )
    reference, collar = _unallocated(sample)[0], collars(sample)[0]
    blocker = sqlite3.connect(sample, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        result = cli(sample, "assign", reference, collar, "--reason", "r", "--override", "o")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert result.exit_code == 4
    assert "stayed busy" in result.stderr and "nothing was changed" in result.stderr
    assert "Traceback" not in result.output
    assert reference in _unallocated(sample)


def test_the_crimes_file_is_the_full_paths(sample: Path) -> None:
    """``export crimes`` on the quick executor (joined lines from export.crimes.lines, a
    batch's cells from export.crimes.cells) counts and writes what the full path does."""
    from caseload.store.records import crimes_file

    crimes = query(sample, "SELECT count(*) FROM crime")[0][0]
    with opened(sample) as executor:
        lines, total = crimes_file(executor, count=True)
        assert total == crimes
        key, line = next(iter(lines.batches))[0]
        (cells,) = lines.rows(key, key)  # one crime's cells, as the writer asks for them
        assert len(cells) == lines.width
        assert direct.SEPARATOR.join("" if v is None else str(v) for v in cells) == line
    with writing(str(sample)) as conn:
        assert crimes_file(direct.executor_of(conn), count=True)[1] == crimes
    fast = cli(sample, "export", "crimes", "-o", "-")
    full = cli(sample, "export", "crimes", "-o", "-", env={"CASELOAD_DIRECT": "0"})
    assert fast.exit_code == full.exit_code == 0
    assert fast.stdout == full.stdout
    assert len(fast.stdout.splitlines()) == 1 + crimes
