"""``caseload import police-uk FILE...``: real police.uk street-level files, as published.

The thirteen shared files (Metropolitan Police sample, twelve months of City of London
Police) sit beside the repository: ``<repo's parent>/shared/data/police_uk/`` (a worktree
is one folder deeper, so every parent is tried). CI has them; there a missing folder
fails the test instead of skipping it.

What the store holds is compared with counts computed here from the files with the
``csv`` module alone: by crime type, by outcome (through the README's table, written
out again below), and by team.
"""

from __future__ import annotations

import csv
import os
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from caseload.domain.police_uk import OUTCOME_CATEGORIES

REPO = Path(__file__).resolve().parent.parent
HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
    "LSOA name,Crime type,Last outcome category,Context"
)


def shared_files() -> list[Path]:
    for base in REPO.parents:
        folder = base / "shared" / "data" / "police_uk"
        if folder.is_dir():
            return sorted(folder.glob("*.csv"))
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("the police.uk files are missing: expected ../shared/data/police_uk/")
    pytest.skip("the police.uk files are not beside the repository")


# What each category present in the shared files becomes: None is live, else the outcome type.
EXPECTED = {
    "": None,
    "Under investigation": None,
    "Status update unavailable": None,
    "Investigation complete; no suspect identified": 18,
    "Unable to prosecute suspect": 15,
    "Awaiting court outcome": 1,
    "Court result unavailable": 1,
    "Suspect charged as part of another case": 1,
    "Offender given a drugs possession warning": 7,
    "Local resolution": 8,
    "Offender given a caution": 3,
    "Formal action is not in the public interest": 10,
    "Further investigation is not in the public interest": 21,
    "Action to be taken by another organisation": 20,
    "Offender given penalty notice": 6,
}


def expected_from(files: list[Path]) -> dict[str, object]:
    """Counts a reader of the files would make: the first row of each Crime ID is the crime."""
    first: dict[str, dict[str, str]] = {}
    no_id = repeats = conflicts = 0
    for path in files:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                crime_id = row["Crime ID"]
                if not crime_id:
                    no_id += 1
                elif crime_id not in first:
                    first[crime_id] = row
                elif first[crime_id] == row:
                    repeats += 1
                else:
                    conflicts += 1
    rows = list(first.values())

    def borough(row: dict[str, str]) -> str:
        return re.sub(r" \d{3}[A-Z]$", "", row["LSOA name"]) or row["Falls within"]

    return {
        "crimes": len(rows),
        "no_id": no_id,
        "repeats": repeats,
        "conflicts": conflicts,
        "types": Counter(r["Crime type"] for r in rows),
        "outcomes": Counter(EXPECTED[r["Last outcome category"]] for r in rows),
        "teams": Counter(borough(r) for r in rows),
        "months": Counter(date.fromisoformat(r["Month"] + "-01") for r in rows),
    }


