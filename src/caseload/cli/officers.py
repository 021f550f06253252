"""``caseload officer ...``: add, list, show, update and change the status of officers."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from caseload.cli.common import (
    ActorOption,
    open_executor,
    open_store,
    parse_collar_arg,
    parse_level_arg,
    parse_past_date_arg,
    resolve_actor,
    text_arg,
)
from caseload.cli.output import (
    FormatOption,
    Layout,
    OutputFormat,
    WideOption,
    info,
    render,
    render_record,
)

# What a narrow terminal leaves out first (output.Layout).
OFFICERS_LAYOUT = Layout(drop=("investigator_since", "rank", "trainee", "capacity", "team"))

officer_app = typer.Typer(
    help="Officers: who can investigate what. Never deleted.", no_args_is_help=True
)

CollarArg = Annotated[
    str,
    typer.Argument(
        metavar="COLLAR", parser=parse_collar_arg, help="The officer's collar (warrant) number."
    ),
]


def _status(value: str) -> str:
    from caseload.domain.officers import parse_status

    return parse_status(value)


def _capacity(value: str) -> int | None:
    from caseload.domain.officers import parse_capacity

    return parse_capacity(value)


def _name(value: str) -> str:
    from caseload.domain.values import clean_text

    return clean_text(value, "the name")


def _team(value: str) -> str:
    from caseload.domain.values import clean_text

    return clean_text(value, "the team", max_length=100)


def _rank(value: str) -> str:
    from caseload.domain.officers import parse_rank

    return parse_rank(value)


def _p(fn: Any) -> Any:
    from caseload.cli.common import typed

    return typed(fn)


@officer_app.command("add")
def add(
    ctx: typer.Context,
    collar: CollarArg,
    name: Annotated[
        str, typer.Option("--name", metavar="NAME", parser=_p(_name), help="Full name.")
    ],
    team: Annotated[
        str,
        typer.Option(
            "--team",
            metavar="TEAM",
            parser=_p(_team),
            help="An existing team (see 'caseload team add').",
        ),
    ],
    accreditation: Annotated[
        str,
        typer.Option(
            "--accreditation",
            "-a",
            metavar="LEVEL",
            parser=parse_level_arg,
            help="PIP level: none, PIP1, PIP2, PIP3 or PIP4.",
        ),
    ],
    since: Annotated[
        date,
        typer.Option(
            "--since",
            metavar="DATE",
            parser=parse_past_date_arg,
            help="The date they started investigating (investigator_since).",
        ),
    ],
    rank: Annotated[
        str,
        typer.Option(
            "--rank", metavar="RANK", parser=_p(_rank), help="Rank, e.g. PC, DC, TDC, DS."
        ),
    ] = "",
    capacity: Annotated[
        int | None,
        typer.Option(
            "--capacity",
            metavar="N",
            parser=_p(_capacity),
            help="Personal capacity: most live crimes they should hold (default none).",
        ),
    ] = None,
    trainee: Annotated[
        bool,
        typer.Option("--trainee/--not-trainee", help="Flag as a trainee (always inexperienced)."),
    ] = False,
    actor: ActorOption = None,
) -> None:
    """Add an officer."""
    from caseload.domain.inputs import OfficerCreate, validated
    from caseload.store.log import decision_time
    from caseload.store.officers import add as add_officer

    data = validated(
        OfficerCreate,
        collar=collar,
        name=name,
        team=team,
        rank=rank,
        accreditation=accreditation,
        investigator_since=since,
        capacity=capacity,
        trainee=trainee,
    )
    with open_store(ctx).write() as conn:
        team = add_officer(conn, data, actor=resolve_actor(actor), at=decision_time(conn))
    info(f"Added {rank + ' ' if rank else ''}{name} ({collar}) to {team}.")


@officer_app.command("list")
def list_(
    ctx: typer.Context,
    team: Annotated[
        str | None, typer.Option("--team", "-t", metavar="TEAM", help="Only this team.")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option("--status", metavar="STATUS", parser=_p(_status), help="Only this status."),
    ] = None,
    accreditation: Annotated[
        str | None,
        typer.Option(
            "--accreditation",
            "-a",
            metavar="LEVEL",
            parser=parse_level_arg,
            help="Only this PIP level.",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
    wide: WideOption = False,
) -> None:
    """List officers (CSV output can be imported back)."""
    from caseload.store.officers import OFFICER_COLUMNS, list_officers

    with open_store(ctx).read() as conn:
        rows = list_officers(conn, team=team, status=status, accreditation=accreditation)
    render(rows, OFFICER_COLUMNS, fmt, title="Officers", layout=OFFICERS_LAYOUT, wide=wide)


@officer_app.command("show")
def show(
    ctx: typer.Context,
    collar: CollarArg,
    fmt: FormatOption = OutputFormat.table,
    wide: WideOption = False,
) -> None:
    """Show one officer: record, experience, live crimes and limit."""
    from datetime import date as date_

    from caseload.domain.officers import experienced_from, is_inexperienced
    from caseload.store.records import OFFICER_COLUMNS, officer_record

    today = date_.today()
    with open_executor(ctx) as executor:
        found = officer_record(executor, collar)
    officer, policy = found.officer, found.policy  # their team's policy
    live = officer["live"]
    booked = [a for a in found.absences if a.ends_on is None or a.ends_on >= today]
    record: dict[str, Any] = {key: officer[key] for key in OFFICER_COLUMNS}
    # The status today follows from the absences in force (unless the record says left).
    current = next((a for a in booked if a.away and a.covers(today)), None)
    reduction = next((a for a in booked if not a.away and a.covers(today)), None)
    if current is not None and officer["status"] == "active":
        record["status"] = current.status
        record["absence"] = f"#{current.id} {current.words()}"
    ahead = [a for a in booked if a.starts_on > today]
    if ahead:
        record["next_absence"] = f"#{ahead[0].id} {ahead[0].words()}"
    if reduction is not None:
        record["reduced_duties"] = f"#{reduction.id} {reduction.words()}"
    inexperienced = is_inexperienced(
        trainee=officer["trainee"],
        investigator_since=officer["investigator_since"],
        on=date_.today(),
        inexperienced_months=policy.inexperienced_months,
    )
    record["inexperienced"] = inexperienced
    if inexperienced and not officer["trainee"]:
        record["experienced_from"] = experienced_from(
            officer["investigator_since"], policy.inexperienced_months
        )
    record["live"] = live
    if inexperienced:
        from caseload.domain.absences import scaled

        record["limit"] = scaled(
            policy.inexperienced_limit, reduction.percent if reduction else None
        )
    render_record(record, fmt, title=f"Officer {officer['collar']}", wide=wide)


@officer_app.command("update")
def update(
    ctx: typer.Context,
    collar: CollarArg,
    name: Annotated[
        str | None, typer.Option("--name", metavar="NAME", parser=_p(_name), help="New name.")
    ] = None,
    team: Annotated[
        str | None,
        typer.Option(
            "--team", metavar="TEAM", parser=_p(_team), help="Move to this existing team."
        ),
    ] = None,
    rank: Annotated[
        str | None, typer.Option("--rank", metavar="RANK", parser=_p(_rank), help="New rank.")
    ] = None,
    accreditation: Annotated[
        str | None,
        typer.Option(
            "--accreditation", "-a", metavar="LEVEL", parser=parse_level_arg, help="New PIP level."
        ),
    ] = None,
    since: Annotated[
        date | None,
        typer.Option(
            "--since",
            metavar="DATE",
            parser=parse_past_date_arg,
            help="New investigator_since date.",
        ),
    ] = None,
    capacity: Annotated[
        str | None,
        typer.Option(
            "--capacity", metavar="N|none", help="New personal capacity, or 'none' to clear it."
        ),
    ] = None,
    trainee: Annotated[
        bool | None, typer.Option("--trainee/--not-trainee", help="Set or clear the trainee flag.")
    ] = None,
    supervisor: Annotated[
        str | None,
        typer.Option(
            "--supervisor",
            metavar="COLLAR|none",
            help="Who supervises them (another officer's collar), or 'none' to clear it.",
        ),
    ] = None,
    actor: ActorOption = None,
) -> None:
    """Change an officer's details (logged with old and new values)."""
    from caseload.domain.inputs import OfficerUpdate, validated
    from caseload.errors import InputError
    from caseload.store.log import decision_time
    from caseload.store.officers import update_officer

    given: dict[str, Any] = {
        key: value
        for key, value in (
            ("name", name),
            ("team", team),
            ("rank", rank),
            ("accreditation", accreditation),
            ("investigator_since", since),
            ("trainee", trainee),
        )
        if value is not None
    }
    if capacity is not None:
        try:
            given["capacity"] = _capacity(capacity)
        except ValueError as exc:
            raise InputError(str(exc).capitalize() + ".") from None
    boss = _supervisor(supervisor) if supervisor is not None else None
    data = validated(OfficerUpdate, **given) if given or supervisor is None else None
    said: list[str] = []
    with open_store(ctx).write() as conn:
        at, who = decision_time(conn), resolve_actor(actor)
        if supervisor is not None:
            from caseload.store.supervisors import set_supervisor

            old, new = set_supervisor(conn, collar, boss, actor=who, at=at)
            if old != new:
                said.append(f"Updated {collar}: supervisor {_said(old)} -> {_said(new)}.")
            elif data is None:
                said.append(f"{collar} already had that supervisor; nothing changed.")
        done = update_officer(conn, collar, data, actor=who, at=at) if data else None
    for message in said:
        info(message)
    if done is None:
        return
    if done.diff:
        info(
            f"Updated {collar}: "
            + ", ".join(f"{k} {_said(o)} -> {_said(n)}" for k, (o, n) in done.diff.items())
            + "."
        )
    else:
        info(f"{collar} already had those details; nothing changed.")
    _warn_holding(done)


