"""A victim told after a key event meets the Victims' Code duty: the audit's high finding
clears (late or not), and ``crime show`` says which update met which event and whether it
was on time. The nightly ``audit --fail-on high`` goes quiet once the victim is told."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from caseload.domain.events import notices
from caseload.domain.workdays import add_working_days
from tests.conftest import Runner

TODAY = date.today()


def working_days_ago(n: int) -> date:
    """A weekday ``n`` working days before today's deadline count, found by stepping back."""
    day = TODAY - timedelta(days=1)
    while add_working_days(day, n) >= TODAY:
        day -= timedelta(days=1)
    return day


def show(run: Runner, ref: str) -> dict[str, Any]:
    result = run("crime", "show", ref, "-f", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def notify_findings(run: Runner, *args: str) -> list[dict[str, Any]]:
    result = run("audit", "-f", "json", *args)
    assert result.exit_code in (0, 1), result.output
    document = json.loads(result.stdout)
    return [f for f in document["findings"] if f["code"] == "victim-notify-overdue"]


@pytest.fixture
def charged(store: Runner) -> tuple[Runner, date]:
    """CR/1 reported 40 days ago, suspect charged long enough ago that 5 working days ran out;
    reviewed and updated before the charge so that only the notification duty shows."""
    event_on = working_days_ago(5) - timedelta(days=3)
    reported = (TODAY - timedelta(days=40)).isoformat()
    steps = [
        ("team", "add", "Lewisham CID"),
        ("crime", "add", "CR/1", "--type", "Burglary", "--team", "Lewisham CID",
         "--reported", reported),
        ("officer", "add", "QX1", "--name", "Sam Jones", "--team", "Lewisham CID",
         "--accreditation", "PIP2", "--since", "2015-01-01"),
        ("assign", "CR/1", "QX1", "--reason", "volume"),
        ("review", "CR/1", "-m", "plan agreed"),
        ("event", "CR/1", "charged", "--on", event_on.isoformat()),
    ]  # fmt: skip
    for step in steps:
        result = store(*step)
        assert result.exit_code == 0, (step, result.output)
    return store, event_on


def test_telling_the_victim_late_clears_the_finding_and_keeps_the_lateness(
    charged: tuple[Runner, date],
) -> None:
    run, event_on = charged
    deadline = add_working_days(event_on, 5)
    [finding] = notify_findings(run)
    assert finding["severity"] == "high"
    assert run("audit", "--fail-on", "high").exit_code == 1
    assert show(run, "CR/1")["events"][0]["notice"] == (
        f"not told; overdue since {deadline + timedelta(days=1)}"
    )

    told = run("victim-update", "CR/1", "-m", "Told of the charge by phone")
    assert told.exit_code == 0, told.output
    assert notify_findings(run) == []
    nightly = run("audit", "--fail-on", "high")
    assert nightly.exit_code == 0, nightly.output

    record = show(run, "CR/1")
    [event] = record["events"]
    late_by = (TODAY - deadline).days
    assert event["told_on"] == TODAY.isoformat()
    assert event["deadline"] == deadline.isoformat()
    assert (
        event["notice"] == f"late ({late_by} day{'' if late_by == 1 else 's'} after the deadline)"
    )
    [update] = record["victim_updates"]
    assert update["meets"] == f"suspect charged on {event_on} (late)"
    table = run("crime", "show", "CR/1")
    assert "late (" in table.stdout and "suspect charged on" in table.stdout


def test_an_update_on_time_says_so(charged: tuple[Runner, date]) -> None:
    run, event_on = charged
    result = run("victim-update", "CR/1", "-m", "Told", "--on", event_on.isoformat())
    assert result.exit_code == 0, result.output
    assert notify_findings(run) == []
    record = show(run, "CR/1")
    assert record["events"][0]["notice"] == "on time"
    assert record["victim_updates"][0]["meets"] == f"suspect charged on {event_on} (on time)"


def test_as_of_a_day_before_the_update_still_finds_it(charged: tuple[Runner, date]) -> None:
    """The update is dated today: the audit of yesterday did not have it yet."""
    run, event_on = charged
    assert run("victim-update", "CR/1", "-m", "Told").exit_code == 0
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    assert [f["reference"] for f in notify_findings(run, "--as-of", yesterday)] == ["CR/1"]
    assert notify_findings(run, "--as-of", TODAY.isoformat()) == []
    assert run("audit", "--as-of", yesterday, "--fail-on", "high").exit_code == 1


def test_an_update_before_the_event_does_not_meet_it(charged: tuple[Runner, date]) -> None:
    run, event_on = charged
    before = (event_on - timedelta(days=1)).isoformat()
    assert run("victim-update", "CR/1", "-m", "Told of arrest", "--on", before).exit_code == 0
    assert [f["reference"] for f in notify_findings(run)] == ["CR/1"]
    record = show(run, "CR/1")
    assert record["events"][0]["told_on"] is None
    assert record["victim_updates"][0]["meets"] == ""


def test_notices_match_each_event_to_the_first_update_on_or_after_it() -> None:
    d = date
    found = notices(
        [d(2026, 4, 1), d(2026, 4, 2), d(2026, 4, 20)],
        [d(2026, 3, 30), d(2026, 4, 2), d(2026, 4, 9)],
        lambda on: on + timedelta(days=5),
    )
    assert [(n.told_on, n.update, n.late) for n in found] == [
        (d(2026, 4, 2), 1, False),
        (d(2026, 4, 2), 1, False),
        (None, None, False),
    ]
    assert found[2].text(d(2026, 4, 21)) == "not told yet; due by 2026-04-25"
    assert found[2].text(d(2026, 4, 26)) == "not told; overdue since 2026-04-26"


def test_the_decision_log_says_which_events_an_update_met(charged: tuple[Runner, date]) -> None:
    run, event_on = charged
    assert run("victim-update", "CR/1", "-m", "Told").exit_code == 0
    assert run("victim-update", "CR/1", "-m", "Routine call").exit_code == 0
    result = run("history", "CR/1", "--kind", "victim-update", "-f", "json")
    assert result.exit_code == 0, result.output
    newest, first = json.loads(result.stdout)
    assert first["detail"]["meets"] == f"suspect charged on {event_on} (late)"
    assert "meets" not in newest["detail"]
    table = run("history", "CR/1", "--kind", "victim-update")
    assert f"meets: suspect charged on {event_on} (late)" in table.stdout
