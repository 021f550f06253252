"""The append-only log: on both databases triggers refuse to change or remove decision-log
entries and allocation intervals (closing an open interval stays allowed), caseload's
own commands never need to, and ``verify`` fails when the triggers are dropped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from tests.helpers.store import drop_guards, sa_url

SQL = Callable[..., list[tuple[Any, ...]]]


@pytest.fixture
def worked(store):  # type: ignore[no-untyped-def]
    """A store with an officer, two crimes, one reassigned (a closed interval) and one open."""
    assert store("team", "add", "Lewisham CID").exit_code == 0
    store("officer", "add", "AB1", "--name", "Ada Byron", "--team", "Lewisham CID",
          "-a", "PIP2", "--since", "2020-01-01")  # fmt: skip
    store("officer", "add", "CD2", "--name", "Cy Dee", "--team", "Lewisham CID",
          "-a", "PIP2", "--since", "2020-01-01")  # fmt: skip
    for ref in ("C1", "C2"):
        result = store("crime", "add", ref, "--type", "Burglary", "--level", "PIP2",
                       "--reported", "2026-11-01", "--team", "Lewisham CID")  # fmt: skip
        assert result.exit_code == 0, result.output
        assert store("assign", ref, "AB1", "--reason", "first").exit_code == 0
    assert store("assign", "C1", "CD2", "--reason", "rebalanced").exit_code == 0
    return store


def _refused(db_url: str, statement: str) -> str:
    engine = sa.create_engine(sa_url(db_url), poolclass=sa.pool.NullPool)
    try:
        with pytest.raises(sa.exc.DBAPIError) as caught, engine.begin() as conn:
            conn.exec_driver_sql(statement)
        return str(caught.value.orig)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("UPDATE log_entry SET reason = 'nothing to see' WHERE id = 1", "append-only"),
        ("DELETE FROM log_entry WHERE id = 1", "append-only"),
        ("DELETE FROM allocation", "cannot be removed"),
        ("UPDATE allocation SET reason = 'x' WHERE end_at IS NOT NULL", "only an open interval"),
        ("UPDATE allocation SET end_at = start_at WHERE end_at IS NOT NULL", "only an open"),
        ("UPDATE allocation SET officer_id = 1 WHERE end_at IS NULL", "only an open interval"),
    ],
)
def test_plain_sql_cannot_rewrite_history(worked, db_url, sql, statement, message) -> None:  # type: ignore[no-untyped-def]
    before = (
        sql("SELECT count(*), max(hash) FROM log_entry"),
        sql("SELECT * FROM allocation ORDER BY id"),
    )
    assert message in _refused(db_url, statement)
    after = (
        sql("SELECT count(*), max(hash) FROM log_entry"),
        sql("SELECT * FROM allocation ORDER BY id"),
    )
    assert after == before
    assert worked("verify").exit_code == 0


def test_truncate_is_refused_on_postgresql(worked, db_url, sql) -> None:  # type: ignore[no-untyped-def]
    if "://" not in db_url:
        pytest.skip("SQLite has no TRUNCATE")
    assert "append-only" in _refused(db_url, "TRUNCATE log_entry CASCADE")
    assert "cannot be removed" in _refused(db_url, "TRUNCATE allocation CASCADE")
    assert sql("SELECT count(*) FROM allocation") == [(3,)]


def test_closing_an_open_interval_is_still_allowed(worked, sql) -> None:  # type: ignore[no-untyped-def]
    """caseload's own updates of the history are closes of open intervals only."""
    assert worked("unassign", "C2", "--reason", "left the force").exit_code == 0
    assert worked("assign", "C2", "CD2", "--reason", "back").exit_code == 0
    assert sql("SELECT count(*) FROM allocation WHERE end_at IS NULL") == [(2,)]
    assert worked("verify").exit_code == 0


def test_verify_fails_when_the_triggers_are_dropped(worked, db_url, sql) -> None:  # type: ignore[no-untyped-def]
    assert worked("verify").exit_code == 0
    drop_guards(sql, db_url)
    result = worked("verify")
    assert result.exit_code == 1, result.output
    assert "not protected" in result.stderr
    assert "log_entry_no_update on log_entry" in result.stderr
    assert result.stdout.startswith("head ")  # the chain itself is still intact


def test_verify_fails_when_one_trigger_is_disabled_on_postgresql(worked, db_url, sql) -> None:  # type: ignore[no-untyped-def]
    if "://" not in db_url:
        pytest.skip("SQLite triggers cannot be disabled, only dropped")
    sql("ALTER TABLE log_entry DISABLE TRIGGER log_entry_no_delete")
    result = worked("verify")
    assert result.exit_code == 1
    assert "log_entry_no_delete on log_entry" in result.stderr
    assert "log_entry_no_update" not in result.stderr


def test_backup_of_a_guarded_store_keeps_its_guards(worked, db_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    if "://" in db_url:
        pytest.skip("caseload backup copies SQLite stores")
    copy = tmp_path / "copy.db"
    assert worked("backup", str(copy)).exit_code == 0
    assert "append-only" in _refused(str(copy), "DELETE FROM log_entry")
    assert worked("db", "check").exit_code == 0
