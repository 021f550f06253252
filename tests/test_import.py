"""``caseload import officers|crimes|matrix|history``: bulk load, all or nothing, re-import.

Each story arranges a store, imports a file as a user would, and checks what the
user sees (exit code, summary, every problem with its line and column) and what
the store now holds (counts read straight from the SQLite file).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from caseload.cli.app import app
from caseload.domain.csvschema import CRIMES, OFFICERS, match_header, parse_row

POLICE_UK = Path("/work/shared/data/police_uk")
TODAY_MINUS = "2024-03-01"

OFFICERS_CSV = """collar,name,team,accreditation,investigator_since,rank,status,capacity,trainee
AB1,Sam Jones,Lewisham CID,PIP2,2015-01-01,DC,active,,no
AB2,Kim Lee,Lewisham CID,PIP1,03/04/2025,TDC,active,,yes
AB3,Ola Ade,Greenwich CID,PIP3,2010-06-30,DS,leave,12,no
"""

CRIMES_HEADER = (
    "reference,crime_type,reported_on,team,required_level,holder,"
    "victim_enhanced,finalised_on,outcome"
)
CRIMES_CSV = f"""{CRIMES_HEADER}
C1,Burglary,2024-01-05,Lewisham CID,,AB1,no,,
C2,Robbery,05/01/2024,Lewisham CID,,,yes,,
C3,Drugs,2024-01-07,Greenwich CID,PIP1,AB2,n,2024-02-01,8
C4,Made-up type,2024-01-08,Greenwich CID,,,0,,
"""


def counts(sql) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """What the store holds, read with plain SQL (independent of caseload's own code)."""
    return {
        table: sql(f"SELECT count(*) FROM {table}")[0][0]
        for table in (
            "team",
            "officer",
            "crime",
            "allocation",
            "finalisation",
            "matrix_entry",
            "log_entry",
        )
    }


def write(tmp_path: Path, text: str | bytes, name: str = "file.csv") -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def force(store, sql, tmp_path):  # type: ignore[no-untyped-def]
    """A store with three officers, a matrix and four crimes (two held)."""
    assert store("import", "officers", write(tmp_path, OFFICERS_CSV, "o.csv")).exit_code == 0
    store("matrix", "set", "Burglary", "PIP1")
    store("matrix", "set", "Robbery", "PIP2")
    result = store("import", "crimes", write(tmp_path, CRIMES_CSV, "c.csv"))
    assert result.exit_code == 0, result.output
    return store


# --- officers ------------------------------------------------------------------------------


def test_import_officers_then_reimport_is_unchanged(store, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, OFFICERS_CSV)
    result = store("import", "officers", path)
    assert result.exit_code == 0, result.output
    assert "Imported 3 officers: 3 new, 0 updated, 0 unchanged." in result.stderr
    assert result.stdout == ""
    rows = json.loads(store("officer", "list", "--format", "json").stdout)
    by_collar = {row["collar"]: row for row in rows}
    assert by_collar["AB2"]["investigator_since"] == "2025-04-03"  # UK day-first
    assert by_collar["AB2"]["trainee"] is True
    assert by_collar["AB3"]["capacity"] == 12
    assert by_collar["AB3"]["status"] == "leave"
    assert counts(sql)["team"] == 2
    before = counts(sql)
    result = store("import", "officers", path)
    assert "Imported 3 officers: 0 new, 0 updated, 3 unchanged." in result.stderr
    after = counts(sql)
    assert after["officer"] == 3
    assert after["log_entry"] == before["log_entry"]  # nothing changed, nothing logged


def test_reimport_updates_by_collar_case_insensitively(store, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    store("import", "officers", write(tmp_path, OFFICERS_CSV))
    changed = OFFICERS_CSV.replace(
        "AB1,Sam Jones,Lewisham CID,PIP2", "ab1,Sam Jones,Bexley VC,PIP3"
    )
    result = store("import", "officers", write(tmp_path, changed, "changed.csv"))
    assert result.exit_code == 0, result.output
    assert "Imported 3 officers: 0 new, 1 updated, 2 unchanged." in result.stderr
    assert sql("SELECT accreditation FROM officer WHERE collar='AB1'") == [("PIP3",)]
    assert counts(sql)["officer"] == 3
    assert sql("SELECT count(*) FROM log_entry WHERE kind='officer-update'") == [(1,)]


def test_headers_any_case_any_order_with_bom_and_optional_columns_default(
    store, sql, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    text = "Investigator_Since,TEAM,Name,Accreditation,COLLAR\n2020-02-02,Team A,Al Bo,pip1,x9\n"
    result = store("import", "officers", write(tmp_path, b"\xef\xbb\xbf" + text.encode()))
    assert result.exit_code == 0, result.output
    row = sql("SELECT collar, status, trainee, capacity, rank FROM officer")
    assert row == [("X9", "active", 0, None, "")]


@pytest.mark.parametrize(
    "text,value",
    [("yes", 1), ("Y", 1), ("true", 1), ("1", 1), ("No", 0), ("n", 0), ("FALSE", 0), ("0", 0)],
)
def test_booleans(store, sql, tmp_path, text, value) -> None:  # type: ignore[no-untyped-def]
    csv_text = (
        "collar,name,team,accreditation,investigator_since,trainee\n"
        f"Z1,A B,T,PIP1,2020-01-01,{text}\n"
    )
    assert store("import", "officers", write(tmp_path, csv_text)).exit_code == 0
    assert sql("SELECT trainee FROM officer") == [(value,)]


def test_header_only_imports_nothing_and_succeeds(store, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = store("import", "officers", write(tmp_path, OFFICERS_CSV.splitlines()[0] + "\n"))
    assert result.exit_code == 0
    assert "Imported 0 officers: 0 new, 0 updated, 0 unchanged." in result.stderr
    assert counts(sql)["officer"] == 0


def test_stdin_and_dry_run(store, sql) -> None:  # type: ignore[no-untyped-def]
    before = counts(sql)
    result = store("import", "officers", "-", "--dry-run", input=OFFICERS_CSV)
    assert result.exit_code == 0, result.output
    assert "Checked 3 officers: 3 new, 0 updated, 0 unchanged. Nothing was written" in result.stderr
    assert counts(sql) == before
    result = store("import", "officers", "-", input=OFFICERS_CSV.encode())
    assert result.exit_code == 0
    assert counts(sql)["officer"] == 3


def test_ignore_unknown_columns(store, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = OFFICERS_CSV.replace("trainee\n", "trainee,shoe size\n", 1).replace("no\n", "no,9\n")
    path = write(tmp_path, text)
    result = store("import", "officers", path)
    assert result.exit_code == 2
    assert "line 1: unknown column shoe size" in result.stderr
    assert counts(sql)["officer"] == 0
    assert store("import", "officers", path, "--ignore-unknown").exit_code == 0
    assert counts(sql)["officer"] == 3


# --- crimes --------------------------------------------------------------------------------


def test_import_crimes_levels_holders_and_finalised(force, sql) -> None:  # type: ignore[no-untyped-def]
    rows = {
        r[0]: r[1:]
        for r in sql(
            "SELECT c.reference, c.required_level, c.level_defaulted, o.collar, c.finalised_on,"
            " c.outcome, c.victim_enhanced FROM crime c LEFT JOIN officer o ON o.id = c.holder_id",
        )
    }
    assert rows["C1"] == ("PIP1", 0, "AB1", None, None, 0)  # from the matrix
    assert rows["C2"] == ("PIP2", 0, None, None, None, 1)  # day-first date, unallocated
    assert rows["C3"][:3] == ("PIP1", 0, "AB2")  # finalised, with its holder
    assert str(rows["C3"][3]) == "2024-02-01" and rows["C3"][4:] == (8, 0)
    assert rows["C4"] == ("PIP1", 1, None, None, None, 0)  # type not in matrix: default
    assert sql("SELECT count(*) FROM finalisation") == [(1,)]
    # Holders have an open interval each; the live one went through the allocation path.
    assert sql("SELECT count(*) FROM allocation WHERE end_at IS NULL") == [(2,)]
    assert sql("SELECT kind FROM log_entry WHERE crime_ref='C1'") == [("allocate",)]
    defaulted = force("crime", "list", "--defaulted", "--format", "csv").stdout
    assert "C4" in defaulted and "C1" not in defaulted


def test_reimport_crimes_is_safe_and_applies_changes(force, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    before = counts(sql)
    path = write(tmp_path, CRIMES_CSV, "again.csv")
    result = force("import", "crimes", path)
    assert "Imported 4 crimes: 0 new, 0 updated, 4 unchanged." in result.stderr
    assert counts(sql) == before
    # C1 moves to AB3 (a transfer), C2 gets a holder, C3 is reopened, C4 is finalised.
    changed = (
        CRIMES_CSV.replace(
            "C1,Burglary,2024-01-05,Lewisham CID,,AB1", "C1,Burglary,2024-01-05,Lewisham CID,,AB3"
        )
        .replace(
            "C2,Robbery,05/01/2024,Lewisham CID,,,", "C2,Robbery,05/01/2024,Lewisham CID,,AB1,"
        )
        .replace("n,2024-02-01,8", "n,,")
        .replace("Greenwich CID,,,0,,", "Greenwich CID,,,0,2024-02-03,18")
    )
    result = force("import", "crimes", write(tmp_path, changed, "changed.csv"))
    assert result.exit_code == 0, result.output
    assert "Imported 4 crimes: 0 new, 4 updated, 0 unchanged." in result.stderr
    assert "on leave" in result.stderr  # AB3 is on leave: the allocation rule warns
    holders = dict(
        sql("SELECT c.reference, o.collar FROM crime c JOIN officer o ON o.id = c.holder_id")
    )
    assert holders == {"C1": "AB3", "C2": "AB1", "C3": "AB2"}
    assert sql("SELECT count(*) FROM crime") == [(4,)]
    assert sql("SELECT finalised_on FROM crime WHERE reference='C3'") == [(None,)]
    assert sql("SELECT count(*) FROM finalisation WHERE reopened_on IS NOT NULL") == [(1,)]
    assert sql("SELECT outcome FROM crime WHERE reference='C4'") == [(18,)]
    # C1's first holding was closed, not overwritten.
    assert sql(
        "SELECT o.collar, a.end_at IS NULL FROM allocation a JOIN officer o ON o.id = a.officer_id"
        " JOIN crime c ON c.id = a.crime_id WHERE c.reference = 'C1' ORDER BY a.id",
    ) == [("AB1", 0), ("AB3", 1)]


def test_blank_holder_on_reimport_unassigns(force, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = CRIMES_CSV.replace("Lewisham CID,,AB1,no", "Lewisham CID,,,no")
    result = force(
        "import", "crimes", write(tmp_path, text, "unassign.csv"), "--reason", "redistributed"
    )
    assert result.exit_code == 0, result.output
    assert sql("SELECT holder_id FROM crime WHERE reference='C1'") == [(None,)]
    assert sql("SELECT kind, reason FROM log_entry WHERE crime_ref='C1' ORDER BY id") == [
        ("allocate", "import"),
        ("unassign", "redistributed"),
    ]
    assert counts(sql)["crime"] == 4


def test_export_then_import_round_trips_neutralised_cells(force, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = (
        "reference,crime_type,reported_on,team\n"
        "=HYPERLINK(1),@Other theft,2024-01-09,+Team\n"
        "-5,'quoted,2024-01-09,Lewisham CID\n"
    )
    assert force("import", "crimes", write(tmp_path, text, "odd.csv")).exit_code == 0
    exported = force("crime", "list", "--format", "csv").stdout
    assert "'=HYPERLINK(1)" in exported  # neutralised for spreadsheets
    before = counts(sql)
    result = force("import", "crimes", write(tmp_path, exported, "export.csv"))
    assert result.exit_code == 0, result.output
    assert "0 new, 0 updated, 6 unchanged" in result.stderr
    assert counts(sql) == before
    refs = {r[0] for r in sql("SELECT reference FROM crime")}
    assert {"=HYPERLINK(1)", "-5"} <= refs
    assert sql("SELECT crime_type FROM crime WHERE reference='-5'") == [("'quoted",)]


def test_policy_block_refuses_the_whole_import(force, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # AB2 is a trainee (PIP1): a Robbery needs PIP2, refused in block mode (the default).
    text = (
        "reference,crime_type,reported_on,team,holder\n"
        "R1,Burglary,2024-01-10,Lewisham CID,AB2\n"
        "R2,Robbery,2024-01-10,Lewisham CID,AB2\n"
    )
    path = write(tmp_path, text, "policy.csv")
    before = counts(sql)
    result = force("import", "crimes", path)
    assert result.exit_code == 3
    assert "line 3: R2 to AB2" in result.stderr
    assert counts(sql) == before
    result = force("import", "crimes", path, "--override", "only PIP1 officer on duty")
    assert result.exit_code == 0, result.output
    assert sql(
        "SELECT override_reason FROM allocation a JOIN crime c ON c.id = a.crime_id"
        " WHERE c.reference='R2'"
    ) == [("only PIP1 officer on duty",)]


def test_limit_warns_in_warn_mode_and_blocks_in_block_mode(force, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # AB2 (a trainee) holds C3 (finalised, not live); give them 26 live crimes.
    rows = [f"L{i},Burglary,2024-01-10,Lewisham CID,AB2" for i in range(26)]
    path = write(
        tmp_path,
        "reference,crime_type,reported_on,team,holder\n" + "\n".join(rows) + "\n",
        "many.csv",
    )
    force("policy", "set", "limit_mode", "block")
    before = counts(sql)
    result = force("import", "crimes", path)
    assert result.exit_code == 3
    assert "line 27: L25 to AB2" in result.stderr
    assert counts(sql) == before
    force("policy", "set", "limit_mode", "warn")
    result = force("import", "crimes", path)
    assert result.exit_code == 0
    assert "line 27: L25: " in result.stderr and "26 live crimes; limit 25" in result.stderr
    assert "Imported 26 crimes: 26 new" in result.stderr


def test_allocated_on_sets_when_the_holding_began(force, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = (
        "reference,crime_type,reported_on,team,holder,allocated_on\n"
        "A1,Burglary,2024-01-10,Lewisham CID,AB1,12/01/2024\n"
        "A2,Burglary,2024-01-10,Lewisham CID,AB1,2024-01-11 14:30\n"
    )
    assert force("import", "crimes", write(tmp_path, text, "a.csv")).exit_code == 0
    for ref, start in (("A1", "2024-01-12T00:00:00"), ("A2", "2024-01-11T14:30:00")):
        story = json.loads(force("crime", "show", ref, "--format", "json").stdout)
        assert [a["from"] for a in story["allocations"]] == [start]


# --- bad input: exit 2, every problem named, nothing written --------------------------------


BAD_CRIMES = [
    (
        "C9,Burglary,2024-01-05,Lewisham CID,,ZZ9,no,,",
        "line 2, column holder: there is no officer with collar ZZ9",
    ),
    (
        "C9,Burglary,2024-13-45,Lewisham CID,,,no,,",
        "line 2, column reported_on: '2024-13-45' is not a date",
    ),
    (
        "C9,Burglary,31/02/2024,Lewisham CID,,,no,,",
        "line 2, column reported_on: '31/02/2024' is not a real date",
    ),
    (
        "C9,Burglary,2024-01-05,Lewisham CID,PIP7,,no,,",
        "line 2, column required_level: 'PIP7' is not an accreditation level",
    ),
    (
        "C9,Burglary,2024-01-05,Lewisham CID,,,no,2024-02-01,99",
        "line 2, column outcome: '99' is not a Home Office outcome type",
    ),
    (
        "C9,Burglary,2024-01-05,Lewisham CID,,,no,2024-02-01,",
        "line 2, column outcome: a finalised crime needs an outcome",
    ),
    (
        "C9,Burglary,2024-01-05,Lewisham CID,,,no,,18",
        "line 2, column finalised_on: an outcome needs the date",
    ),
    (
        "C9,Burglary,2024-01-05,Lewisham CID,,,maybe,,",
        "line 2, column victim_enhanced: 'maybe' is not yes or no",
    ),
    (
        "C9,Burglary,2099-01-05,Lewisham CID,,,no,,",
        "line 2, column reported_on: 2099-01-05 is in the future",
    ),
    ("C9,,2024-01-05,Lewisham CID,,,no,,", "line 2, column crime_type: a value is required"),
    (
        "C9,Burglary,2024-01-05,Lewisham CID,,,no,2023-12-01,1",
        "line 2, column finalised_on: 2023-12-01 is before the crime was reported",
    ),
]


@pytest.mark.parametrize("row,message", BAD_CRIMES)
def test_bad_crime_rows(force, sql, tmp_path, row, message) -> None:  # type: ignore[no-untyped-def]
    header = CRIMES_CSV.splitlines()[0]
    before = counts(sql)
    result = force("import", "crimes", write(tmp_path, f"{header}\n{row}\n", "bad.csv"))
    assert result.exit_code == 2
    assert message in result.stderr
    assert "nothing was imported" in result.stderr
    assert "Traceback" not in result.output
    assert counts(sql) == before


BAD_OFFICERS = [
    (
        "AB1,Sam,T,PIP9,2020-01-01,,active,,no",
        "line 2, column accreditation: 'PIP9' is not an accreditation level",
    ),
    ("AB1,Sam,T,PIP1,2020-01-01,,retired,,no", "line 2, column status: 'retired' is not a status"),
    (
        "AB1,Sam,T,PIP1,2020-01-01,,active,lots,no",
        "line 2, column capacity: 'lots' is not a capacity",
    ),
    (
        "A B!,Sam,T,PIP1,2020-01-01,,active,,no",
        "line 2, column collar: 'A B!' is not a collar number",
    ),
    (
        "AB1,Sam,T,PIP1,2020-01-01,,active,,no,extra",
        "line 2: the row has 10 cells but the header has 9 columns",
    ),
]


@pytest.mark.parametrize("row,message", BAD_OFFICERS)
def test_bad_officer_rows(store, sql, tmp_path, row, message) -> None:  # type: ignore[no-untyped-def]
    header = OFFICERS_CSV.splitlines()[0]
    result = store("import", "officers", write(tmp_path, f"{header}\n{row}\n"))
    assert result.exit_code == 2
    assert message in result.stderr
    assert counts(sql)["officer"] == 0


def test_duplicate_collar_within_file(store, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = OFFICERS_CSV + "ab1,Someone Else,Lewisham CID,PIP1,2020-01-01,PC,active,,no\n"
    result = store("import", "officers", write(tmp_path, text))
    assert result.exit_code == 2
    assert "line 5, column collar: the collar AB1 appears earlier in the file" in result.stderr
    assert counts(sql)["officer"] == 0


def test_every_bad_row_is_listed_not_only_the_first(store, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    header = OFFICERS_CSV.splitlines()[0]
    rows = [f"X{i},N,T,PIP1,2020-01-01,,active,,no" for i in range(5)]
    rows[1] = rows[1].replace("PIP1", "PIPX")
    rows[3] = rows[3].replace("2020-01-01", "yesterday")
    rows[4] = rows[4].replace("active", "gone")
    result = store("import", "officers", write(tmp_path, "\n".join([header, *rows]) + "\n"))
    assert result.exit_code == 2
    assert "3 problems in 3 of 5 rows; nothing was imported" in result.stderr
    for where in (
        "line 3, column accreditation",
        "line 5, column investigator_since",
        "line 6, column status",
    ):
        assert where in result.stderr
    assert counts(sql)["officer"] == 0


def test_long_problem_lists_are_capped(store, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    header = OFFICERS_CSV.splitlines()[0]
    rows = [f"X{i},N,T,PIP9,2020-01-01,,active,,no" for i in range(120)]
    result = store("import", "officers", write(tmp_path, "\n".join([header, *rows]) + "\n"))
    assert result.exit_code == 2
    assert result.stderr.count("column accreditation") == 50
    assert "... and 70 more" in result.stderr


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "is empty"),
        (b"\xef\xbb\xbf\n\n", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is a binary file, not CSV text"),
        (
            "collar,name,team,accreditation,investigator_since\nAB1,Zoë,T,PIP1,2020-01-01\n".encode(
                "latin-1"
            ),
            "is not UTF-8 text",
        ),
        (b"collar,nom,team,accreditation,investigator_since\n", "line 1: unknown column nom"),
        (
            b"collar,team,accreditation\n",
            "line 1: missing required columns name, investigator_since",
        ),
        (
            b"collar,name,name,team,accreditation,investigator_since\n",
            "line 1, column name: the column name appears twice",
        ),
    ],
)
def test_bad_files(store, sql, tmp_path, content, message) -> None:  # type: ignore[no-untyped-def]
    result = store("import", "officers", write(tmp_path, content))
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert counts(sql)["officer"] == 0


def test_missing_file_and_folder(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = store("import", "crimes", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2
    assert f"There is no file {tmp_path / 'nope.csv'}." in result.stderr
    result = store("import", "crimes", str(tmp_path))
    assert result.exit_code == 2
    assert "is a folder" in result.stderr


# --- matrix --------------------------------------------------------------------------------


def test_matrix_import_both_spellings(store, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, "crime_type,required_level\nBurglary,PIP1\nRobbery,pip2\n")
    result = store("import", "matrix", path)
    assert "Imported 2 matrix entries: 2 new, 0 updated, 0 unchanged." in result.stderr
    path = write(tmp_path, "Required_Level,Crime_Type\nPIP3,robbery\nPIP1,Burglary\n", "m2.csv")
    result = store("matrix", "import", path)
    assert result.exit_code == 0, result.output
    assert "1 updated, 1 unchanged" in result.stderr
    assert dict(sql("SELECT crime_type, required_level FROM matrix_entry")) == {
        "Burglary": "PIP1",
        "robbery": "PIP3",
    }
    dup = write(tmp_path, "crime_type,required_level\nDrugs,PIP1\nDRUGS,PIP2\n", "dup.csv")
    result = store("matrix", "import", dup)
    assert result.exit_code == 2
    assert "line 3, column crime_type: the crime type DRUGS appears earlier" in result.stderr
    assert counts(sql)["matrix_entry"] == 2


# --- history -------------------------------------------------------------------------------


HISTORY_CSV = """reference,holder,from,to,actor,reason
C2,AB1,2024-01-05 09:00,2024-01-08 10:00,DS Green,initial
C2,AB3,2024-01-08 10:00,2024-01-20 17:00,DS Green,workload
C2,AB1,2024-01-20 17:00,,DS Green,back
C4,AB2,09/01/2024,10/01/2024,DS Green,
"""


def test_history_import_sets_current_holder_and_reimport_is_unchanged(force, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, HISTORY_CSV, "h.csv")
    result = force("import", "history", path)
    assert result.exit_code == 0, result.output
    assert "Imported 4 allocation intervals: 4 new, 0 updated, 0 unchanged." in result.stderr
    holder = sql(
        "SELECT o.collar FROM crime c JOIN officer o ON o.id=c.holder_id WHERE c.reference='C2'"
    )
    assert holder == [("AB1",)]
    assert sql("SELECT holder_id FROM crime WHERE reference='C4'") == [(None,)]
    story = json.loads(force("crime", "show", "C2", "--format", "json").stdout)
    assert [a["holder"] for a in story["allocations"]] == ["AB1", "AB3", "AB1"]
    before = counts(sql)
    result = force("import", "history", path)
    assert "0 new, 0 updated, 4 unchanged" in result.stderr
    assert counts(sql)["allocation"] == before["allocation"]


def test_history_problems(force, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    before = counts(sql)
    bad = (
        "reference,holder,from,to,actor,reason\n"
        "NOPE,AB1,2024-01-05,2024-01-06,DS Green,x\n"
        "C2,ZZ1,2024-01-05,2024-01-06,DS Green,x\n"
        "C2,AB1,2024-01-07,2024-01-06,DS Green,x\n"
    )
    result = force("import", "history", write(tmp_path, bad, "bad.csv"))
    assert result.exit_code == 2
    assert "line 2, column reference: there is no crime NOPE" in result.stderr
    assert "line 3, column holder: there is no officer with collar ZZ1" in result.stderr
    assert "line 4, column to: 2024-01-06 00:00:00 is not after 'from'" in result.stderr
    overlap = (
        "reference,holder,from,to,actor,reason\n"
        "C2,AB1,2024-01-05,2024-01-10,DS Green,x\n"
        "C2,AB3,2024-01-08,2024-01-12,DS Green,x\n"
    )
    result = force("import", "history", write(tmp_path, overlap, "overlap.csv"))
    assert result.exit_code == 2
    assert "overlap" in result.stderr and "line 3" in result.stderr
    two_open = (
        "reference,holder,from,to,actor,reason\n"
        "C2,AB1,2024-01-05,,DS Green,x\n"
        "C2,AB3,2024-01-08,,DS Green,x\n"
    )
    result = force("import", "history", write(tmp_path, two_open, "open.csv"))
    assert result.exit_code == 2
    assert "line 3, column to: the crime already has a current holder" in result.stderr
    assert counts(sql) == before


# --- domain: the column specs on their own ---------------------------------------------------


def test_parse_row_reads_neutralised_cells_and_defaults() -> None:
    header, problems = match_header(CRIMES, ["Reference", " crime_type ", "REPORTED_ON", "team"])
    assert problems == []
    values, problems = parse_row(CRIMES, header, ["'-12", "Drugs", "03/04/2025", "'@team"])
    assert problems == []
    assert values["reference"] == "-12" and values["team"] == "@team"
    assert values["victim_enhanced"] is False and values["holder"] is None
    header, problems = match_header(OFFICERS, ["collar"])
    assert [p[1] for p in problems] == [
        "missing required columns name, team, accreditation, investigator_since"
    ]


# --- real police.uk data -----------------------------------------------------------------------


def police_uk_as_crimes(source: Path, target: Path) -> int:
    """Convert a police.uk street-level file to caseload's crime columns.

    Crime ID is blank for anti-social behaviour and repeats when one crime has
    several rows; both get a generated reference. The team is the LSOA's borough.
    """
    seen: set[str] = set()
    rows = 0
    with source.open(encoding="utf-8", newline="") as inp, target.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["reference", "crime_type", "reported_on", "team"])
        for number, row in enumerate(csv.DictReader(inp), start=1):
            reference = row["Crime ID"] or f"ASB-{row['Month']}-{number:05d}"
            if reference in seen:
                reference = f"{reference[:40]}-{number}"
            seen.add(reference)
            team = row["LSOA name"].rsplit(" ", 1)[0] or row["Falls within"]
            writer.writerow([reference, row["Crime type"], f"{row['Month']}-01", team])
            rows += 1
    return rows


@pytest.mark.skipif(not POLICE_UK.is_dir(), reason="police.uk files not present")
def test_real_police_uk_file_imports(store, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    source = POLICE_UK / "2023-01-metropolitan-street-sample.csv"
    # As published, the file is refused: the header is not ours.
    result = store("import", "crimes", str(source))
    assert result.exit_code == 2
    assert "line 1: unknown columns Crime ID, Month, Reported by" in result.stderr
    target = tmp_path / "met.csv"
    rows = police_uk_as_crimes(source, target)
    result = store("import", "crimes", str(target))
    assert result.exit_code == 0, result.output
    assert f"Imported {rows:,} crimes: {rows:,} new" in result.stderr
    assert counts(sql)["crime"] == rows == 4000
    teams = {t for (t,) in sql("SELECT name FROM team")}
    assert {"Barking and Dagenham", "Barnet"} <= teams
    types = {t for (t,) in sql("SELECT DISTINCT crime_type FROM crime")}
    assert "Violence and sexual offences" in types and "Anti-social behaviour" in types


# --- the installed command: quiet in a pipe, flat memory -----------------------------------------


@pytest.mark.slow
def test_installed_command_in_a_pipe_prints_only_the_summary(shell, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert shell("init").returncode == 0
    result = shell("import", "officers", "-", input=OFFICERS_CSV)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines() == [
        "2 new teams: Greenwich CID, Lewisham CID.",
        "Imported 3 officers: 3 new, 0 updated, 0 unchanged.",
    ]
    assert result.stdout == ""


MEMORY_SCRIPT = """
import csv, resource, sys
from caseload.cli.app import app
path, db, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(path, "w", newline="") as out:
    w = csv.writer(out)
    w.writerow(["reference", "crime_type", "reported_on", "team", "victim_enhanced"])
    for i in range(rows):
        day = "2024-02-%02d" % (i % 28 + 1)
        w.writerow([f"MEM{i:07d}", "Other theft", day, f"Team {i % 40}", "no"])
try:
    app(["--db", db, "import", "crimes", path], prog_name="caseload")
except SystemExit as exc:
    assert not exc.code, exc.code
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


@pytest.mark.slow
@pytest.mark.sqlite_only
def test_memory_stays_flat_for_a_large_import(store, db_url, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Import streams: four times the rows costs only the per-row keys kept for duplicate checks."""

    def peak_mb(rows: int, db: str) -> int:
        result = subprocess.run(
            [sys.executable, "-c", MEMORY_SCRIPT, str(tmp_path / f"big{rows}.csv"), db, str(rows)],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr
        assert f"Imported {rows:,} crimes: {rows:,} new" in result.stderr
        return int(result.stdout.strip().splitlines()[-1])

    small_db = str(tmp_path / "small.db")
    assert CliRunner().invoke(app, ["--db", small_db, "init"]).exit_code == 0
    small = peak_mb(50_000, small_db)
    large = peak_mb(200_000, db_url)
    assert large - small < 40, f"peak RSS grew from {small} MB to {large} MB"
    assert counts(sql)["crime"] == 200_000
