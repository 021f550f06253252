"""The Victims' Code in full: enhanced entitlement with its category (``crime victim``),
the import column ``victim_category``, and how older yes/no data reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from caseload.domain.victims import entitlement, parse_category, shown_category
from tests.helpers.cli import Runner
from tests.helpers.force import add_teams
from tests.helpers.store import log_entries


@pytest.fixture
def crimes(store: Runner) -> Runner:
    add_teams(store, "Lewisham CID")
    for ref, enhanced in (("CR/1", "--standard"), ("CR/2", "--enhanced")):
        result = store(
            "crime", "add", ref, "--type", "Burglary", "--team", "Lewisham CID",
            "--reported", "2026-11-02", enhanced,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    return store


def shown(run: Runner, ref: str) -> dict:  # type: ignore[type-arg]
    result = run("crime", "show", ref, "-f", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_categories_parse_and_read() -> None:
    assert parse_category("Vulnerable_or intimidated") == "vulnerable-or-intimidated"
    assert parse_category("persistent") == "persistently-targeted"
    with pytest.raises(ValueError, match="not an enhanced entitlement category"):
        parse_category("important")
    assert entitlement(True, None) == "enhanced (category not recorded)"
    assert entitlement(False, None) == "standard"
    assert shown_category(True, "most-serious") == "most-serious"


def test_crime_victim_records_the_category_with_its_reason_and_logs_it(crimes, sql) -> None:  # type: ignore[no-untyped-def]
    done = crimes(
        "crime", "victim", "CR/1", "--enhanced", "vulnerable", "--reason", "lives alone, 91"
    )
    assert done.exit_code == 0, done.output
    assert "standard -> enhanced (vulnerable-or-intimidated)" in done.stderr
    record = shown(crimes, "CR/1")
    assert record["victim_enhanced"] is True
    assert record["victim_category"] == "vulnerable-or-intimidated"
    assert record["victim_entitlement_reason"] == "lives alone, 91"
    [entry] = log_entries(sql, "victim-entitlement")
    assert entry["crime_ref"] == "CR/1"
    assert entry["reason"] == "lives alone, 91"
    assert entry["detail"] == {
        "enhanced": [False, True],
        "category": [None, "vulnerable-or-intimidated"],
    }
    again = crimes("crime", "victim", "CR/1", "--enhanced", "vulnerable-or-intimidated",
                   "--reason", "same")  # fmt: skip
    assert again.exit_code == 0
    assert "already" in again.stderr
    assert len(log_entries(sql, "victim-entitlement")) == 1

    cleared = crimes("crime", "victim", "CR/1", "--standard", "--reason", "entered in error")
    assert cleared.exit_code == 0, cleared.output
    assert sql("SELECT victim_enhanced, victim_category FROM crime WHERE reference = 'CR/1'") == [
        (False, None)
    ]
    assert shown(crimes, "CR/1")["victim_category"] is None


def test_crime_victim_refuses_bad_usage_and_writes_nothing(crimes, sql) -> None:  # type: ignore[no-untyped-def]
    for args in (
        ("CR/1", "--enhanced", "important", "--reason", "x"),
        ("CR/1", "--enhanced", "most-serious", "--standard", "--reason", "x"),
        ("CR/1", "--reason", "x"),
        ("CR/1", "--enhanced", "most-serious"),
        ("CR/9", "--enhanced", "most-serious", "--reason", "x"),
    ):
        result = crimes("crime", "victim", *args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith("Error:") or "Usage" in result.output
    assert log_entries(sql, "victim-entitlement") == []


def test_yes_no_enhanced_reads_as_category_not_recorded(crimes) -> None:  # type: ignore[no-untyped-def]
    assert shown(crimes, "CR/2")["victim_category"] == "category not recorded"
    table = crimes("crime", "list", "--wide")
    assert "category not recorded" in table.stdout
    rows = {r["reference"]: r for r in json.loads(crimes("crime", "list", "-f", "json").stdout)}
    assert rows["CR/2"]["victim_enhanced"] is True
    assert rows["CR/2"]["victim_category"] is None  # the import columns' own values


def test_crime_update_standard_clears_the_category(crimes, sql) -> None:  # type: ignore[no-untyped-def]
    crimes("crime", "victim", "CR/2", "--enhanced", "most-serious", "--reason", "GBH")
    done = crimes("crime", "update", "CR/2", "--standard", "--reason", "not eligible")
    assert done.exit_code == 0, done.output
    assert sql("SELECT victim_enhanced, victim_category FROM crime WHERE reference = 'CR/2'") == [
        (False, None)
    ]


CSV = """reference,crime_type,reported_on,team,victim_enhanced,victim_category
CR/10,Burglary,2026-11-01,Lewisham CID,,persistently-targeted
CR/11,Burglary,2026-11-01,Lewisham CID,yes,
CR/12,Burglary,2026-11-01,Lewisham CID,,
"""


def test_import_and_export_carry_the_category(store: Runner, sql, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    add_teams(store, "Lewisham CID")
    path = tmp_path / "c.csv"
    path.write_text(CSV)
    result = store("import", "crimes", str(path))
    assert result.exit_code == 0, result.output
    assert sql(
        "SELECT reference, victim_enhanced, victim_category FROM crime ORDER BY reference"
    ) == [
        ("CR/10", True, "persistently-targeted"),
        ("CR/11", True, None),
        ("CR/12", False, None),
    ]
    # A yes/no file imported again keeps the category already recorded.
    path.write_text(CSV.replace(",,persistently-targeted", ",yes,"))
    assert store("import", "crimes", str(path)).exit_code == 0
    assert sql("SELECT victim_category FROM crime WHERE reference = 'CR/10'") == [
        ("persistently-targeted",)
    ]
    out = tmp_path / "export.csv"
    exported = store("export", "crimes", "-o", str(out))
    assert exported.exit_code == 0, exported.output
    text = out.read_text()
    assert "victim_category" in text.splitlines()[0]
    assert "persistently-targeted" in text
    # The export imports back unchanged.
    again = store("import", "crimes", str(out))
    assert again.exit_code == 0, again.output
    assert "unchanged" in again.stderr


def test_import_refuses_an_unknown_category(store: Runner, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    add_teams(store, "Lewisham CID")
    path = tmp_path / "c.csv"
    path.write_text(
        "reference,crime_type,reported_on,team,victim_enhanced,victim_category\n"
        "CR/1,Burglary,2026-11-01,Lewisham CID,no,most-serious\n"
        "CR/2,Burglary,2026-11-01,Lewisham CID,yes,very-important\n"
    )
    result = store("import", "crimes", str(path))
    assert result.exit_code == 2
    assert "line 3, column victim_category" in result.stderr
    assert "line 2" not in result.stderr  # a category makes the victim enhanced
    assert sql("SELECT count(*) FROM crime") == [(0,)]
