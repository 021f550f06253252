"""The store itself: where it lives, how it is created and migrated, and what it refuses.

Stories: a supervisor runs ``caseload init`` and gets a migrated store readable only by
them; a store that is missing, not caseload's, or written by a newer caseload is refused
with exit 4 and left untouched; the migrations and the models never drift apart; a wheel
built from this tree can create and migrate a store on its own.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from caseload.cli.app import app
from caseload.store.connection import Store, to_url
from caseload.store.migrate import HEAD, REVISIONS, migrations_dir
from tests.helpers.cli import REPO
from tests.helpers.store import sa_url


def _engine(db_url: str) -> sa.Engine:
    return sa.create_engine(sa_url(db_url), poolclass=sa.pool.NullPool)


# --- creating and migrating ---------------------------------------------------------------


def test_init_migrates_a_blank_store_to_the_models(run, db_url) -> None:  # type: ignore[no-untyped-def]
    from caseload.store.models import schema

    metadata = schema()

    result = run("init")
    assert result.exit_code == 0, result.output
    assert f"schema {HEAD}" in result.stderr
    engine = _engine(db_url)
    try:
        inspector = sa.inspect(engine)
        tables = set(inspector.get_table_names())
        assert tables == set(metadata.tables) | {"alembic_version"}
        for name, table in metadata.tables.items():
            columns = {c["name"]: c for c in inspector.get_columns(name)}
            assert set(columns) == {c.name for c in table.columns}, name
            for column in table.columns:
                assert columns[column.name]["nullable"] == column.nullable, (name, column.name)
            indexes = {i["name"] for i in inspector.get_indexes(name)}
            assert {i.name for i in table.indexes} <= indexes, name
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == HEAD
    finally:
        engine.dispose()
    again = run("init")
    assert again.exit_code == 0
    assert "up to date" in again.stderr


def test_models_and_migrations_do_not_drift(store, db_url) -> None:  # type: ignore[no-untyped-def]
    """Alembic's autogenerate finds nothing to add: fails when a model changes without a
    migration (or the 0001 script is edited without the model)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from caseload.store.models import schema

    metadata = schema()

    engine = _engine(db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "render_as_batch": True}
            )
            diff = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_revisions_constant_matches_the_alembic_scripts() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    scripts = ScriptDirectory.from_config(config)
    assert scripts.get_heads() == [HEAD]
    oldest_first = [s.revision for s in scripts.walk_revisions("base", "heads")][::-1]
    assert tuple(oldest_first) == REVISIONS


# --- where the store is -------------------------------------------------------------------


@pytest.mark.sqlite_only
def test_store_location_from_option_env_and_per_user_folder(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import typer

    runner = CliRunner()
    by_option = tmp_path / "option.db"
    assert runner.invoke(app, ["--db", str(by_option), "init"]).exit_code == 0
    assert by_option.is_file()

    by_env = tmp_path / "env.db"
    result = runner.invoke(app, ["init"], env={"CASELOAD_DB": str(by_env)})
    assert result.exit_code == 0, result.output
    assert by_env.is_file()

    default = Path(typer.get_app_dir("caseload")) / "caseload.db"
    assert str(default).startswith(os.environ["HOME"])  # the autouse fixture's temp HOME
    assert not default.exists()
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    assert default.is_file()
    assert str(default) in result.stderr
    status = runner.invoke(app, ["db", "status", "--format", "json"])
    assert status.exit_code == 0
    assert str(default) in status.stdout


@pytest.mark.sqlite_only
def test_init_never_makes_a_folder_given_with_db(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A folder in --db that does not exist (a typo) is exit 2 and nothing is made; only
    the per-user folder is created when missing (the test above)."""
    runner = CliRunner()
    result = runner.invoke(app, ["--db", str(tmp_path / "typo" / "force.db"), "init"])
    assert result.exit_code == 2, result.output
    assert f"There is no folder {tmp_path / 'typo'}" in result.stderr
    (tmp_path / "plain").write_text("not a folder\n")
    result = runner.invoke(app, ["--db", str(tmp_path / "plain" / "force.db"), "init"])
    assert result.exit_code == 2, result.output
    assert "is a file, not a folder" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain"]


@pytest.mark.sqlite_only
def test_new_store_is_private_and_runs_wal_with_foreign_keys(run, db_url) -> None:  # type: ignore[no-untyped-def]
    assert run("init").exit_code == 0
    assert stat.S_IMODE(os.stat(db_url).st_mode) == 0o600
    with sqlite3.connect(db_url) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store = Store(to_url(db_url))
    try:
        with store.read() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
            with pytest.raises(sa.exc.IntegrityError):
                conn.exec_driver_sql(
                    "INSERT INTO officer (collar, name, team_id, rank, accreditation, "
                    "investigator_since, status, trainee) "
                    "VALUES ('ZZ1', 'Nobody', 999, '', 'PIP1', '2020-01-01', 'active', 0)"
                )
    finally:
        store.dispose()


# --- what is refused, with exit 4, and never written ------------------------------------

COMMANDS = [
    ("db", "status"),
    ("officer", "list"),
    ("crime", "list"),
    ("db", "check"),
    ("verify",),
]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.sqlite_only
@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_missing_store_exits_4_and_is_not_created(run, db_url, args) -> None:  # type: ignore[no-untyped-def]
    result = run(*args)
    assert result.exit_code == 4, result.output
    assert "There is no caseload store" in result.stderr
    assert "caseload init" in result.stderr
    assert "Traceback" not in result.output
    assert not Path(db_url).exists()


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    "url",
    ["postgresql://clerk:hunter2@db:fivefour/caseload", "postgresql+psycopg://u@[::1/db", "://x"],
    ids=["port not a number", "unclosed address", "no scheme"],
)
def test_a_database_url_that_cannot_be_read_is_exit_2_in_one_sentence(url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A typo in --db (or CASELOAD_DB) is bad input: one plain sentence, exit 2, no
    traceback, no password echoed, and nothing created, as a user types it."""
    for args, env in (
        (["--db", url, "workload"], {}),
        (["--db", url, "init"], {}),
        (["audit"], {"CASELOAD_DB": url}),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "caseload", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**os.environ, **env},
            check=False,
        )
        assert done.returncode == 2, (args, done.stderr)
        assert "Traceback" not in done.stderr
        assert "hunter2" not in done.stderr
        message = done.stderr.strip()
        assert message.startswith("Error: ") and message.count("\n") == 0, message
        assert "not a database URL" in message
        assert list(tmp_path.iterdir()) == []


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    "content",
    [
        b"collar,name\nAB1,Someone\n",
        b"",
        bytes(range(256)) * 64,
    ],
    ids=["text file", "empty file", "random bytes"],
)
def test_a_file_that_is_not_a_store_exits_4_untouched(run, db_url, content) -> None:  # type: ignore[no-untyped-def]
    path = Path(db_url)
    path.write_bytes(content)
    before = _digest(path)
    for args in [*COMMANDS, ("init",)]:
        result = run(*args)
        if content == b"" and args == ("init",):
            continue  # an empty file is an empty database: init may create the store in it
        assert result.exit_code == 4, (args, result.output)
        assert "not a caseload store" in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.output
        assert _digest(path) == before


