"""Nothing is assumed without a word: an import says which teams it created (and which
look like a typo), and how many crimes took the default level; ``db check -f json`` prints
``[]`` when all is well; an empty XDG_CONFIG_HOME does not put the store in the current
folder; an import that does not name the author of a review or victim update says so
rather than crediting whoever ran it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Runner, add_teams, caseload_exe

HEADER = "reference,crime_type,reported_on,team\n"


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def imported(run: Runner, kind: str, path: str, *extra: str) -> Any:
    result = run("import", kind, path, *extra)
    assert result.exit_code == 0, result.output
    return result


# --- crimes that took the default level -----------------------------------------------------


def test_an_import_into_an_empty_matrix_says_how_many_took_the_default(
    store: Runner, tmp_path: Path
) -> None:
    types = (
        ["Burglary"] * 4 + ["Drugs"] * 3 + ["Robbery"] * 2 + ["Arson", "Fraud", "Theft", "Other"]
    )
    rows = "".join(f"CR/{n},{kind},2026-01-05,Lewisham CID\n" for n, kind in enumerate(types))
    result = imported(store, "crimes", write(tmp_path, "crimes.csv", HEADER + rows))
    assert (
        "Warning: 13 new crimes took the default level PIP1 (type not in the allocation "
        "matrix): Burglary 4, Drugs 3, Robbery 2, Arson 1, Fraud 1, and 2 other types 2."
    ) in result.stderr
    listed = json.loads(store("crime", "list", "--defaulted", "-f", "json").stdout)
    assert len(listed) == 13
    again = imported(store, "crimes", write(tmp_path, "crimes.csv", HEADER + rows))
    assert "default level" not in again.stderr  # nothing new took it


def test_types_in_the_matrix_take_its_level_without_a_warning(
    store: Runner, tmp_path: Path
) -> None:
    assert store("matrix", "set", "Burglary", "PIP2").exit_code == 0
    rows = "CR/1,Burglary,2026-01-05,T\nCR/2,burglary,2026-01-05,T\nCR/3,Drugs,2026-01-05,T\n"
    result = imported(store, "crimes", write(tmp_path, "c.csv", HEADER + rows))
    assert "1 new crime took the default level PIP1" in result.stderr
    assert "Drugs 1." in result.stderr
    dry = store("import", "crimes", write(tmp_path, "d.csv", HEADER + "CR/9,Fraud,2026-01-05,T\n"),
                "--dry-run")  # fmt: skip
    assert "1 new crime took the default level PIP1" in dry.stderr
    assert "Nothing was written (dry run)" in dry.stderr


# --- teams an import creates ---------------------------------------------------------------


def test_imports_create_the_teams_they_name_and_say_so(
    store: Runner,
    tmp_path: Path,
    sql,  # type: ignore[no-untyped-def]
) -> None:
    add_teams(store, "Lewisham CID")
    officers = write(
        tmp_path,
        "officers.csv",
        "collar,name,team,accreditation,investigator_since\n"
        "AB1,Ann Bee,Lewisham CID,PIP2,2015-01-01\n"
        "AB2,Bo Cee,Lewisham CDI,PIP2,2015-01-01\n"
        "AB3,Cy Dee,Bexley Volume Crime,PIP1,2020-01-01\n"
        "AB4,Di Eff,bexley volume crime,PIP1,2020-01-01\n",
    )
    result = imported(store, "officers", officers)
    assert "2 new teams: Bexley Volume Crime, Lewisham CDI." in result.stderr
    assert (
        "Warning: the new team 'Lewisham CDI' is close to the existing team 'Lewisham CID'"
        in result.stderr
    )
    assert "Bexley Volume Crime' is close" not in result.stderr
    teams = json.loads(store("team", "list", "-f", "json").stdout)
    assert [t["team"] for t in teams] == ["Bexley Volume Crime", "Lewisham CDI", "Lewisham CID"]
    [(detail,)] = sql("SELECT detail FROM log_entry WHERE kind = 'import'")
    assert json.loads(detail)["new_teams"] == ["Bexley Volume Crime", "Lewisham CDI"]

    again = imported(store, "officers", officers)
    assert "new team" not in again.stderr
    crimes = imported(
        store,
        "crimes",
        write(tmp_path, "crimes.csv", HEADER + "CR/1,Burglary,2026-01-05,Greenwich CID\n"),
    )
    assert "1 new team: Greenwich CID." in crimes.stderr


# --- db check, the default store, authors not given ------------------------------------------


def test_db_check_json_prints_an_empty_list_when_all_is_well(store: Runner) -> None:
    result = store("db", "check", "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []
    assert "passed all" in result.stderr


@pytest.mark.sqlite_only
def test_an_empty_xdg_config_home_is_treated_as_unset(tmp_path: Path) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "CASELOAD_DB"}
    env.update({"HOME": str(home), "XDG_CONFIG_HOME": ""})
    result = subprocess.run(
        [*caseload_exe(), "init"], cwd=work, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    expected = home / ".config" / "caseload" / "caseload.db"
    assert expected.is_file()
    assert list(work.iterdir()) == []
    assert str(expected) in result.stderr


def test_imported_reviews_and_updates_without_an_author_say_not_given(
    store: Runner,
    tmp_path: Path,
    sql,  # type: ignore[no-untyped-def]
) -> None:
    imported(store, "crimes", write(tmp_path, "c.csv", HEADER + "CR/1,Burglary,2026-01-05,T\n"))
    imported(
        store,
        "reviews",
        write(
            tmp_path,
            "r.csv",
            "reference,on,note,actor\nCR/1,2026-01-06,First look,DS Reid\n"
            "CR/1,2026-01-20,Second look,\n",
        ),  # fmt: skip
    )
    imported(
        store,
        "victim-updates",
        write(tmp_path, "u.csv", "reference,on,note\nCR/1,2026-01-07,Rang\n"),
    )
    shown = json.loads(store("crime", "show", "CR/1", "-f", "json").stdout)
    assert [(r["actor"], r["imported_by"]) for r in shown["reviews"]] == [
        ("DS Reid", "test-supervisor"),
        ("not given", "test-supervisor"),
    ]
    [update] = shown["victim_updates"]
    assert (update["actor"], update["imported_by"]) == ("not given", "test-supervisor")
    assert sql("SELECT actor, imported_by FROM victim_update") == [("", "test-supervisor")]
    entries = sql("SELECT actor, detail FROM log_entry WHERE kind = 'victim-update'")
    assert [(actor, json.loads(detail)["author"]) for actor, detail in entries] == [
        ("test-supervisor", None)
    ]
    # Recorded directly, the author is the actor and nothing was imported.
    assert store("victim-update", "CR/1", "-m", "Rang again", "--actor", "DC Lee").exit_code == 0
    latest = json.loads(store("crime", "show", "CR/1", "-f", "json").stdout)["victim_updates"][-1]
    assert (latest["actor"], latest["imported_by"]) == ("DC Lee", None)
