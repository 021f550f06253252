"""``caseload init --sample``: the synthetic force, loaded through import, shaped for the demo."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta

from caseload.store.connection import Store, to_url
from caseload.store.sample import anchor, load_sample, sample_dir
from tests.helpers.cli import REPO

POLICE_UK_TYPES = {
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
}

LIVE_BY_OFFICER = """
    SELECT o.collar, o.rank, o.trainee, o.investigator_since, o.status, count(c.id) AS live
    FROM officer o LEFT JOIN crime c ON c.holder_id = o.id AND c.finalised_on IS NULL
    GROUP BY o.id, o.collar, o.rank, o.trainee, o.investigator_since, o.status
"""


@pytest.fixture
def sample(run):  # type: ignore[no-untyped-def]
    result = run("init", "--sample")
    assert result.exit_code == 0, result.output
    return result


def test_sample_loads_a_force(sample, sql) -> None:  # type: ignore[no-untyped-def]
    assert "Loaded the sample force: 3 teams, 44 officers, 1,000 crimes" in sample.stderr
    teams = {name for (name,) in sql("SELECT name FROM team")}
    assert teams == {"Lewisham CID", "Greenwich CID", "Bexley Volume Crime"}
    matrix = {t for (t,) in sql("SELECT crime_type FROM matrix_entry")}
    assert matrix == POLICE_UK_TYPES
    assert {t for (t,) in sql("SELECT DISTINCT crime_type FROM crime")} == POLICE_UK_TYPES
    levels = {lvl for (lvl,) in sql("SELECT DISTINCT accreditation FROM officer")}
    assert {"PIP1", "PIP2", "PIP3"} <= levels
    assert {s for (s,) in sql("SELECT DISTINCT status FROM officer")} >= {
        "active",
        "leave",
        "abstracted",
    }
    assert sql("SELECT count(*) FROM officer WHERE trainee AND rank = 'TDC'")[0][0] >= 3
    assert sql("SELECT count(*) FROM officer WHERE capacity IS NOT NULL")[0][0] >= 3
    required = {lvl for (lvl,) in sql("SELECT DISTINCT required_level FROM crime")}
    assert {"PIP1", "PIP2", "PIP3"} <= required
    live, held, finalised = sql(
        "SELECT sum(CASE WHEN finalised_on IS NULL THEN 1 ELSE 0 END),"
        " sum(CASE WHEN finalised_on IS NULL AND holder_id IS NOT NULL THEN 1 ELSE 0 END),"
        " sum(CASE WHEN finalised_on IS NOT NULL AND outcome IS NOT NULL THEN 1 ELSE 0 END)"
        " FROM crime"
    )[0]
    assert held > live * 0.9 and finalised > 200 and live + finalised == 1000
    # Dated relative to today: reported over the last year, the newest today.
    first, last = sql("SELECT min(reported_on), max(reported_on) FROM crime")[0]
    today = date.today()
    assert str(last) == today.isoformat()
    assert date.fromisoformat(str(first)) >= today - timedelta(days=366)


def test_sample_is_shaped_for_the_allocation_and_audit_demo(sample, sql, run) -> None:  # type: ignore[no-untyped-def]
    today = date.today()
    two_years_ago = today - relativedelta(months=24)
    officers = sql(LIVE_BY_OFFICER)
    inexperienced = [
        row for row in officers if row[2] or date.fromisoformat(str(row[3])) > two_years_ago
    ]
    at_limit = [row for row in inexperienced if row[5] == 25]
    assert len(at_limit) == 1  # exactly one inexperienced officer at exactly 25 live
    assert any(row[5] > 25 for row in inexperienced)  # and one over the limit
    assert any(row[4] == "leave" and row[5] > 0 for row in officers)
    # A live crime needing PIP3 in a team where most officers hold less.
    rows = sql(
        "SELECT c.reference,"
        " (SELECT count(*) FROM officer o WHERE o.team_id = c.team_id),"
        " (SELECT count(*) FROM officer o WHERE o.team_id = c.team_id"
        "  AND o.accreditation IN ('PIP3', 'PIP4'))"
        " FROM crime c WHERE c.required_level = 'PIP3' AND c.finalised_on IS NULL"
    )
    assert any(qualified * 2 < members for _, members, qualified in rows)
    churn = sql(
        "SELECT max(n) FROM (SELECT crime_id, count(*) AS n FROM allocation GROUP BY crime_id) x"
    )[0][0]
    assert churn >= 7  # six reassignments or more
    waiting = sql(
        "SELECT count(*) FROM crime WHERE finalised_on IS NULL AND holder_id IS NULL"
        " AND reported_on < :cutoff",
        cutoff=today - timedelta(days=2),
    )[0][0]
    assert waiting >= 3
    # The next allocation to the officer at the limit warns, and is recorded.
    collar = at_limit[0][0]
    team_of = sql("SELECT team_id FROM officer WHERE collar = :c", c=collar)[0][0]
    reference = sql(
        "SELECT reference FROM crime WHERE team_id = :t AND holder_id IS NULL"
        " AND finalised_on IS NULL AND required_level = 'PIP1' ORDER BY reference",
        t=team_of,
    )[0][0]
    result = run("assign", reference, collar, "--reason", "demo")
    assert result.exit_code == 0, result.output
    assert "26 live crimes; limit 25" in result.stderr


def test_sample_refuses_a_store_that_holds_officers(store, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    officers = tmp_path / "o.csv"
    officers.write_text(
        "collar,name,team,accreditation,investigator_since\nA1,A B,T,PIP1,2020-01-01\n"
    )
    assert store("import", "officers", str(officers)).exit_code == 0
    before = sql("SELECT count(*) FROM officer")[0][0], sql("SELECT count(*) FROM crime")[0][0]
    result = store("init", "--sample")
    assert result.exit_code == 2
    assert "already holds officers" in result.stderr
    assert (
        sql("SELECT count(*) FROM officer")[0][0],
        sql("SELECT count(*) FROM crime")[0][0],
    ) == before


def test_loading_the_sample_again_says_so_and_changes_nothing(sample, sql, run) -> None:  # type: ignore[no-untyped-def]
    before = sql("SELECT count(*) FROM log_entry")[0][0], sql("SELECT count(*) FROM crime")[0][0]
    again = run("init", "--sample")
    assert again.exit_code == 0  # the README's first line can run twice
    assert again.stderr.splitlines()[-1] == (
        "The sample force is already loaded in this store; nothing was changed."
    )
    after = sql("SELECT count(*) FROM log_entry")[0][0], sql("SELECT count(*) FROM crime")[0][0]
    assert after == before


@pytest.mark.sqlite_only
def test_load_on_the_anchor_day_keeps_the_files_dates(store, db_url) -> None:  # type: ignore[no-untyped-def]
    day = anchor()
    target = Store(to_url(db_url))
    try:
        summary = load_sample(target, actor="tester", today=day)
        with target.read() as conn:
            newest = conn.exec_driver_sql("SELECT max(reported_on) FROM crime").scalar_one()
    finally:
        target.dispose()
    assert "1,000 crimes" in summary
    assert newest == day.isoformat()


def test_the_files_are_what_the_generator_writes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = sample_dir()
    assert folder == REPO / "sample_data"
    script = folder / "generate.py"
    subprocess.run([sys.executable, str(script), str(tmp_path)], check=True, timeout=120)
    for name in (
        "anchor.txt",
        "matrix.csv",
        "officers.csv",
        "crimes.csv",
        "history.csv",
        "absences.csv",
    ):
        assert (tmp_path / name).read_bytes() == (folder / name).read_bytes(), name


@pytest.mark.slow
def test_the_wheel_ships_the_sample_data(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    wheel = next(Path(tmp_path).glob("caseload-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in (
        "anchor.txt",
        "matrix.csv",
        "officers.csv",
        "crimes.csv",
        "history.csv",
        "absences.csv",
    ):
        assert f"caseload/sample_data/{name}" in names