@pytest.mark.sqlite_only
def test_an_unrelated_sqlite_database_exits_4_untouched(run, db_url) -> None:  # type: ignore[no-untyped-def]
    path = Path(db_url)
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE recipes (name TEXT)")
        raw.execute("INSERT INTO recipes VALUES ('scones')")
    before = _digest(path)
    for args in [*COMMANDS, ("init",), ("backup", str(path.with_suffix(".bak")))]:
        result = run(*args)
        assert result.exit_code == 4, (args, result.output)
        assert "not a caseload store" in result.stderr
        assert _digest(path) == before
    assert not path.with_suffix(".bak").exists()
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT name FROM sqlite_master").fetchall() == [("recipes",)]


def test_an_unrelated_database_schema_exits_4(db_url, run, sql) -> None:  # type: ignore[no-untyped-def]
    """The same on either backend: tables that are not caseload's are refused."""
    sql("CREATE TABLE recipes (name VARCHAR(20))")
    for args in [*COMMANDS, ("init",)]:
        result = run(*args)
        assert result.exit_code == 4, (args, result.output)
        assert "not a caseload store" in result.stderr
    assert sql("SELECT count(*) FROM recipes") == [(0,)]


def test_a_store_from_a_newer_caseload_is_refused_and_never_written(store, sql, db_url) -> None:  # type: ignore[no-untyped-def]
    assert store("team", "add", "T").exit_code == 0
    assert store("officer", "add", "AB1", "--name", "A B", "--team", "T", "-a", "PIP1",
                 "--since", "2020-01-01").exit_code == 0  # fmt: skip
    sql("UPDATE alembic_version SET version_num = '9999'")
    before = sql("SELECT id, hash FROM log_entry ORDER BY id")
    digest = _digest(Path(db_url)) if "://" not in db_url else None
    attempts = [
        *COMMANDS,
        ("init",),
        ("officer", "add", "AB2", "--name", "C D", "--team", "T", "-a", "PIP1", "--since",
         "2020-01-01"),
        ("matrix", "set", "Burglary", "PIP2"),
    ]  # fmt: skip
    for args in attempts:
        result = store(*args)
        assert result.exit_code == 4, (args, result.output)
        assert "9999" in result.stderr and "newer" in result.stderr, result.stderr
        assert "Traceback" not in result.output
    assert sql("SELECT version_num FROM alembic_version") == [("9999",)]
    assert sql("SELECT id, hash FROM log_entry ORDER BY id") == before
    assert sql("SELECT collar FROM officer") == [("AB1",)]
    if digest is not None:
        assert _digest(Path(db_url)) == digest


# --- a wheel can migrate on its own -------------------------------------------------------


