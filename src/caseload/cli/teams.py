"""``caseload team ...``: teams are created as they are named; this lists them."""

from __future__ import annotations

import typer

from caseload.cli.common import open_store
from caseload.cli.output import FormatOption, OutputFormat, WideOption, render

team_app = typer.Typer(help="List investigation teams.", no_args_is_help=True)


@team_app.command("list")
def list_(
    ctx: typer.Context, fmt: FormatOption = OutputFormat.table, wide: WideOption = False
) -> None:
    """List teams with their officers, live crimes and unallocated crimes."""
    from caseload.store.reference import list_teams

    with open_store(ctx).read() as conn:
        rows = list_teams(conn)
    render(
        rows, ["team", "officers", "active", "live", "unallocated"], fmt, title="Teams", wide=wide
    )


def register(app: typer.Typer) -> None:
    app.add_typer(team_app, name="team")
