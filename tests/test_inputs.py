"""The single-record commands' input models (domain/inputs.py) and the Session they
write through (store/session.py): one sentence and exit 2 for bad input, and the row
stays in the command's one transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from caseload.domain.inputs import (
    OfficerCreate,
    OfficerUpdate,
    PolicyChange,
    ReviewCreate,
    TeamCreate,
    validated,
)
from caseload.errors import InputError
from tests.helpers.cli import Runner
from tests.helpers.force import add_teams
from tests.helpers.store import sa_url


def test_a_model_normalises_with_the_same_rules_as_the_options() -> None:
    officer = validated(
        OfficerCreate,
        collar=" ab12 ",
        name="Sam Jones",
        team="Lewisham CID",
        accreditation="2",
        investigator_since=date(2015, 1, 1),
        rank="dc",
    )
    assert (officer.collar, officer.accreditation, officer.rank) == ("AB12", "PIP2", "DC")
    assert validated(PolicyChange, name=" Review_Days ", value="27").value == 27


@pytest.mark.parametrize(
    ("model", "values", "message"),
    [
        (
            OfficerCreate,
            {
                "collar": "AB1",
                "name": "Sam",
                "team": "T",
                "accreditation": "PIP2",
                "investigator_since": date.today() + timedelta(days=1),
            },
            f"Invalid --since: {(date.today() + timedelta(days=1)).isoformat()} is in the future.",
        ),
        (OfficerUpdate, {"capacity": 0}, "Invalid --capacity: '0' is not a capacity"),
        (OfficerUpdate, {}, "Nothing to change: give at least one option (see --help)."),
        (TeamCreate, {"name": "A\x1bB"}, "Invalid NAME: the team name contains a control"),
        (
            ReviewCreate,
            {"note": "  ", "reviewed_on": date(2025, 1, 1)},
            "Invalid --note: the note is required.",
        ),
        (
            PolicyChange,
            {"name": "review_days", "value": "0"},
            "review_days must be between 1 and",
        ),
    ],
)
def test_bad_input_is_one_sentence_naming_the_option(
    model: type, values: dict[str, object], message: str
) -> None:
    with pytest.raises(InputError) as raised:
        validated(model, **values)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value) and "\x1b" not in str(raised.value)


def test_a_session_write_is_rolled_back_with_the_command(
    store: Runner, db_url: str, sql: Callable[..., list[tuple[Any, ...]]]
) -> None:
    """The ORM row and the log entry are one transaction: a failure after the flush
    leaves neither the officer nor a log entry."""
    from caseload.store.migrate import open_store
    from caseload.store.officers import add

    add_teams(store, "Lewisham CID")
    data = validated(
        OfficerCreate,
        collar="AB1",
        name="Sam",
        team="Lewisham CID",
        accreditation="PIP2",
        investigator_since=date(2015, 1, 1),
    )
    opened = open_store(sa_url(db_url))
    try:
        with pytest.raises(RuntimeError), opened.write() as conn:
            add(conn, data, actor="t", at=datetime.now())
            raise RuntimeError("stopped after the write")
    finally:
        opened.dispose()
    assert store("officer", "show", "AB1").exit_code == 2
    assert sql("SELECT count(*) FROM log_entry WHERE kind = 'officer-add'") == [(0,)]
    opened = open_store(sa_url(db_url))
    try:
        with opened.write() as conn:
            add(conn, data, actor="t", at=datetime.now())
    finally:
        opened.dispose()
    assert store("officer", "show", "AB1").exit_code == 0
    assert sql("SELECT count(*) FROM log_entry WHERE kind = 'officer-add'") == [(1,)]


def test_finalising_and_reopening_through_the_models(store: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    """crime finalise and reopen take their input models and write through the Session:
    the crime's row, its finalisation interval and the log entry land together."""
    add_teams(store, "T")
    assert store("crime", "add", "CR/1", "--type", "Burglary", "--team", "T",
                 "--reported", "2026-01-05").exit_code == 0  # fmt: skip
    done = store("crime", "finalise", "CR/1", "--outcome", "18", "--on", "2026-02-01")
    assert done.exit_code == 0, done.stderr
    assert sql("SELECT finalised_on, outcome FROM crime")[0][1] == 18
    both = store("crime", "reopen", "CR/1", "-r", "new lead", "--override", "x", "--unallocated")
    assert (both.exit_code, both.stderr) == (
        2,
        "Error: Give --override or --unallocated, not both.\n",
    )
    done = store("crime", "reopen", "CR/1", "-r", "new lead", "--on", "2026-03-01")
    assert done.exit_code == 0, done.stderr
    assert sql("SELECT finalised_on, outcome FROM crime") == [(None, None)]
    rows = sql("SELECT finalised_on, outcome, reopened_on FROM finalisation")
    assert [tuple(str(v) for v in row) for row in rows] == [("2026-02-01", "18", "2026-03-01")]
    kinds = sql("SELECT kind FROM log_entry WHERE crime_ref = 'CR/1' ORDER BY id")
    assert [k for (k,) in kinds] == ["crime-add", "finalise", "reopen"]


