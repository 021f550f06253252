"""``caseload crime ...``: add, update (correct), list, show, finalise and reopen crimes."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from caseload.cli.common import (
    MOST_ROWS,
    ActorOption,
    open_executor,
    open_store,
    parse_collar_arg,
    parse_date_arg,
    parse_grade_arg,
    parse_level_arg,
    parse_past_date_arg,
    parse_text_arg,
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
    render_record,
    with_login_shown,
)

# What a narrow terminal leaves out first (output.Layout).
CRIMES_LAYOUT = Layout(
    drop=(
        "outcome",
        "finalised_on",
        "reported_on",
        "victim_category",
        "victim_enhanced",
        "risk",
        "team",
    ),
    wrap=("crime_type",),
)

crime_app = typer.Typer(
    help="Crimes: record, correct, list, show, finalise and reopen.", no_args_is_help=True
)

RefArg = Annotated[str, typer.Argument(metavar="CRIME", help="The crime reference.")]


def _text(what: str, max_length: int = 200) -> Any:
    def parse(value: str) -> str:
        from caseload.domain.values import clean_text

        return clean_text(value, what, max_length=max_length)

    return typed(parse)


def outcome_types_help() -> str:
    """Every Home Office outcome type, one a line, for ``crime finalise --help``."""
    from textwrap import wrap

    from caseload.domain.outcomes import OUTCOMES

    lines = [
        "\n      ".join(wrap(f"{number:>2}  {name}", 70, initial_indent="  ", subsequent_indent=""))
        for number, name in OUTCOMES.items()
    ]
    return "\b\nHome Office outcome types (--outcome N):\n" + "\n".join(lines)


def _outcome(value: str) -> int:
    from caseload.domain.outcomes import parse_outcome

    return parse_outcome(value)


@crime_app.command("add")
def add(
    ctx: typer.Context,
    reference: Annotated[
        str,
        typer.Argument(
            metavar="CRIME",
            parser=_text("the reference", 64),
            help="The crime reference from the records system.",
        ),
    ],
    crime_type: Annotated[
        str,
        typer.Option(
            "--type",
            metavar="TYPE",
            parser=_text("the crime type", 100),
            help="Crime type, e.g. 'Burglary'.",
        ),
    ],
    team: Annotated[
        str,
        typer.Option(
            "--team",
            metavar="TEAM",
            parser=_text("the team", 100),
            help="Team that owns it (an existing team: see 'caseload team add').",
        ),
    ],
    reported: Annotated[
        date,
        typer.Option(
            "--reported", metavar="DATE", parser=parse_past_date_arg, help="Date reported."
        ),
    ],
    level: Annotated[
        str | None,
        typer.Option(
            "--level",
            metavar="LEVEL",
            parser=parse_level_arg,
            help="Required level (default: from the allocation matrix, else PIP1).",
        ),
    ] = None,
    enhanced: Annotated[
        bool,
        typer.Option(
            "--enhanced/--standard",
            help="The victim is entitled to the enhanced service under the Victims' Code.",
        ),
    ] = False,
    actor: ActorOption = None,
) -> None:
    """Record a live, unallocated crime (allocate it with 'caseload assign')."""
    from caseload.cli.output import warn
    from caseload.domain.inputs import CrimeCreate, validated
    from caseload.store.crimes import add as add_crime
    from caseload.store.log import decision_time

    data = validated(
        CrimeCreate,
        reference=reference,
        crime_type=crime_type,
        team=team,
        reported_on=reported,
        required_level=level,
        victim_enhanced=enhanced,
    )
    with open_store(ctx).write() as conn:
        row = add_crime(conn, data, actor=resolve_actor(actor), at=decision_time(conn))
    info(
        f"Recorded {reference} ({crime_type}, requires {row['required_level']}) for {row['team']}."
    )
    if row["level_defaulted"]:
        warn(
            f"'{crime_type}' is not in the allocation matrix; {reference} defaulted to "
            f"{row['required_level']} (see 'caseload matrix set')."
        )


@crime_app.command("update")
def update(
    ctx: typer.Context,
    reference: RefArg,
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            "-r",
            metavar="TEXT",
            parser=_text("the reason", 2000),
            help="Why it is corrected (recorded).",
        ),
    ],
    crime_type: Annotated[
        str | None,
        typer.Option(
            "--type", metavar="TYPE", parser=_text("the crime type", 100), help="New crime type."
        ),
    ] = None,
    team: Annotated[
        str | None,
        typer.Option(
            "--team",
            metavar="TEAM",
            parser=_text("the team", 100),
            help="Move it to this existing team (a holder stays its holder).",
        ),
    ] = None,
    reported: Annotated[
        date | None,
        typer.Option("--reported", metavar="DATE", parser=parse_date_arg, help="New report date."),
    ] = None,
    level: Annotated[
        str | None,
        typer.Option(
            "--level",
            metavar="LEVEL",
            parser=parse_level_arg,
            help="New required level (checked against the holder's accreditation).",
        ),
    ] = None,
    enhanced: Annotated[
        bool | None,
        typer.Option(
            "--enhanced/--standard",
            help="The victim is (or is not) entitled to the enhanced service.",
            show_default=False,
        ),
    ] = None,
    override: Annotated[
        str | None,
        typer.Option(
            "--override",
            metavar="REASON",
            parser=_text("the override reason", 2000),
            help="Raise the level above the holder's accreditation in block mode (recorded).",
        ),
    ] = None,
    actor: ActorOption = None,
) -> None:
    """Correct a crime without importing it again (logged with old and new values)."""
    from caseload.cli.output import warn
    from caseload.domain.inputs import CrimeUpdate, validated
    from caseload.store.crimes import update_crime
    from caseload.store.log import decision_time

    data = validated(
        CrimeUpdate,
        reason=reason,
        crime_type=crime_type,
        team=team,
        reported_on=reported,
        required_level=level,
        victim_enhanced=enhanced,
        override=override,
    )
    with open_store(ctx).write() as conn:
        done = update_crime(
            conn, reference, data, actor=resolve_actor(actor), at=decision_time(conn)
        )
    if not done.changed:
        info(f"{done.reference} already had those details; nothing changed.")
        return
    for message in done.warnings:
        warn(message + ".")
    shown = ", ".join(f"{k} {_cell(o)} -> {_cell(n)}" for k, (o, n) in done.changed.items())
    info(f"Updated {done.reference}: {shown}.")


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@crime_app.command("list")
def list_(
    ctx: typer.Context,
    team: Annotated[
        str | None, typer.Option("--team", "-t", metavar="TEAM", help="Only this team.")
    ] = None,
    holder: Annotated[
        str | None,
        typer.Option(
            "--holder",
            metavar="COLLAR",
            parser=parse_collar_arg,
            help="Only crimes held by this collar.",
        ),
    ] = None,
    live: Annotated[bool, typer.Option("--live", help="Only live crimes.")] = False,
    finalised: Annotated[bool, typer.Option("--finalised", help="Only finalised crimes.")] = False,
    unallocated: Annotated[
        bool, typer.Option("--unallocated", help="Only live crimes with no holder.")
    ] = False,
    level: Annotated[
        str | None,
        typer.Option(
            "--level", metavar="LEVEL", parser=parse_level_arg, help="Only this required level."
        ),
    ] = None,
    risk: Annotated[
        str | None,
        typer.Option(
            "--risk",
            metavar="GRADE",
            parser=parse_grade_arg,
            help="Only crimes of this risk grade (standard, medium, high).",
        ),
    ] = None,
    crime_type: Annotated[
        str | None, typer.Option("--type", metavar="TYPE", help="Only this crime type.")
    ] = None,
    after: Annotated[
        date | None,
        typer.Option(
            "--reported-after",
            metavar="DATE",
            parser=parse_date_arg,
            help="Reported on or after this date.",
        ),
    ] = None,
    before: Annotated[
        date | None,
        typer.Option(
            "--reported-before",
            metavar="DATE",
            parser=parse_date_arg,
            help="Reported on or before this date.",
        ),
    ] = None,
    defaulted: Annotated[
        bool,
        typer.Option(
            "--defaulted", help="Only crimes whose type was not in the matrix (level defaulted)."
        ),
    ] = False,
    limit: Annotated[
        int | None,
        typer.Option("--limit", metavar="N", min=1, max=MOST_ROWS, help="At most this many rows."),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
    wide: WideOption = False,
) -> None:
    """List crimes, oldest report first (CSV output can be imported back)."""
    from caseload.errors import InputError
    from caseload.store.crimes import CRIME_COLUMNS, CrimeFilter, list_crimes

    if live and finalised:
        raise InputError("Choose --live or --finalised, not both.")
    filters = CrimeFilter(
        team=team,
        holder=holder,
        state="live" if live else "finalised" if finalised else None,
        unallocated=unallocated,
        required_level=level,
        risk=risk,
        crime_type=crime_type,
        reported_after=after,
        reported_before=before,
        defaulted=defaulted,
    )
    with open_store(ctx).read() as conn:
        rows = list_crimes(conn, filters, limit=limit)
        if fmt is OutputFormat.table:  # CSV and JSON keep the import columns' values
            rows = _categories_shown(rows)
        render(
            rows,
            CRIME_COLUMNS,
            fmt,
            title="Crimes",
            layout=CRIMES_LAYOUT,
            wide=wide,
        )


def _categories_shown(rows: Any) -> Any:
    """Rows with an enhanced victim's missing category read as "category not recorded"."""
    from caseload.domain.victims import shown_category

    for row in rows:
        row["victim_category"] = shown_category(row["victim_enhanced"], row["victim_category"])
        yield row


