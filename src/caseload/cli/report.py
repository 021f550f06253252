"""``caseload report morning``: the page a supervisor looks at each morning;
``caseload report compliance``: the Victims' Code and supervision compliance return.

Thin: parse, gather the figures (``report.figures``, over the workload and audit
queries), render (``report.render``: one self-contained HTML file, or JSON), write.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from caseload.cli.common import AsOfOption, TeamFilter, open_store, parse_date_arg
from caseload.cli.output import FormatOption, OutputFormat, info, render, warn

report_app = typer.Typer(
    help="Reports: the morning report (one self-contained HTML page) and the compliance return.",
    no_args_is_help=True,
)


class ReportFormat(StrEnum):
    html = "html"
    json = "json"


def default_name(team: str | None, day: date, fmt: ReportFormat) -> str:
    """``caseload-morning-lewisham-cid-2026-12-01.html`` (``all-teams`` without a team)."""
    slug = re.sub(r"[^a-z0-9]+", "-", team.strip().lower()).strip("-") if team else ""
    return f"caseload-morning-{slug or 'all-teams'}-{day.isoformat()}.{fmt.value}"


@report_app.command("morning")
def morning(
    ctx: typer.Context,
    team: TeamFilter = None,
    as_of: AsOfOption = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help=(
                "Write here ('-' for stdout; default: caseload-morning-TEAM-DATE.html "
                "or .json in the current folder)."
            ),
        ),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace FILE if it exists (never by default).")
    ] = False,
    open_: Annotated[
        bool, typer.Option("--open", help="Open the written file in the web browser.")
    ] = False,
    fmt: Annotated[
        ReportFormat,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="html (one self-contained page: no network, nothing external) or json "
            "(the same figures).",
        ),
    ] = ReportFormat.html,
) -> None:
    """Headline against the previous recorded audit, each officer's load against their
    limit or capacity, findings by severity with crime references, the trend over
    recorded audits ('audit --record'), what falls due in the next 7 days ('due
    --days 7', overdue first), the absences in force or coming in the next 7 days, and
    Victims' Code compliance over the last 28 days, as one HTML file that opens
    offline."""
    from caseload.errors import InputError
    from caseload.report.figures import Report, morning_figures, team_name
    from caseload.report.render import to_html, to_json
    from caseload.store.audit import team_id_for
    from caseload.store.reference import load_policy

    today = date.today()
    if as_of is not None and as_of > today:
        raise InputError(f"--as-of {as_of} is in the future; give today or an earlier day.")
    to_stdout = output == "-"
    if to_stdout and open_:
        raise InputError("--open needs a file; give -o FILE (not '-') or leave -o out.")
    path = None if to_stdout else Path(output or default_name(team, as_of or today, fmt))
    if path is not None:
        if path.is_dir():
            raise InputError(f"{path} is a folder; give a file name with -o.")
        if path.exists() and not overwrite:
            raise InputError(f"{path} exists; give --overwrite to replace it, or another -o.")
        if not path.parent.is_dir():
            raise InputError(f"There is no folder {path.parent} to write {path.name} in.")
    generated_at = datetime.now()
    with open_store(ctx).read() as conn:
        chosen = team_id_for(conn, team)  # NotFound (exit 2) for an unknown team
        report = Report(
            conn,
            load_policy(conn),
            as_of=as_of,
            team=None if chosen is None else team_name(conn, chosen),  # as the store spells it
            team_id=chosen,
            today=today,
        )
        document = morning_figures(report)
    text = (to_json if fmt is ReportFormat.json else to_html)(document, generated_at=generated_at)
    if path is None:
        typer.echo(text, nl=False)
        return
    _write(path, text, overwrite=overwrite)
    info(f"Wrote {path} ({len(text.encode()) / 1024:,.0f} KB).")
    if open_:
        import webbrowser

        if not webbrowser.open(path.resolve().as_uri()):
            warn(f"No web browser could be started; open {path} yourself.")


def _write(path: Path, text: str, *, overwrite: bool) -> None:
    """Never over an existing file without ``overwrite``; with it, the old file is
    replaced whole (a temporary file beside it, renamed into place)."""
    import os
    import tempfile

    from caseload.errors import InputError

    if not overwrite:
        try:
            with path.open("x", encoding="utf-8", newline="\n") as out:
                out.write(text)
        except FileExistsError:
            raise InputError(f"{path} exists; give --overwrite to replace it.") from None
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@report_app.command("compliance")
def compliance(
    ctx: typer.Context,
    start: Annotated[
        date,
        typer.Option(
            "--from", metavar="DATE", parser=parse_date_arg, help="First day of the period."
        ),
    ],
    end: Annotated[
        date,
        typer.Option(
            "--to",
            metavar="DATE",
            parser=parse_date_arg,
            help="Last day of the period (today or earlier).",
        ),
    ],
    team: TeamFilter = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """For each duty (supervisory review, routine victim update, Right 6 notification of a
    key event, Right 4 referral), per team and for the force: how many fell due in the
    period, were met on time, met late, or are still outstanding at its end, and the
    on-time rate; rebuilt from the stored records for any past period. Beside the
    supervisory reviews, the quality reviews recorded in the period ('review --quality'):
    how many, and how many passed, needed advice or failed."""
    from caseload.domain.compliance import COLUMNS, quality_recorded
    from caseload.errors import InputError
    from caseload.store.compliance import compliance_return
    from caseload.store.reference import load_policy

    if end > date.today():
        raise InputError(f"--to {end} is in the future; give today or an earlier day.")
    if start > end:
        raise InputError(f"--from {start} is after --to {end}.")
    with open_store(ctx).read() as conn:
        rows = compliance_return(conn, load_policy(conn), start=start, end=end, team=team)
    render(rows, COLUMNS, fmt, title=f"Compliance return {start} to {end}")
    if fmt not in (OutputFormat.csv, OutputFormat.json) and not quality_recorded(rows):
        scope = f" in {rows[0]['team']}" if team is not None else ""
        info(
            f"No quality reviews were recorded from {start} to {end}{scope} "
            "('caseload review CRIME --quality pass|advice|fail' records one)."
        )


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
