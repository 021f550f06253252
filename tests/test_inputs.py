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
