"""Tables that fit the terminal: every listing at 80, 100, 120 and 200 columns.

Each command runs as typed on the sample force with ``COLUMNS`` set; no line of its
output (stdout or stderr) is longer than the width, and every collar, name,
reference, code, severity and flag its JSON holds appears whole in the table.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from caseload.cli.app import app
from caseload.cli.output import Layout, fit_table
from tests.helpers.cli import invoke as invoke_app

WIDTHS = (80, 100, 120, 200)
COLLAR = re.compile(r"^[A-Z]{2}\d{4}$")
IDENTIFYING = {"collar", "name", "reference", "code", "severity", "holder", "officer", "crime"}

# Every command that draws a table, with the JSON that holds the same rows.
LISTINGS: list[tuple[str, ...]] = [
    ("workload",),
    ("workload", "--team", "Lewisham CID"),
    ("suggest", "26B000679"),
    ("suggest", "26B000679", "--any-team"),
    ("audit",),
    ("audit", "trend"),
    ("due",),
    ("due", "--team", "Bexley Volume Crime", "--days", "14"),
    ("officer", "list"),
    ("officer", "show", "XS8674"),
    ("crime", "list", "--team", "Lewisham CID"),
    ("crime", "show", "25L000247"),
    ("team", "list"),
    ("history", "--limit", "30"),
    ("history", "--officer", "XS8674"),
    ("rebalance",),
    ("rebalance", "--team", "Greenwich CID"),
    ("policy", "show"),
    ("matrix", "list"),
    ("db", "status"),
    ("forecast",),
    ("forecast", "--team", "Greenwich CID"),
]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("terminal") / "sample.db")
    runner = CliRunner()
    assert runner.invoke(app, ["--db", db, "init", "--sample"]).exit_code == 0
    assert runner.invoke(app, ["--db", db, "audit", "--record"]).exit_code == 1
    return db


def invoke(db: str, args: tuple[str, ...], **env: str) -> Result:
    return invoke_app(["--db", db, *args], env={"NO_COLOR": "1", **env})


def identifying_values(document: Any, key: str | None = None) -> Iterator[str]:
    """The values a table must never cut: collars, names, references, codes, flags."""
    if isinstance(document, dict):
        for k, v in document.items():
            yield from identifying_values(v, k)
    elif isinstance(document, list):
        for item in document:
            yield from identifying_values(item, key)
    elif isinstance(document, str) and document:
        if key == "flags":
            yield from document.split()
        elif key in IDENTIFYING or (key in ("from", "to") and COLLAR.match(document)):
            yield document


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("args", LISTINGS, ids=" ".join)
def test_every_listing_fits_and_cuts_nothing(
    sample: str, args: tuple[str, ...], width: int
) -> None:
    result = invoke(sample, args, COLUMNS=str(width))
    assert result.exit_code in (0, 1), result.output
    # Messages are sentences a terminal may fold; the tables, and the note saying what
    # they leave out, fit.
    notes = [line for line in result.stderr.splitlines() if line.startswith("Not shown")]
    for line in result.stdout.splitlines() + notes:
        assert len(line) <= width, f"{len(line)} > {width}: {line!r}"
    document = json.loads(invoke(sample, (*args, "-f", "json")).stdout)
    values = set(identifying_values(document))
    assert values or args[:2] in (
        ("policy", "show"),
        ("matrix", "list"),
        ("db", "status"),
        ("team", "list"),
        ("audit", "trend"),
    )
    lines = result.stdout.splitlines()
    for value in values:
        assert any(value in line for line in lines), f"{value!r} is cut or missing"


def test_workload_chart_fits(sample: str) -> None:
    for width in WIDTHS:
        result = invoke(sample, ("workload", "--chart"), COLUMNS=str(width))
        lines = result.stdout.splitlines()
        assert all(len(line) <= width for line in lines)
        assert any(
            line.startswith("FB4929 Amira Hughes ") and "over-limit" in line for line in lines
        )


def test_forecast_chart_fits(sample: str) -> None:
    for width in WIDTHS:
        result = invoke(
            sample, ("forecast", "--team", "Greenwich CID", "--chart"), COLUMNS=str(width)
        )
        lines = result.stdout.splitlines()
        assert len(lines) == 8
        assert all(len(line) <= width for line in lines)
        assert all("absent holding" in line for line in lines)  # DM4838, on leave


def test_a_narrow_terminal_says_what_it_left_out_and_wide_shows_it(sample: str) -> None:
    narrow = invoke(sample, ("workload",), COLUMNS="80")
    note = [line for line in narrow.stderr.splitlines() if line.startswith("Not shown")]
    assert len(note) == 1
    assert "rank" in note[0] and "--wide" in note[0] and "-f csv" in note[0]
    header = narrow.stdout.splitlines()[0]
    assert "rank" not in header and "collar" in header and "flags" in header
    wide = invoke(sample, ("workload", "--wide"), COLUMNS="80")
    assert "rank" in wide.stdout.splitlines()[0] and "Not shown" not in wide.stderr
    assert "live pip4" in wide.stdout.splitlines()[0]


def test_suggest_wraps_its_reasons_inside_the_cell(sample: str) -> None:
    result = invoke(sample, ("suggest", "26B000679"), COLUMNS="100")
    text = result.stdout
    reasons = json.loads(invoke(sample, ("suggest", "26B000679", "-f", "json")).stdout)[0]
    lines = text.splitlines()
    rule = next(n for n, line in enumerate(lines) if line.startswith("----"))
    column = lines[rule - 1].index("reasons")
    # The reason reads whole when its lines are joined.
    first_row = text.split("\n\n")[0].splitlines()[rule + 1 :]
    joined = " ".join(line[column:].strip() for line in first_row)
    assert joined == reasons["reasons"]


def test_plain_in_a_pipe_writes_whole_rows(sample: str) -> None:
    result = invoke(sample, ("workload", "-f", "plain"), COLUMNS="80")
    lines = result.stdout.split("\n\n")[0].splitlines()
    officers = json.loads(invoke(sample, ("workload", "-f", "json")).stdout)
    assert len(lines) == 2 + len(officers)  # header, rule, one line per officer
    assert "live_pip4" in lines[0] and "Not shown" not in result.stderr


def test_no_width_in_a_pipe_means_whole_rows(sample: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    result = invoke(sample, ("audit",))
    assert "Not shown" not in result.stderr
    assert "since" in result.stdout.splitlines()[0]


def test_fit_table_keeps_what_the_layout_does_not_drop() -> None:
    rows = [
        {"code": "inexperienced-over-limit", "detail": "x " * 80, "team": "Bexley Volume Crime"}
    ]
    fitted = fit_table(
        rows, ["code", "team", "detail"], 60, Layout(drop=("team",), wrap=("detail",))
    )
    assert fitted.shown == ["code", "detail"] and fitted.dropped == ["team"]
    assert all(len(line) <= 60 for line in fitted.lines)
    assert "inexperienced-over-limit" in fitted.lines[2]
