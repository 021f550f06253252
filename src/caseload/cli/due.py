"""``caseload due``: every duty falling due, or overdue, in the next days, by date.

Thin: parse, read ``store.due`` in one read transaction, order and render with
``domain.due``. Made for cron as the audit is: ``--fail-on-overdue`` exits 1 when any
duty is overdue.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from caseload.cli.common import open_store, parse_collar_arg, parse_date_arg
from caseload.cli.output import FormatOption, Layout, OutputFormat, WideOption

# A narrow terminal leaves out the team; the action wraps, and the due date (days_left
# says it) goes only once the action is as narrow as it wraps.
DUE_LAYOUT = Layout(drop=("team",), last=("due_on",), wrap=("action",))


def due(
    ctx: typer.Context,
    team: Annotated[
        str | None,
        typer.Option("--team", "-t", metavar="TEAM", help="Only this team's crimes and officers."),
    ] = None,
    officer: Annotated[
        str | None,
        typer.Option(
            "--officer",
            metavar="OFFICER",
            parser=parse_collar_arg,
            help="Only this officer (collar): the crimes they hold, and their own duties.",
        ),
    ] = None,
    days: Annotated[
        int,
        typer.Option(
            "--days",
            "-d",
            metavar="N",
            min=0,
            max=366,
            help="How many days after the as-of day the window runs (0 to 366).",
        ),
    ] = 7,
    as_of: Annotated[
        date | None,
        typer.Option(
            "--as-of",
            metavar="DATE",
            parser=parse_date_arg,
            help="Count from the end of this day, as the store stood then (default today).",
        ),
    ] = None,
    fail_on_overdue: Annotated[
        bool,
        typer.Option(
            "--fail-on-overdue",
            help="Exit 1 when any duty is overdue (for cron).",
        ),
    ] = False,
    fmt: FormatOption = OutputFormat.table,
    wide: WideOption = False,
) -> None:
    """Every duty falling due or overdue in the window, by date, overdue first.

    Kinds: review, victim-update, notification (Victims' Code Right 6), referral
    (Right 4), unallocated, absence (an absence starts while the officer holds live
    crimes), experienced (an officer stops counting as inexperienced). days_left is
    negative when overdue: the audit reports those.
    """
    from caseload.cli.output import info, render
    from caseload.domain.due import COLUMNS, ordered, overdue, summary
    from caseload.errors import InputError
    from caseload.store.due import Due, officer_id_for
    from caseload.store.reference import load_policy, resolve_team

    if as_of is not None and as_of > date.today():
        raise InputError(f"--as-of {as_of} is in the future; give today or an earlier day.")
    with open_store(ctx).read() as conn:
        policy = load_policy(conn)
        team_id = officer_id = None
        if team:
            team_id, team = resolve_team(conn, team)  # the stored name
        if officer:
            officer_id, officer = officer_id_for(conn, officer)
        found = Due(conn, policy, days, as_of=as_of, team_id=team_id, officer_id=officer_id)
        rows = ordered(found.rows())
    scope = f"team {team}" if team else "the whole store"
    if officer:
        scope = f"officer {officer}" + (f" in team {team}" if team else "")
    render(
        rows,
        COLUMNS,
        fmt,
        title=(
            f"Due for {scope}: overdue, and up to {found.last.isoformat()} "
            f"(as of {found.day.isoformat()})"
        ),
        row_style=_row_style,
        layout=DUE_LAYOUT,
        wide=wide,
    )
    if fmt not in (OutputFormat.json, OutputFormat.csv):
        info(summary(rows))
    if fail_on_overdue and overdue(rows):
        raise typer.Exit(1)


def _row_style(row: dict[str, object]) -> str | None:
    days_left = row.get("days_left")
    if isinstance(days_left, int):
        return "red" if days_left < 0 else "yellow" if days_left == 0 else None
    return None


def register(app: typer.Typer) -> None:
    """Add this module's command to the root app."""
    app.command("due")(due)