def test_an_outcome_the_home_office_does_not_define_is_refused_by_the_model() -> None:
    from caseload.domain.inputs import CrimeFinalise

    with pytest.raises(InputError, match=r"^Invalid --outcome: 99 is not a Home Office"):
        validated(CrimeFinalise, outcome=99, finalised_on=date(2026, 1, 1))
    with pytest.raises(InputError, match="in the future"):
        validated(CrimeFinalise, outcome=1, finalised_on=date.today() + timedelta(days=1))


def test_a_crime_correction_carries_only_what_is_given() -> None:
    from caseload.domain.inputs import CrimeUpdate

    data = validated(
        CrimeUpdate, reason=" recoded ", victim_enhanced=False, crime_type=" Robbery ", team=None
    )
    assert data.changes() == {"crime_type": "Robbery", "victim_enhanced": False}
    assert data.reason == "recoded"
    with pytest.raises(InputError) as raised:
        validated(CrimeUpdate, reason="x", team=None, override="SIO")
    assert str(raised.value) == (
        "Nothing to change: give --type, --team, --reported, --level or --enhanced/--standard."
    )
    with pytest.raises(InputError, match=r"^Invalid --level: "):
        validated(CrimeUpdate, reason="x", required_level="PIP9")


def test_a_crime_correction_is_rolled_back_with_the_command(
    store: Runner, db_url: str, sql: Callable[..., list[tuple[Any, ...]]]
) -> None:
    """crime update writes the crime's row through the Session in the command's
    transaction: a failure after it leaves neither the change nor its log entry."""
    from caseload.domain.inputs import CrimeUpdate
    from caseload.store.crimes import update_crime
    from caseload.store.migrate import open_store

    add_teams(store, "T")
    assert store("crime", "add", "CR/1", "--type", "Burglary", "--team", "T",
                 "--reported", "2026-01-05").exit_code == 0  # fmt: skip
    data = validated(CrimeUpdate, reason="recoded", crime_type="Robbery")
    opened = open_store(sa_url(db_url))
    try:
        with pytest.raises(RuntimeError), opened.write() as conn:
            assert update_crime(conn, "CR/1", data, actor="t", at=datetime.now()).changed
            raise RuntimeError("stopped after the write")
        assert sql("SELECT crime_type FROM crime") == [("Burglary",)]
        assert sql("SELECT count(*) FROM log_entry WHERE kind = 'crime-update'") == [(0,)]
        with opened.write() as conn:
            update_crime(conn, "CR/1", data, actor="t", at=datetime.now())
    finally:
        opened.dispose()
    assert sql("SELECT crime_type FROM crime") == [("Robbery",)]
    assert sql("SELECT count(*) FROM log_entry WHERE kind = 'crime-update'") == [(1,)]
