"""CSV files as people save them (issue 15, item 4): Excel's rows of commas, semicolon- and
tab-separated files, problems counted by kind, and rows repeated exactly.

Each story imports a file as a user would and checks what the user sees (exit code,
summary, warnings, the problems listed) and what the store holds, on both backends.
"""

from __future__ import annotations

from pathlib import Path

from caseload.store.importer import Problems, plural

OFFICERS_HEADER = "collar,name,team,accreditation,investigator_since"
OFFICERS = f"""{OFFICERS_HEADER}
AB1,Sam Jones,Lewisham CID,PIP2,2015-01-01
AB2,Kim Lee,Lewisham CID,PIP1,2020-04-03
"""
CRIMES_HEADER = "reference,crime_type,reported_on,team"


def write(tmp_path: Path, text: str, name: str = "file.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return str(path)


def count(sql, table: str) -> int:  # type: ignore[no-untyped-def]
    return int(sql(f"SELECT count(*) FROM {table}")[0][0])


# --- rows of only commas ----------------------------------------------------------------------


def test_rows_of_only_commas_are_skipped_like_blank_lines_and_counted(store, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # As Excel saves a sheet whose formatting ran further down than its data (CRLF too).
    text = OFFICERS.replace("\n", "\r\n") + ",,,,\r\n,,,,\r\n\r\n , ,,,\r\n"
    result = store("import", "officers", write(tmp_path, text))
    assert result.exit_code == 0, result.output
    assert (
        "Imported 2 officers: 2 new, 0 updated, 0 unchanged; skipped 4 blank rows." in result.stderr
    )
    assert count(sql, "officer") == 2
    # A row of commas in the middle is skipped too; the lines after it keep their numbers.
    rows = OFFICERS.splitlines()
    text = "\n".join([rows[0], rows[1], ",,,,", "AB3,Ola Ade,Greenwich CID,PIPX,2010-06-30"])
    result = store("import", "officers", write(tmp_path, text + "\n", "middle.csv"))
    assert result.exit_code == 2
    assert "line 4, column accreditation" in result.stderr


# --- the delimiter --------------------------------------------------------------------------


def test_semicolon_and_tab_files_are_read_and_the_delimiter_is_named(store, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    semicolons = OFFICERS.replace(",", ";")
    result = store("import", "officers", write(tmp_path, semicolons, "semi.csv"))
    assert result.exit_code == 0, result.output
    assert "as semicolon-separated (found in its header)" in result.stderr
    assert "Imported 2 officers: 2 new" in result.stderr
    names = {n for (n,) in sql("SELECT name FROM officer")}
    assert names == {"Sam Jones", "Kim Lee"}

    tabs = f"{CRIMES_HEADER}\nC1\tBurglary\t2024-01-05\tLewisham CID\n".replace(",", "\t")
    result = store("import", "crimes", write(tmp_path, tabs, "tabs.tsv"))
    assert result.exit_code == 0, result.output
    assert "as tab-separated" in result.stderr
    assert sql("SELECT reference, crime_type FROM crime") == [("C1", "Burglary")]

    # A comma file says nothing about its delimiter.
    result = store("import", "officers", write(tmp_path, OFFICERS, "comma.csv"))
    assert result.exit_code == 0
    assert "separated" not in result.stderr


def test_an_explicit_delimiter_wins_and_a_bad_one_is_refused(store, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Cells hold commas ("Jones, Sam"): the file is semicolon-separated, as given.
    text = OFFICERS.replace(",", ";").replace("Sam Jones", "Jones, Sam")
    path = write(tmp_path, text)
    result = store("import", "officers", path, "--delimiter", "semicolon")
    assert result.exit_code == 0, result.output
    assert "separated" not in result.stderr  # given, not found
    assert ("Jones, Sam",) in sql("SELECT name FROM officer")
    # Read with commas, the header is one unknown column, and nothing is written.
    result = store(
        "import",
        "officers",
        write(tmp_path, OFFICERS.replace(",", ";"), "b.csv"),
        "--delimiter",
        ",",
    )
    assert result.exit_code == 2
    assert "unknown column collar;name;team" in result.stderr
    result = store("import", "officers", path, "--delimiter", "|")
    assert result.exit_code == 2
    assert "not a delimiter caseload reads (comma, semicolon or tab)" in result.stderr
    assert count(sql, "officer") == 2


# --- problems counted by kind -----------------------------------------------------------------


def test_problems_are_counted_by_kind_before_the_first_fifty(store, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert store("import", "officers", write(tmp_path, OFFICERS, "o.csv")).exit_code == 0
    rows = [f"R{i},Burglary,2024-01-05,Lewisham CID,," for i in range(60)]
    rows += [f"R{i},Robbery,2024-01-05,Lewisham CID,," for i in range(12)]  # other cells
    rows += ["B1,Burglary,31/02/2024,Lewisham CID,,", "B2,Burglary,someday,Lewisham CID,,"]
    rows += [
        "B3,Burglary,2024-01-05,Lewisham CID,PIP9,",
        "B4,Burglary,2024-01-05,Lewisham CID,,ZZ9",
    ]
    header = ",".join([CRIMES_HEADER, "required_level", "holder"])
    result = store("import", "crimes", write(tmp_path, "\n".join([header, *rows]) + "\n"))
    assert result.exit_code == 2
    err = result.stderr
    assert "16 problems in 16 of 76 rows; nothing was imported" in err
    # The counts come first, commonest first, so the repeats are not lost in "... more".
    assert (
        "by kind: 12 repeated references, 2 bad reported_on cells, "
        "1 bad required_level cell, 1 unknown holder\n" in err
    )
    assert err.index("by kind:") < err.index("line 62")
    assert (
        "line 62, column reference: the reference R0 appears earlier in the file "
        "(line 2) with other cells" in err
    )
    assert count(sql, "crime") == 0


def test_problem_kinds_are_counted_past_the_fifty_listed() -> None:
    problems = Problems()
    for line in range(2, 102):
        problems.add(line, "reference", "repeated", "repeated reference")
    problems.add(200, "reported_on", "not a date")
    details = problems.details()
    assert details[0] == "by kind: 100 repeated references, 1 bad reported_on cell"
    assert len(details) == 1 + 50 + 1 and details[-1] == "... and 51 more"
    assert plural("review (reference and day)") == "reviews (reference and day)"


# --- rows repeated exactly ----------------------------------------------------------------------


def test_an_exact_repeat_is_imported_once_with_a_warning(store, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = [
        "C1,Burglary,2024-01-05,Lewisham CID",
        "C2,Robbery,2024-01-06,Lewisham CID",
        "C1,Burglary,2024-01-05,Lewisham CID",
        "C2,Robbery,2024-01-06,Lewisham CID",
        "C1,Burglary,2024-01-05,Lewisham CID,",  # a trailing empty cell: still the same row
    ]
    path = write(tmp_path, "\n".join([CRIMES_HEADER, *rows]) + "\n")
    result = store("import", "crimes", path)
    assert result.exit_code == 0, result.output
    assert (
        "Warning: 3 rows repeat an earlier row exactly and were imported once "
        "(first: line 4 repeats line 2)." in result.stderr
    )
    assert "Imported 2 crimes: 2 new, 0 updated, 0 unchanged." in result.stderr
    assert sorted(sql("SELECT reference, crime_type FROM crime")) == [
        ("C1", "Burglary"),
        ("C2", "Robbery"),
    ]
    # The import's log entry counts the repeats; importing again changes nothing.
    result = store("import", "crimes", path)
    assert "Imported 2 crimes: 0 new, 0 updated, 2 unchanged." in result.stderr
    assert count(sql, "crime") == 2


def test_the_same_reference_with_other_cells_is_still_an_error(store, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = [
        "C1,Burglary,2024-01-05,Lewisham CID",
        "C1,Burglary,2024-01-05,Lewisham CID",
        "C1,Burglary,2024-01-07,Lewisham CID",
    ]
    result = store("import", "crimes", write(tmp_path, "\n".join([CRIMES_HEADER, *rows]) + "\n"))
    assert result.exit_code == 2
    assert (
        "line 4, column reference: the reference C1 appears earlier in the file (line 2) "
        "with other cells" in result.stderr
    )
    assert "line 3," not in result.stderr  # the exact repeat is no problem
    assert count(sql, "crime") == 0
