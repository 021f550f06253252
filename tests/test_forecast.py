"""``caseload forecast``: a team's weeks ahead if nothing moved, on SQLite and PostgreSQL,
against figures worked out by hand below."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.helpers.cli import Runner

TODAY = date.today()


def day(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()


OFFICERS = """collar,name,team,accreditation,investigator_since,status,capacity,trainee
A1,Ann Able,Lewisham CID,PIP2,2015-01-01,active,,no
B2,Ben Best,Lewisham CID,PIP1,2015-01-01,active,,yes
C3,Cat Cole,Lewisham CID,PIP1,2015-01-01,active,4,no
D4,Dan Dale,Lewisham CID,PIP2,2015-01-01,active,,no
Z9,Zed Zane,Bexley,PIP1,2015-01-01,active,,no
"""

HEADER = "reference,crime_type,reported_on,team,required_level,holder,finalised_on,outcome"
# A1 holds 3 PIP1 (A03 reported 60 days ago, outside the 8 weeks), B2 (a trainee) 4,
# C3 4 (its capacity), D4 one PIP2 (weight 2); U01 is unallocated: 13 live. Five more were
# reported 30 days ago and finalised 10 days ago. Reported in the 8 weeks: 12 + 5 = 17,
# 16 PIP1 and 1 PIP2: 2.125 a week, so 2 a week, both PIP1 (largest remainder).
CRIMES = "\n".join(
    [
        HEADER,
        *(f"A0{n},Burglary,{day(-20)},Lewisham CID,PIP1,A1,," for n in (1, 2)),
        f"A03,Burglary,{day(-60)},Lewisham CID,PIP1,A1,,",
        *(f"B0{n},Burglary,{day(-20)},Lewisham CID,PIP1,B2,," for n in range(1, 5)),
        *(f"C0{n},Burglary,{day(-20)},Lewisham CID,PIP1,C3,," for n in range(1, 5)),
        f"P01,Robbery,{day(-20)},Lewisham CID,PIP2,D4,,",
        f"U01,Burglary,{day(-20)},Lewisham CID,PIP1,,,",
        *(f"F0{n},Burglary,{day(-30)},Lewisham CID,PIP1,,{day(-10)},1" for n in range(1, 6)),
        f"Z01,Burglary,{day(-20)},Bexley,PIP1,Z9,,",
    ]
)


@pytest.fixture
def force(store: Runner, tmp_path: Path) -> Runner:
    (tmp_path / "officers.csv").write_text(OFFICERS)
    (tmp_path / "crimes.csv").write_text(CRIMES + "\n")
    assert store("import", "officers", str(tmp_path / "officers.csv")).exit_code == 0
    result = store("import", "crimes", str(tmp_path / "crimes.csv"))
    assert result.exit_code == 0, result.output
    # Lewisham's own inexperienced limit is 3 (per-team policy): B2, holding 4, is over it,
    # and it is the nominal capacity of Lewisham's officers without a ceiling.
    result = store("policy", "set", "inexperienced_limit", "3", "--team", "Lewisham CID")
    assert result.exit_code == 0, result.output
    # D4 is on leave all of week 2; C3 works half time in week 3.
    for args in (
        ("D4", "--from", day(7), "--to", day(13), "--kind", "leave"),
        ("C3", "--from", day(14), "--to", day(20), "--kind", "reduced", "--percent", "50"),
    ):
        result = store("officer", "absence", "add", *args, "--reason", "planned")
        assert result.exit_code == 0, result.output
    return store


def forecast(run: Runner, *args: str) -> dict:  # type: ignore[type-arg]
    result = run("forecast", "--team", "lewisham cid", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_weeks_as_worked_by_hand(force: Runner) -> None:
    document = forecast(force, "--weeks", "3")
    assert document["start"] == TODAY.isoformat()
    assert any("no crime is finalised" in line for line in document["assumptions"])
    [team] = document["teams"]
    assert team["team"] == "Lewisham CID"
    assert team["intake"] == 2
    assert "17 crimes reported" in team["intake_source"]
    assert team["intake_mix"] == {"PIP1": 16, "PIP2": 1}
    assert team["recent_weekly_finalised"] == 0.6  # 5 in 8 weeks
    one, two, three = team["weeks"]
    # Week 1: all four available. D4 (load 2 of nominal 3) takes the first new crime,
    # then A1 and D4 tie at 3 of 3 and A1 wins on collar. B2 is at the limit, C3 at capacity.
    assert (one["week_start"], one["week_end"]) == (day(0), day(6))
    assert {k: one[k] for k in ("officers", "available", "intake", "unplaced", "live")} == {
        "officers": 4,
        "available": 4,
        "intake": 2,
        "unplaced": 0,
        "live": 15,
    }
    assert (one["weighted_load"], one["capacity"], one["load_share"]) == (15, 13, 1.15)
    assert one["live_per_available"] == 3.8  # 15 / 4
    assert one["absent_holding"] == []
    assert [(f["collar"], f["kind"], f["live"], f["limit"]) for f in one["over_limit"]] == [
        ("B2", "inexperienced-over-limit", 4, 3)
    ]
    # Week 2: D4 on leave holds 2; only A1 may take the two new crimes (A1: 6).
    assert (two["available"], two["live"], two["weighted_load"], two["capacity"]) == (3, 17, 17, 10)
    assert two["load_share"] == 1.7
    assert two["live_per_available"] == 5.7
    [absent] = two["absent_holding"]
    assert (absent["collar"], absent["kind"], absent["live"]) == ("D4", "absent-holding", 2)
    assert absent["detail"] == f"leave from {day(7)} to {day(13)}"
    # Week 3: D4 is back (3 of 3 against A1's 6 of 3) and takes both; C3 on half time
    # has a capacity of 2 and holds 4.
    assert (three["available"], three["live"], three["weighted_load"]) == (4, 19, 19)
    assert three["capacity"] == 3 + 3 + 2 + 3
    assert three["load_share"] == 1.73
    assert three["absent_holding"] == []
    assert [(f["collar"], f["kind"], f["live"], f["limit"]) for f in three["over_limit"]] == [
        ("C3", "over-capacity", 4, 2),
        ("B2", "inexperienced-over-limit", 4, 3),
    ]


def test_intake_given_is_spread_by_the_suggestion_rule(force: Runner) -> None:
    [team] = forecast(force, "--weeks", "1", "--intake", "5")["teams"]
    assert team["intake_source"] == "given with --intake"
    [week] = team["weeks"]
    # D4, A1, D4, A1, D4: the lower load share first, collar breaking ties.
    assert (week["intake"], week["live"], week["weighted_load"]) == (5, 18, 18)
    none = forecast(force, "--weeks", "1", "--intake", "0")["teams"][0]["weeks"][0]
    assert (none["live"], none["weighted_load"]) == (13, 13)


def test_csv_lists_collars_and_every_team_without_team(force: Runner) -> None:
    result = force("forecast", "--weeks", "2", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == [
        "team",
        "week",
        "week_start",
        "week_end",
        "officers",
        "available",
        "intake",
        "unplaced",
        "live",
        "live_per_available",
        "weighted_load",
        "capacity",
        "load_share",
        "absent_holding",
        "over_limit",
    ]
    assert [(r["team"], r["week"]) for r in rows] == [
        ("Bexley", "1"),
        ("Bexley", "2"),
        ("Lewisham CID", "1"),
        ("Lewisham CID", "2"),
    ]
    assert (rows[3]["absent_holding"], rows[3]["over_limit"]) == ("D4", "B2")
    # Bexley: one crime reported in the 8 weeks, 0.125 a week: no intake assumed.
    assert (rows[0]["intake"], rows[0]["live"], rows[0]["available"]) == ("0", "1", "1")


def test_table_says_the_assumptions_and_lists_who(force: Runner) -> None:
    result = force("forecast", "--team", "Lewisham CID", "--weeks", "2")
    assert result.exit_code == 0, result.output
    assert "no crime is finalised" in result.stderr
    assert "2 new crimes a week" in result.stderr
    assert "finalised 0.6 a week (not applied)" in result.stderr
    assert "D4" in result.stdout and "absent-holding" in result.stdout
    assert f"leave from {day(7)} to {day(13)}" in result.stdout


def test_chart_draws_a_bar_per_week(force: Runner) -> None:
    result = force("forecast", "--team", "Lewisham CID", "--weeks", "3", "--chart")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"week  1 {day(0)} #")
    assert "| 15 / 13" not in lines[0] and "15 / 13, 4 available" in lines[0]
    assert "1 absent holding, 1 over a limit" in lines[1]
    assert "|" in lines[1]


def test_unknown_team_and_weeks_out_of_bounds_exit_2(force: Runner) -> None:
    result = force("forecast", "--team", "Lewisham CIDD")
    assert result.exit_code == 2
    assert "Lewisham CID" in result.stderr
    assert result.stdout == ""
    for weeks in ("0", "53"):
        result = force("forecast", "--weeks", weeks)
        assert result.exit_code == 2, weeks
        assert result.stdout == ""


def test_subprocess_json(force: Runner, shell) -> None:  # type: ignore[no-untyped-def]
    done = shell("forecast", "--team", "Lewisham CID", "--weeks", "1", "-f", "json")
    assert done.returncode == 0, done.stderr
    [week] = json.loads(done.stdout)["teams"][0]["weeks"]
    assert (week["live"], week["available"]) == (15, 4)


def test_a_past_start_day_counts_what_was_live_then(force: Runner) -> None:
    # 25 days ago only A03 (reported 60 days ago) and F01-F05 (reported 30 days ago, finalised
    # 10 days ago) were live; the 8 weeks to then saw those 6 reported: 0.75 a week, so 1.
    [team] = forecast(force, "--weeks", "1", "--as-of", day(-25))["teams"]
    assert team["intake"] == 1
    assert team["intake_mix"] == {"PIP1": 6}
    assert team["recent_weekly_finalised"] == 0
    [week] = team["weeks"]
    assert (week["week_start"], week["live"]) == (day(-25), 7)
