"""Every listing renders through one renderer in five formats."""

from __future__ import annotations

import csv
import io
import json

import pytest

from caseload.cli.output import neutralise, unneutralise
from tests.conftest import Runner


@pytest.fixture
def listed(store: Runner) -> Runner:
    store(
        "officer",
        "add",
        "AB1",
        "--name",
        "Asha Patel",
        "--team",
        "Lewisham CID",
        "-a",
        "PIP2",
        "--since",
        "2020-01-01",
    )
    store(
        "officer",
        "add",
        "CD2",
        "--name",
        '=HYPERLINK("x")',
        "--team",
        "Lewisham CID",
        "-a",
        "PIP1",
        "--since",
        "2025-01-01",
        "--trainee",
    )
    return store


def test_plain_markdown_json_csv(listed: Runner) -> None:
    plain = listed("officer", "list", "--format", "plain").stdout
    assert plain.splitlines()[1].startswith("collar")
    assert "Asha Patel" in plain
    markdown = listed("officer", "list", "--format", "markdown").stdout
    assert markdown.splitlines()[0].startswith("| collar")
    data = json.loads(listed("officer", "list", "--format", "json").stdout)
    assert list(data[0]) == [
        "collar",
        "name",
        "team",
        "rank",
        "accreditation",
        "investigator_since",
        "status",
        "capacity",
        "trainee",
    ]
    assert data[1]["trainee"] is True
    rows = list(csv.DictReader(io.StringIO(listed("officer", "list", "--format", "csv").stdout)))
    assert rows[1]["name"] == '\'=HYPERLINK("x")'  # neutralised for spreadsheets


def test_table_is_plain_text_in_a_pipe(listed: Runner) -> None:
    out = listed("officer", "list").stdout
    assert "\x1b[" not in out
    assert "Asha Patel" in out


def test_messages_go_to_stderr_and_data_to_stdout(store: Runner) -> None:
    result = store(
        "officer",
        "add",
        "AB1",
        "--name",
        "A B",
        "--team",
        "T",
        "-a",
        "PIP1",
        "--since",
        "2020-01-01",
    )
    assert result.stdout == ""
    assert "Added" in result.stderr


def test_empty_listing(store: Runner) -> None:
    assert store("officer", "list").stdout.strip().endswith("(none)")
    assert json.loads(store("officer", "list", "-f", "json").stdout) == []


@pytest.mark.parametrize(
    "text", ["=1+1", "+44 20", "-5", "@SUM(A1)", "\tx", "'=x", "plain", "", "'quoted"]
)
def test_neutralise_round_trips(text: str) -> None:
    safe = neutralise(text)
    assert not safe or safe[0] not in "=+-@\t\r"
    assert unneutralise(safe) == text
