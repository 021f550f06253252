"""Point in time: a history laid down over five weeks, asked about days in the middle.

``workload``, ``audit`` and ``export`` accept ``--as-of DATE`` and answer as the
store stood at the end of that day, rebuilt from allocation and finalisation
intervals (nothing was snapshotted).

The story (March 2026): 30 crimes reported on Monday 2nd. Tuesday 3rd: 20 go to a
trainee. Tuesday 10th: 6 more to the trainee (26: over the limit). Tuesday 17th:
those 6 move to an experienced DC. Friday 20th: one more to the DC. Tuesday 24th:
5 of the trainee's crimes are finalised. Tuesday 31st: one of them is reopened.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from tests.helpers.cli import Runner
from tests.helpers.force import Force, at, refs

ALL = refs("C", 30)


@pytest.fixture(scope="function")
def history(store: Runner, db_url: str) -> Iterator[Runner]:
    force = Force(db_url)
    force.officer("TR1", name="Alex Jones", rank="TDC", trainee=True)
    force.officer("DC1", name="Priya Patel", since=date(2012, 5, 1))
    force.crimes(ALL, reported=date(2026, 3, 2))
    force.assign(ALL[:20], "TR1", at(date(2026, 3, 3)))
    force.assign(ALL[20:26], "TR1", at(date(2026, 3, 10)))
    force.assign(ALL[20:26], "DC1", at(date(2026, 3, 17)))
    force.assign(ALL[26], "DC1", at(date(2026, 3, 20)))
    for ref in ALL[:5]:
        force.finalise(ref, date(2026, 3, 24))
    force.reopen(ALL[0], date(2026, 3, 31))
    force.close()
    yield store


def live(run: Runner, day: str) -> dict[str, int]:
    result = run("workload", "--as-of", day, "-f", "json")
    assert result.exit_code == 0, result.output
    return {row["collar"]: row["live"] for row in json.loads(result.stdout)}


def audit(run: Runner, day: str) -> dict[str, Any]:
    result = run("audit", "--as-of", day, "-f", "json")
    assert result.exit_code in (0, 1), result.output
    document: dict[str, Any] = json.loads(result.stdout)
    assert document["as_of"] == day
    return document


def codes(document: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [f for f in document["findings"] if f["code"] == code]


def test_workload_on_days_in_the_middle(history: Runner) -> None:
    assert live(history, "2026-03-02") == {"TR1": 0, "DC1": 0}
    assert live(history, "2026-03-09") == {"TR1": 20, "DC1": 0}
    assert live(history, "2026-03-12") == {"TR1": 26, "DC1": 0}
    assert live(history, "2026-03-18") == {"TR1": 20, "DC1": 6}
    assert live(history, "2026-03-25") == {"TR1": 15, "DC1": 7}
    assert live(history, "2026-04-01") == {"TR1": 16, "DC1": 7}


def test_audit_on_days_in_the_middle(history: Runner) -> None:
    before = audit(history, "2026-03-09")
    assert codes(before, "inexperienced-over-limit") == []
    assert len(codes(before, "unallocated")) == 10
    assert {f["since"] for f in codes(before, "unallocated")} == {"2026-03-02"}

    over = audit(history, "2026-03-12")
    [finding] = codes(over, "inexperienced-over-limit")
    assert finding["collar"] == "TR1"
    assert finding["since"] == "2026-03-10"
    assert "holds 26 live crimes; limit 25" in finding["detail"]
    assert len(codes(over, "unallocated")) == 4

    after = audit(history, "2026-03-18")
    assert codes(after, "inexperienced-over-limit") == []
    assert len(codes(after, "unallocated")) == 4

    # 28 days after the report nothing is overdue for review; the next day all live crimes are.
    assert codes(audit(history, "2026-03-30"), "review-overdue") == []
    overdue = codes(audit(history, "2026-03-31"), "review-overdue")
    assert len(overdue) == 26  # 30 reported, 5 finalised on the 24th, 1 reopened on the 31st
    assert {f["since"] for f in overdue} == {"2026-03-31"}


def test_export_on_days_in_the_middle(history: Runner) -> None:
    import csv
    import io

    def crimes(day: str) -> dict[str, dict[str, str]]:
        result = history("export", "crimes", "-o", "-", "--as-of", day)
        assert result.exit_code == 0, result.output
        return {row["reference"]: row for row in csv.DictReader(io.StringIO(result.stdout))}

    mid = crimes("2026-03-12")
    assert mid["C021"]["holder"] == "TR1"
    assert mid["C001"]["finalised_on"] == ""
    later = crimes("2026-03-25")
    assert later["C021"]["holder"] == "DC1"
    assert (later["C001"]["finalised_on"], later["C001"]["outcome"]) == ("2026-03-24", "18")
    reopened = crimes("2026-04-01")
    assert reopened["C001"]["finalised_on"] == ""
    assert reopened["C002"]["finalised_on"] == "2026-03-24"
    assert crimes("2026-03-01") == {}


def test_workload_csv_on_past_days_matches_the_json(history: Runner) -> None:
    """The CSV comes straight from the cursor, with the day's end bound as stored text;
    it must count what the JSON (through SQLAlchemy's own binding) counts."""
    import csv
    import io

    for day in ("2026-03-09", "2026-03-12", "2026-03-18", "2026-04-01"):
        result = history("workload", "--as-of", day, "-f", "csv")
        assert result.exit_code == 0, result.output
        rows = csv.DictReader(io.StringIO(result.stdout))
        assert {row["collar"]: int(row["live"]) for row in rows} == live(history, day)
