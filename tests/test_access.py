"""Who may do what on PostgreSQL, enforced by the database: real logins (``CREATE ROLE ...
LOGIN`` on the test server, trust authentication on loopback) act through caseload and
through plain SQL; a supervisor is refused outside their teams, an analyst every write,
and the log names the login. On SQLite ``access`` says it is for PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from caseload.cli.app import app
from tests.helpers.cli import caseload_exe

TEAM_A, TEAM_B = "Lewisham CID", "Bromley CID"
Acting = Callable[..., Result]


def _as(db_url: str, login: str) -> str:
    """The store's URL with another user (the server trusts loopback logins)."""
    return sa.engine.make_url(db_url).set(username=login).render_as_string(hide_password=False)


def _sql_as(url: str, statement: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            result = conn.execute(sa.text(statement), params)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


@pytest.fixture
def pg_url(db_url: str) -> str:
    if "://" not in db_url:
        pytest.skip("roles and logins are PostgreSQL's")
    return db_url


@pytest.fixture
def logins(pg_url: str) -> Iterator[dict[str, str]]:
    """Three new logins (two supervisors, an analyst) and an admin; dropped afterwards with
    the store's roles (``DROP OWNED`` first: their privileges on the store's tables)."""
    tag = uuid.uuid4().hex[:8]
    names = {k: f"cl_{k}_{tag}" for k in ("sup_a", "sup_b", "analyst", "admin")}
    schema = dict(sa.engine.make_url(pg_url).query)["options"].split("=", 1)[1]
    admin_engine = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
    with admin_engine.begin() as conn:
        for name in names.values():
            conn.exec_driver_sql(f"CREATE ROLE {name} LOGIN")
    try:
        yield names
    finally:
        with admin_engine.begin() as conn:
            roles = [f"caseload_{r}_{schema}" for r in ("admin", "supervisor", "analyst")]
            present = {r for (r,) in conn.exec_driver_sql("SELECT rolname FROM pg_roles").all()}
            for name in [*names.values(), *roles]:
                if name in present:
                    conn.exec_driver_sql(f"DROP OWNED BY {name}")
                    conn.exec_driver_sql(f"DROP ROLE {name}")
        admin_engine.dispose()


@pytest.fixture
def force(store, pg_url, logins, tmp_path) -> dict[str, Acting]:  # type: ignore[no-untyped-def]
    """Two teams, an officer and two crimes in each; access set up and granted."""
    for team in (TEAM_A, TEAM_B):
        assert store("team", "add", team).exit_code == 0
    officers = tmp_path / "officers.csv"
    officers.write_text(
        "collar,name,team,accreditation,investigator_since,trainee\n"
        f"AB1,Ada Byron,{TEAM_A},PIP2,2019-01-01,no\n"
        f"CD2,Cy Dee,{TEAM_B},PIP2,2019-01-01,no\n"
        f"TR1,Tia Rainer,{TEAM_A},PIP2,2025-06-01,yes\n"
    )
    assert store("import", "officers", str(officers)).exit_code == 0
    crimes = tmp_path / "crimes.csv"
    crimes.write_text(
        "reference,crime_type,reported_on,team\n"
        f"A1,Burglary,2026-11-01,{TEAM_A}\nA2,Burglary,2026-11-01,{TEAM_A}\n"
        f"B1,Burglary,2026-11-01,{TEAM_B}\nB2,Burglary,2026-11-01,{TEAM_B}\n"
    )
    assert store("import", "crimes", str(crimes)).exit_code == 0
    setup = store("access", "setup")
    assert setup.exit_code == 0, setup.output
    assert store("access", "setup").exit_code == 0  # idempotent
    for login, args in (
        (logins["sup_a"], ["--role", "supervisor", "--team", TEAM_A]),
        (logins["sup_b"], ["--role", "supervisor", "--team", TEAM_B]),
        (logins["analyst"], ["--role", "analyst"]),
        (logins["admin"], ["--role", "admin"]),
    ):
        result = store("access", "grant", login, *args)
        assert result.exit_code == 0, result.output
    runner = CliRunner()

    def acting(who: str) -> Acting:
        url = _as(pg_url, logins[who])

        def _run(*args: str, env: dict[str, str] | None = None) -> Result:
            return runner.invoke(app, ["--db", url, *args], env=env)

        return _run

    return {who: acting(who) for who in logins} | {"owner": store}


def _counts(sql) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    tables = ("log_entry", "allocation", "review", "key_event", "victim_update", "crime",
              "officer", "policy_setting", "matrix_entry", "finalisation")  # fmt: skip
    return tuple(sql(f"SELECT count(*) FROM {t}")[0][0] for t in tables)


def test_a_supervisor_acts_in_their_team_and_the_log_names_their_login(force, logins, sql) -> None:  # type: ignore[no-untyped-def]
    result = force["sup_a"]("assign", "A1", "AB1", "--reason", "first",
                            env={"CASELOAD_ACTOR": "DS Morgan"})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert force["sup_a"]("review", "A1", "--note", "plan set").exit_code == 0
    login = logins["sup_a"]
    assert sql("SELECT actor, login FROM log_entry WHERE kind = 'allocate'") == [
        ("DS Morgan", login)
    ]
    assert sql("SELECT actor, login FROM allocation") == [("DS Morgan", login)]
    history = force["owner"]("history", "A1", "--format", "plain", "--wide")
    assert f"DS Morgan (login {login})" in history.stdout
    shown = force["owner"]("crime", "show", "A1", "--format", "json")
    assert f'"login": "{login}"' in shown.stdout
    assert force["owner"]("verify").exit_code == 0


def test_a_supervisor_does_all_their_work_in_their_team(force, logins, sql) -> None:  # type: ignore[no-untyped-def]
    """Every kind of supervisor write goes through in the granted team."""
    sup = force["sup_a"]
    for args in (
        ("assign", "A1", "AB1", "--reason", "first"),
        ("assign", "A2", "TR1", "--reason", "first"),
        ("assign", "A2", "AB1", "--reason", "transfer"),
        ("unassign", "A2", "--reason", "back to the queue"),
        ("event", "A1", "suspect-arrested"),
        ("victim-update", "A1", "--note", "told of the arrest"),
        ("review", "A1", "--note", "next steps set"),
        ("victim-referral", "A1"),
        ("crime", "victim", "A1", "--enhanced", "vulnerable", "--reason", "lives alone"),
        ("crime", "link", "A1", "A2", "--kind", "series"),
        ("crime", "add", "A3", "--type", "Burglary", "--team", TEAM_A, "--reported", "2026-11-02"),
        ("crime", "finalise", "A1", "--outcome", "18"),
        ("crime", "reopen", "A1", "--unallocated", "--reason", "new lead"),
        ("rebalance", "--team", TEAM_A, "--apply", "--reason", "even out"),
    ):
        result = sup(*args)
        assert result.exit_code == 0, (args, result.output)
    assert sql("SELECT DISTINCT login FROM log_entry WHERE login <> session_user") == [
        (logins["sup_a"],)
    ]
    refused = sup("crime", "link", "A1", "B1", "--kind", "suspect")
    assert refused.exit_code == 5, refused.output
    assert TEAM_B in refused.stderr
    for args in (
        ("victim-referral", "B1"),
        ("crime", "victim", "B1", "--enhanced", "most-serious", "--reason", "x"),
    ):
        refused = sup(*args)
        assert refused.exit_code == 5, (args, refused.output)
    assert sql("SELECT count(*) FROM victim_referral") == [(1,)]
    assert force["owner"]("verify").exit_code == 0
    assert force["owner"]("db", "check").exit_code == 0


def test_a_supervisor_is_refused_outside_their_team_through_caseload(  # type: ignore[no-untyped-def]
    force, logins, pg_url, sql
) -> None:
    before = _counts(sql)
    for args in (
        ("assign", "B1", "AB1", "--reason", "not mine"),
        ("assign", "B1", "CD2", "--reason", "not mine"),
        ("review", "B1", "--note", "not mine"),
        ("victim-update", "B1", "--note", "not mine"),
    ):
        result = force["sup_a"](*args)
        assert result.exit_code == 5, (args, result.output)
        message = result.stderr.strip()
        assert message.startswith("Error: Not permitted"), message
        assert logins["sup_a"] in message and TEAM_B in message and args[0] in message
        assert "nothing was written" in message
        assert "Traceback" not in result.output
        assert message.count("\n") == 0
    # The installed command, as a supervisor types it.
    typed = subprocess.run(
        [*caseload_exe(), "assign", "B2", "AB1", "--reason", "not mine"],
        capture_output=True,
        text=True,
        env={**os.environ, "CASELOAD_DB": _as(pg_url, logins["sup_a"])},
        timeout=60,
    )
    assert typed.returncode == 5, typed.stderr
    assert typed.stderr.count("\n") == 1 and TEAM_B in typed.stderr
    assert _counts(sql) == before
    # The other supervisor may.
    assert force["sup_b"]("assign", "B1", "CD2", "--reason", "mine").exit_code == 0


def test_a_supervisor_is_refused_outside_their_team_through_plain_sql(  # type: ignore[no-untyped-def]
    force, logins, pg_url, sql
) -> None:
    url = _as(pg_url, logins["sup_a"])
    before = _counts(sql)
    b1 = sql("SELECT id FROM crime WHERE reference = 'B1'")[0][0]
    team_a = sql("SELECT id FROM team WHERE name = :n", n=TEAM_A)[0][0]
    cd2 = sql("SELECT id FROM officer WHERE collar = 'CD2'")[0][0]
    for statement in (
        f"UPDATE crime SET holder_id = {cd2} WHERE id = {b1}",
        f"UPDATE crime SET team_id = {team_a} WHERE id = {b1}",  # taking it into their team
        f"INSERT INTO review (crime_id, reviewed_on, at, actor, note) "
        f"VALUES ({b1}, '2026-11-02', now(), 'x', 'sneaky')",
        f"INSERT INTO allocation (crime_id, officer_id, start_at, actor, reason, warnings, auto) "
        f"VALUES ({b1}, {cd2}, now(), 'x', 'sneaky', '', false)",
        "UPDATE officer SET capacity = 50",
        "UPDATE policy_setting SET value = 'warn'",
        "DELETE FROM review",
        f"INSERT INTO access_grant (login, team_id) SELECT '{logins['sup_a']}', id FROM team",
        "INSERT INTO log_entry (id, at, actor, login, kind, reason, detail, prev_hash, hash) "
        "VALUES (999, now(), 'x', 'someone-else', 'policy', '', '{}', 'x', 'x')",
        "UPDATE log_entry SET reason = 'rewritten'",
    ):
        with pytest.raises(sa.exc.DBAPIError) as caught:
            _sql_as(url, statement)
        assert getattr(caught.value.orig, "sqlstate", None) == "42501", statement
    assert _counts(sql) == before
    # Row-level security under the trigger: with the scope trigger gone, the policy refuses.
    sql("DROP TRIGGER caseload_team_scope ON review")
    with pytest.raises(sa.exc.DBAPIError, match="row-level security"):
        _sql_as(url, f"INSERT INTO review (crime_id, reviewed_on, at, actor, note) "
                     f"VALUES ({b1}, '2026-11-02', now(), 'x', 'sneaky')")  # fmt: skip


def test_an_analyst_reads_and_exports_but_every_write_is_refused(  # type: ignore[no-untyped-def]
    force, logins, sql, tmp_path
) -> None:
    analyst = force["analyst"]
    assert analyst("workload").exit_code == 0
    assert analyst("audit").exit_code in (0, 1)
    out = tmp_path / "exported-crimes.csv"  # crimes.csv is the fixture's import
    exported = analyst("export", "crimes", "--output", str(out))
    assert exported.exit_code == 0, exported.output
    assert analyst("history").exit_code == 0
    before = _counts(sql)
    for args in (
        ("assign", "A1", "AB1", "--reason", "x"),
        ("review", "A1", "--note", "x"),
        ("event", "A1", "suspect-arrested"),
        ("crime", "add", "A9", "--type", "Burglary", "--team", TEAM_A, "--reported", "2026-11-01"),
        ("crime", "finalise", "A1", "--outcome", "18"),
        ("policy", "set", "limit_mode", "block"),
        ("matrix", "set", "Robbery", "PIP3"),
        ("officer", "add", "EF3", "--name", "E F", "--team", TEAM_A, "-a", "PIP2",
         "--since", "2020-01-01"),
        ("access", "grant", logins["analyst"], "--role", "admin"),
        ("audit", "--record"),
    ):  # fmt: skip
        result = analyst(*args)
        assert result.exit_code == 5, (args, result.output)
        assert logins["analyst"] in result.stderr and "Not permitted" in result.stderr
    assert _counts(sql) == before


def test_roles_keep_to_their_work(force, logins, sql) -> None:  # type: ignore[no-untyped-def]
    """An admin sets policy and officers but allocates nothing; a supervisor sets no policy."""
    assert force["admin"]("policy", "set", "limit_mode", "block").exit_code == 0
    assert force["admin"]("officer", "add", "EF3", "--name", "E F", "--team", TEAM_A,
                          "-a", "PIP2", "--since", "2020-01-01").exit_code == 0  # fmt: skip
    refused = force["admin"]("assign", "A1", "AB1", "--reason", "x")
    assert refused.exit_code == 5, refused.output
    refused = force["sup_a"]("policy", "set", "limit_mode", "warn")
    assert refused.exit_code == 5
    assert logins["sup_a"] in refused.stderr and "policy set" in refused.stderr
    assert sql("SELECT value FROM policy_setting WHERE name = 'limit_mode'") == [("block",)]
    assert sql("SELECT login FROM log_entry WHERE kind = 'policy'") == [(logins["admin"],)]


def test_access_list_grant_and_revoke(force, logins) -> None:  # type: ignore[no-untyped-def]
    owner = force["owner"]
    listed = owner("access", "list", "--format", "csv").stdout
    assert f"{logins['sup_a']},supervisor,{TEAM_A}," in listed
    assert f"{logins['analyst']},analyst,," in listed
    assert owner("access", "grant", logins["sup_a"], "--role", "supervisor",
                 "--team", TEAM_B).exit_code == 0  # fmt: skip
    assert force["sup_a"]("assign", "B1", "CD2", "--reason", "now mine").exit_code == 0
    assert owner("access", "revoke", logins["sup_a"], "--team", TEAM_B).exit_code == 0
    assert force["sup_a"]("assign", "B2", "CD2", "--reason", "not again").exit_code == 5
    assert owner("access", "revoke", logins["sup_a"]).exit_code == 0
    gone = force["sup_a"]("assign", "A2", "AB1", "--reason", "gone")
    assert gone.exit_code == 5, gone.output
    assert logins["sup_a"] in gone.stderr
    assert logins["sup_a"] not in owner("access", "list", "--format", "csv").stdout
    unknown = owner("access", "grant", "no_such_login_x", "--role", "analyst")
    assert unknown.exit_code == 2 and "no database login" in unknown.stderr
    no_team = owner("access", "grant", logins["sup_b"], "--role", "supervisor")
    assert no_team.exit_code == 2
    kinds = owner("history", "--kind", "access-grant", "--format", "json").stdout
    assert logins["sup_a"] in kinds


def test_only_the_owner_sets_up_access(force, logins) -> None:  # type: ignore[no-untyped-def]
    result = force["sup_a"]("access", "setup")
    assert result.exit_code == 5
    assert logins["sup_a"] in result.stderr


def test_thirty_assigns_across_two_supervisor_logins_hold_the_cap(  # type: ignore[no-untyped-def]
    force, logins, pg_url, sql, tmp_path
) -> None:
    """Both supervisors hold team A; 30 simultaneous allocations (threads, each its own
    connection as one of the two logins, released together) to a trainee whose limit is 5:
    exactly 5 are made, the rest refused by policy."""
    from datetime import datetime

    from caseload.errors import PolicyRefused
    from caseload.store.allocation import allocate
    from caseload.store.connection import Store

    owner = force["owner"]
    added = owner("access", "grant", logins["sup_b"], "--role", "supervisor", "--team", TEAM_A)
    assert added.exit_code == 0
    assert owner("policy", "set", "limit_mode", "block").exit_code == 0
    assert owner("policy", "set", "inexperienced_limit", "5").exit_code == 0
    crimes = tmp_path / "more.csv"
    rows = "".join(f"M{n},Burglary,2026-11-01,{TEAM_A}\n" for n in range(30))
    crimes.write_text("reference,crime_type,reported_on,team\n" + rows)
    assert owner("import", "crimes", str(crimes)).exit_code == 0
    stores = {who: Store(_as(pg_url, logins[who])) for who in ("sup_a", "sup_b")}
    gate = threading.Barrier(30)
    outcomes: list[str] = []

    def one(n: int) -> None:
        store = stores["sup_a" if n % 2 else "sup_b"]
        gate.wait()
        try:
            with store.write() as conn:
                allocate(conn, f"M{n}", "TR1", actor="burst", at=datetime.now(), reason="burst",
                         override=None)  # fmt: skip
            outcomes.append("made")
        except PolicyRefused:
            outcomes.append("refused")
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes.append(repr(exc))

    started = time.monotonic()
    threads = [threading.Thread(target=one, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    elapsed = time.monotonic() - started
    for store in stores.values():
        store.dispose()
    assert sorted(set(outcomes)) == ["made", "refused"], outcomes
    assert outcomes.count("made") == 5
    assert sql("SELECT count(*) FROM crime WHERE holder_id IS NOT NULL") == [(5,)]
    logged = sql("SELECT login, count(*) FROM log_entry WHERE kind = 'allocate' GROUP BY login")
    assert sum(n for _, n in logged) == 5
    assert {login for login, _ in logged} <= {logins["sup_a"], logins["sup_b"]}
    assert owner("verify").exit_code == 0
    assert elapsed < 20, elapsed


def test_access_is_for_postgresql(store, db_url) -> None:  # type: ignore[no-untyped-def]
    if "://" in db_url:
        pytest.skip("the SQLite refusal")
    for args in (("setup",), ("list",), ("grant", "dmorgan", "--role", "analyst")):
        result = store("access", *args)
        assert result.exit_code == 2, result.output
        assert "PostgreSQL" in result.stderr and "permissions" in result.stderr


def test_imports_keep_to_the_logins_grants(force, logins, sql, pg_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An import's rows go in by COPY only where no row-level security applies to the login
    (store.bulk.copies_into); under team scope they are INSERTs the policies check, so a
    supervisor's file with another team's crime is refused whole, and an analyst's too."""
    from caseload.store.bulk import copies_into

    for login, table, copies in ((None, "crime", True), ("sup_a", "review", False)):
        url = pg_url if login is None else _as(pg_url, logins[login])
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                assert copies_into(conn, table) is copies, (login, table)
        finally:
            engine.dispose()
    reviews = tmp_path / "reviews.csv"
    reviews.write_text("reference,on,note\nA1,2026-11-20,first look\n")
    before = _counts(sql)
    analyst = force["analyst"]("import", "reviews", str(reviews))
    assert analyst.exit_code == 5, analyst.output
    assert _counts(sql) == before
    mine = force["sup_a"]("import", "reviews", str(reviews))
    assert mine.exit_code == 0, mine.output
    assert sql("SELECT count(*) FROM review") == [(1,)]
    theirs = tmp_path / "theirs.csv"
    theirs.write_text("reference,on,note\nB1,2026-11-20,not mine\n")
    before = _counts(sql)
    refused = force["sup_a"]("import", "reviews", str(theirs))
    assert refused.exit_code == 5, refused.output
    assert logins["sup_a"] in refused.stderr
    assert _counts(sql) == before
