"""Output streams: data on stdout, every message and title on stderr, closed pipes, usage.

The pipe and terminal cases run the installed command in a subprocess, as a shell does.
"""

from __future__ import annotations

import csv
import io
import os
import pty
import subprocess
from pathlib import Path

import pytest

from tests.helpers.cli import caseload_exe, invoke


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("streams") / "sample.db")
    assert invoke(["--db", db, "init", "--sample"]).exit_code == 0
    return db


def env(db: str) -> dict[str, str]:
    return {**os.environ, "CASELOAD_DB": db, "NO_COLOR": "1"}


@pytest.mark.parametrize(
    "args",
    [
        ("workload", "-f", "plain"),
        ("crime", "list", "-f", "plain"),
        ("export", "crimes", "-o", "-"),
    ],
    ids=" ".join,
)
def test_a_closed_pipe_ends_quietly_with_exit_0(sample: str, args: tuple[str, ...]) -> None:
    command = " ".join([*caseload_exe(), *(f"'{a}'" for a in args)])
    done = subprocess.run(
        ["bash", "-c", f"{command} | head -1; exit ${{PIPESTATUS[0]}}"],
        capture_output=True,
        text=True,
        env=env(sample),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1
    assert "Error" not in done.stderr and "Traceback" not in done.stderr
    assert "BrokenPipe" not in done.stderr


def test_the_reader_going_away_mid_stream_is_quiet(sample: str) -> None:
    process = subprocess.Popen(
        [*caseload_exe(), "crime", "list", "-f", "plain"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env(sample),
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()
    assert process.wait(timeout=120) == 0
    assert process.stderr.read() == b"Crimes\n"  # the title, and nothing else


def test_titles_and_messages_go_to_stderr_data_to_stdout(sample: str) -> None:
    result = invoke(["--db", sample, "workload", "-f", "plain"])
    assert result.stdout.splitlines()[0].startswith("collar")
    assert result.stderr.splitlines() == ["Workload", "Team totals"]


def test_numbers_have_separators_in_messages_and_plain_digits_in_data(
    sample: str, tmp_path: Path
) -> None:
    target = tmp_path / "crimes.csv"
    result = invoke(["--db", sample, "export", "crimes", "-o", str(target)])
    assert result.stderr == f"Exported 1,000 rows of crimes to {target}.\n"
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert {row["outcome"] for row in rows if row["outcome"]} <= {str(n) for n in range(1, 23)}


def test_db_after_the_command_says_where_it_goes(sample: str) -> None:
    result = invoke(
        ["workload", "--db", "x.db", "--team", "Lewisham CID"], env={"CASELOAD_DB": sample}
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "Error: --db goes before the command: caseload --db x.db workload --team "
        "'Lewisham CID'.\n  See 'caseload workload --help'.\n"
    )


def test_a_mistyped_option_is_one_sentence_with_the_likely_one(sample: str) -> None:
    result = invoke(["--db", sample, "workload", "--tem", "x"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Error: There is no option --tem here; did you mean --team?",
        "  See 'caseload workload --help'.",
    ]
    assert "Usage:" not in result.stderr


def run_on_a_terminal(db: str, *args: str) -> str:
    """Run with stdout and stderr on one pseudo-terminal; returns what it showed."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [*caseload_exe(), *args],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env={**env(db), "COLUMNS": "100"},
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    process.wait(timeout=120)
    os.close(leader)
    return shown.decode("utf-8", "replace")


def test_no_progress_bar_over_data_written_to_the_same_terminal(sample: str) -> None:
    shown = run_on_a_terminal(sample, "export", "crimes", "-o", "-")
    assert "Exporting" not in shown
    assert shown.count("\n") >= 1001  # every row, in one piece


def test_a_root_option_error_is_one_sentence_too() -> None:
    result = invoke(["--frob", "workload"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0].startswith("Error: There is no option --frob")
    assert "Usage:" not in result.stderr


def test_db_after_a_subcommand_is_moved_to_the_front(sample: str) -> None:
    result = invoke(["officer", "list", "-t", "x", "--db", "y.db"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "Error: --db goes before the command: caseload --db y.db officer list -t x."
    )
