"""``caseload forecast``: a team's weeks ahead if nothing moved, with a weekly intake.

Thin: parse, read ``store.forecast`` inside one read transaction, work the weeks out
with ``domain.forecast``, render (a table, CSV or JSON, or the ``--chart``). The
assumptions are said on stderr before a table or chart and held in the JSON document.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from caseload.cli.common import open_store, parse_date_arg
from caseload.cli.output import FormatOption, Layout, OutputFormat, WideOption, info, render

if TYPE_CHECKING:
    from caseload.domain.forecast import Flagged, Week

# What a narrow terminal leaves out first (output.Layout).
FORECAST_DROP = ("week_end", "capacity", "officers", "unplaced", "weighted_load", "team")


def forecast(
    ctx: typer.Context,
    team: Annotated[
        str | None,
        typer.Option(
            "--team", "-t", metavar="TEAM", help="Only this team (default: every team, each apart)."
        ),
    ] = None,
    weeks: Annotated[
        int,
        typer.Option(
            "--weeks",
            "-w",
            metavar="N",
            min=1,
            max=52,
            help="How many weeks ahead, 1 to 52; week 1 starts on the start day.",
        ),
    ] = 8,
    intake: Annotated[
        int | None,
        typer.Option(
            "--intake",
            metavar="N",
            min=0,
            max=100_000,
            help=(
                "New crimes a week, spread by the suggestion rule (default: the team's "
                "average weekly intake over the last 8 weeks, by reported date)."
            ),
        ),
    ] = None,
    as_of: Annotated[
        date | None,
        typer.Option(
            "--as-of",
            metavar="DATE",
            parser=parse_date_arg,
            help=(
                "Start the forecast on this day (YYYY-MM-DD or DD/MM/YYYY; default today): "
                "a past day starts from what was live then."
            ),
        ),
    ] = None,
    chart: Annotated[
        bool,
        typer.Option(
            "--chart",
            help="Draw a bar per week: weighted load, with the team's capacity marked.",
        ),
    ] = False,
    fmt: FormatOption = OutputFormat.table,
    wide: WideOption = False,
) -> None:
    """The weeks ahead for a team if nothing moved: officers available, live crimes per
    available officer, weighted load against the team's capacity, and who would hold
    live crimes while absent or be over a limit.

    Assumed, and said in the output: no crime is finalised and none moves; an officer
    away on any working day of a week is unavailable that week (takes no new crimes);
    reduced duties scale the limit and capacity; each week's intake (--intake, or the
    team's recent average) arrives in the recent mix of required levels and goes, crime
    by crime, to the officer the suggestion rule puts first. The team's recent
    finalisation rate is shown for comparison, not applied.
    """
    from caseload.domain.forecast import default_intake, forecast_team
    from caseload.store import forecast as store_forecast
    from caseload.store.reference import resolve_team
    from caseload.store.team_policy import load_policies

    start = as_of or date.today()
    with open_store(ctx).read() as conn:
        team_id = resolve_team(conn, team)[0] if team else None  # NotFound: the nearest name
        policies = load_policies(conn)
        teams = store_forecast.read(conn, policies, start=start, weeks=weeks, team_id=team_id)
    first, last = store_forecast.history_window(start)
    results: list[tuple[dict[str, Any], list[Week]]] = []
    for data in teams.values():
        history = data["history"]
        weekly = intake if intake is not None else default_intake(history)
        source = (
            "given with --intake"
            if intake is not None
            else f"the team's average: {history.reported_total} crimes reported "
            f"{first.isoformat()} to {last.isoformat()}, {history.weekly_intake():.1f} a week"
        )
        summary = {
            "team": data["team"],
            "intake": weekly,
            "intake_source": source,
            "intake_mix": {k: v for k, v in history.reported.items() if v},
            "recent_weekly_finalised": float(round(history.weekly_finalised(), 1)),
        }
        result = forecast_team(
            data["team"],
            data["officers"],
            live=data["live"],
            start=start,
            weeks=weeks,
            intake=weekly,
            levels_mix=history.reported,
            policies=policies,
        )
        results.append((summary, result))
    assumptions = _assumptions(start, first, last)
    if fmt is OutputFormat.json:
        _write_json(start, weeks, assumptions, results)
        return
    rows = [_row(week, text=True) for _, result in results for week in result]
    if fmt is OutputFormat.csv:
        from caseload.domain.forecast import WEEK_COLUMNS

        render(rows, WEEK_COLUMNS, fmt)
        return
    for line in assumptions:
        info(line)
    for summary, _ in results:
        info(
            f"{summary['team']}: {summary['intake']} new crimes a week "
            f"({summary['intake_source']}); over the same 8 weeks it finalised "
            f"{summary['recent_weekly_finalised']:g} a week (not applied)."
        )
    if chart:
        for summary, result in results:
            draw_chart(result, title=f"Forecast for {summary['team']} from {start.isoformat()}")
        return
    _render_table(rows, results, fmt, wide=wide, start=start, one_team=team is not None)


def _assumptions(start: date, first: date, last: date) -> list[str]:
    return [
        f"Forecast from {start.isoformat()}, week 1 being its first 7 days. Assumed: nothing "
        "moves and no crime is finalised (every crime live on the start day stays live with "
        "its holder).",
        "An officer away (leave, sick, abstracted, training, court, other) on any working day "
        "of a week is unavailable that week and takes no new crimes; reduced duties scale "
        "the limit and capacity.",
        "New crimes come in the required levels of the crimes reported "
        f"{first.isoformat()} to {last.isoformat()} (PIP1 if none) and go, highest level "
        "first, to the officer the suggestion rule puts first; a crime nobody available may "
        "take is counted as unplaced (unallocated).",
    ]


def _flag_words(flags: tuple[Flagged, ...]) -> str:
    return " ".join(f.collar for f in flags)


def _row(week: Week, *, text: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "team": week.team,
        "week": week.week,
        "week_start": week.week_start,
        "week_end": week.week_end,
        "officers": week.officers,
        "available": week.available,
        "intake": week.intake,
        "unplaced": week.unplaced,
        "live": week.live,
        "live_per_available": week.live_per_available,
        "weighted_load": week.weighted_load,
        "capacity": week.capacity,
        "load_share": week.load_share,
    }
    if text:
        row["absent_holding"] = _flag_words(week.absent_holding)
        row["over_limit"] = _flag_words(week.over_limit)
    else:
        row["absent_holding"] = [_flagged(f) for f in week.absent_holding]
        row["over_limit"] = [_flagged(f) for f in week.over_limit]
    return row


def _flagged(flag: Flagged) -> dict[str, Any]:
    return {
        "collar": flag.collar,
        "name": flag.name,
        "kind": flag.kind,
        "live": flag.live,
        "limit": flag.limit,
        "detail": flag.detail,
    }


def _write_json(
    start: date,
    weeks: int,
    assumptions: list[str],
    results: list[tuple[dict[str, Any], list[Week]]],
) -> None:
    import json

    from caseload.cli.output import json_value

    document = {
        "start": start.isoformat(),
        "weeks_ahead": weeks,
        "assumptions": assumptions,
        "teams": [
            {**summary, "weeks": [_row(week, text=False) for week in result]}
            for summary, result in results
        ],
    }
    typer.echo(json.dumps(document, indent=2, default=json_value))


def _render_table(
    rows: list[dict[str, Any]],
    results: list[tuple[dict[str, Any], list[Week]]],
    fmt: OutputFormat,
    *,
    wide: bool,
    start: date,
    one_team: bool,
) -> None:
    from caseload.domain.forecast import WEEK_COLUMNS

    columns = [c for c in WEEK_COLUMNS if c not in ("absent_holding", "over_limit")]
    if one_team:
        columns.remove("team")
    flagged = {(week.team, week.week): week for _, result in results for week in result}
    for row in rows:
        week = flagged[(row["team"], row["week"])]
        row["absent_holding"] = len(week.absent_holding)
        row["over_limit"] = len(week.over_limit)
    render(
        rows,
        [*columns, "absent_holding", "over_limit"],
        fmt,
        title=f"Forecast from {start.isoformat()}",
        row_style=lambda row: "bold red" if row["absent_holding"] or row["over_limit"] else None,
        layout=Layout(drop=FORECAST_DROP),
        wide=wide,
    )
    detail = [
        {
            "team": week.team,
            "week": week.week,
            "week_start": week.week_start,
            "collar": flag.collar,
            "name": flag.name,
            "kind": flag.kind,
            "live": flag.live,
            "detail": flag.detail,
        }
        for _, result in results
        for week in result
        for flag in (*week.absent_holding, *week.over_limit)
    ]
    typer.echo("")
    detail_columns = ["team", "week", "week_start", "collar", "name", "kind", "live", "detail"]
    if one_team:
        detail_columns.remove("team")
    render(
        detail,
        detail_columns,
        fmt,
        title="Who would hold live crimes while absent, or be over a limit",
        layout=Layout(drop=("week_start", "team")),
        wide=wide,
    )


def draw_chart(weeks: list[Week], *, title: str, width: int = 40) -> None:
    """Horizontal bars of each week's weighted load; ``|`` marks the team's capacity.

    Rich colours on a terminal (a week past capacity, or with anyone flagged, in a
    warning colour); plain ``#`` bars in a pipe or with NO_COLOR.
    """
    import sys

    from caseload.cli.output import heading, output_width, use_rich

    scale_to = max([1, *(w.weighted_load for w in weeks), *(w.capacity for w in weeks)])
    labels = [f"week {w.week:>2} {w.week_start.isoformat()}" for w in weeks]
    pad = max([len(label) for label in labels] or [0])
    suffixes = []
    for w in weeks:
        suffix = f" {w.weighted_load} / {w.capacity}, {w.available} available"
        notes = []
        if w.absent_holding:
            notes.append(f"{len(w.absent_holding)} absent holding")
        if w.over_limit:
            notes.append(f"{len(w.over_limit)} over a limit")
        suffixes.append(suffix + (f"  {', '.join(notes)}" if notes else ""))
    terminal = output_width(sys.stdout)
    if terminal is not None:
        room = terminal - pad - 2 - max([len(s) for s in suffixes] or [0])
        width = max(10, min(width, room))
    rich = use_rich(sys.stdout)
    heading(title)
    console = None
    if rich:
        from rich.console import Console

        console = Console(highlight=False, markup=False, emoji=False)
    for w, label, suffix in zip(weeks, labels, suffixes, strict=True):
        filled = min(round(w.weighted_load * width / scale_to), width)
        mark = min(round(w.capacity * width / scale_to), width)
        cells = ["#" if i < filled else " " for i in range(width + 1)]
        cells[mark] = "|"
        bar = "".join(cells).rstrip()
        alarm = w.weighted_load > w.capacity or bool(w.absent_holding or w.over_limit)
        if console is not None:
            from rich.text import Text

            text = Text(label.ljust(pad) + " ")
            text.append(bar, style="bold red" if alarm else "green")
            text.append(suffix, style="bold red" if alarm else "")
            console.print(text, soft_wrap=True)
        else:
            typer.echo(f"{label.ljust(pad)} {bar}{suffix}")
    if not weeks:
        typer.echo("(none)")


def register(app: typer.Typer) -> None:
    """Add this module's command to the root app."""
    app.command("forecast")(forecast)
