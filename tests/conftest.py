"""Shared fixtures: every test runs against its own store in a temp folder.

* ``_isolate`` (autouse) points HOME and the per-user folder at a temp folder and
  clears CASELOAD_DB, so no test can touch a real user's store.
* ``db_url`` is the store under test: a SQLite file in a temp folder.
* ``run`` invokes the CLI through Typer's CliRunner, as a user types it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from caseload.cli.app import app

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolate(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("CASELOAD_DB", raising=False)
    monkeypatch.setenv("CASELOAD_ACTOR", "test-supervisor")
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return str(tmp_path / "caseload.db")


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
