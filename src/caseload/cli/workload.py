"""``caseload workload``: each officer's live crimes, as a table or a chart.

Thin: parse, read ``store.workload`` inside one read transaction (through an executor
for one officer today, and for a CSV listing), render. The chart is drawn here
(``draw_chart``); a whole force as CSV streams from the cursor through ``cli.csv_writer``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from caseload.cli.common import (
    AsOfOption,
    TeamFilter,
    open_executor,
    open_store,
    parse_collar_arg,
)
from caseload.cli.output import (
    FormatOption,
    Layout,
    OutputFormat,
    WideOption,
    render,
)

# What a narrow terminal leaves out first (output.Layout); collar, name, live, limit and
# flags always show. The team goes first when --team names it already.
WORKLOAD_DROP = (
    "rank",
    "live_medium_risk",
    "live_high_risk",
    "live_pip4",
    "live_pip3",
    "inexperienced",
    "status",
    "headroom",
    "live_pip2",
    "live_pip1",
    "team",
    "capacity",
    "weighted_load",
    "accreditation",
)
TOTALS_LAYOUT = Layout(
    drop=(
        "live_medium_risk",
        "live_high_risk",
        "live_pip4",
        "live_pip3",
        "live_pip2",
        "live_pip1",
        "officers",
    )
)


def workload(
    ctx: typer.Context,
    team: TeamFilter = None,
    officer: Annotated[
        str | None,
        typer.Option(
            "--officer",
            metavar="OFFICER",
            parser=parse_collar_arg,
            help="Only this officer (collar).",
        ),
    ] = None,
    as_of: AsOfOption = None,
    chart: Annotated[
        bool,
        typer.Option(
            "--chart",
            help="Draw a bar per officer with the limit marked (over-limit bars stand out).",
        ),
    ] = False,
    supervisors: Annotated[
        bool,
        typer.Option(
            "--supervisors",
            help="By supervisor instead: each supervised officer's live crimes, reviews due "
            "within 7 days and reviews overdue (by each crime's risk grade), then a total per "
            "supervisor.",
        ),
    ] = False,
    fmt: FormatOption = OutputFormat.table,
    wide: WideOption = False,
) -> None:
    """Each officer's live crimes, by required level, by risk and weighted, most overloaded first.

    Flags: over-limit (inexperienced and past inexperienced_limit), over-capacity,
    mismatch (holds a crime above their accreditation), unavailable (not active).
    Table formats end with one totals row per team; csv and json hold officer rows only.
    """
    from caseload.errors import InputError, NotFound
    from caseload.store.workload import TOTAL_COLUMNS, WORKLOAD_COLUMNS, team_totals

    if supervisors:
        if officer or as_of or chart:
            raise InputError("--supervisors goes with --team and --format only.")
        by_supervisor(ctx, team, fmt, wide)
        return

    if fmt is OutputFormat.csv and not chart and not officer:
        # A whole force (35,000 rows) goes from the cursor to CSV, as an export does.
        import sys

        from caseload.cli.csv_writer import write_rows
        from caseload.store.workload import force_serves, listing_rows

        named = team is None  # the named statements' case: the whole force
        with open_executor(ctx, quick=named, serves=force_serves) as executor:
            listing = listing_rows(executor, as_of=as_of, team=team)
            write_rows(listing, WORKLOAD_COLUMNS, sys.stdout, total=None, newline="\n")
        return
    if officer and not team and as_of is None:  # one officer today: named statements
        from caseload.store.workload import officer_workload as one_officer

        with open_executor(ctx) as executor:
            rows = one_officer(executor, officer)
    else:
        from caseload.store.reference import team_id
        from caseload.store.team_policy import load_policies
        from caseload.store.workload import workload as officer_workload

        with open_store(ctx).read() as conn:
            policy = load_policies(conn)
            if team:
                team_id(conn, team)  # NotFound (exit 2) for a team that does not exist
            rows = officer_workload(conn, policy, as_of=as_of, team=team, collar=officer)
    if officer and not rows:
        raise NotFound.officer(officer)
    when = f" at the end of {as_of.isoformat()}" if as_of else ""
    if chart:
        draw_chart(rows, title=f"Live crimes{when}")
        return
    render(
        rows,
        WORKLOAD_COLUMNS,
        fmt,
        title=f"Workload{when}",
        row_style=lambda row: "bold red" if row["flags"] else None,
        layout=Layout(drop=("team", *WORKLOAD_DROP) if team else WORKLOAD_DROP),
        wide=wide,
    )
    if fmt not in (OutputFormat.csv, OutputFormat.json) and rows:
        typer.echo("")
        render(
            team_totals(rows),
            TOTAL_COLUMNS,
            fmt,
            title=f"Team totals{when}",
            layout=TOTALS_LAYOUT,
            wide=wide,
        )


SUPERVISOR_LAYOUT = Layout(drop=("status", "team", "supervisor_name", "name"))


def by_supervisor(ctx: typer.Context, team: str | None, fmt: OutputFormat, wide: bool) -> None:
    """``workload --supervisors``: one row per supervised officer, then each supervisor's
    totals (table formats; csv and json hold the officer rows)."""
    from datetime import date

    from caseload.store.reference import load_policy, team_id
    from caseload.store.supervisors import SUPERVISOR_COLUMNS, supervision, supervisor_totals

    with open_store(ctx).read() as conn:
        if team:
            team_id(conn, team)
        rows = supervision(conn, load_policy(conn), today=date.today(), team=team)
    render(
        rows,
        SUPERVISOR_COLUMNS,
        fmt,
        title="Supervisors' officers",
        row_style=lambda row: "bold red" if row["reviews_overdue"] else None,
        layout=SUPERVISOR_LAYOUT,
        wide=wide,
    )
    if fmt not in (OutputFormat.csv, OutputFormat.json) and rows:
        typer.echo("")
        render(
            supervisor_totals(rows),
            ["supervisor", "supervisor_name", "officers", "live", "reviews_due", "reviews_overdue"],
            fmt,
            title="Supervisor totals",
            layout=Layout(drop=("supervisor_name",)),
            wide=wide,
        )


def draw_chart(rows: list[dict[str, Any]], *, title: str, width: int = 40) -> None:
    """Horizontal bars of live crimes; ``|`` marks each officer's limit or capacity.

    Rich colours on a terminal (over-limit bars in a warning colour); plain ``#``
    bars in a pipe or with NO_COLOR. Bars are at most ``width`` long and shorter when
    the terminal is narrow; the label, count and flags are never cut.
    """
    import sys

    from caseload.cli.output import heading, output_width, shown, use_rich

    def ceiling(row: dict[str, Any]) -> int | None:
        values = [v for v in (row["limit"], row["capacity"]) if v is not None]
        return min(values) if values else None

    scale_to = max([1, *(r["live"] for r in rows), *(ceiling(r) or 0 for r in rows)])
    labels = [shown(f"{r['collar']} {r['name']}") for r in rows]
    pad = max([len(label) for label in labels] or [0])
    suffixes = []
    for row in rows:
        cap = ceiling(row)
        suffix = f" {row['live']}" + (f" / {cap}" if cap is not None else "")
        suffixes.append(suffix + (f"  {row['flags']}" if row["flags"] else ""))
    terminal = output_width(sys.stdout)
    if terminal is not None:
        room = terminal - pad - 2 - max([len(s) for s in suffixes] or [0])
        width = max(10, min(width, room))
    rich = use_rich(sys.stdout)
    lines: list[Any] = []
    for row, label, suffix in zip(rows, labels, suffixes, strict=True):
        filled = round(row["live"] * width / scale_to)
        cap = ceiling(row)
        mark = None if cap is None else min(round(cap * width / scale_to), width)
        cells = ["#" if i < filled else " " for i in range(width + 1)]
        if mark is not None:
            cells[mark] = "|"
        bar = "".join(cells).rstrip()
        over = bool(set(row["flags"].split()) & {"over-limit", "over-capacity"})
        if rich:
            from rich.text import Text

            text = Text(label.ljust(pad) + " ")
            text.append(bar, style="bold red" if over else "green")
            text.append(suffix, style="bold red" if over else "")
            lines.append(text)
        else:
            lines.append(f"{label.ljust(pad)} {bar}{suffix}")
    if rich:
        from rich.console import Console

        heading(title)
        console = Console(highlight=False, markup=False, emoji=False)
        for line in lines or ["(none)"]:
            console.print(line, soft_wrap=True)
    else:
        heading(title)
        for line in lines or ["(none)"]:
            typer.echo(line)


def register(app: typer.Typer) -> None:
    """Add this module's command to the root app."""
    app.command("workload")(workload)
