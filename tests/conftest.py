"""Shared fixtures: every test runs against its own store in a temp folder.

* ``_isolate`` (autouse) points HOME and the per-user folder at a temp folder and
  clears CASELOAD_DB, so no test can touch a real user's store.
* ``db_url`` is the store under test, once per backend: ``sqlite`` (a file in a
  temp folder) and ``postgresql`` (a fresh schema per test on the server named by
  CASELOAD_TEST_PG_URL; skipped when that is unset, a failure under CI=true).
  Mark a test ``@pytest.mark.sqlite_only`` when it is about the SQLite file itself.
* ``run`` invokes the CLI through Typer's CliRunner, as a user types it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from caseload.cli.app import app

REPO = Path(__file__).resolve().parent.parent


def _build_command_once() -> None:
    """Typer's CliRunner rebuilds the Click command from every signature on each invoke
    (about 0.3 s); the app does not change during a test run, so build it once per process."""
    import typer.main
    import typer.testing

    built: dict[int, Any] = {}
    build = typer.main.get_command

    def get_command(typer_app: typer.Typer) -> Any:
        if id(typer_app) not in built:
            built[id(typer_app)] = build(typer_app)
        return built[id(typer_app)]

    typer.testing._get_command = get_command  # type: ignore[attr-defined]


_build_command_once()


@pytest.fixture(autouse=True)
def _isolate(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("CASELOAD_DB", raising=False)
    monkeypatch.setenv("CASELOAD_ACTOR", "test-supervisor")
    monkeypatch.setenv("NO_COLOR", "1")


BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: about the SQLite file itself; not run on PostgreSQL"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_url" in metafunc.fixturenames:
        only_sqlite = metafunc.definition.get_closest_marker("sqlite_only") is not None
        backends = ["sqlite"] if only_sqlite else list(BACKENDS)
        metafunc.parametrize("db_url", backends, indirect=True, ids=backends)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield str(tmp_path / "caseload.db")
        return
    yield from pg_schema_url()


def pg_schema_url() -> Iterator[str]:
    """A URL whose search_path is a new, empty schema; the schema is dropped afterwards."""
    import uuid

    base = os.environ.get("CASELOAD_TEST_PG_URL")
    if not base:
        message = "CASELOAD_TEST_PG_URL is not set (start a server: scripts/pg-test-server.sh)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(base, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        try:
            with admin.begin() as conn:
                conn.exec_driver_sql("SET LOCAL lock_timeout = '20s'")
                conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        except sa.exc.OperationalError:
            pass  # a connection left open by the test still holds a lock; the server is throwaway
        admin.dispose()


def sa_url(db_url: str) -> str:
    """The SQLAlchemy URL of a store under test (SQLite paths become sqlite:/// URLs)."""
    return db_url if "://" in db_url else f"sqlite:///{db_url}"


@pytest.fixture
def sql(db_url: str) -> Callable[..., list[tuple[Any, ...]]]:
    """Run one SQL statement on the store under test, either backend; returns its rows.

    ``sql("SELECT count(*) FROM officer WHERE team_id = :t", t=1)``; use this instead of
    ``sqlite3.connect(db_url)`` so the test also runs on PostgreSQL.
    """
    import sqlalchemy as sa

    def _sql(statement: str, **params: Any) -> list[tuple[Any, ...]]:
        engine = sa.create_engine(sa_url(db_url), poolclass=sa.pool.NullPool)
        try:
            with engine.begin() as conn:
                result = conn.execute(sa.text(statement), params)
                return [tuple(row) for row in result] if result.returns_rows else []
        finally:
            engine.dispose()

    return _sql


Runner = Callable[..., Result]


@pytest.fixture
def run(db_url: str) -> Runner:
    """Run ``caseload --db <store> ARGS...``; returns Typer's Result (stdout, stderr, exit_code)."""
    runner = CliRunner()

    def _run(
        *args: str, input: str | bytes | None = None, env: dict[str, str] | None = None
    ) -> Result:
        return runner.invoke(app, ["--db", db_url, *args], input=input, env=env)

    return _run


@pytest.fixture
def store(run: Runner) -> Runner:
    """An initialised, empty store; returns the runner."""
    result = run("init")
    assert result.exit_code == 0, result.output
    return run


def add_teams(run: Runner, *names: str) -> None:
    """Create teams first, as a user does with ``caseload team add`` (commands that name a
    team refuse one that does not exist)."""
    for name in names:
        result = run("team", "add", name)
        assert result.exit_code == 0, result.output


def caseload_exe() -> list[str]:
    """The installed ``caseload`` command, as a user types it."""
    exe = shutil.which("caseload", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "caseload"]


@pytest.fixture
def shell(db_url: str) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the installed command in a subprocess against the test store."""

    def _shell(
        *args: str,
        input: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, "CASELOAD_DB": db_url, **(env or {})}
        return subprocess.run(
            [*caseload_exe(), *args],
            input=input,
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
        )

    return _shell
