"""``caseload history``: the decision log, newest first.

Thin: parse, read the log (``store.allocation.history``) inside one read
transaction, render.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer

from caseload.cli.common import MOST_ROWS, open_store, parse_collar_arg
from caseload.cli.output import (
    FormatOption,
    Layout,
    OutputFormat,
    WideOption,
    render,
    with_login_shown,
)

HISTORY_LAYOUT = Layout(drop=("actor",), wrap=("reason", "detail"), last=("detail",))


def history(
    ctx: typer.Context,
    reference: Annotated[
        str | None,
        typer.Argument(metavar="CRIME", help="Only this crime's decisions."),
    ] = None,
    officer: Annotated[
        str | None,
        typer.Option(
            "--officer",
            metavar="OFFICER",
            parser=parse_collar_arg,
            help="Only decisions naming this officer (collar).",
        ),
    ] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option(
            "--kind",
            "-k",
            metavar="KIND",
            help="Only this kind (allocate, transfer, unassign, policy, ...); repeatable.",
        ),
    ] = None,
    limit: Annotated[
        int,
        typer.Option(
            "--limit",
            "-n",
            metavar="N",
            min=0,
            max=MOST_ROWS,
            help="At most this many entries (0: all).",
        ),
    ] = 50,
    fmt: FormatOption = OutputFormat.table,
    wide: WideOption = False,
) -> None:
    """The decision log, newest first: allocations, transfers, overrides, policy changes.

    With CRIME, that crime's decisions; with --officer, decisions naming that
    officer; with neither, every decision (policy and matrix changes included).
    """
    from caseload.store.log import HISTORY_COLUMNS, summarise_detail
    from caseload.store.log import history as read_history

    with open_store(ctx).read() as conn:
        if reference is not None:
            from caseload.store.crimes import find

            reference = str(find(conn, reference)["reference"])
        if officer is not None:
            from caseload.store.officers import find as find_officer

            find_officer(conn, officer)
        rows = read_history(
            conn, reference=reference, collar=officer, kinds=kind or (), limit=limit or None
        )
    columns: Sequence[str] = HISTORY_COLUMNS
    if fmt is not OutputFormat.json:
        for row in rows:
            row["detail"] = summarise_detail(row["detail"])
    if fmt not in (OutputFormat.json, OutputFormat.csv):
        columns = with_login_shown(rows, columns)
    render(
        rows,
        columns,
        fmt,
        title="Decisions, newest first",
        layout=HISTORY_LAYOUT,
        wide=wide,
    )


def register(app: typer.Typer) -> None:
    """Add this module's command to the root app."""
    app.command("history")(history)