def _supervisor(value: str) -> str | None:
    """A supervisor's collar as typed; ``none`` (or blank) clears it."""
    from caseload.domain.values import normalise_collar
    from caseload.errors import InputError

    if value.strip().lower() in ("", "none"):
        return None
    try:
        return normalise_collar(value)
    except ValueError as exc:
        raise InputError(f"--supervisor: {exc}.") from None


def _warn_holding(done: Any) -> None:
    """The breaches an officer change made in what they hold, and the command that fixes
    them (a warning: exit 0; the warnings are recorded in the log entry)."""
    from caseload.cli.output import warn
    from caseload.domain.rules import rebalance_hint

    for message in done.warnings:
        warn(message + ".")
    if done.warnings:
        hint = rebalance_hint(done.team)
        info(hint[0].upper() + hint[1:] + ".")


# How a supervisor says each status: "is now on leave", not "is now leave".
STATUS_WORDS = {"leave": "on leave", "left": "recorded as having left"}


def _said(value: object) -> str:
    """A value in a change message: "capacity none -> 5", not "None -> 5"."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@officer_app.command("status")
def status(
    ctx: typer.Context,
    collar: CollarArg,
    new_status: Annotated[
        str,
        typer.Argument(
            metavar="STATUS", parser=_p(_status), help="active, leave, abstracted or left."
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
    """Set an officer's status from today. leave or abstracted books an open-ended
    absence (see 'caseload officer absence'); active is a return (absences in force end
    yesterday); officers who leave are kept for history."""
    from caseload.domain.inputs import OfficerStatus, validated
    from caseload.store.absences import set_status
    from caseload.store.log import decision_time

    data = validated(OfficerStatus, status=new_status, reason=reason)
    with open_store(ctx).write() as conn:
        done = set_status(
            conn,
            collar,
            data.status,
            reason=data.reason,
            actor=resolve_actor(actor),
            at=decision_time(conn),
        )
    if done.before == done.after:
        info(f"{collar} is already {STATUS_WORDS.get(new_status, new_status)}.")
        return
    info(f"{collar} is now {STATUS_WORDS.get(new_status, new_status)}.")
    _warn_holding(done)


def register(app: typer.Typer) -> None:
    app.add_typer(officer_app, name="officer")
