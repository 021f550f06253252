"""``caseload report compliance``: the quality reviews recorded in the period
(``review --quality``) beside the supervisory reviews' timeliness, per team and force.

Three teams; quality reviews recorded through the CLI in February to April 2026, with the
March figures worked out by hand below."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from tests.helpers.cli import Runner
from tests.helpers.force import add_teams

A, B, C = "Lewisham CID", "Greenwich CID", "Bexley Volume Crime"
QUALITY = ("quality_reviews", "quality_pass", "quality_advice", "quality_fail")
MARCH = ("--from", "2026-03-01", "--to", "2026-03-31")


@pytest.fixture
def force(store: Runner) -> Runner:
    add_teams(store, A, B, C)
    for ref, team, reported in (
        ("Q1", A, "2026-02-01"),
        ("Q2", A, "2026-02-10"),
        ("Q4", A, "2026-02-12"),
        ("Q3", B, "2026-02-05"),
        ("C1", C, "2026-02-03"),
    ):
        result = store(
            "crime", "add", ref, "--type", "Burglary", "--team", team, "--reported", reported,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    steps = [
        ("Q1", "pass", "2026-03-05"),
        ("Q2", "advice", "2026-03-10"),
        ("Q2", None, "2026-03-12"),  # a review without a quality result: not counted
        ("Q1", "fail", "2026-03-20"),  # a second quality review of the same crime counts too
        ("Q4", "advice", "2026-03-15"),  # finalised afterwards: still counted
        ("Q1", "pass", "2026-04-02"),  # after March
        ("Q3", "pass", "2026-02-28"),  # before March
        ("Q3", "fail", "2026-03-31"),  # the period's last day
        ("C1", None, "2026-03-04"),
    ]
    for ref, quality, on in steps:
        extra = ("--quality", quality) if quality else ()
        result = store("review", ref, "-m", "checked the file", "--on", on, *extra)
        assert result.exit_code == 0, result.output
    finalised = store("crime", "finalise", "Q4", "--outcome", "18", "--on", "2026-03-20")
    assert finalised.exit_code == 0, finalised.output
    return store


def rows(run: Runner, *args: str) -> list[dict[str, Any]]:
    result = run("report", "compliance", *args, "-f", "json")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    found: list[dict[str, Any]] = json.loads(result.stdout)
    return found


def quality(found: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    """Each supervisory-review row's quality figures, by team; every other duty's row
    carries none."""
    for row in found:
        if row["duty"] != "supervisory-review":
            assert [row[key] for key in QUALITY] == [None] * 4, row
    return {
        row["team"]: tuple(row[key] for key in QUALITY)
        for row in found
        if row["duty"] == "supervisory-review"
    }


def test_the_march_return_counts_quality_reviews_by_result_per_team_and_force(
    force: Runner,
) -> None:
    assert quality(rows(force, *MARCH)) == {
        A: (4, 1, 2, 1),
        B: (1, 0, 0, 1),
        C: (0, None, None, None),  # none recorded: no results, not zeros
        "All teams": (5, 1, 2, 2),
    }
    # Wider, the April pass and the February one come in.
    assert quality(rows(force, "--from", "2026-02-01", "--to", "2026-04-30")) == {
        A: (5, 2, 2, 1),
        B: (2, 1, 0, 1),
        C: (0, None, None, None),
        "All teams": (7, 3, 2, 2),
    }


def test_the_timeliness_figures_are_those_of_the_return_without_quality(force: Runner) -> None:
    """The quality columns sit beside the duty figures, which count every review as before:
    Lewisham's reviews fell due on 1 March (Q1: met late on the 5th), 10 March (Q2: met on
    time that day) and 12 March (Q4: met late on the 15th); Greenwich's on 5 March (Q3: met
    on time on 28 February) and 28 March (met late on the 31st); Bexley's on 3 March (met
    late on the 4th)."""
    found = {(r["duty"], r["team"]): r for r in rows(force, *MARCH)}
    figures = {
        team: tuple(found[("supervisory-review", team)][k] for k in ("due", "on_time", "late"))
        for team in (A, B, C, "All teams")
    }
    assert figures == {A: (3, 1, 2), B: (2, 1, 1), C: (1, 0, 1), "All teams": (6, 2, 4)}


def test_a_team_with_quality_reviews_but_no_review_due_has_its_row(force: Runner) -> None:
    # On 5 March only Greenwich's Q3 had a review due (met on 28 February); none of
    # Lewisham's fell due, but Q1's quality review was recorded that day.
    one_day = rows(force, "--from", "2026-03-05", "--to", "2026-03-05")
    review_rows = [r for r in one_day if r["duty"] == "supervisory-review"]
    assert [(r["team"], r["due"], r["on_time_rate"]) for r in review_rows] == [
        (B, 1, 100.0),
        (A, 0, None),
        ("All teams", 1, 100.0),
    ]
    assert quality(one_day) == {
        B: (0, None, None, None),
        A: (1, 1, 0, 0),
        "All teams": (1, 1, 0, 0),
    }


def test_team_scope(force: Runner) -> None:
    assert quality(rows(force, *MARCH, "--team", "greenwich cid")) == {B: (1, 0, 0, 1)}
    assert quality(rows(force, *MARCH, "--team", A)) == {A: (4, 1, 2, 1)}
    scoped = force("report", "compliance", *MARCH, "--team", C)
    assert scoped.exit_code == 0, scoped.output
    assert scoped.stderr.splitlines()[-1] == (
        f"No quality reviews were recorded from 2026-03-01 to 2026-03-31 in {C} "
        "('caseload review CRIME --quality pass|advice|fail' records one)."
    )
    assert quality(rows(force, *MARCH, "--team", C)) == {C: (0, None, None, None)}


def test_an_empty_period_says_none_were_recorded(force: Runner) -> None:
    table = force("report", "compliance", "--from", "2025-06-01", "--to", "2025-06-30")
    assert table.exit_code == 0, table.output
    assert "No quality reviews were recorded from 2025-06-01 to 2025-06-30 (" in table.stderr
    review_lines = [line.split() for line in table.stdout.splitlines() if "review" in line]
    assert review_lines[-1] == ["supervisory-review", "All", "teams", "0", "0", "0", "0", "0"]
    # No team had anything due or recorded: the force's row alone, with none recorded.
    assert quality(rows(force, "--from", "2025-06-01", "--to", "2025-06-30")) == {
        "All teams": (0, None, None, None)
    }
    # A period with quality reviews says nothing of the kind.
    march = force("report", "compliance", *MARCH, "-f", "plain")
    assert march.exit_code == 0, march.output
    assert "No quality reviews" not in march.stderr


def test_table_and_csv_show_the_quality_columns(force: Runner) -> None:
    table = force("report", "compliance", *MARCH)
    assert table.exit_code == 0, table.output
    header = table.stdout.splitlines()[0]
    assert header.split()[-8:] == ["quality", "reviews", "quality", "pass", "quality",
                                   "advice", "quality", "fail"]  # fmt: skip
    lewisham = next(
        line.split()
        for line in table.stdout.splitlines()
        if line.startswith("supervisory-review") and A in line
    )
    assert lewisham[-4:] == ["4", "1", "2", "1"]
    assert "No quality reviews" not in table.stderr

    as_csv = force("report", "compliance", *MARCH, "-f", "csv")
    assert as_csv.exit_code == 0, as_csv.output
    found = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert list(found[0])[-4:] == list(QUALITY)
    by_key = {(r["duty"], r["team"]): r for r in found}
    assert [by_key[("supervisory-review", "All teams")][k] for k in QUALITY] == ["5", "1", "2", "2"]
    assert [by_key[("supervisory-review", C)][k] for k in QUALITY] == ["0", "", "", ""]
    assert [by_key[("victim-update", A)][k] for k in QUALITY] == ["", "", "", ""]


def test_the_installed_command_shows_quality_reviews(force: Runner, shell) -> None:  # type: ignore[no-untyped-def]
    done = shell("report", "compliance", *MARCH, "--team", A, "-f", "json")
    assert done.returncode == 0, done.stderr
    assert quality(json.loads(done.stdout)) == {A: (4, 1, 2, 1)}
    empty = shell("report", "compliance", "--from", "2026-01-01", "--to", "2026-01-31")
    assert empty.returncode == 0, empty.stderr
    assert "No quality reviews were recorded from 2026-01-01 to 2026-01-31 (" in empty.stderr


def test_imported_reviews_carry_their_quality_result(force: Runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``import reviews`` takes an optional quality column: the return counts the
    imported quality reviews as it counts those recorded by ``review --quality``; a value
    that is not a result is refused, naming the line, and nothing is written."""
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "reference,on,note,quality\nQ3,2026-03-06,dip sample,pass\nQ3,2026-03-07,dip,great\n",
        encoding="utf-8",
    )
    refused = force("import", "reviews", str(bad))
    assert refused.exit_code == 2
    assert "line 3" in refused.stderr and "great" in refused.stderr
    assert quality(rows(force, *MARCH))[B] == (1, 0, 0, 1)  # as before the file
    good = tmp_path / "reviews.csv"
    good.write_text(
        "reference,on,note,quality\nQ3,2026-03-06,dip sample,advice\nQ3,2026-03-08,plain,\n",
        encoding="utf-8",
    )
    imported = force("import", "reviews", str(good))
    assert imported.exit_code == 0, imported.output
    assert quality(rows(force, *MARCH))[B] == (2, 0, 1, 1)
    shown = force("crime", "show", "Q3")
    assert "advice" in shown.stdout


def test_the_sample_force_shows_its_quality_reviews(run: Runner) -> None:
    """The sample force's reviews include nine quality reviews in the last 25 days (five
    pass, three advice, one fail), so its return's quality columns are not all empty."""
    from datetime import date, timedelta

    assert run("init", "--sample").exit_code == 0
    today = date.today()
    period = ("--from", (today - timedelta(days=30)).isoformat(), "--to", today.isoformat())
    assert quality(rows(run, *period))["All teams"] == (9, 5, 3, 1)
