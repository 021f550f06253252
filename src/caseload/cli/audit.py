"""``caseload audit``: check the store against policy and the Victims' Code; ``audit trend``.

Made for cron: no prompts, no colour or progress when not on a terminal, and the
exit code says whether anything at or above ``--fail-on`` was found (0 none,
1 some, 2 bad usage, 4 store unusable).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from caseload.cli.common import MOST_ROWS, AsOfOption, TeamFilter, open_store, typed
from caseload.cli.output import FormatOption, Layout, OutputFormat, WideOption, info

if TYPE_CHECKING:
    from caseload.store.audit import Audit

audit_app = typer.Typer(
    help=(
        "Check every live crime and officer against policy and the Victims' Code "
        "(exit 1 when something at or above --fail-on is found)."
    ),
    invoke_without_command=True,
)


# A narrow terminal leaves out the since date, then the team; the detail wraps.
FINDINGS_LAYOUT = Layout(drop=("since", "team"), wrap=("detail",))


# Trend: the least severe codes give way first (audit itself lists them all).
def _trend_layout() -> Layout:
    """A narrow terminal drops the day audited and the team first, then the codes, least
    severe first (the per-code trend table below the runs keeps every code)."""
    from caseload.domain.audit import CODES, SEVERITY_RANK

    by_severity = sorted(reversed(CODES), key=lambda code: SEVERITY_RANK[CODES[code]])
    return Layout(drop=("team", "as_of", *by_severity))


def _severity(value: str) -> str:
    from caseload.domain.audit import parse_severity

    return parse_severity(value)


def _check_day(as_of: date | None) -> None:
    from caseload.errors import InputError

    if as_of is not None and as_of > date.today():
        raise InputError(f"--as-of {as_of} is in the future; give today or an earlier day.")


@audit_app.callback(invoke_without_command=True)
def audit(
    ctx: typer.Context,
    team: TeamFilter = None,
    as_of: AsOfOption = None,
    fail_on: Annotated[
        str,
        typer.Option(
            "--fail-on",
            metavar="low|medium|high",
            parser=typed(_severity),
            help="Exit 1 when a finding of this severity or higher is found (default low).",
        ),
    ] = "low",
    record: Annotated[
        bool,
        typer.Option("--record", help="Store this run's counts for 'caseload audit trend'."),
    ] = False,
    fmt: FormatOption = OutputFormat.table,
    wide: WideOption = False,
) -> None:
    """Report every finding (codes as in the documentation), most severe first."""
    if ctx.invoked_subcommand is not None:
        return
    from caseload.cli.output import render
    from caseload.domain.audit import CODES, FINDING_COLUMNS, counts_from, fails
    from caseload.store.audit import Audit, record_run
    from caseload.store.reference import load_policy, resolve_team

    _check_day(as_of)
    generated_at = datetime.now()
    store = open_store(ctx)
    with store.read() as conn:
        policy = load_policy(conn)
        team_id = None
        if team:
            team_id, team = resolve_team(conn, team)  # the stored name, in every output
        checks = Audit(conn, policy, as_of=as_of, team_id=team_id)
        # One pass over the queries: findings are counted as they stream out.
        tally = dict.fromkeys(CODES, 0)

        def counted() -> Iterator[dict[str, Any]]:
            for item in checks.findings():
                tally[item["code"]] += 1
                yield item

        if fmt is OutputFormat.json:
            _write_json(checks, counted(), tally, generated_at=generated_at, team=team)
        elif fmt is OutputFormat.csv:
            render(counted(), FINDING_COLUMNS, fmt, wide=wide)
        else:
            scope = f"team {team.strip()}" if team else "the whole store"
            render(
                counted(),
                FINDING_COLUMNS,
                fmt,
                title=f"Audit of {scope} as of {checks.day.isoformat()}",
                row_style=_row_style,
                layout=FINDINGS_LAYOUT,
                wide=wide,
            )
        counts = counts_from(tally)
        if fmt not in (OutputFormat.json, OutputFormat.csv):
            by_severity = counts["by_severity"]
            total = sum(by_severity.values())
            info(
                f"{total:,} finding{'' if total == 1 else 's'}: "
                + ", ".join(f"{n:,} {severity}" for severity, n in by_severity.items())
                + f" (as of {checks.day.isoformat()})."
            )
    if record:
        with store.write() as conn:
            run_id = record_run(
                conn,
                at=generated_at,
                as_of=checks.day,
                team=team.strip() if team else None,
                counts=counts,
            )
        info(f"Recorded as audit run {run_id}.")
    if fails(counts["by_code"], fail_on):
        raise typer.Exit(1)


def _row_style(row: dict[str, object]) -> str | None:
    return {"high": "red", "medium": "yellow"}.get(str(row.get("severity")))


def _write_json(
    checks: Audit,
    findings: Iterator[dict[str, Any]],
    tally: dict[str, int],
    *,
    generated_at: datetime,
    team: str | None,
) -> None:
    """One JSON document. The counts come before the findings, so the findings are
    spooled to a temporary file (one per line) as they are counted: memory stays flat."""
    import json
    import shutil
    import sys
    import tempfile
    from itertools import islice

    from caseload.cli.output import json_value
    from caseload.domain.audit import counts_from

    def batched(items: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
        while batch := list(islice(items, size)):
            yield batch

    # One encoder; only dates reach json_value (as ``default``). Findings are encoded a
    # batch at a time, one call each, and put one to a line: every finding starts with
    # its "code" key, and a quote inside a JSON string is always escaped, so the text
    # '}, {"code": ' occurs only between two findings.
    encode = json.JSONEncoder(default=json_value).encode
    between = '}, {"code": '
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        # Spooled already joined as the findings array's items, then copied in chunks.
        first = True
        for batch in batched(findings, 1000):
            text = encode(batch)[1:-1].replace(between, '},\n    {"code": ')
            spool.write(("\n    " if first else ",\n    ") + text)
            first = False
        head = {
            "generated_at": json_value(generated_at),
            "as_of": checks.day.isoformat(),
            "team": team.strip() if team else None,
            "policy": checks.policy.as_dict(),
            "counts": counts_from(tally),
        }
        out = sys.stdout
        out.write("{\n")
        for key, value in head.items():
            out.write(f"  {json.dumps(key)}: {json.dumps(value)},\n")
        out.write('  "findings": [')
        spool.seek(0)
        shutil.copyfileobj(spool, out)
        out.write("]\n}\n" if first else "\n  ]\n}\n")


@audit_app.command("trend")
def trend(
    ctx: typer.Context,
    team: TeamFilter = None,
    last: Annotated[
        int,
        typer.Option(
            "--last",
            "-n",
            metavar="N",
            min=1,
            max=MOST_ROWS,
            help="How many recorded runs to show.",
        ),
    ] = 30,
    fmt: FormatOption = OutputFormat.table,
    wide: WideOption = False,
) -> None:
    """Show how the findings moved, run by run (runs stored with 'audit --record')."""
    from caseload.cli.output import render, use_rich
    from caseload.domain.audit import CODES, sparkline, trend_rows
    from caseload.store.audit import list_runs

    with open_store(ctx).read() as conn:
        if team:
            from caseload.store.reference import resolve_team

            team = resolve_team(conn, team)[1]
        runs = list_runs(conn, team=team, limit=last)
    rows = trend_rows(runs)
    columns = ["at", "as_of", "team", *CODES, "total"]
    scope = f"team {team.strip()}" if team else "the whole store"
    render(
        rows,
        columns,
        fmt,
        title=f"Recorded audit runs for {scope}",
        layout=_trend_layout(),
        wide=wide,
    )
    if not rows:
        info("No runs recorded yet: run 'caseload audit --record' (e.g. nightly from cron).")
        return
    if fmt is OutputFormat.table and use_rich():
        from rich.console import Console
        from rich.table import Table

        table = Table(title="Trend per code (oldest to newest)", title_justify="left")
        table.add_column("code")
        table.add_column("trend")
        table.add_column("latest", justify="right")
        for code in CODES:
            series = [int(row[code]) for row in rows]
            table.add_row(code, sparkline(series), str(series[-1]))
        Console().print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
