"""PostgreSQL: the same commands on a server URL, and the test suite's contract with CI.

Every store-touching test already runs on both backends (``db_url`` in conftest);
this file holds what is particular to server URLs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from caseload.cli.app import app
from tests.conftest import REPO


def test_a_postgresql_store_works_like_a_file(store, db_url) -> None:  # type: ignore[no-untyped-def]
    if "://" not in db_url:
        pytest.skip("about PostgreSQL URLs")
    status = store("db", "status", "--format", "json")
    assert status.exit_code == 0, status.output
    record = json.loads(status.stdout)
    assert record["backend"] == "postgresql"
    assert "options" not in record["store"] or "search_path" in record["store"]
    assert store("team", "add", "Lewisham CID").exit_code == 0
    added = store("officer", "add", "AB1", "--name", "Ann Bee", "--team", "Lewisham CID",
                  "-a", "PIP2", "--since", "2015-01-01")  # fmt: skip
    assert added.exit_code == 0, added.output
    assert store("db", "check").exit_code == 0
    assert store("verify").exit_code == 0


@pytest.mark.parametrize(
    "url, expected",
    [
        ("postgresql+psycopg://caseload:s3cret-pw@127.0.0.1:1/nowhere", "cannot be"),
        ("nosuchdb://user:s3cret-pw@host/db", "Cannot use the database URL"),
    ],
    ids=["unreachable server", "unknown database kind"],
)
def test_an_unusable_url_exits_4_without_showing_the_password(url, expected) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(app, ["--db", url, "db", "status"])
    assert result.exit_code == 4, result.output
    assert expected in result.stderr
    assert "s3cret-pw" not in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_missing_server_skips_locally_and_fails_under_ci() -> None:
    """Without CASELOAD_TEST_PG_URL the PostgreSQL variants are skipped, except under
    CI=true, where a missing server must not pass unnoticed."""
    test = "tests/test_verify.py::test_an_empty_log_verifies"
    env = {k: v for k, v in os.environ.items() if k not in ("CASELOAD_TEST_PG_URL", "CI")}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
               "no:xdist", "-p", "no:randomly", test]  # fmt: skip
    local = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    assert local.returncode == 0, local.stdout[-2000:]
    assert "1 passed, 1 skipped" in local.stdout
    ci = subprocess.run(
        command, cwd=REPO, env={**env, "CI": "true"}, capture_output=True, text=True
    )
    assert ci.returncode == 1, ci.stdout[-2000:]
    assert "CASELOAD_TEST_PG_URL is not set" in ci.stdout
    assert "1 passed" in ci.stdout