def test_all_thirteen_shared_files_import_as_published(store, sql) -> None:  # type: ignore[no-untyped-def]
    files = shared_files()
    assert len(files) == 13
    want = expected_from(files)
    store("matrix", "set", "Burglary", "PIP2")

    result = store("import", "police-uk", *map(str, files))
    assert result.exit_code == 0, result.output
    err = result.stderr
    assert (
        f"Imported {want['crimes']:,} crimes from 13 files: {want['crimes']:,} new, 0 updated, "
        f"0 unchanged; skipped {want['no_id']:,} rows without a Crime ID (anti-social "
        "behaviour)." in err
    )
    assert f"{want['repeats']:,} rows repeat an earlier row exactly and were imported once" in err
    assert f"{want['conflicts']:,} rows repeat a Crime ID with other cells" in err

    assert (
        Counter(dict(sql("SELECT crime_type, count(*) FROM crime GROUP BY crime_type")))
        == (want["types"])
    )
    outcomes = sql(
        "SELECT CASE WHEN finalised_on IS NULL THEN -1 ELSE outcome END, count(*) "
        "FROM crime GROUP BY CASE WHEN finalised_on IS NULL THEN -1 ELSE outcome END"
    )
    got = Counter({(None if key == -1 else key): n for key, n in outcomes})
    assert got == want["outcomes"]
    teams = sql(
        "SELECT t.name, count(*) FROM crime c JOIN team t ON t.id = c.team_id GROUP BY t.name"
    )
    assert Counter(dict(teams)) == want["teams"]
    months = Counter(
        {
            date.fromisoformat(str(d)[:10]): n
            for d, n in sql("SELECT reported_on, count(*) FROM crime GROUP BY reported_on")
        }
    )
    assert months == want["months"]
    # Finalised on the last day of the reported month; every finalised crime has a record.
    assert sql(
        "SELECT count(*) FROM crime WHERE finalised_on IS NOT NULL AND NOT ("
        "(reported_on = '2022-07-01' AND finalised_on = '2022-07-31') OR reported_on <> "
        "'2022-07-01')"
    ) == [(0,)]
    finalised = sum(n for key, n in want["outcomes"].items() if key is not None)
    assert sql("SELECT count(*) FROM finalisation") == [(finalised,)]
    # The required level is the matrix's, as for `import crimes`.
    assert set(sql("SELECT DISTINCT required_level FROM crime WHERE crime_type = 'Burglary'")) == {
        ("PIP2",)
    }

    entries = sql("SELECT count(*) FROM log_entry")[0][0]
    again = store("import", "police-uk", *map(str, files))
    assert again.exit_code == 0, again.output
    assert f"0 new, 0 updated, {want['crimes']:,} unchanged" in again.stderr
    assert sql("SELECT count(*) FROM log_entry")[0][0] == entries
    assert sql("SELECT count(*) FROM crime")[0][0] == want["crimes"]


def test_every_category_in_the_files_is_in_the_table_and_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for category, outcome in OUTCOME_CATEGORIES.items():
        shown = category or "(blank)"
        becomes = "live" if outcome.outcome is None else f"finalised, outcome {outcome.outcome}"
        assert f"| {shown} | {becomes} |" in readme, category
    for category, outcome in EXPECTED.items():
        assert OUTCOME_CATEGORIES[category].outcome == outcome


def street_file(tmp_path: Path, *rows: str, name: str = "street.csv") -> str:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return str(path)


MET = "Metropolitan Police Service,Metropolitan Police Service"
ROW_A = f"aaa1,2023-02,{MET},-0.1,51.5,On or near X,E01,Barnet 001A,Burglary,Under investigation,"
ROW_B = f"bbb2,2023-02,{MET},,,No location,,,Robbery,Local resolution,"
ROW_ASB = f",2023-02,{MET},-0.1,51.5,On or near X,E01,Barnet 001A,Anti-social behaviour,,"


