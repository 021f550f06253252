"""``caseload assign``, ``unassign``, ``history`` and ``workload``.

Thin commands: parse, call ``store.allocation`` / ``store.workload`` / the log
reader inside one transaction, render. The policy rules themselves live in
``domain.rules`` and are applied by ``store.allocation.allocate_many`` on every
path that allocates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import typer

from caseload.cli.common import (
    MOST_ROWS,
    ActorOption,
    AsOfOption,
    TeamFilter,
    open_executor,
    open_store,
    parse_collar_arg,
    parse_text_arg,
    resolve_actor,
)
from caseload.cli.output import (
    FormatOption,
    Layout,
    OutputFormat,
    WideOption,
    info,
    render,
    warn,
    with_login_shown,
)

RefArg = Annotated[str, typer.Argument(metavar="CRIME", help="The crime reference.")]
ReasonOption = Annotated[
    str | None,
    typer.Option(
        "--reason",
        "-r",
        metavar="TEXT",
        parser=parse_text_arg,
        help="Why (recorded with the decision).  [required]",
    ),
]


# What a narrow terminal leaves out first (output.Layout); collar, name, live, limit and
# flags always show. The team goes first when --team names it already.
WORKLOAD_DROP = (
    "rank",
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
TOTALS_LAYOUT = Layout(drop=("live_pip4", "live_pip3", "live_pip2", "live_pip1", "officers"))
HISTORY_LAYOUT = Layout(drop=("actor",), wrap=("reason", "detail"), last=("detail",))


def assign(
    ctx: typer.Context,
    reference: RefArg,
    officer: Annotated[
        str | None,
        typer.Argument(
            metavar="OFFICER",
            parser=parse_collar_arg,
            help="Collar of the officer to allocate it to (a held crime is transferred).",
        ),
    ] = None,
    reason: ReasonOption = None,
    override: Annotated[
        str | None,
        typer.Option(
            "--override",
            metavar="REASON",
            parser=parse_text_arg,
            help="Allocate even though a block-mode rule refuses it; the reason is recorded.",
        ),
    ] = None,
    auto: Annotated[
        bool,
        typer.Option(
            "--auto",
            help="Take the top suggestion of 'caseload suggest' (no OFFICER); recorded as "
            "automatic, with the reasons printed.",
        ),
    ] = False,
    actor: ActorOption = None,
) -> None:
    """Allocate a crime to an officer, or transfer it if it is held.

    Warns (and records the warning) when an inexperienced officer goes past the
    limit, the officer is not active, or past personal capacity; refuses with
    exit 3 a block-mode breach (by default: a crime above the officer's
    accreditation) unless --override gives a reason.
    """
    from caseload.errors import InputError, PolicyRefused

    if officer is None and not auto:
        raise InputError("Name the officer to allocate it to (a collar number), or give --auto.")
    if officer is not None and auto:
        raise InputError("Give an OFFICER or --auto, not both.")
    if not reason:
        raise InputError("Give a reason with --reason; every allocation records one.")
    chosen = None
    decision: dict[str, Any] = {  # the time is taken under the lock
        "actor": resolve_actor(actor),
        "reason": reason,
        "override": override,
    }
    from caseload.store.allocation import allocate
    from caseload.store.log import decision_time

    try:
        # --auto ranks officers (through SQLAlchemy) inside the allocation's transaction.
        with open_executor(ctx, write=True, quick=not auto) as executor:
            decision["at"] = decision_time(executor)
            if auto:
                from caseload.cli.engine import auto_pick
                from caseload.store.executor import connection_of

                chosen = auto_pick(connection_of(executor), reference)
                officer = chosen.officer.collar
            assert officer is not None
            outcome = allocate(executor, reference, officer, auto=auto, **decision)
    except PolicyRefused as exc:
        if not auto:
            exc.details.append(
                "To allocate anyway, add --override REASON (the reason is recorded)."
            )
        raise
    if chosen is not None:
        info(f"Chosen automatically (top suggestion): {'; '.join(chosen.reasons)}.")
    request = outcome.request
    if outcome.previous_collar:
        info(f"Transferred {request.reference} from {outcome.previous_collar} to {request.collar}.")
    else:
        info(f"Allocated {request.reference} to {request.collar}.")
    for message in outcome.warnings:
        warn(message + ".")
    if outcome.overridden:
        info(f"Override recorded: {override}")
    elif override:
        info("No block-mode rule refused this allocation; the override was not needed.")


def unassign(
    ctx: typer.Context,
    reference: RefArg,
    reason: ReasonOption = None,
    actor: ActorOption = None,
) -> None:
    """Take a live crime off its holder; it becomes unallocated (recorded)."""
    from caseload.errors import InputError
    from caseload.store.allocation import unassign as unassign_crime
    from caseload.store.log import decision_time

    if not reason:
        raise InputError("Give a reason with --reason; every change of holder records one.")
    with open_store(ctx).write() as conn:
        previous = unassign_crime(
            conn, reference, actor=resolve_actor(actor), at=decision_time(conn), reason=reason
        )
    info(f"Took {reference.strip()} off {previous}; it is now unallocated.")


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
    fmt: FormatOption = OutputFormat.table,
    wide: WideOption = False,
) -> None:
    """Each officer's live crimes, by required level and weighted, most overloaded first.

    Flags: over-limit (inexperienced and past inexperienced_limit), over-capacity,
    mismatch (holds a crime above their accreditation), unavailable (not active).
    Table formats end with one totals row per team; csv and json hold officer rows only.
    """
    from caseload.errors import NotFound
    from caseload.store.workload import TOTAL_COLUMNS, WORKLOAD_COLUMNS, team_totals

    if officer and not team and as_of is None:  # one officer today: named statements
        from caseload.store.workload import officer_workload as one_officer

        with open_executor(ctx) as executor:
            rows = one_officer(executor, officer)
    else:
        from caseload.store.reference import load_policy, team_id
        from caseload.store.workload import workload as officer_workload

        with open_store(ctx).read() as conn:
            policy = load_policy(conn)
            if team:
                team_id(conn, team)  # NotFound (exit 2) for a team that does not exist
            if fmt is OutputFormat.csv and not chart and not officer:
                # A whole force (35,000 rows) goes from the cursor to CSV, as an export does.
                import sys

                from caseload.cli.exports import query_rows, write_rows
                from caseload.store.workload import workload_query

                query = workload_query(policy, as_of=as_of, team=team)
                rows_out = query_rows(conn, query)
                write_rows(rows_out, WORKLOAD_COLUMNS, sys.stdout, total=None, newline="\n")
                return
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
    """Add this group's commands to the root app."""
    app.command("assign")(assign)
    app.command("unassign")(unassign)
    app.command("workload")(workload)
    app.command("history")(history)