@crime_app.command("show")
def show(
    ctx: typer.Context,
    reference: RefArg,
    fmt: FormatOption = OutputFormat.table,
    wide: WideOption = False,
) -> None:
    """Show one crime with its allocation history, reviews, key events and victim updates."""
    from caseload.domain.risk import review_interval
    from caseload.domain.victims import shown_category
    from caseload.store.records import CRIME_COLUMNS, crime_record

    with open_executor(ctx) as executor:
        found = crime_record(executor, reference)
    crime, story, policy = found.crime, found.story, found.policy  # the crime's team's policy
    victim_reason = found.entitlement_reason
    review_days = review_interval(str(crime["risk"]), policy)
    _mark_notices(story, enhanced=bool(crime["victim_enhanced"]), policy=policy)
    record: dict[str, Any] = {key: crime[key] for key in CRIME_COLUMNS}
    record["level_from"] = "default (type not in matrix)" if crime["level_defaulted"] else "set"
    record["victim_category"] = shown_category(
        bool(crime["victim_enhanced"]), crime["victim_category"]
    )
    if victim_reason:
        record["victim_entitlement_reason"] = victim_reason
    if crime["victim_update_every"]:
        record["victim_update_every_days"] = crime["victim_update_every"]
    reviews = story["reviews"]
    if reviews:
        record["last_review"] = reviews[-1]["reviewed_on"]
    if crime["finalised_on"] is None:
        from caseload.domain.audit import review_due

        last = reviews[-1] if reviews else None
        grades = story["risk_grades"]
        current = grades[-1] if grades and grades[-1]["to"] is None else None
        record["review_every_days"] = review_days
        record["next_review_due"] = review_due(
            last["reviewed_on"] if last else None,
            crime["reported_on"],
            last["next_due"] if last else None,
            review_days,
            current["from"].date() if current else None,
        )
    if fmt is OutputFormat.json:
        import json
        import sys

        from caseload.cli.output import json_value

        document = {k: json_value(v) for k, v in record.items()}
        for section, rows in story.items():
            document[section] = [{k: json_value(v) for k, v in row.items()} for row in rows]
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    render_record(record, fmt, title=f"Crime {crime['reference']}", wide=wide)
    for section, rows in story.items():
        if rows:
            columns = list(rows[0])
            if fmt is not OutputFormat.csv:
                columns = with_login_shown(rows, columns)
            render(
                rows,
                columns,
                fmt,
                title=section.replace("_", " ").capitalize(),
                layout=STORY_LAYOUT,
                wide=wide,
            )


