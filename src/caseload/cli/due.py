"""``caseload due``: every duty falling due, or overdue, in the next days, by date.

Thin: parse, read ``store.due`` in one read transaction (its query gives the duties in
order), and render: CSV and JSON stream as the rows come, as an export does. Made for
cron as the audit is: ``--fail-on-overdue`` exits 1 when any duty is overdue.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import Annotated, Any, cast

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
    supervisor: Annotated[
        str | None,
        typer.Option(
            "--supervisor",
            metavar="OFFICER",
            parser=parse_collar_arg,
            help=(
                "Only the officers this officer (collar) supervises: the crimes they hold, "
                "and their own duties."
            ),
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
    from caseload.domain.due import COLUMNS, overdue, summary
    from caseload.errors import InputError
    from caseload.store.due import Due, officer_id_for
    from caseload.store.reference import load_policy, resolve_team

    if as_of is not None and as_of > date.today():
        raise InputError(f"--as-of {as_of} is in the future; give today or an earlier day.")
    streamed = fmt in (OutputFormat.json, OutputFormat.csv)
    late = False
    with open_store(ctx).read() as conn:
        policy = load_policy(conn)
        team_id = officer_id = supervisor_id = None
        if team:
            team_id, team = resolve_team(conn, team)  # the stored name
        if officer:
            officer_id, officer = officer_id_for(conn, officer)
        if supervisor:
            supervisor_id, supervisor = officer_id_for(conn, supervisor)
        found = Due(
            conn,
            policy,
            days,
            as_of=as_of,
            team_id=team_id,
            officer_id=officer_id,
            supervisor_id=supervisor_id,
        )
        if streamed:  # written as the database gives the rows, in order
            late = _stream(conn, found, fmt)
        else:
            rows = list(found.rows())
    if not streamed:
        scope = f"team {team}" if team else "the whole store"
        if officer or supervisor:
            scope = " ".join(
                part
                for part in (
                    f"officer {officer}" if officer else "",
                    f"the officers {supervisor} supervises" if supervisor else "",
                    f"in team {team}" if team else "",
                )
                if part
            )
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
        info(summary(rows))
        late = overdue(rows) > 0
    if fail_on_overdue and late:
        raise typer.Exit(1)


def _stream(conn: Any, found: Any, fmt: OutputFormat) -> bool:
    """Write every duty as CSV or JSON to stdout as the query gives them (CSV through the
    exports' writer: cursor tuples on SQLite, spreadsheet formulas neutralised); returns
    whether any is overdue (the first row is the earliest due)."""
    import sys

    from caseload.cli.csv_writer import query_rows, write_rows
    from caseload.cli.output import write_json
    from caseload.domain.due import COLUMNS
    from caseload.store.executor import RawRows

    if fmt is OutputFormat.csv:
        late = _csv_lines(conn, found, sys.stdout)
        if late is not None:
            return late
    # copy=False: each row is read here (the first's days left makes the exit code, JSON
    # needs its cells), so never PostgreSQL's own CSV lines: cursor tuples or dicts.
    rows = query_rows(conn, found.query(), copy=False)
    first: list[int] = []
    days_left = COLUMNS.index("days_left")
    if isinstance(rows, RawRows):

        def batches(source: Any) -> Iterator[list[tuple[Any, ...]]]:
            for batch in source:
                if not first:
                    first.append(int(batch[0][days_left]))
                yield batch

        rows = RawRows(batches(rows.batches), rows.text)
        if fmt is OutputFormat.json:
            dicts: Iterable[Mapping[str, Any]] = (
                dict(zip(COLUMNS, row, strict=True)) for batch in rows.batches for row in batch
            )
    else:

        def noted(source: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
            for row in source:
                if not first:
                    first.append(int(row["days_left"]))
                yield row

        dicts = noted(cast("Iterable[Mapping[str, Any]]", rows))
        rows = dicts
    if fmt is OutputFormat.json:
        write_json(dicts, COLUMNS, sys.stdout)
    else:
        write_rows(rows, COLUMNS, sys.stdout, total=None, newline="\n")
    return bool(first) and first[0] < 0


def _csv_lines(conn: Any, found: Any, out: Any) -> bool | None:
    """CSV from rows SQLite joined (``Due.query(lines=True)``), as ``cli.csv_writer``
    writes a crimes export: a batch whose team, collar, name and reference cells need
    neither quoting nor neutralising (one pass over them all, as ``write_lines`` checks)
    is written as it is, the action quoted where it holds a comma; another batch goes
    cell by cell through ``csv_cell``. The same bytes as the generic writer. None off
    SQLite (the caller then writes the rows); else whether any duty is overdue."""
    import csv

    from caseload import interrupts
    from caseload.cli.output import FORMULA_PREFIXES, NEUTRALISER, csv_cell
    from caseload.domain.due import COLUMNS
    from caseload.store.bulk import driver_batches, driver_statement
    from caseload.store.export import RAW_BATCH, SEPARATOR

    if conn.dialect.name != "sqlite":
        return None
    statement = driver_statement(conn, found.query(lines=True))
    if statement is None:
        return None
    end = "\x1e"  # between rows while checking (ASCII record separator)
    quoting = ('"', ",", "\n", "\r")
    risky = (*FORMULA_PREFIXES, NEUTRALISER)
    as_nul = bytes.maketrans("".join(risky).encode(), b"\0" * len(risky))
    starts = (SEPARATOR.encode() + b"\0", end.encode() + b"\0")
    separators = 3  # in each row's text: team, collar, name, reference

    def plain(texts: list[str], blob: str) -> bool:
        if (
            blob.count(SEPARATOR) != len(texts) * separators
            or blob.count(end) != len(texts) - 1
            or blob.startswith(risky)
            or any(mark in blob for mark in quoting)
        ):
            return False
        return not any(start in blob.encode().translate(as_nul) for start in starts)

    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    written = 0
    late: bool | None = None
    for batch in driver_batches(conn, statement, RAW_BATCH):
        if late is None:
            late = batch[0][0].rsplit(",", 1)[1].startswith("-")
        heads, texts, actions = zip(*batch, strict=True)
        blob = end.join(texts)
        if plain(list(texts), blob) and not any(
            mark in "".join(actions) for mark in ('"', "\n", "\r")
        ):
            cells = blob.replace(SEPARATOR, ",").split(end)
            quoted = [f'"{action}"' if "," in action else action for action in actions]
            out.write("\n".join(map("{},{},{}".format, heads, cells, quoted)))
            out.write("\n")
        else:  # rare: the rows of this batch again, cell by cell
            again = conn.execute(found.query().offset(written).limit(len(batch)))
            writer.writerows([csv_cell(value) for value in row] for row in again)
        written += len(batch)
        interrupts.checkpoint("export-writing")
    return bool(late)


def _row_style(row: dict[str, object]) -> str | None:
    days_left = row.get("days_left")
    if isinstance(days_left, int):
        return "red" if days_left < 0 else "yellow" if days_left == 0 else None
    return None


def register(app: typer.Typer) -> None:
    """Add this module's command to the root app."""
    app.command("due")(due)
