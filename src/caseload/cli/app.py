"""The ``caseload`` command: global options, command groups, and the one error handler.

This module imports only Typer and the command modules (which themselves import
only Typer at the top), so ``caseload --help`` starts fast; the store and SQLAlchemy
are imported inside the commands that need them.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from caseload import __version__
from caseload.cli import (
    absences,
    access,
    assign,
    audit,
    crimes,
    db,
    due,
    exports,
    forecast,
    handover,
    history,
    imports,
    maintenance,
    matrix,
    officers,
    police_uk,
    policy,
    rebalance,
    report,
    risk,
    sample,
    suggest,
    supervision,
    teams,
    victim_referral,
    workload,
)
from caseload.cli.common import AppState
from caseload.errors import CaseloadError


class CaseloadGroup(TyperGroup):
    """Maps every CaseloadError, from any command, to its message and exit code; a usage
    error to one sentence (exit 2); a closed pipe (``| head -1``) to a quiet exit 0."""

    #: Set by ``main`` (a real process): SIGINT is held back once the command returns.
    #: Left off under CliRunner, whose process (pytest) must stay interruptible.
    shield_when_done = False

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except KeyboardInterrupt:
            _interrupted()

    def invoke(self, ctx: Any) -> Any:
        from typer._click.exceptions import NoArgsIsHelpError, UsageError

        from caseload import interrupts
        from caseload.cli.output import new_command

        interrupts.reset()
        new_command()
        typed = [*getattr(ctx, "_protected_args", []), *ctx.args]  # after the root options
        try:
            result = super().invoke(ctx)
            if self.shield_when_done:
                # The command has finished and said what it did: a Ctrl-C from here on
                # must neither cut that short nor exit 130 (Typer's own handler, around
                # the context's exit) without a word. One that landed before this line
                # is reported below, with what the command saved.
                interrupts.hold_sigint()
                interrupts.checkpoint("command-done")
            return result
        except CaseloadError as exc:
            report_error(exc)
            raise typer.Exit(exc.exit_code) from None
        except NoArgsIsHelpError:
            raise
        except UsageError as exc:
            report_usage(exc, typed)
            raise typer.Exit(2) from None
        except BrokenPipeError:
            quiet_closed_pipe()
            raise typer.Exit(0) from None
        except KeyboardInterrupt:
            _interrupted()

    def make_context(self, info_name: Any, args: Any, parent: Any = None, **extra: Any) -> Any:
        """The root's own options (``caseload --frob``) give one sentence too."""
        from typer._click.exceptions import NoArgsIsHelpError, UsageError

        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except NoArgsIsHelpError:
            raise
        except UsageError as exc:
            report_usage(exc, list(args))
            raise typer.Exit(2) from None


def _interrupted() -> NoReturn:
    """Ctrl-C: exit 130 with the sentence saying what was saved (``caseload.interrupts``)."""
    from caseload import interrupts

    typer.echo(interrupts.message(), err=True)
    raise typer.Exit(130) from None


def report_usage(exc: Any, typed: list[str]) -> None:
    typer.echo(f"Error: {usage_message(exc, typed)}", err=True)
    if exc.ctx is not None:
        typer.echo(f"  See '{exc.ctx.command_path} --help'.", err=True)


ROOT_OPTIONS = ("--db",)


def usage_message(exc: Any, typed: list[str]) -> str:
    """A usage error as one plain sentence, with the fix for the common slips."""
    from typer._click.exceptions import NoSuchOption

    message = str(exc.format_message()).rstrip(".")
    if isinstance(exc, NoSuchOption):
        name = exc.option_name.split("=", 1)[0]
        if name in ROOT_OPTIONS:
            return f"{name} goes before the command: {corrected(typed, name)}."
        message = f"There is no option {name}"
        if exc.possibilities:
            message += f" here; did you mean {' or '.join(sorted(exc.possibilities))}?"
            return message
    return message + "."


def corrected(tokens: list[str], name: str) -> str:
    """``caseload workload --db x.db`` as it should have been typed."""
    import shlex

    moved: list[str] = []
    rest: list[str] = []
    items = iter(tokens)
    for token in items:
        if token == name:
            moved += [token, next(items, "PATH")]
        elif token.startswith(name + "="):
            moved.append(token)
        else:
            rest.append(token)
    return shlex.join(["caseload", *moved, *rest])


def quiet_closed_pipe() -> None:
    """stdout's reader has gone (``caseload workload | head -1``): what is left goes
    nowhere, so neither the command nor Python's exit complains."""
    import os
    from contextlib import suppress

    devnull = os.open(os.devnull, os.O_WRONLY)
    with suppress(OSError, ValueError):  # no real file descriptor (a test's captured stdout)
        os.dup2(devnull, sys.stdout.fileno())


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
        "Run 'caseload init --sample' to try it on a synthetic force. "
        "Root options such as --db go before the command: caseload --db FILE workload."
    ),
    epilog=(
        "\b\nExit codes:\n"
        "    0  done; for audit, nothing at or above --fail-on\n"
        "    1  audit: findings at --fail-on or above; verify, db check: a problem\n"
        "    2  bad usage or bad input; nothing was written\n"
        "    3  refused by policy (block mode); nothing was written\n"
        "    4  the store cannot be used (missing, not a caseload store, or newer)\n"
        "    5  not permitted: the database login's role or teams do not allow it;\n"
        "       nothing was written\n"
        "  130  interrupted (Ctrl-C)"
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    # Help wraps to the terminal's width (Click's default stops at 80 columns).
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 200},
)