# How crime show's sections give way on a narrow terminal: who recorded it goes first; the
# sentences (reasons, warnings, overrides, notes, notices) wrap in their cells, and the
# override's reason is left out (and said so) only where even wrapped it cannot fit.
STORY_LAYOUT = Layout(
    drop=("imported_by", "actor", "told_on"),
    last=("override_reason",),
    wrap=("reason", "warnings", "override_reason", "note", "notice", "meets"),
)


def _mark_notices(story: dict[str, list[dict[str, Any]]], *, enhanced: bool, policy: Any) -> None:
    """Beside each key event, its deadline and the victim update that met it (on time or
    late); beside each update, the events it met."""
    from datetime import date as date_

    from caseload.domain.events import describe_event, notices
    from caseload.domain.workdays import add_working_days

    days = policy.notify_working_days_enhanced if enhanced else policy.notify_working_days
    events, updates = story["events"], story["victim_updates"]
    found = notices(
        [e["occurred_on"] for e in events],
        [u["updated_on"] for u in updates],
        lambda on: add_working_days(on, days),
    )
    today = date_.today()
    met: dict[int, list[str]] = {}
    for event, notice in zip(events, found, strict=True):
        event["deadline"] = notice.deadline
        event["told_on"] = notice.told_on
        event["notice"] = notice.text(today)
        if notice.update is not None:
            on_time = "late" if notice.late else "on time"
            met.setdefault(notice.update, []).append(
                f"{describe_event(event['kind'])} on {event['occurred_on']} ({on_time})"
            )
    for index, update in enumerate(updates):
        update["meets"] = "; ".join(met.get(index, []))


