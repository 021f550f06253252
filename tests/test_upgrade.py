"""Upgrades: a store at every earlier schema revision, with data in it, is brought to the
current schema by the first command that opens it, and loses nothing.

The data set is written through the schema *as it was at that revision* (columns the
revision lacks are left out), so adding a revision needs no change here unless it adds a
required column without a default: then extend ``DATA`` below.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from caseload.domain.ledger import GENESIS, entry_hash
from caseload.store.connection import Store, to_url
from caseload.store.migrate import HEAD, REVISIONS, alembic_config

AT = datetime(2025, 3, 1, 9, 30, 15, 123456)


def _log(login: str | None = None) -> list[dict[str, Any]]:
    """The log's entries; with ``login`` (schema 0005 on PostgreSQL, whose trigger refuses
    an entry naming another login than the one writing it) each names it, hashed."""
    entries = []
    prev = GENESIS
    # The policy and matrix rows below were set by logged decisions (db check replays them).
    policy = {"setting": "limit_mode", "old": "warn", "new": "block"}
    matrix = {"crime_type": "Burglary", "old": None, "new": "PIP2"}
    for n, (kind, collar, ref, detail) in enumerate(
        [
            ("officer-add", "AB1", None, {"n": 1}),
            ("crime-add", None, "01/123/25", {"n": 2}),
            ("assign", "AB1", "01/123/25", {"n": 3}),
            ("policy", None, None, policy),
            ("matrix", None, None, matrix),
        ],
        start=1,
    ):
        row = {"id": n, "at": AT, "actor": "sgt-upgrade", "kind": kind, "crime_ref": ref,
               "collar": collar, "reason": "before", "detail": json.dumps(detail)}  # fmt: skip
        if login is not None:
            row["login"] = login
        row["prev_hash"] = prev
        row["hash"] = prev = entry_hash(prev, row)
        entries.append(row)
    return entries


DATA: dict[str, list[dict[str, Any]]] = {
    "team": [{"id": 1, "name": "Lewisham CID"}],
    "officer": [
        {"id": 1, "collar": "AB1", "name": "Ada Byron", "team_id": 1, "rank": "DC",
         "accreditation": "PIP2", "investigator_since": date(2019, 5, 1), "status": "active",
         "capacity": 12, "trainee": False},
        {"id": 2, "collar": "CD2", "name": "Cy Dee", "team_id": 1, "rank": "TDC",
         "accreditation": "PIP1", "investigator_since": date(2024, 9, 1), "status": "leave",
         "capacity": None, "trainee": True},
    ],
    "crime": [
        {"id": 1, "reference": "01/123/25", "crime_type": "Burglary", "required_level": "PIP2",
         "level_defaulted": False, "reported_on": date(2025, 2, 27), "team_id": 1,
         "victim_enhanced": True, "holder_id": 1, "finalised_on": None, "outcome": None,
         "victim_update_every": 14, "created_at": AT},
        {"id": 2, "reference": "01/124/25", "crime_type": "Shoplifting", "required_level": "PIP1",
         "level_defaulted": True, "reported_on": date(2025, 2, 28), "team_id": 1,
         "victim_enhanced": False, "holder_id": 2, "finalised_on": date(2025, 3, 1),
         "outcome": 18, "victim_update_every": None, "created_at": AT},
    ],
    "allocation": [
        {"id": 1, "crime_id": 1, "officer_id": 1, "start_at": AT, "end_at": None,
         "actor": "sgt-upgrade", "reason": "first", "warnings": "", "override_reason": None,
         "ended_by": None, "end_reason": None, "plan_id": None, "auto": False},
        {"id": 2, "crime_id": 2, "officer_id": 2, "start_at": AT, "end_at": None,
         "actor": "sgt-upgrade", "reason": "first", "warnings": "over limit",
         "override_reason": "no one else", "ended_by": None, "end_reason": None,
         "plan_id": "plan-1", "auto": True},
    ],
    "finalisation": [
        {"id": 1, "crime_id": 2, "finalised_on": date(2025, 3, 1), "outcome": 18,
         "reopened_on": None, "actor": "sgt-upgrade"},
    ],
    "matrix_entry": [{"type_key": "burglary", "crime_type": "Burglary", "required_level": "PIP2"}],
    "policy_setting": [{"name": "limit_mode", "value": "block"}],
    "log_entry": _log(),
    "review": [{"id": 1, "crime_id": 1, "reviewed_on": date(2025, 3, 1), "at": AT,
                "actor": "sgt-upgrade", "note": "lines of enquiry set", "next_due": None}],
    "key_event": [{"id": 1, "crime_id": 1, "kind": "suspect-arrested",
                   "occurred_on": date(2025, 3, 1), "at": AT, "actor": "sgt-upgrade"}],
    "victim_update": [{"id": 1, "crime_id": 1, "updated_on": date(2025, 3, 1), "at": AT,
                       "actor": "sgt-upgrade", "note": "told of arrest"}],
    "crime_link": [{"id": 1, "crime_a_id": 1, "crime_b_id": 2, "kind": "series"}],
    "audit_run": [{"id": 1, "at": AT, "as_of": date(2025, 3, 1), "counts": "{}"}],
}  # fmt: skip


def _fill(conn: sa.Connection) -> dict[str, list[str]]:
    """Insert DATA through the schema as it is now; returns the columns written per table."""
    written: dict[str, list[str]] = {}
    present = set(sa.inspect(conn).get_table_names())
    for name, rows in DATA.items():
        if name not in present:
            continue
        table = sa.Table(name, sa.MetaData(), autoload_with=conn)
        if name == "log_entry" and "login" in table.c and conn.dialect.name == "postgresql":
            rows = _log(conn.exec_driver_sql("SELECT session_user").scalar_one())
        columns = [c for c in rows[0] if c in table.c]
        conn.execute(table.insert(), [{c: row[c] for c in columns} for row in rows])
        written[name] = columns
        if conn.dialect.name == "postgresql" and "id" in columns:
            conn.execute(
                sa.text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), :v)"),
                {"v": max(r["id"] for r in rows)},
            )
    return written


def _read(conn: sa.Connection, written: dict[str, list[str]]) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    for name, columns in written.items():
        table = sa.Table(name, sa.MetaData(), autoload_with=conn)
        key = table.c[columns[0]]
        rows = conn.execute(sa.select(*(table.c[c] for c in columns)).order_by(key))
        out[name] = [tuple(row) for row in rows]
    return out


@pytest.mark.parametrize("revision", REVISIONS)
def test_a_store_at_each_revision_upgrades_with_its_data(revision, db_url, run) -> None:  # type: ignore[no-untyped-def]
    from alembic import command

    store = Store(to_url(db_url))
    try:
        store.create_file()
        with store.write() as conn:
            command.upgrade(alembic_config(conn), revision)
        with store.write() as conn:
            written = _fill(conn)
            before = _read(conn, written)
    finally:
        store.dispose()
    assert set(written) == set(DATA), "every table of this revision got data"

    status = run("db", "status", "--format", "json")  # the first command upgrades the store
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)["revision"] == HEAD
    assert json.loads(status.stdout)["crimes"] == 2

    store = Store(to_url(db_url))
    try:
        with store.read() as conn:
            assert _read(conn, written) == before
    finally:
        store.dispose()
    assert run("verify").exit_code == 0
    check = run("db", "check")
    assert check.exit_code == 0, check.output
    shown = run("crime", "show", "01/123/25", "--format", "json")
    assert shown.exit_code == 0, shown.output
    assert "AB1" in shown.stdout
    # The upgraded store keeps working: a new decision chains onto the old entries.
    assert run("matrix", "set", "Robbery", "PIP2").exit_code == 0
    verified = run("verify")
    assert verified.exit_code == 0
    assert verified.stdout.startswith("head 6 ")
