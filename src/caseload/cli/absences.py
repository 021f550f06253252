"""``caseload officer absence add|list|end|cancel``: dated absences and capacity reductions.

Joined to ``caseload officer`` in ``cli.app``. The rules are ``domain.absences``; the
store is ``store.absences`` (every change logged).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from caseload.cli.common import (
    ActorOption,
    TeamFilter,
    open_store,
    parse_collar_arg,
    parse_date_arg,
    resolve_actor,
    text_arg,
    typed,
)
from caseload.cli.output import (
    FormatOption,
    Layout,
    OutputFormat,
    WideOption,
    info,
    render,
    warn,
)

absence_app = typer.Typer(
    help=(
        "Absences with dates: leave, sick, abstracted, training, court, other, or a capacity "
        "reduction (--kind reduced --percent N: part-time or light duties). An officer's "
        "status on a day follows from the absences covering it."
    ),
    no_args_is_help=True,
)

ABSENCES_LAYOUT = Layout(drop=("reason", "name", "days", "percent", "team"))

CollarArg = Annotated[
    str,
    typer.Argument(
        metavar="COLLAR", parser=parse_collar_arg, help="The officer's collar (warrant) number."
    ),
]


def _kind(value: str) -> str:
    from caseload.domain.absences import parse_kind

    return parse_kind(value)


def _percent(value: str) -> int:
    from caseload.domain.absences import parse_percent

    return parse_percent(value)


@absence_app.command("add")
def add(
    ctx: typer.Context,
    collar: CollarArg,
    starts_on: Annotated[
        date,
        typer.Option(
            "--from", metavar="DATE", parser=parse_date_arg, help="First day (may be ahead)."
        ),
    ],
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            metavar="KIND",
            parser=typed(_kind),
            help="leave, sick, abstracted, training, court, other, or reduced.",
        ),
    ],
    reason: Annotated[
        str,
        typer.Option(
            "--reason", "-r", metavar="TEXT", parser=text_arg("the reason"), help="Why (recorded)."
        ),
    ],
    ends_on: Annotated[
        date | None,
        typer.Option(
            "--to",
            metavar="DATE",
            parser=parse_date_arg,
            help="Last day (included); leave out for an open-ended absence.",
        ),
    ] = None,
    percent: Annotated[
        int | None,
        typer.Option(
            "--percent",
            metavar="N",
            parser=typed(_percent),
            help="For --kind reduced: the share of normal duties worked (1-99); the "
            "officer's limit and capacity are scaled to it on those days.",
        ),
    ] = None,
    actor: ActorOption = None,
) -> None:
    """Book an absence (or a capacity reduction) for an officer."""
    from caseload.store.absences import add as add_absence
    from caseload.store.log import decision_time

    with open_store(ctx).write() as conn:
        booked = add_absence(
            conn,
            collar,
            kind=kind,
            starts_on=starts_on,
            ends_on=ends_on,
            percent=percent,
            reason=reason,
            actor=resolve_actor(actor),
            at=decision_time(conn),
        )
    info(f"Booked absence #{booked.id}: {booked.collar} {booked.absence.words()}.")
    if booked.absence.away and booked.holds:
        crimes = "live crime" if booked.holds == 1 else "live crimes"
        warn(
            f"{booked.collar} holds {booked.holds} {crimes}; hand them over before "
            f"{booked.absence.starts_on.isoformat()} (caseload assign, or caseload rebalance)."
        )


@absence_app.command("list")
def list_(
    ctx: typer.Context,
    team: TeamFilter = None,
    starts: Annotated[
        date | None,
        typer.Option(
            "--from",
            metavar="DATE",
            parser=parse_date_arg,
            help="Only absences running on or after this day.",
        ),
    ] = None,
    ends: Annotated[
        date | None,
        typer.Option(
            "--to",
            metavar="DATE",
            parser=parse_date_arg,
            help="Only absences starting by this day.",
        ),
    ] = None,
    officer: Annotated[
        str | None,
        typer.Option(
            "--officer", metavar="COLLAR", parser=parse_collar_arg, help="Only this officer."
        ),
    ] = None,
    cancelled: Annotated[
        bool, typer.Option("--cancelled", help="Include cancelled absences.")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
    wide: WideOption = False,
) -> None:
    """List absences: planned, in force, ended (and cancelled, with --cancelled)."""
    from caseload.errors import InputError
    from caseload.store.absences import ABSENCE_COLUMNS, list_absences

    if starts is not None and ends is not None and ends < starts:
        raise InputError(f"--to ({ends.isoformat()}) is before --from ({starts.isoformat()}).")
    with open_store(ctx).read() as conn:
        rows = list_absences(
            conn, team=team, collar=officer, starts=starts, ends=ends, cancelled=cancelled
        )
    render(rows, ABSENCE_COLUMNS, fmt, title="Absences", layout=ABSENCES_LAYOUT, wide=wide)


@absence_app.command("end")
def end(
    ctx: typer.Context,
    collar: CollarArg,
    on: Annotated[
        date,
        typer.Option(
            "--on", metavar="DATE", parser=parse_date_arg, help="The absence's last day (included)."
        ),
    ],
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            metavar="KIND",
            parser=typed(_kind),
            help="Which absence, when more than one is in force that day.",
        ),
    ] = None,
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            "-r",
            metavar="TEXT",
            parser=text_arg("the reason", optional=True),
            help="Why (recorded).",
        ),
    ] = "",
    actor: ActorOption = None,
) -> None:
    """End the officer's absence in force on a day: that day is its last."""
    from caseload.store.absences import end as end_absence
    from caseload.store.log import decision_time

    with open_store(ctx).write() as conn:
        ended = end_absence(
            conn,
            collar,
            on=on,
            kind=kind,
            reason=reason,
            actor=resolve_actor(actor),
            at=decision_time(conn),
        )
    info(f"Absence #{ended.id} of {collar} now ends on {on.isoformat()} ({ended.words()}).")


@absence_app.command("cancel")
def cancel(
    ctx: typer.Context,
    absence_id: Annotated[
        int,
        typer.Argument(
            metavar="ID",
            min=1,
            max=2_147_483_647,
            help="The absence's number (officer absence list).",
        ),
    ],
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            "-r",
            metavar="TEXT",
            parser=text_arg("the reason", optional=True),
            help="Why (recorded).",
        ),
    ] = "",
    actor: ActorOption = None,
) -> None:
    """Cancel an absence booked in error or called off (kept, counting for nothing)."""
    from caseload.store.absences import cancel as cancel_absence
    from caseload.store.log import decision_time

    with open_store(ctx).write() as conn:
        collar, absence = cancel_absence(
            conn, absence_id, reason=reason, actor=resolve_actor(actor), at=decision_time(conn)
        )
    info(f"Cancelled absence #{absence_id}: {collar} {absence.words()}.")
