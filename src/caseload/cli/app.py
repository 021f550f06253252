"""The ``caseload`` command: global options, command groups, and the one error handler.

This module imports only Typer and the command modules (which themselves import
only Typer at the top), so ``caseload --help`` starts fast; the store and SQLAlchemy
are imported inside the commands that need them.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from caseload import __version__
from caseload.cli import (
    allocation,
    audit,
    crimes,
    db,
    engine,
    exports,
    imports,
    maintenance,
    matrix,
    officers,
    policy,
    supervision,
    teams,
)
from caseload.cli.common import AppState
from caseload.errors import CaseloadError


class CaseloadGroup(TyperGroup):
    """Maps every CaseloadError, from any command, to its message and exit code."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except KeyboardInterrupt:
            _interrupted()

    def invoke(self, ctx: Any) -> Any:
        from caseload import interrupts

        interrupts.reset()
        try:
            return super().invoke(ctx)
        except CaseloadError as exc:
            report_error(exc)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            _interrupted()


def _interrupted() -> NoReturn:
    """Ctrl-C: exit 130 with the sentence saying what was saved (``caseload.interrupts``)."""
    from caseload import interrupts

    typer.echo(interrupts.message(), err=True)
    raise typer.Exit(130) from None


def report_error(exc: CaseloadError) -> None:
    from caseload.cli.output import shown_message

    typer.echo(f"Error: {shown_message(exc.message)}", err=True)
    for detail in exc.details:
        typer.echo(f"  {shown_message(detail)}", err=True)


app = typer.Typer(
    name="caseload",
    cls=CaseloadGroup,
    help=(
        "Assign, rebalance and audit the crimes each officer holds.\n\n"
        "Run 'caseload init --sample' to try it on a synthetic force."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"caseload {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db_: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="CASELOAD_DB",
            metavar="PATH|URL",
            help=(
                "The store: a SQLite file path or a SQLAlchemy URL "
                "(default: caseload.db in the per-user folder)."
            ),
            show_envvar=True,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_version,
            is_eager=True,
            help="Print caseload's version and exit.",
        ),
    ] = False,
) -> None:
    """Assign, rebalance and audit the crimes each officer holds."""
    ctx.obj = AppState(db=db_)
    ctx.call_on_close(ctx.obj.close)


db.register(app)
officers.register(app)
teams.register(app)
crimes.register(app)
matrix.register(app)
imports.register(app)
policy.register(app)
allocation.register(app)
supervision.register(app)
audit.register(app)
exports.register(app)
engine.register(app)
maintenance.register(app)


def _invoked(argv: list[str]) -> str | None:
    """The command named in argv (after the root options), if any."""
    tokens = iter(argv)
    for token in tokens:
        if token == "--db":
            next(tokens, None)
        elif not token.startswith("-"):
            return token
    return None


def _lean(name: str | None) -> typer.Typer:
    """``app`` with only the command ``name`` built in full, the rest as help-only stubs.

    Typer turns every command's signature into Click parameters on every run (about
    0.08 s for all of caseload's, a third of start-up); listing a command in
    ``--help`` only needs its name and docstring. ``app`` itself is left whole.
    """
    import copy

    from typer.main import get_command_name

    def stub(info: Any) -> Any:
        def help_only() -> None:
            """Stub."""

        help_only.__doc__ = info.callback.__doc__
        help_only.__name__ = info.callback.__name__
        lean_info = copy.copy(info)
        lean_info.callback = help_only
        return lean_info

    def stub_group(info: Any) -> Any:
        lean_group = typer.Typer()
        lean_group.info = info.typer_instance.info
        if info.typer_instance.registered_callback is not None:
            lean_group.registered_callback = stub(info.typer_instance.registered_callback)
        lean_info = copy.copy(info)
        lean_info.typer_instance = lean_group
        return lean_info

    lean = copy.copy(app)
    lean.registered_commands = [
        c if (c.name or get_command_name(getattr(c.callback, "__name__", ""))) == name else stub(c)
        for c in app.registered_commands
    ]
    lean.registered_groups = [
        g if (g.name or getattr(g.typer_instance, "info", g).name) == name else stub_group(g)
        for g in app.registered_groups
    ]
    return lean


def main() -> None:
    """Console-script entry point.

    The cyclic garbage collector is off while the command imports its modules, until
    the store opens (``cli.common.pause_gc_for_start_up``). When the command is done,
    every object still alive is frozen out of the cyclic garbage collector: the
    interpreter's shutdown would otherwise walk SQLAlchemy's large object graph again,
    about 0.25 s added to every store command (measured, benchmarks/RESULTS.md).
    Memory is released to the OS at exit either way.
    """
    import gc

    from caseload.cli.common import pause_gc_for_start_up

    pause_gc_for_start_up()
    try:
        _lean(_invoked(sys.argv[1:]))(prog_name="caseload")
    except KeyboardInterrupt:  # while Python was still loading the command
        from caseload import interrupts

        typer.echo(interrupts.message(), err=True)
        sys.exit(130)
    finally:
        gc.freeze()
    sys.exit(0)
