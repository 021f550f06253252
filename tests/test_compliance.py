"""``caseload report compliance``: each duty per team and force, rebuilt for a past period.

A small force of dated records in February to April 2026, with every figure of the March
return worked out by hand below (2026-03-01 is a Sunday)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from caseload.domain.compliance import look_back, on_time_rate
from caseload.domain.policy import DEFAULTS
from caseload.domain.risk import review_interval
from tests.helpers.cli import Runner
from tests.helpers.force import add_teams

A, B = "Lewisham CID", "Greenwich CID"


@pytest.fixture
def force(store: Runner, sql) -> Runner:  # type: ignore[no-untyped-def]
    add_teams(store, A, B)
    for ref, team, reported, flag in (
        ("R1", A, "2026-02-01", "--standard"),
        ("R2", A, "2026-02-10", "--standard"),
        ("R3", B, "2026-02-15", "--enhanced"),
        ("R4", B, "2026-02-05", "--standard"),
        ("F1", A, "2026-03-03", "--standard"),
        ("F2", B, "2026-03-27", "--standard"),
        ("F3", B, "2026-01-20", "--standard"),
    ):
        result = store(
            "crime", "add", ref, "--type", "Burglary", "--team", team, "--reported", reported,
            flag,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    steps = [
        ("review", "R1", "-m", "first look", "--on", "2026-02-20"),
        ("review", "R1", "-m", "second look", "--on", "2026-03-18"),
        ("review", "R2", "-m", "late look", "--on", "2026-03-15"),
        ("review", "R3", "-m", "after March", "--on", "2026-04-05"),
        ("crime", "finalise", "R4", "--outcome", "18", "--on", "2026-02-25"),
        ("victim-update", "R1", "-m", "told", "--on", "2026-02-25"),
        ("victim-update", "R1", "-m", "told", "--on", "2026-03-30"),
        ("victim-update", "R2", "--every", "14d"),
        ("event", "R1", "arrested", "--on", "2026-03-02"),
        ("event", "R3", "charged", "--on", "2026-03-05"),
        ("event", "R2", "bailed", "--on", "2026-03-24"),
        ("victim-update", "R2", "-m", "told of bail", "--on", "2026-03-26"),
        ("victim-referral", "F1", "--on", "2026-03-04"),
        ("victim-referral", "F2", "--declined", "--on", "2026-04-01"),
    ]
    for step in steps:
        result = store(*step)
        assert result.exit_code == 0, (step, result.output)
    sql("UPDATE duty_start SET start_on = :d WHERE duty = 'victim-referral'", d="2026-02-01")
    return store


def figures(run: Runner, *args: str) -> dict[tuple[str, str], tuple]:  # type: ignore[type-arg]
    result = run("report", "compliance", *args, "-f", "json")
    assert result.exit_code == 0, result.output
    return {
        (r["duty"], r["team"]): (r["due"], r["on_time"], r["late"], r["outstanding"],
                                 r["on_time_rate"])
        for r in json.loads(result.stdout)
    }  # fmt: skip


MARCH = {
    ("supervisory-review", A): (4, 2, 1, 1, 50.0),
    ("supervisory-review", B): (1, 0, 0, 1, 0.0),
    ("supervisory-review", "All teams"): (5, 2, 1, 2, 40.0),
    ("victim-update", A): (3, 1, 1, 1, 33.3),
    ("victim-update", B): (1, 0, 0, 1, 0.0),
    ("victim-update", "All teams"): (4, 1, 1, 2, 25.0),
    ("right-6-notification", A): (2, 1, 1, 0, 50.0),
    ("right-6-notification", B): (1, 0, 0, 1, 0.0),
    ("right-6-notification", "All teams"): (3, 1, 1, 1, 33.3),
    ("right-4-referral", A): (1, 1, 0, 0, 100.0),
    ("right-4-referral", B): (1, 0, 0, 1, 0.0),
    ("right-4-referral", "All teams"): (2, 1, 0, 1, 50.0),
}


def test_the_march_return_counts_each_duty_per_team_and_force(force: Runner) -> None:
    assert figures(force, "--from", "2026-03-01", "--to", "31/03/2026") == MARCH


def test_a_duty_met_after_the_period_is_outstanding_in_it_and_late_in_a_longer_one(
    force: Runner,
) -> None:
    spring = figures(force, "--from", "2026-03-01", "--to", "2026-04-30")
    assert spring[("right-4-referral", B)] == (1, 0, 1, 0, 0.0)  # F2 declined on 1 April
    # R3's review of 5 April meets its March deadline late (its next is due 3 May); F2's
    # first is due 24 April (outstanding). R1's 18 March review is next due 15 April and
    # R2's 15 March one 12 April (both outstanding), as is F1's first (31 March).
    assert spring[("supervisory-review", B)] == (2, 0, 1, 1, 0.0)
    assert spring[("supervisory-review", A)] == (6, 2, 1, 3, 33.3)


def test_team_scope_and_formats(force: Runner) -> None:
    scoped = figures(force, "--from", "2026-03-01", "--to", "2026-03-31", "--team", "lewisham cid")
    assert scoped == {key: value for key, value in MARCH.items() if key[1] == A}
    as_csv = force("report", "compliance", "--from", "2026-03-01", "--to", "2026-03-31",
                   "-f", "csv")  # fmt: skip
    assert as_csv.exit_code == 0, as_csv.output
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert list(rows[0]) == [
        "duty", "team", "due", "on_time", "late", "outstanding", "on_time_rate",
        "quality_reviews", "quality_pass", "quality_advice", "quality_fail",
    ]  # fmt: skip
    assert rows[2] == {
        "duty": "supervisory-review", "team": "All teams", "due": "5", "on_time": "2",
        "late": "1", "outstanding": "2", "on_time_rate": "40",
        "quality_reviews": "0", "quality_pass": "", "quality_advice": "", "quality_fail": "",
    }  # fmt: skip
    table = force("report", "compliance", "--from", "2026-03-01", "--to", "2026-03-31")
    assert table.exit_code == 0
    assert "right-4-referral" in table.stdout and "All teams" in table.stdout


def test_a_period_with_nothing_due_shows_every_duty_with_zeros(force: Runner) -> None:
    quiet = figures(force, "--from", "2025-06-01", "--to", "2025-06-30")
    assert {duty for duty, _ in quiet} == {
        "supervisory-review", "victim-update", "right-6-notification", "right-4-referral",
    }  # fmt: skip
    assert set(quiet.values()) == {(0, 0, 0, 0, None)}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "2026-03-01", "--to", "2199-01-01"), "in the future"),
        (("--from", "2026-04-01", "--to", "2026-03-01"), "is after --to"),
        (("--from", "2026-03-01", "--to", "2026-03-31", "--team", "Lewisham"), "no team"),
        (("--from", "soon", "--to", "2026-03-31"), "not a date"),
        (
            (
                "--to",
                "2026-03-31",
            ),
            "--from",
        ),
    ],
)
def test_bad_input_exits_two(force: Runner, args: tuple[str, ...], message: str) -> None:
    result = force("report", "compliance", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_domain_rules() -> None:
    assert [review_interval(g, DEFAULTS) for g in ("standard", "medium", "high")] == [28, 14, 7]
    assert on_time_rate(1, 3) == 33.3
    assert on_time_rate(0, 0) is None
    from datetime import date

    # Deadlines 5 working days on that fall on or after Monday 2 March 2026 start from
    # Monday 23 February (23 Feb + 5 working days = 2 March).
    assert look_back(date(2026, 3, 2), 5) == date(2026, 2, 23)


def test_the_installed_command_writes_the_return_as_csv(force: Runner, shell) -> None:  # type: ignore[no-untyped-def]
    done = shell("report", "compliance", "--from", "2026-03-01", "--to", "2026-03-31", "-f", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(rows) == 12
    assert done.stderr == ""
    refused = shell("report", "compliance", "--from", "2026-04-01", "--to", "2026-03-01")
    assert refused.returncode == 2
    assert refused.stderr.startswith("Error: --from 2026-04-01 is after --to 2026-03-01.")
    assert refused.stdout == ""