def _plain_metavar() -> None:
    """Typer writes a required argument as ``{CRIME}`` in the usage line; people read
    ``CRIME`` (and ``[CRIME]`` for an optional one, as Typer already writes)."""
    from typer.core import TyperArgument

    typer_metavar = TyperArgument.make_metavar

    def make_metavar(self: Any, ctx: Any, *, usage: bool = False) -> str:
        text = typer_metavar(self, ctx, usage=usage)
        return text[1:-1] if text.startswith("{") and text.endswith("}") else text

    TyperArgument.make_metavar = make_metavar  # type: ignore[method-assign]


_plain_metavar()


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
officers.officer_app.add_typer(absences.absence_app, name="absence")
teams.register(app)
crimes.register(app)
risk.register(crimes.crime_app)
matrix.register(app)
imports.register(app)
police_uk.register(imports.import_app)
policy.register(app)
assign.register(app)
workload.register(app)
history.register(app)
supervision.register(app)
victim_referral.register(app)
audit.register(app)
due.register(app)
report.register(app)
exports.register(app)
suggest.register(app)
rebalance.register(app)
handover.register(app)
forecast.register(app)
sample.register(app)
maintenance.register(app, db.db_app)
access.register(app)


def _invoked(argv: list[str]) -> str | None:
    """The command named in argv (after the root options), if any."""
    path = _command_path(argv)
    return path[0] if path else None


def _command_path(argv: list[str]) -> list[str]:
    """The command named in argv (after the root options) and the words after it."""
    tokens = iter(argv)
    for token in tokens:
        if token == "--db":
            next(tokens, None)
        elif not token.startswith("-"):
            return [token, *tokens]
    return []


def _lean(name: str | None, rest: Sequence[str] = ()) -> typer.Typer:
    """``app`` with only the command ``name`` built in full, the rest as help-only stubs
    (in a group, ``rest`` names the command: ``_lean_group``).

    Typer turns every command's signature into Click parameters on every run; listing
    a command in ``--help`` only needs its name and docstring. ``app`` itself is left whole.
    """
    # Kept: without it --help, --version, workload --officer, assign take 1.35-1.7x the CPU.
    return _leaned(app, [name, *rest] if name else [])


def _leaned(group: typer.Typer, path: list[str]) -> typer.Typer:
    """``group`` with its commands and groups other than ``path[0]`` as stubs."""
    import copy

    from typer.main import get_command_name

    name = path[0] if path else None

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

    lean = copy.copy(group)
    lean.registered_commands = [
        c if (c.name or get_command_name(getattr(c.callback, "__name__", ""))) == name else stub(c)
        for c in group.registered_commands
    ]
    lean.registered_groups = [
        _lean_group(g, path[1:])
        if (g.name or getattr(g.typer_instance, "info", g).name) == name
        else stub_group(g)
        for g in group.registered_groups
    ]
    return lean


def _lean_group(info: Any, rest: list[str]) -> Any:
    """The group being run (``crime`` in ``crime show``) with only its command ``rest[0]``
    built in full. A group with options of its own is kept whole: a word after it may be
    an option's value rather than the command."""
    # Kept: without it crime show takes 1.22x the wall time, officer show 1.10x the CPU.
    if info.typer_instance.registered_callback is not None:
        return info
    import copy

    lean_info = copy.copy(info)
    named = rest[:1] if rest and not rest[0].startswith("-") else []
    lean_info.typer_instance = _leaned(info.typer_instance, named + rest[1:])
    return lean_info


def main() -> None:
    """Console-script entry point.

    The cyclic garbage collector is off while the command imports its modules, until
    the store opens (``cli.common.pause_gc_for_start_up``). When the command is done,
    every object still alive is frozen out of the cyclic garbage collector, so the
    interpreter's shutdown does not walk them all again. Memory is released to the OS
    at exit either way. (Each trick's gain: benchmarks/RESULTS.md, ``run.py --ab``.)
    """
    import gc

    from caseload.cli.common import pause_gc_for_start_up

    pause_gc_for_start_up()  # kept: without it crime/officer show take 1.12-1.21x the CPU
    CaseloadGroup.shield_when_done = True
    try:
        path = _command_path(sys.argv[1:])
        _lean(path[0] if path else None, path[1:])(prog_name="caseload")
    except KeyboardInterrupt:  # while Python was still loading the command
        from caseload import interrupts

        typer.echo(interrupts.message(), err=True)
        sys.exit(130)
    finally:
        # The command has finished and said what it did: a Ctrl-C from here on, while the
        # interpreter shuts down, must neither cut that short nor exit 130 without a word.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        gc.freeze()  # kept: without it --version takes 1.18x the CPU, a team's plan 1.10x
        try:
            sys.stdout.flush()  # the last rows, while a closed pipe can still be quietened
        except BrokenPipeError:
            quiet_closed_pipe()
    sys.exit(0)
