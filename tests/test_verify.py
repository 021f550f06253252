"""``caseload verify``: the decision log's hash chain catches an entry changed, removed or
inserted behind the tool's back (here with the ``sqlite3`` module, or plain SQL on
PostgreSQL), and names the first one."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

from caseload.domain.ledger import entry_hash
from tests.helpers.store import drop_guards


def _team_without_a_log_entry(db_url: str) -> None:
    """The team the officers join, created directly so that the log's entries stay six."""
    from caseload.store.connection import to_url
    from caseload.store.migrate import open_store
    from tests.helpers.force import ensure_team

    store = open_store(to_url(db_url))
    try:
        with store.write() as conn:
            ensure_team(conn, "Lewisham CID")
    finally:
        store.dispose()


@pytest.fixture
def logged(store, db_url):  # type: ignore[no-untyped-def]
    """A store whose decision log holds six entries (officer added, matrix set)."""
    _team_without_a_log_entry(db_url)
    for n in range(1, 5):
        result = store("officer", "add", f"AB{n}", "--name", f"Officer {n}",
                       "--team", "Lewisham CID", "-a", "PIP2", "--since", "2020-01-01")  # fmt: skip
        assert result.exit_code == 0, result.output
    assert store("matrix", "set", "Burglary", "PIP2").exit_code == 0
    assert store("matrix", "set", "Robbery", "PIP2").exit_code == 0
    return store


@pytest.fixture
def tamper(db_url: str, sql) -> Callable[..., list[tuple[Any, ...]]]:  # type: ignore[no-untyped-def]
    """Change the store behind caseload's back: the sqlite3 module on SQLite, SQL on PostgreSQL,
    as the tables' owner who first drops the append-only triggers (test_guards.py)."""
    drop_guards(sql, db_url)
    if "://" in db_url:
        return sql  # type: ignore[no-any-return]

    def _sqlite(statement: str, **params: Any) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(db_url)
        try:
            with conn:
                return conn.execute(statement, params).fetchall()
        finally:
            conn.close()

    return _sqlite


def _row(tamper, entry_id: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from datetime import datetime

    (row,) = tamper(
        "SELECT id, at, actor, login, kind, crime_ref, collar, reason, detail, prev_hash, hash "
        "FROM log_entry WHERE id = :id",
        id=entry_id,
    )
    keys = ("id", "at", "actor", "login", "kind", "crime_ref", "collar", "reason", "detail")
    entry = dict(zip((*keys, "prev_hash"), row[:10], strict=True))
    if isinstance(entry["at"], str):
        entry["at"] = datetime.fromisoformat(entry["at"])
    return entry


def _broken(run, expected: str, *args: str) -> None:  # type: ignore[no-untyped-def]
    result = run("verify", *args)
    assert result.exit_code == 1, result.output
    assert expected in result.stderr, result.stderr
    assert "Traceback" not in result.output


def test_an_intact_log_verifies(logged) -> None:  # type: ignore[no-untyped-def]
    result = logged("verify")
    assert result.exit_code == 0, result.output
    assert "intact: 6 entries" in result.stderr
    assert result.stdout.startswith("head 6 ")
    assert logged("verify", "--batch", "1").stdout == result.stdout


def test_an_empty_log_verifies(store) -> None:  # type: ignore[no-untyped-def]
    result = store("verify")
    assert result.exit_code == 0
    assert "empty" in result.stderr


def test_a_changed_entry_is_named(logged, tamper) -> None:  # type: ignore[no-untyped-def]
    tamper("UPDATE log_entry SET reason = 'nothing to see here' WHERE id = 3")
    _broken(logged, "entry 3 was changed")
    _broken(logged, "entry 3 was changed", "--batch", "2")


def test_a_changed_entry_with_its_hash_recomputed_is_named(logged, tamper) -> None:  # type: ignore[no-untyped-def]
    """A forger who knows the algorithm rewrites entry 3 and its hash: entry 4 no longer
    chains to it."""
    entry = _row(tamper, 3)
    entry["actor"] = "someone-else"
    forged = entry_hash(entry["prev_hash"], entry)
    tamper("UPDATE log_entry SET actor = :a, hash = :h WHERE id = 3", a="someone-else", h=forged)
    _broken(logged, "entry 3 was changed")


def test_a_changed_collar_in_the_first_entry_is_named(logged, tamper) -> None:  # type: ignore[no-untyped-def]
    tamper("UPDATE log_entry SET collar = 'ZZ9' WHERE id = 1")
    _broken(logged, "entry 1 was changed")


def test_a_removed_entry_is_named(logged, tamper) -> None:  # type: ignore[no-untyped-def]
    tamper("DELETE FROM log_entry WHERE id = 4")
    _broken(logged, "entry 4 was removed")


def test_removing_the_first_entries_is_caught(logged, tamper) -> None:  # type: ignore[no-untyped-def]
    tamper("DELETE FROM log_entry WHERE id <= 2")
    _broken(logged, "entry 1 was removed (entries 1-2 missing)")


def test_an_inserted_entry_is_named(logged, tamper) -> None:  # type: ignore[no-untyped-def]
    """A decision slipped in between entries 2 and 3 (the later ids moved up to make room),
    even with a correctly computed hash chained to entry 2."""
    tamper("UPDATE log_entry SET id = -id WHERE id >= 3")
    tamper("UPDATE log_entry SET id = 1 - id WHERE id < 0")
    fake = _row(tamper, 2)
    fake.update(id=3, kind="policy", reason="backdated", prev_hash=fake["hash"] if "hash" in fake
                else tamper("SELECT hash FROM log_entry WHERE id = 2")[0][0])  # fmt: skip
    fake_hash = entry_hash(fake["prev_hash"], fake)
    tamper(
        "INSERT INTO log_entry (id, at, actor, login, kind, crime_ref, collar, reason, detail, "
        "prev_hash, hash) VALUES (:id, :at, :actor, :login, :kind, :crime_ref, :collar, :reason, "
        ":detail, :prev_hash, :hash)",
        **{**fake, "hash": fake_hash},
    )
    assert tamper("SELECT count(*) FROM log_entry") == [(7,)]
    _broken(logged, "entry 3 was inserted")


def test_an_entry_appended_with_a_made_up_hash_is_caught(logged, tamper) -> None:  # type: ignore[no-untyped-def]
    tamper(
        "INSERT INTO log_entry (id, at, actor, kind, reason, detail, prev_hash, hash) "
        "SELECT 7, at, actor, 'policy', 'limit raised', '{}', hash, hash FROM log_entry "
        "WHERE id = 6"
    )
    _broken(logged, "entry 7 was changed or inserted")


def test_the_tool_itself_keeps_the_chain_across_commands(logged) -> None:  # type: ignore[no-untyped-def]
    """Entries appended after a verify still chain: verify sees the new head."""
    first = logged("verify").stdout
    assert logged("policy", "set", "limit_mode", "block").exit_code == 0
    second = logged("verify")
    assert second.exit_code == 0
    assert second.stdout.startswith("head 7 ") and second.stdout != first
