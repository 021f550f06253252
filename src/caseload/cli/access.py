"""``caseload access ...``: who may do what on a PostgreSQL store (``store.access``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from caseload.cli.common import open_store
from caseload.cli.output import FormatOption, OutputFormat, WideOption, info, render

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

access_app = typer.Typer(
    help=(
        "PostgreSQL roles and team scope, enforced by the database: admin, supervisor "
        "(within granted teams) and analyst (read and export only)."
    ),
    no_args_is_help=True,
)

LoginArg = Annotated[
    str, typer.Argument(metavar="LOGIN", help="A database login (CREATE ROLE ... LOGIN).")
]
RoleOption = Annotated[
    str,
    typer.Option("--role", metavar="ROLE", help="admin, supervisor or analyst."),
]
TeamsOption = Annotated[
    list[str] | None,
    typer.Option("--team", "-t", metavar="TEAM", help="A team the supervisor acts in; repeatable."),
]


def _log(conn: Connection, kind: str, detail: dict[str, Any]) -> None:
    from datetime import datetime

    from caseload.cli.common import resolve_actor
    from caseload.store import log

    log.append(conn, at=datetime.now(), actor=resolve_actor(None), kind=kind, detail=detail)


@access_app.command("setup")
def setup(ctx: typer.Context) -> None:
    """Create the store's roles, privileges, row-level security policies and team-scope
    triggers; run it as the login that owns the store, again after each upgrade."""
    from caseload.store import access

    store = open_store(ctx)
    with store.write() as conn:
        access.postgres_only(conn)
        roles = access.setup(conn)
    info(
        "Access is set up: roles "
        + ", ".join(f"{name} ({role})" for role, name in roles.items())
        + "; grant them with 'caseload access grant LOGIN --role ROLE'."
    )


@access_app.command("grant")
def grant(ctx: typer.Context, login: LoginArg, role: RoleOption, team: TeamsOption = None) -> None:
    """Give LOGIN a role; a supervisor acts only in the teams given with --team."""
    from caseload.store import access

    with open_store(ctx).write() as conn:
        done = access.grant(conn, login, role.strip().lower(), team or [])
        _log(conn, "access-grant", done)
    teams = f" in {', '.join(done['teams'])}" if done["teams"] else ""
    info(f"Login {done['login']} has the {done['role']} role{teams}.")


@access_app.command("revoke")
def revoke(
    ctx: typer.Context,
    login: LoginArg,
    role: Annotated[
        str | None,
        typer.Option("--role", metavar="ROLE", help="Only this role (default: all)."),
    ] = None,
    team: Annotated[
        list[str] | None,
        typer.Option("--team", "-t", metavar="TEAM", help="Only this team; repeatable."),
    ] = None,
) -> None:
    """Take a role, some teams, or (with neither) every caseload role from LOGIN."""
    from caseload.store import access

    with open_store(ctx).write() as conn:
        done = access.revoke(conn, login, role.strip().lower() if role else None, team or [])
        _log(conn, "access-revoke", done)
    what = ", ".join([*(f"the {r} role" for r in done["roles"]), *done["teams"]])
    info(f"Took {what} from login {done['login']}.")


@access_app.command("list")
def list_(
    ctx: typer.Context, fmt: FormatOption = OutputFormat.table, wide: WideOption = False
) -> None:
    """Each login with a role on this store, and a supervisor's teams."""
    from caseload.store import access

    with open_store(ctx).read() as conn:
        rows = access.listing(conn)
    render(rows, ["login", "role", "teams", "database_role"], fmt, title="Access", wide=wide)


def register(app: typer.Typer) -> None:
    app.add_typer(access_app, name="access")