def _category(value: str) -> str:
    from caseload.domain.victims import parse_category

    return parse_category(value)


@crime_app.command("victim")
def victim(
    ctx: typer.Context,
    reference: RefArg,
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            metavar="TEXT",
            parser=_text("the reason", 2000),
            help="Why (recorded in the decision log).",
        ),
    ],
    enhanced: Annotated[
        str | None,
        typer.Option(
            "--enhanced",
            metavar="CATEGORY",
            parser=typed(_category),
            help="The victim is entitled to the enhanced service, as: most-serious, "
            "persistently-targeted or vulnerable-or-intimidated.",
        ),
    ] = None,
    standard: Annotated[
        bool,
        typer.Option("--standard", help="The victim is entitled to the standard service."),
    ] = False,
    actor: ActorOption = None,
) -> None:
    """Record the victim's Victims' Code entitlement: enhanced (with its category) or
    standard (logged with the reason)."""
    from caseload.domain.victims import entitlement
    from caseload.errors import InputError
    from caseload.store.log import decision_time
    from caseload.store.victims import set_entitlement

    if (enhanced is None) == (not standard):
        raise InputError("Give --enhanced CATEGORY or --standard (one of them).")
    with open_store(ctx).write() as conn:
        done = set_entitlement(
            conn,
            reference,
            category=enhanced,
            reason=reason,
            actor=resolve_actor(actor),
            at=decision_time(conn),
        )
    ref = done.crime["reference"]
    if not done.changed:
        info(f"{ref}: the victim's entitlement was already {entitlement(*done.new)}.")
        return
    info(f"{ref}: victim entitlement {entitlement(*done.old)} -> {entitlement(*done.new)}.")


@crime_app.command("finalise", epilog=outcome_types_help())
def finalise(
    ctx: typer.Context,
    reference: RefArg,
    outcome: Annotated[
        int,
        typer.Option(
            "--outcome",
            metavar="N",
            parser=typed(_outcome),
            help="Home Office outcome type, e.g. 1 (charged), 8 (community resolution), "
            "18 (no suspect identified); every type is listed below.",
        ),
    ],
    on: Annotated[
        date | None,
        typer.Option(
            "--on",
            metavar="DATE",
            parser=parse_past_date_arg,
            help="Date finalised (default today).",
        ),
    ] = None,
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            "-r",
            metavar="TEXT",
            parser=text_arg("the reason", optional=True),
            help="A note for the log.",
        ),
    ] = "",
    actor: ActorOption = None,
) -> None:
    """Finalise (close) a live crime with a Home Office outcome type."""
    from datetime import date as date_

    from caseload.domain.inputs import CrimeFinalise, validated
    from caseload.domain.outcomes import OUTCOMES
    from caseload.store.crimes import finalise as finalise_crime
    from caseload.store.log import decision_time

    data = validated(
        CrimeFinalise, outcome=outcome, finalised_on=on or date_.today(), reason=reason
    )
    with open_store(ctx).write() as conn:
        finalise_crime(conn, reference, data, actor=resolve_actor(actor), at=decision_time(conn))
    info(f"Finalised {reference.strip()}: outcome {outcome} ({OUTCOMES[outcome]}).")


