"""Shared fixtures: every test runs against its own store in a temp folder.

* ``_isolate`` (autouse) points HOME and the per-user folder at a temp folder and
  clears CASELOAD_DB, so no test can touch a real user's store.
* ``db_url`` is the store under test, once per backend: ``sqlite`` (a file in a
  temp folder) and ``postgresql`` (a fresh schema per test on the server named by
  CASELOAD_TEST_PG_URL; skipped when that is unset, a failure under CI=true).
  Mark a test ``@pytest.mark.sqlite_only`` when it is about the SQLite file itself.
* ``run`` invokes the CLI through Typer's CliRunner, as a user types it
  (``tests.helpers.cli.invoke``: the Click command is built once per process).

A test run started in the background of a non-interactive shell (``cmd &``, nohup) inherits
SIGINT ignored, and every ``caseload`` it starts would ignore it too; SIGINT is given its
usual handler here, so the Ctrl-C tests (tests/test_interrupts.py) mean the same wherever
the suite is started.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from tests.helpers.cli import Runner, caseload_exe, invoke
from tests.helpers.store import pg_schema_url, sa_url

if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _isolate(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("CASELOAD_DB", raising=False)
    monkeypatch.setenv("CASELOAD_ACTOR", "test-supervisor")
    monkeypatch.setenv("NO_COLOR", "1")
    # pytest-xdist gives its workers COLUMNS=80: a test sees a pipe (whole rows) unless it
    # sets a width itself, however the suite is run.
    monkeypatch.delenv("COLUMNS", raising=False)


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


@pytest.fixture
def run(db_url: str) -> Runner:
    """Run ``caseload --db <store> ARGS...``; returns Typer's Result (stdout, stderr, exit_code)."""

    def _run(
        *args: str, input: str | bytes | None = None, env: dict[str, str] | None = None
    ) -> Result:
        return invoke(["--db", db_url, *args], input=input, env=env)

    return _run


@pytest.fixture
def store(run: Runner) -> Runner:
    """An initialised, empty store; returns the runner."""
    result = run("init")
    assert result.exit_code == 0, result.output
    return run


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
