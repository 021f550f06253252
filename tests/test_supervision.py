"""A supervisor records reviews, key events and victim updates, and agrees an update
frequency with a victim; ``crime show`` lists them and the decision log keeps them."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from caseload.domain.events import KEY_EVENTS, parse_event_kind
from tests.helpers.cli import Runner
from tests.helpers.force import add_teams

TODAY = date.today()


@pytest.fixture
def crime(store: Runner) -> Runner:
    reported = (TODAY - timedelta(days=20)).isoformat()
    add_teams(store, "Lewisham CID", "T")
    for ref, flag in (("CR/1", "--standard"), ("CR/2", "--enhanced")):
        result = store(
            "crime", "add", ref, "--type", "Burglary", "--team", "Lewisham CID",
            "--reported", reported, flag,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    return store


def show(run: Runner, ref: str) -> dict:  # type: ignore[type-arg]
    result = run("crime", "show", ref, "-f", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_event_kinds_and_aliases() -> None:
    assert parse_event_kind("Charged") == "charged"
    assert parse_event_kind("RUI") == "bailed"
    assert parse_event_kind("no further action") == "nfa"
    assert parse_event_kind("interviewed_under_caution") == "interviewed"
    assert set(KEY_EVENTS) == {
        "arrested", "interviewed", "released", "bailed", "charged", "nfa",
        "not-investigated", "bail-conditions-changed", "out-of-court-disposal",
    }  # fmt: skip
    assert parse_event_kind("Bail conditions varied") == "bail-conditions-changed"
    assert parse_event_kind("OCD") == "out-of-court-disposal"
    assert parse_event_kind("not_investigated") == "not-investigated"
    with pytest.raises(ValueError, match="not a key event"):
        parse_event_kind("sentenced")


def test_review_is_recorded_shown_and_logged(crime: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    due = (TODAY + timedelta(days=14)).isoformat()
    result = crime("review", "CR/1", "--note", "Check CCTV; trace witness", "--next", due)
    assert result.exit_code == 0, result.output
    assert f"next review due by {due}" in result.stderr
    record = show(crime, "CR/1")
    assert record["last_review"] == TODAY.isoformat()
    assert record["next_review_due"] == due
    assert record["reviews"][0]["note"] == "Check CCTV; trace witness"
    assert record["reviews"][0]["actor"] == "test-supervisor"
    assert sql("SELECT kind, crime_ref, reason FROM log_entry WHERE kind = 'review'") == [
        ("review", "CR/1", "Check CCTV; trace witness")
    ]


def test_review_without_next_says_when_the_policy_makes_it_due(crime: Runner) -> None:
    result = crime("review", "CR/1", "-m", "ok", "--on", (TODAY - timedelta(days=2)).isoformat())
    assert result.exit_code == 0, result.output
    assert f"due by {(TODAY + timedelta(days=26)).isoformat()}" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("review", "CR/9", "-m", "x"), "no crime"),
        (("review", "CR/1"), "--note"),
        (("review", "CR/1", "-m", "   "), "note is required"),
        (("review", "CR/1", "-m", "x", "--on", "2001-01-01"), "before CR/1 was reported"),
        (("review", "CR/1", "-m", "x", "--on", "2999-01-01"), "in the future"),
        (("review", "CR/1", "-m", "x", "--next", "2001-01-01"), "must be after"),
        (("event", "CR/1", "sentenced"), "not a key event"),
        (("victim-update", "CR/1"), "--note"),
        (("victim-update", "CR/1", "--every", "fortnightly"), "not a span"),
        (("victim-update", "CR/1", "--every", "0d"), "between 1 day"),
    ],
)
def test_bad_input_exits_two_and_writes_nothing(
    crime: Runner,
    sql,
    args: tuple[str, ...],
    message: str,
) -> None:
    before = sql("SELECT count(*) FROM log_entry")
    result = crime(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert sql("SELECT count(*) FROM log_entry") == before
    assert sql("SELECT count(*) FROM review") == [(0,)]


def test_finalised_crime_cannot_be_reviewed(crime: Runner) -> None:
    assert crime("crime", "finalise", "CR/1", "--outcome", "18").exit_code == 0
    result = crime("review", "CR/1", "-m", "late look")
    assert result.exit_code == 2
    assert "only live crimes are reviewed" in result.stderr


def test_event_tells_the_deadline_in_working_days(crime: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    reported = "2026-03-30"
    assert (
        crime(
            "crime", "add", "CR/E", "--type", "Robbery", "--team", "T", "--reported", reported,
            "--enhanced",
        ).exit_code
        == 0
    )  # fmt: skip
    result = crime("event", "CR/E", "charged", "--on", "02/04/2026")
    assert result.exit_code == 0, result.output
    assert "tell the victim by 2026-04-07 (1 working day, enhanced service)" in result.stderr
    result = crime("event", "CR/1", "rui")
    assert "standard service" in result.stderr
    events = show(crime, "CR/E")["events"]
    assert events == [
        {
            "occurred_on": "2026-04-02",
            "kind": "charged",
            "actor": "test-supervisor",
            "deadline": "2026-04-07",
            "told_on": None,
            "notice": "not told; overdue since 2026-04-08",
        }
    ]
    assert sql("SELECT count(*) FROM log_entry WHERE kind = 'key-event'") == [(2,)]


def test_victim_update_and_agreed_frequency(crime: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    result = crime("victim-update", "CR/2", "--note", "Told of arrest", "--every", "2w")
    assert result.exit_code == 0, result.output
    assert "agreed every 14 days" in result.stderr
    assert "Recorded a victim update on CR/2" in result.stderr
    record = show(crime, "CR/2")
    assert record["victim_update_every_days"] == 14
    assert record["victim_updates"][0]["note"] == "Told of arrest"
    again = crime("victim-update", "CR/2", "--every", "14d")
    assert "already" in again.stderr
    cleared = crime("victim-update", "CR/2", "--every", "default")
    assert cleared.exit_code == 0
    assert "victim_update_days policy applies" in cleared.stderr
    assert "victim_update_every_days" not in show(crime, "CR/2")
    assert sql("SELECT count(*) FROM log_entry WHERE kind = 'victim-frequency'") == [(2,)]
    assert sql("SELECT count(*) FROM log_entry WHERE kind = 'victim-update'") == [(1,)]


def test_a_victim_update_clears_the_finding(crime: Runner) -> None:
    def overdue() -> set[str]:
        document = json.loads(crime("audit", "-f", "json").stdout)
        return {
            f["reference"] for f in document["findings"] if f["code"] == "victim-update-overdue"
        }

    assert crime("victim-update", "CR/1", "--every", "7d").exit_code == 0
    assert overdue() == {"CR/1"}
    assert crime("victim-update", "CR/1", "-m", "Update call").exit_code == 0
    assert overdue() == set()


def test_import_reviews_events_and_victim_updates(crime: Runner, tmp_path, sql) -> None:  # type: ignore[no-untyped-def]
    day = (TODAY - timedelta(days=3)).isoformat()
    due = (TODAY + timedelta(days=10)).isoformat()
    files = {
        "reviews": f"reference,on,note,next_due,actor\nCR/1,{day},'=SUM(A1),{due},DS Reid\n",
        "events": f"Reference,Kind,On\nCR/2,RUI,{day}\nCR/2,charged,{day}\n",
        "victim-updates": f"reference,on,note\nCR/2,{day},Told of bail\n",
    }
    for kind, text in files.items():
        path = tmp_path / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        result = crime("import", kind, str(path))
        assert result.exit_code == 0, result.output
        again = crime("import", kind, str(path))
        assert "0 new" in again.stderr and "unchanged" in again.stderr
    record = show(crime, "CR/1")
    assert record["reviews"][0]["note"] == "=SUM(A1)"  # the neutralising quote is removed
    assert record["reviews"][0]["actor"] == "DS Reid"
    assert record["next_review_due"] == due
    assert [e["kind"] for e in show(crime, "CR/2")["events"]] == ["bailed", "charged"]
    assert sql("SELECT count(*) FROM victim_update") == [(1,)]
    assert sql("SELECT count(*) FROM log_entry WHERE kind = 'key-event'") == [(2,)]


def test_import_refuses_unknown_crimes_and_early_dates(crime: Runner, tmp_path, sql) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "reviews.csv"
    path.write_text(
        "reference,on,note\nCR/9,2026-01-01,x\nCR/1,2001-01-01,too early\n"
        f"CR/1,{TODAY.isoformat()},ok\n",
        encoding="utf-8",
    )
    result = crime("import", "reviews", str(path))
    assert result.exit_code == 2
    assert "line 2, column reference: there is no crime CR/9" in result.stderr
    assert "line 3, column on: 2001-01-01 is before the crime was reported" in result.stderr
    assert sql("SELECT count(*) FROM review") == [(0,)]


def test_crime_show_says_when_the_next_review_is_due(crime: Runner) -> None:
    reported = TODAY - timedelta(days=20)
    assert show(crime, "CR/1")["next_review_due"] == (reported + timedelta(days=28)).isoformat()
    on = TODAY - timedelta(days=1)
    assert crime("review", "CR/1", "-m", "ok", "--on", on.isoformat()).exit_code == 0
    assert show(crime, "CR/1")["next_review_due"] == (on + timedelta(days=28)).isoformat()