@crime_app.command("reopen")
def reopen(
    ctx: typer.Context,
    reference: RefArg,
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            "-r",
            metavar="TEXT",
            parser=text_arg("the reason"),
            help="Why it is reopened (recorded).",
        ),
    ],
    on: Annotated[
        date | None,
        typer.Option(
            "--on",
            metavar="DATE",
            parser=parse_past_date_arg,
            help="Date reopened (default today).",
        ),
    ] = None,
    override: Annotated[
        str | None,
        typer.Option(
            "--override",
            metavar="REASON",
            parser=parse_text_arg,
            help="Give it back to its holder even though a block-mode rule refuses it; the "
            "reason is recorded.",
        ),
    ] = None,
    unallocated: Annotated[
        bool,
        typer.Option(
            "--unallocated",
            help="Reopen it without a holder (its last holder's holding is closed).",
        ),
    ] = False,
    actor: ActorOption = None,
) -> None:
    """Reopen a finalised crime: it is live again, with its last holder.

    Giving it back is an allocation: the limit, accreditation, status and capacity rules
    apply (warn, and record the warning; a block-mode breach exits 3 unless --override
    gives a reason). --unallocated reopens it with no holder instead.
    """
    from datetime import date as date_

    from caseload.cli.output import warn
    from caseload.domain.inputs import CrimeReopen, validated
    from caseload.errors import PolicyRefused
    from caseload.store.crimes import reopen as reopen_crime
    from caseload.store.log import decision_time

    data = validated(
        CrimeReopen,
        reopened_on=on or date_.today(),
        reason=reason,
        override=override,
        unallocated=unallocated,
    )
    try:
        with open_store(ctx).write() as conn:
            crime = reopen_crime(
                conn, reference, data, actor=resolve_actor(actor), at=decision_time(conn)
            )
    except PolicyRefused as exc:
        exc.details.append(
            "To reopen it anyway, add --override REASON (the reason is recorded), or "
            "--unallocated to reopen it without a holder."
        )
        raise
    holder, holding = crime["holder"], crime["holding"]
    if crime["taken_from"]:
        info(f"Reopened {crime['reference']}; unallocated (taken off {crime['taken_from']}).")
    else:
        info(
            f"Reopened {crime['reference']}"
            + (f"; held by {holder}." if holder else "; unallocated.")
        )
    if holding is not None:
        for message in holding.warnings:
            warn(message + ".")
        if holding.overridden:
            info(f"Override recorded: {override}")
        elif override:
            info("No block-mode rule refused giving it back; the override was not needed.")
        if holding.warnings and not holding.overridden:
            info(
                f"To move it: caseload assign {crime['reference']} OFFICER --reason TEXT "
                f"(or caseload unassign {crime['reference']})."
            )


@crime_app.command("link")
def link(
    ctx: typer.Context,
    first: RefArg,
    second: Annotated[str, typer.Argument(metavar="OTHER", help="The crime to link it to.")],
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            "-k",
            metavar="KIND",
            help="What they share: victim, suspect or series ('suggest' prefers their holder).",
        ),
    ],
    actor: ActorOption = None,
) -> None:
    """Link two crimes that share a victim, a suspect or a series (logged)."""
    from caseload.errors import InputError
    from caseload.store.engine_queries import LINK_KINDS, link_crimes
    from caseload.store.log import decision_time

    value = kind.strip().lower()
    if value not in LINK_KINDS:
        raise InputError(f"'{kind.strip()}' is not a link kind (victim, suspect, series).")
    with open_store(ctx).write() as conn:
        a, b = link_crimes(
            conn, first, second, kind=value, actor=resolve_actor(actor), at=decision_time(conn)
        )
    info(f"Linked {a} and {b} (same {value}).")


def register(app: typer.Typer) -> None:
    app.add_typer(crime_app, name="crime")
