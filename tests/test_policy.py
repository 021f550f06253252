"""A supervisor reads the policy and changes a setting; every change is validated and logged."""

from __future__ import annotations

import csv
import io
import json

import pytest

from caseload.domain.policy import DEFAULTS, NAMES
from tests.conftest import Runner


def test_show_lists_every_setting_with_default_and_meaning(store: Runner) -> None:
    result = store("policy", "show", "--format", "json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert [row["name"] for row in rows] == list(NAMES)
    limit = rows[0]
    assert limit == {
        "name": "inexperienced_limit",
        "value": 25,
        "default": 25,
        "meaning": limit["meaning"],
    }
    assert "inexperienced" in limit["meaning"]
    assert all(row["meaning"] for row in rows)


def test_set_changes_the_value_and_logs_old_and_new(store: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    result = store(
        "policy", "set", "limit_mode", "Block", "--reason", "HMICFRS report", "--actor", "DI Rowe"
    )
    assert result.exit_code == 0, result.output
    assert "limit_mode: warn -> block" in result.stderr
    rows = list(csv.DictReader(io.StringIO(store("policy", "show", "-f", "csv").stdout)))
    by_name = {row["name"]: row for row in rows}
    assert (by_name["limit_mode"]["value"], by_name["limit_mode"]["default"]) == ("block", "warn")

    (entry,) = sql("SELECT actor, reason, detail FROM log_entry WHERE kind = 'policy'")
    assert entry[0] == "DI Rowe"
    assert entry[1] == "HMICFRS report"
    assert json.loads(entry[2]) == {"setting": "limit_mode", "old": "warn", "new": "block"}

    history = store("history", "--kind", "policy", "--format", "json")
    (logged,) = json.loads(history.stdout)
    assert (logged["kind"], logged["actor"]) == ("policy", "DI Rowe")


def test_setting_the_same_value_changes_and_logs_nothing(store: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    result = store("policy", "set", "inexperienced_limit", str(DEFAULTS.inexperienced_limit))
    assert result.exit_code == 0
    assert "already 25" in result.stderr
    assert sql("SELECT count(*) FROM log_entry WHERE kind = 'policy'")[0][0] == 0


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("no_such_thing", "1", "'no_such_thing' is not a policy setting"),
        ("limit_mode", "maybe", "limit_mode must be warn or block"),
        ("inexperienced_limit", "lots", "inexperienced_limit must be a whole number"),
        ("inexperienced_limit", "0", "inexperienced_limit must be between 1 and 100000"),
    ],
)
def test_bad_settings_exit_2_and_change_nothing(
    store: Runner, sql, name: str, value: str, message: str
) -> None:  # type: ignore[no-untyped-def]
    result = store("policy", "set", name, value)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "nothing was changed" in result.stderr
    assert sql("SELECT count(*) FROM policy_setting")[0][0] == 0
    assert sql("SELECT count(*) FROM log_entry WHERE kind = 'policy'")[0][0] == 0


def test_a_new_limit_applies_to_the_next_allocation(store: Runner) -> None:
    store("policy", "set", "inexperienced_limit", "1")
    store("team", "add", "T")
    store(
        "officer", "add", "XY9", "--name", "Sam Jones", "--team", "T", "-a", "PIP1",
        "--since", "2026-01-01", "--rank", "TDC",
    )  # fmt: skip
    for ref in ("CR/1", "CR/2"):
        store("crime", "add", ref, "--type", "Burglary", "--team", "T", "--reported", "2026-02-01")
    assert "Warning" not in store("assign", "CR/1", "XY9", "-r", "r").stderr
    result = store("assign", "CR/2", "XY9", "-r", "r")
    assert "now holds 2 live crimes; limit 1" in result.stderr
