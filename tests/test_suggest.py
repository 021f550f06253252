"""``caseload suggest``, ``caseload assign --auto`` and ``caseload crime link``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

OFFICERS = """collar,name,team,accreditation,investigator_since,status,capacity,trainee
A1,Ann Able,Lewisham CID,PIP2,2010-01-01,active,,no
B2,Ben Best,Lewisham CID,PIP2,2020-01-01,active,4,no
C3,Cat Cole,Lewisham CID,PIP3,2015-01-01,active,,no
D4,Dan Dee,Lewisham CID,PIP1,2015-01-01,active,,no
E5,Eve Eck,Lewisham CID,PIP2,2015-01-01,leave,,no
F6,Fay Fox,Bexley,PIP2,2015-01-01,active,,no
"""

CRIMES = """reference,crime_type,reported_on,team,required_level,holder
R1,Robbery,2026-02-01,Lewisham CID,PIP2,
H1,Burglary,2026-01-01,Lewisham CID,PIP1,A1
H2,Burglary,2026-01-01,Lewisham CID,PIP1,A1
H3,Robbery,2026-01-01,Lewisham CID,PIP2,C3
H4,Burglary,2026-01-01,Lewisham CID,PIP1,B2
"""


@pytest.fixture
def force(store, tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "officers.csv").write_text(OFFICERS)
    (tmp_path / "crimes.csv").write_text(CRIMES)
    assert store("import", "officers", str(tmp_path / "officers.csv")).exit_code == 0
    result = store("import", "crimes", str(tmp_path / "crimes.csv"))
    assert result.exit_code == 0, result.output
    return store


def ranked(run, *args: str) -> list[dict]:  # type: ignore[no-untyped-def]
    result = run("suggest", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_suggest_ranks_eligible_officers_with_reasons(force) -> None:  # type: ignore[no-untyped-def]
    rows = ranked(force, "R1")
    # D4 is PIP1 (not accredited), E5 on leave, F6 in another team.
    # Loads relative to capacity: B2 1/4 = 25%, A1 2/25 = 8%, C3 2/25 = 8%;
    # A1 and C3 tie, A1 has more experience.
    assert [r["collar"] for r in rows] == ["A1", "C3", "B2"]
    assert rows[0]["load_share"] == "8%" and rows[0]["weighted_load"] == 2
    assert "weighted load 2 against nominal 25 (8%)" in rows[0]["reasons"]
    assert rows[2]["reasons"].startswith("weighted load 1 against capacity 4 (25%)")
    assert [r["collar"] for r in ranked(force, "R1", "--top", "1")] == ["A1"]

    table = force("suggest", "R1")
    assert table.exit_code == 0
    assert "Who could take R1 (Robbery, standard risk, needs PIP2, Lewisham CID)" in table.stderr


def test_a_linked_crime_puts_its_holder_first(force, sql) -> None:  # type: ignore[no-untyped-def]
    result = force("crime", "link", "R1", "H4", "--kind", "suspect")
    assert result.exit_code == 0, result.output
    assert "Linked R1 and H4 (same suspect)." in result.stderr
    rows = ranked(force, "R1")
    assert [r["collar"] for r in rows][0] == "B2"
    assert rows[0]["linked"] == "H4"
    assert rows[0]["reasons"].startswith("holds linked H4")
    assert sql("SELECT kind FROM crime_link") == [("suspect",)]
    assert sql("SELECT count(*) FROM log_entry WHERE kind = 'crime-link'") == [(1,)]


def test_crime_link_rejects_bad_input(force, sql) -> None:  # type: ignore[no-untyped-def]
    assert force("crime", "link", "R1", "R1", "--kind", "victim").exit_code == 2
    bad_kind = force("crime", "link", "R1", "H1", "--kind", "cousin")
    assert bad_kind.exit_code == 2 and "not a link kind" in bad_kind.stderr
    assert force("crime", "link", "R1", "NOPE", "--kind", "victim").exit_code == 2
    assert force("crime", "link", "H1", "R1", "--kind", "victim").exit_code == 0
    again = force("crime", "link", "R1", "H1", "--kind", "series")
    assert again.exit_code == 2 and "already linked (victim)" in again.stderr
    assert sql("SELECT count(*) FROM crime_link") == [(1,)]


def test_nobody_eligible_explains_each_group_and_exits_3(force, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "c.csv").write_text(
        "reference,crime_type,reported_on,team,required_level\n"
        "K1,Murder,2026-03-01,Lewisham CID,PIP4\n"
    )
    assert force("import", "crimes", str(tmp_path / "c.csv")).exit_code == 0
    result = force("suggest", "K1")
    assert result.exit_code == 3
    assert "Nobody in Lewisham CID can take K1 (needs PIP4)" in result.stderr
    assert "4 officers not accredited to PIP4: A1, B2, C3, D4" in result.stderr
    assert "1 officer on leave: E5" in result.stderr
    assert result.stdout == ""


def test_any_team_looks_further(force) -> None:  # type: ignore[no-untyped-def]
    rows = ranked(force, "R1", "--any-team")
    assert "F6" in [r["collar"] for r in rows]
    assert next(r for r in rows if r["collar"] == "F6")["team"] == "Bexley"


def test_finalised_crime_cannot_be_suggested(force) -> None:  # type: ignore[no-untyped-def]
    assert force("crime", "finalise", "H1", "--outcome", "18").exit_code == 0
    result = force("suggest", "H1")
    assert result.exit_code == 2 and "finalised" in result.stderr


def test_assign_auto_takes_the_top_suggestion_and_records_it(force, sql) -> None:  # type: ignore[no-untyped-def]
    result = force("assign", "R1", "--auto", "--reason", "new robbery")
    assert result.exit_code == 0, result.output
    assert (
        "Chosen automatically (top suggestion): weighted load 2 against nominal 25" in result.stderr
    )
    assert "Allocated R1 to A1." in result.stderr
    rows = sql(
        "SELECT o.collar, a.auto, a.reason FROM allocation a JOIN crime c ON c.id = a.crime_id "
        "JOIN officer o ON o.id = a.officer_id WHERE c.reference = 'R1'"
    )
    assert [(collar, bool(auto), reason) for collar, auto, reason in rows] == [
        ("A1", True, "new robbery")
    ]


def test_assign_auto_refuses_when_nobody_is_eligible(force, sql, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "c.csv").write_text(
        "reference,crime_type,reported_on,team,required_level\n"
        "K1,Murder,2026-03-01,Lewisham CID,PIP4\n"
    )
    assert force("import", "crimes", str(tmp_path / "c.csv")).exit_code == 0
    result = force("assign", "K1", "--auto", "--reason", "x")
    assert result.exit_code == 3
    assert "--override" not in result.stderr
    assert sql("SELECT holder_id FROM crime WHERE reference = 'K1'") == [(None,)]
    both = force("assign", "R1", "A1", "--auto", "--reason", "x")
    assert both.exit_code == 2