def test_team_by_force_or_one_name_and_a_row_without_location(store, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = street_file(tmp_path, ROW_A, ROW_B, ROW_ASB)
    result = store("import", "police-uk", path)
    assert result.exit_code == 0, result.output
    assert "Imported 2 crimes: 2 new, 0 updated, 0 unchanged; skipped 1 row" in result.stderr
    held = "SELECT c.reference, t.name FROM crime c JOIN team t ON t.id = c.team_id ORDER BY 1"
    # By borough; the row with no location goes to its force.
    assert sql(held) == [("aaa1", "Barnet"), ("bbb2", "Metropolitan Police Service")]
    assert sql("SELECT reference, finalised_on, outcome FROM crime ORDER BY 1") in (
        [("aaa1", None, None), ("bbb2", date(2023, 2, 28), 8)],
        [("aaa1", None, None), ("bbb2", "2023-02-28", 8)],
    )
    result = store("import", "police-uk", path, "--team-by", "force")
    assert "0 new, 1 updated, 1 unchanged" in result.stderr
    assert sql(held) == [
        ("aaa1", "Metropolitan Police Service"),
        ("bbb2", "Metropolitan Police Service"),
    ]
    result = store("import", "police-uk", path, "--team", "Barnet CID")
    assert result.exit_code == 0, result.output
    assert {name for _, name in sql(held)} == {"Barnet CID"}
    result = store("import", "police-uk", path, "--team", "X", "--team-by", "force")
    assert result.exit_code == 2
    assert "not both" in result.stderr
    result = store("import", "police-uk", path, "--team-by", "lsoa")
    assert result.exit_code == 2


def test_reimport_keeps_the_holder_and_a_new_outcome_finalises(store, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    officers = tmp_path / "o.csv"
    officers.write_text(
        "collar,name,team,accreditation,investigator_since\nAB1,Sam Jones,Barnet,PIP2,2015-01-01\n"
    )
    assert store("import", "officers", str(officers)).exit_code == 0
    path = street_file(tmp_path, ROW_A)
    assert store("import", "police-uk", path).exit_code == 0
    assert store("assign", "aaa1", "AB1", "--reason", "lead officer").exit_code == 0
    result = store("import", "police-uk", path)
    assert "0 new, 0 updated, 1 unchanged" in result.stderr
    holder = "SELECT o.collar FROM crime c JOIN officer o ON o.id = c.holder_id"
    assert sql(holder) == [("AB1",)]
    # The next publication gives an outcome: the crime is finalised, the holder stays on record.
    later = street_file(
        tmp_path, ROW_A.replace("Under investigation", "Offender given a caution"), name="later.csv"
    )
    result = store("import", "police-uk", later)
    assert "0 new, 1 updated, 0 unchanged" in result.stderr
    assert sql("SELECT outcome FROM crime") == [(3,)]
    assert sql("SELECT count(*) FROM finalisation") == [(1,)]
    assert sql(holder) == [("AB1",)]


def test_several_files_are_all_or_nothing_and_dry_run_writes_nothing(store, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    good = street_file(tmp_path, ROW_A, name="good.csv")
    bad = street_file(
        tmp_path, ROW_B.replace("Local resolution", "Sent to the moon"), name="bad.csv"
    )
    result = store("import", "police-uk", good, bad)
    assert result.exit_code == 2
    assert "'Sent to the moon' is not an outcome category caseload knows" in result.stderr
    assert "bad.csv" in result.stderr and "line 2, column last_outcome_category" in result.stderr
    assert sql("SELECT count(*) FROM crime") == [(0,)]

    result = store("import", "police-uk", good, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Checked 1 crime: 1 new" in result.stderr and "Nothing was written" in result.stderr
    assert sql("SELECT count(*) FROM crime") == [(0,)]
    assert sql("SELECT count(*) FROM team") == [(0,)]


def test_a_bad_month_or_a_missing_crime_type_is_refused_but_not_on_skipped_rows(
    store, sql, tmp_path
) -> None:
    asb_bad_month = ROW_ASB.replace("2023-02", "Feb 2023")
    path = street_file(tmp_path, ROW_A.replace("2023-02", "2023-13"), asb_bad_month)
    result = store("import", "police-uk", path)
    assert result.exit_code == 2
    assert "line 2, column month: '2023-13' is not a month (YYYY-MM" in result.stderr
    assert "line 3" not in result.stderr  # anti-social behaviour rows are passed over whole
    assert sql("SELECT count(*) FROM crime") == [(0,)]


@pytest.mark.sqlite_only
def test_installed_command_imports_a_published_file(shell, sql) -> None:  # type: ignore[no-untyped-def]
    path = next(p for p in shared_files() if p.name == "2022-07-city-of-london-street.csv")
    want = expected_from([path])
    assert shell("init").returncode == 0
    result = shell("import", "police-uk", str(path), "--team-by", "force")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert f"Imported {want['crimes']:,} crimes: {want['crimes']:,} new" in result.stderr
    assert sql("SELECT name FROM team") == [("City of London Police",)]


def test_a_police_uk_file_given_to_import_crimes_points_to_police_uk(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = store("import", "crimes", street_file(tmp_path, ROW_A))
    assert result.exit_code == 2
    assert "unknown columns Crime ID, Month" in result.stderr
    assert "This is a police.uk street-level file: caseload import police-uk FILE" in result.stderr
