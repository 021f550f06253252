"""``caseload team ...``: list, add and rename investigation teams.

Teams are created here (or by an import that names them, which says so); every other
command that names a team refuses one that does not exist, suggesting the nearest name.
"""

from __future__ import annotations

from typing import Annotated

import typer

from caseload.cli.common import ActorOption, open_store, resolve_actor, typed
from caseload.cli.output import FormatOption, OutputFormat, WideOption, info, render, warn

team_app = typer.Typer(help="Investigation teams: list, add and rename.", no_args_is_help=True)


def _name(value: str) -> str:
    from caseload.domain.values import clean_text

    return clean_text(value, "the team name", max_length=100)


NameArg = Annotated[str, typer.Argument(metavar="NAME", parser=typed(_name), help="Team name.")]


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


@team_app.command("add")
def add(ctx: typer.Context, name: NameArg, actor: ActorOption = None) -> None:
    """Create a team (logged), e.g. caseload team add "Lewisham CID"."""
    from datetime import datetime

    from caseload.store.reference import add_team

    with open_store(ctx).write() as conn:
        looks_like = add_team(conn, name, actor=resolve_actor(actor), at=datetime.now())
    info(f"Added team {name}.")
    if looks_like:
        warn(f"'{name}' is close to the existing team '{looks_like}'; is it a typo?")


@team_app.command("rename")
def rename(
    ctx: typer.Context,
    old: Annotated[
        str, typer.Argument(metavar="OLD", parser=typed(_name), help="The team's name now.")
    ],
    new: Annotated[str, typer.Argument(metavar="NEW", parser=typed(_name), help="Its new name.")],
    reason: Annotated[
        str, typer.Option("--reason", "-r", metavar="TEXT", help="Why (recorded).")
    ] = "",
    actor: ActorOption = None,
) -> None:
    """Rename a team; its officers and crimes stay in it (logged). NEW must not exist."""
    from datetime import datetime

    from caseload.store.reference import rename_team

    with open_store(ctx).write() as conn:
        was = rename_team(
            conn, old, new, actor=resolve_actor(actor), at=datetime.now(), reason=reason
        )
    info(f"Renamed team {was} to {new}.")


def register(app: typer.Typer) -> None:
    app.add_typer(team_app, name="team")
