"""Help that reads: wrapped to the terminal, human metavars, exit codes, every kind listed."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from typer.main import get_command

from caseload.cli.app import app
from caseload.domain.outcomes import OUTCOMES
from tests.helpers.cli import caseload_exe, invoke


def commands() -> Iterator[tuple[str, ...]]:
    def walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        yield path
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            yield from walk(sub, (*path, name))

    yield from walk(get_command(app), ())


def help_of(path: tuple[str, ...], width: int = 100) -> str:
    result = invoke([*path, "--help"], env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("path", list(commands()), ids=lambda p: " ".join(p) or "caseload")
def test_help_fits_80_columns_and_names_values_as_people_do(path: tuple[str, ...]) -> None:
    text = help_of(path, 80)  # Click's test runner lays help out at 80 columns
    assert all(len(line) <= 80 for line in text.splitlines()), text
    assert not re.search(r"\{[A-Z]|<[a-z ]+>", text)  # not {CRIME}, <str>, <int range>


@pytest.mark.parametrize("width", [100, 140])
def test_help_wraps_to_the_real_terminal_width(width: int) -> None:
    for path in [(), ("suggest",), ("workload",)]:
        done = subprocess.run(
            [*caseload_exe(), *path, "--help"],
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": str(width)},
            timeout=60,
        )
        lines = done.stdout.splitlines()
        assert all(len(line) <= width for line in lines)
        assert max(len(line) for line in lines) > 82  # uses the room, not Click's 80


def test_top_level_help_lists_the_exit_codes() -> None:
    text = help_of(())
    assert "Exit codes:" in text
    for code in ("0", "1", "2", "3", "4"):
        assert any(line.strip().startswith(f"{code}  ") for line in text.splitlines())


def test_import_help_names_every_kind() -> None:
    text = help_of(("import",))
    for kind in get_command(app).commands["import"].commands:  # type: ignore[attr-defined]
        assert kind in text


def test_finalise_help_lists_every_outcome_type() -> None:
    text = " ".join(help_of(("crime", "finalise")).split())
    for number, name in OUTCOMES.items():
        assert f"{number} {name}" in text


def test_required_options_say_so() -> None:
    assert "[required]" in help_of(("assign",)).split("--reason", 1)[1].split("\n  -")[0]
    assert "[required]" in help_of(("crime", "finalise")).split("--outcome", 1)[1]


def test_one_meaning_per_short_option() -> None:
    meanings: dict[str, set[str]] = {}

    def walk(command: Any) -> None:
        for param in command.params:
            longs = [o for o in param.opts if o.startswith("--")]
            for short in (o for o in param.opts if len(o) == 2):
                meanings.setdefault(short, set()).update(longs)
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(get_command(app))
    # -n is always "at most N" (suggest --top, history --limit, audit trend --last).
    assert meanings.pop("-n") == {"--top", "--limit", "--last"}
    assert meanings["-o"] == {"--output"}
    assert all(len(longs) == 1 for longs in meanings.values()), meanings
