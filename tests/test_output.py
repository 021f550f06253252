"""Every listing renders through one renderer in five formats."""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caseload.cli.output import neutralise, unneutralise
from tests.helpers.cli import Runner
from tests.helpers.force import add_teams


@pytest.fixture
def listed(store: Runner) -> Runner:
    add_teams(store, "Lewisham CID")
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
    assert plain.splitlines()[0].startswith("collar")  # the title is on stderr
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
        "supervisor",
    ]
    assert data[1]["trainee"] is True
    rows = list(csv.DictReader(io.StringIO(listed("officer", "list", "--format", "csv").stdout)))
    assert rows[1]["name"] == '\'=HYPERLINK("x")'  # neutralised for spreadsheets


def test_table_is_plain_text_in_a_pipe(listed: Runner) -> None:
    out = listed("officer", "list").stdout
    assert "\x1b[" not in out
    assert "Asha Patel" in out


def test_messages_go_to_stderr_and_data_to_stdout(store: Runner) -> None:
    add_teams(store, "T")
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


@given(
    st.lists(
        st.lists(
            st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126)),
            min_size=3,
            max_size=3,
        ),
        min_size=1,
        max_size=8,
    ),
    st.lists(st.from_regex(r"[a-z_]{1,12}", fullmatch=True), min_size=3, max_size=3),
)
def test_simple_table_lays_out_text_exactly_as_tabulate(
    body: list[list[str]], headers: list[str]
) -> None:
    """Plain tables are written directly (tabulate is slow on 10,000-row plans); for
    one-line cells the text must be what tabulate's "simple" format gives."""
    from tabulate import tabulate

    from caseload.cli.output import simple_table

    expected = tabulate(body, headers=headers, tablefmt="simple", disable_numparse=True)
    assert simple_table(body, headers) == expected


def test_cells_with_line_breaks_still_go_to_tabulate() -> None:
    from caseload.cli.output import simple_cells

    assert simple_cells([["one line", "x"]])
    assert not simple_cells([["two\nlines", "x"]])
    assert not simple_cells([["\x1b[1mbold\x1b[0m", "x"]])
