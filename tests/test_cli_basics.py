"""The command itself: version, help, python -m, and that start-up stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from caseload import __version__
from caseload.cli.app import app
from tests.helpers.cli import Runner, loaded_after


def _all_commands(group, path=()):  # type: ignore[no-untyped-def]
    from typer.main import get_command

    command = group if path else get_command(app)
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _all_commands(sub, (*path, name))


def test_version_and_help(run):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"caseload {__version__}"
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for group in ("init", "officer", "crime", "matrix", "team", "db"):
        assert group in result.stdout


def test_every_command_and_option_has_help() -> None:
    missing = []
    for path, command in _all_commands(app):
        if path and not (command.help or command.short_help):
            missing.append(" ".join(path))
        for param in command.params:
            if param.param_type_name == "option" and not getattr(param, "help", None):
                missing.append(f"{' '.join(path)} {param.opts[0]}")
            if param.param_type_name == "argument" and not getattr(param, "help", None):
                missing.append(f"{' '.join(path)} {param.name}")
    assert missing == []


@pytest.mark.slow
def test_python_dash_m_and_installed_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "caseload", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"caseload {__version__}"


@pytest.mark.slow
def test_help_does_not_import_the_database_layer() -> None:
    assert loaded_after(["--help"], ("sqlalchemy", "alembic", "rich", "tabulate")) == []


@pytest.mark.slow
@pytest.mark.sqlite_only
def test_a_store_command_imports_only_what_it_needs(run: Runner, db_url: str) -> None:
    """On SQLite a store command loads neither the PostgreSQL dialect nor Alembic (each
    would add tens of milliseconds to every command); it does load the owner's stack,
    SQLModel over SQLAlchemy (the quick commands, which load neither, are checked in
    tests/test_direct.py)."""
    assert run("init").exit_code == 0
    unwanted = ("sqlalchemy.dialects.postgresql", "alembic")
    assert loaded_after(["--db", db_url, "workload", "-f", "json"], unwanted) == []
    # the check itself sees what a store command does load
    assert loaded_after(["--db", db_url, "workload", "-f", "json"], ("sqlalchemy", "sqlmodel")) == [
        "sqlalchemy",
        "sqlmodel",
    ]


def test_cli_reference_matches_the_commands() -> None:
    """docs/cli-reference.md is generated from --help; regenerate it when commands change."""
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "scripts" / "cli_reference.py"
    result = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_entry_point_builds_only_the_command_it_runs() -> None:
    """main() builds the invoked command in full and the rest as help-only stubs (start-up)."""
    from typer.main import get_command

    from caseload.cli.app import _invoked, _lean

    assert _invoked(["--db", "x.db", "workload", "--officer", "AB1"]) == "workload"
    assert _invoked(["--version"]) is None
    runner = CliRunner()
    assert runner.invoke(_lean(None), ["--help"]).stdout == runner.invoke(app, ["--help"]).stdout
    for name in ("officer", "workload"):
        lean = runner.invoke(_lean(name), [name, "--help"])
        assert lean.stdout == runner.invoke(app, [name, "--help"]).stdout
    group = get_command(_lean("workload"))
    assert group.commands["workload"].params  # type: ignore[attr-defined]
    assert group.commands["assign"].params == []  # type: ignore[attr-defined]


def test_in_a_group_only_the_command_run_is_built() -> None:
    """``crime show`` builds show in full and crime's other commands as stubs; the group's
    help and the command's own help read as the whole app's do."""
    from typer.main import get_command

    from caseload.cli.app import _lean

    runner = CliRunner()
    for words in (["crime", "show"], ["officer", "absence", "add"], ["officer", "show"]):
        lean = _lean(words[0], words[1:])
        for asked in (words[:-1], words):
            shown = runner.invoke(lean, [*asked, "--help"]).stdout
            assert shown == runner.invoke(app, [*asked, "--help"]).stdout, asked
    crime = get_command(_lean("crime", ["show", "CR1"])).commands["crime"]  # type: ignore[attr-defined]
    assert crime.commands["show"].params
    assert crime.commands["add"].params == []


def test_no_command_module_imports_another() -> None:
    """File names are the map: a command module uses support modules only (cli.app joins
    the commands), so a command is found in the module named after it and nowhere else."""
    import ast

    from tests.helpers.cli import REPO

    support = {"common", "output", "csv_writer", "importing", "ranking", "plans"}
    found = []
    for path in sorted((REPO / "src" / "caseload" / "cli").glob("*.py")):
        if path.stem in ("__init__", "app") or path.stem in support:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                parts = name.split(".")
                if parts[:2] == ["caseload", "cli"] and len(parts) > 2 and parts[2] not in support:
                    found.append(f"{path.stem} imports {name}")
    assert found == []
