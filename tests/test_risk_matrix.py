"""The matrix by crime type and risk: a crime needs the highest level among the rows
matching its type and current grade; raising the grade past the holder's accreditation is
refused in block mode, warned (and found by the audit) when overridden or in warn mode,
and rebalance re-homes it; weight_high_risk counts a high-risk crime heavier."""

from __future__ import annotations

import json

import pytest

from tests.helpers.cli import Runner
from tests.helpers.force import pip1_holder_and_pip2_spare
from tests.helpers.store import log_entries


@pytest.fixture
def force(store: Runner, db_url: str) -> Runner:
    """AB1 (PIP1) holds CR/1 and CR/2 (Burglary, PIP1); CD2 (PIP2) holds nothing."""
    pip1_holder_and_pip2_spare(db_url)
    for args in (("Burglary", "PIP1"), ("Burglary", "PIP2", "--risk", "medium")):
        result = store("matrix", "set", *args)
        assert result.exit_code == 0, result.output
    return store


def level(sql, ref: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    return sql("SELECT required_level, risk FROM crime WHERE reference = :r", r=ref)[0]  # type: ignore[no-any-return]


def test_matrix_set_and_list_by_risk(force: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    result = force("matrix", "set", "Burglary", "PIP3", "--risk", "high")
    assert result.exit_code == 0, result.output
    assert "Burglary at high risk or above now requires PIP3 (new row)." in result.stderr
    rows = json.loads(force("matrix", "list", "--format", "json").stdout)
    assert rows == [
        {"crime_type": "Burglary", "risk": "", "required_level": "PIP1"},
        {"crime_type": "Burglary", "risk": "medium", "required_level": "PIP2"},
        {"crime_type": "Burglary", "risk": "high", "required_level": "PIP3"},
    ]
    entries = log_entries(sql, "matrix")
    assert entries[-1]["detail"] == {
        "crime_type": "Burglary",
        "old": None,
        "new": "PIP3",
        "risk": "high",
    }
    bad = force("matrix", "set", "Burglary", "PIP3", "--risk", "severe")
    assert bad.exit_code == 2


def test_matrix_import_reads_an_optional_risk_column(store: Runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "matrix.csv"
    path.write_text(
        "crime_type,required_level,risk\nRobbery,PIP1,\nRobbery,PIP2,high\nDrugs,PIP1,standard\n"
    )
    result = store("matrix", "import", str(path))
    assert result.exit_code == 0, result.output
    rows = json.loads(store("matrix", "list", "--format", "json").stdout)
    assert [(r["crime_type"], r["risk"], r["required_level"]) for r in rows] == [
        ("Drugs", "", "PIP1"),
        ("Robbery", "", "PIP1"),
        ("Robbery", "high", "PIP2"),
    ]
    path.write_text("crime_type,required_level,risk\nRobbery,PIP2,high\nRobbery,PIP3,HIGH\n")
    twice = store("matrix", "import", str(path))
    assert twice.exit_code == 2
    assert "line 3" in twice.stderr


def test_raising_the_risk_past_the_holder_is_refused_in_block_mode(force: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    refused = force("crime", "risk", "CR/1", "medium", "--reason", "DASH medium")
    assert refused.exit_code == 3
    assert "needs PIP2" in refused.stderr
    assert "--override" in refused.stderr
    assert level(sql, "CR/1") == ("PIP1", "standard")
    assert sql("SELECT count(*) FROM crime_risk") == [(0,)]
    assert log_entries(sql, "crime-risk") == []


def test_an_overridden_raise_is_warned_audited_and_rehomed(force: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    done = force(
        "crime", "risk", "CR/1", "high", "--reason", "DASH high", "--override", "DS agreed"
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "needs PIP2" in done.stderr  # the warning
    assert "CR/1 is now high risk (was standard); it now requires PIP2 (was PIP1)." in (done.stderr)
    assert level(sql, "CR/1") == ("PIP2", "high")
    entry = log_entries(sql, "crime-risk")[0]
    assert entry["detail"]["required_level"] == ["PIP1", "PIP2"]
    assert entry["detail"]["override"] == "DS agreed"

    audit = json.loads(force("audit", "--format", "json").stdout)
    mismatches = [f for f in audit["findings"] if f["code"] == "accreditation-mismatch"]
    assert [(f["reference"], f["collar"]) for f in mismatches] == [("CR/1", "AB1")]

    plan = json.loads(force("rebalance", "--team", "Lewisham CID", "--format", "json").stdout)
    moves = {m["crime"]: (m["from"], m["to"]) for m in plan["moves"]}
    assert moves["CR/1"] == ("AB1", "CD2")

    # lowered again: back to the crime's own level
    lowered = force("crime", "risk", "CR/1", "standard", "--reason", "risk reduced")
    assert lowered.exit_code == 0, lowered.output
    assert level(sql, "CR/1") == ("PIP1", "standard")
    audit = json.loads(force("audit", "--format", "json").stdout)
    assert not [f for f in audit["findings"] if f["code"] == "accreditation-mismatch"]


def test_warn_mode_warns_and_a_row_applies_at_its_grade_and_above(force: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    assert force("policy", "set", "accreditation_mode", "warn").exit_code == 0
    warned = force("crime", "risk", "CR/2", "medium", "--reason", "DASH medium")
    assert warned.exit_code == 0, warned.output
    assert "needs PIP2" in warned.stderr
    assert level(sql, "CR/2") == ("PIP2", "medium")
    # an unheld crime: high risk takes the medium row (nothing higher for high)
    assert force("crime", "risk", "CR/3", "high", "--reason", "DASH").exit_code == 0
    assert level(sql, "CR/3") == ("PIP2", "high")
    # a level set by hand above the rows stays when the risk changes
    force("crime", "update", "CR/3", "--level", "PIP3", "--reason", "complex")
    force("crime", "risk", "CR/3", "standard", "--reason", "lowered")
    assert level(sql, "CR/3") == ("PIP3", "standard")


def test_import_applies_the_risk_rows_to_new_crimes(force: Runner, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "crimes.csv"
    path.write_text(
        "reference,crime_type,reported_on,team,risk\n"
        "N1,Burglary,2026-01-05,Lewisham CID,medium\n"
        "N2,Burglary,2026-01-05,Lewisham CID,\n"
    )
    result = force("import", "crimes", str(path))
    assert result.exit_code == 0, result.output
    assert level(sql, "N1") == ("PIP2", "medium")
    assert level(sql, "N2") == ("PIP1", "standard")


def test_weight_high_risk_counts_a_high_risk_crime_heavier(force: Runner) -> None:
    def weighted() -> int:
        rows = json.loads(force("workload", "--format", "json").stdout)
        return next(r["weighted_load"] for r in rows if r["collar"] == "CD2")  # type: ignore[no-any-return]

    assert force("assign", "CR/3", "CD2", "--reason", "next up").exit_code == 0
    assert weighted() == 1
    force("crime", "risk", "CR/3", "high", "--reason", "DASH high")  # PIP2 now: weight 2
    assert weighted() == 2 + 1  # weight_high_risk defaults to 1
    assert force("policy", "set", "weight_high_risk", "0").exit_code == 0
    assert weighted() == 2
    shown = json.loads(force("policy", "show", "--format", "json").stdout)
    assert any("weight_high_risk" in json.dumps(row) for row in shown)


def test_db_check_compares_risk_rows_with_the_log(force: Runner) -> None:
    result = force("db", "check")
    assert result.exit_code == 0, result.output
    assert "passed all" in result.stderr + result.stdout