@pytest.mark.slow
@pytest.mark.sqlite_only
def test_wheel_install_creates_and_migrates_a_store(tmp_path, db_url) -> None:  # type: ignore[no-untyped-def]
    """Build a wheel, install it (no dependencies: they come from this venv) into a new venv,
    and run it from outside the repository: the migrations must ship inside the wheel."""
    import site
    import sysconfig

    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "-w", str(wheels), str(REPO)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    (wheel,) = wheels.glob("caseload-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    venv_python = venv / "bin" / "python"
    venv_site = subprocess.run(
        [venv_python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    # The dependencies come from this interpreter's site-packages, after the wheel's own.
    ours = [sysconfig.get_paths()["purelib"], *site.getsitepackages()]
    (Path(venv_site) / "caseload-test-deps.pth").write_text("\n".join(dict.fromkeys(ours)) + "\n")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv_python), "install", "--no-deps",
         "--no-index", str(wheel)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr
    exe = venv / "bin" / "caseload"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    where = subprocess.run(
        [venv_python, "-c", "from caseload.store.migrate import migrations_dir; "
         "print(migrations_dir())"],
        capture_output=True, text=True, cwd=tmp_path, env=env, check=True,
    ).stdout.strip()  # fmt: skip
    assert where.startswith(venv_site), where
    init = subprocess.run(
        [exe, "--db", db_url, "init"], capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert init.returncode == 0, init.stderr
    assert f"schema {HEAD}" in init.stderr
    status = subprocess.run(
        [exe, "--db", db_url, "db", "status", "--format", "json"],
        capture_output=True, text=True, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert status.returncode == 0, status.stderr
    assert f'"revision": "{HEAD}"' in status.stdout


# --- shared SQL ---------------------------------------------------------------------------


def test_one_of_matches_exactly_the_listed_values(run, db_url) -> None:  # type: ignore[no-untyped-def]
    """Bulk lookups bind a whole list as one value (json_each / = ANY): the rows found
    must be exactly those an IN list finds, for text and integer keys, and none for []."""
    from caseload.store.migrate import open_store
    from caseload.store.models import crime_table as c
    from caseload.store.sqlfunc import one_of

    assert run("init", "--sample").exit_code == 0
    store = open_store(sa_url(db_url))
    try:
        with store.read() as conn:
            every = conn.execute(sa.select(c.c.id, c.c.reference).order_by(c.c.id)).all()
            picked = every[3:200:7]
            refs = [ref for _, ref in picked] + ["CR-NOT-THERE", "cr0000001/26", "it's"]
            ids = [crime_id for crime_id, _ in picked] + [10**9]

            def found(where: sa.ColumnElement[bool]) -> list[tuple[int, str]]:
                query = sa.select(c.c.id, c.c.reference).where(where).order_by(c.c.id)
                return [(int(i), str(r)) for i, r in conn.execute(query)]

            assert found(one_of(conn, c.c.reference, refs)) == found(c.c.reference.in_(refs))
            assert found(one_of(conn, c.c.reference, refs)) == [tuple(row) for row in picked]
            assert found(one_of(conn, c.c.id, ids)) == [tuple(row) for row in picked]
            assert found(one_of(conn, c.c.id, [])) == []
    finally:
        store.dispose()


def test_later_of_is_the_later_day_and_the_second_when_the_first_is_missing(run, db_url) -> None:  # type: ignore[no-untyped-def]
    """``sqlfunc.later_of`` (an audit finding's "since") gives what ``CASE WHEN a > b THEN a
    ELSE b END`` gives, on either database, with a bound value in each argument."""
    from datetime import date

    from caseload.store.migrate import open_store
    from caseload.store.sqlfunc import date_literal, later_of

    assert run("init").exit_code == 0
    store = open_store(sa_url(db_url))
    early, late = date(2026, 3, 1), date(2026, 11, 30)
    none = sa.cast(sa.null(), sa.Date)
    try:
        with store.read() as conn:

            def later(a: object, b: object) -> object:
                value = conn.execute(sa.select(later_of(a, b))).scalar()
                return None if value is None else date.fromisoformat(str(value)[:10])

            assert later(date_literal(late), date_literal(early)) == late
            assert later(date_literal(early), date_literal(late)) == late
            assert later(none, date_literal(early)) == early
            assert later(date_literal(early), none) is None
    finally:
        store.dispose()


@pytest.mark.sqlite_only
def test_a_bulk_write_has_a_larger_page_cache_until_it_commits(store, db_url) -> None:  # type: ignore[no-untyped-def]
    """An import's write transaction keeps its changed index pages in a 48 MB cache
    (not spilled to the WAL and read back); the connection then goes back to SQLite's
    default, so no other command holds that memory."""
    from caseload.store.connection import BULK_PAGE_CACHE_KIB
    from caseload.store.migrate import open_store

    opened = open_store(sa_url(db_url))
    try:
        with opened.read() as conn:
            default = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
        with opened.write(bulk=True) as conn:
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar_one() == -BULK_PAGE_CACHE_KIB
        with opened.write() as conn:  # the same pooled connection
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar_one() == default
        with pytest.raises(RuntimeError), opened.write(bulk=True):
            raise RuntimeError("a failed import")
        with opened.read() as conn:
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar_one() == default
    finally:
        opened.dispose()
