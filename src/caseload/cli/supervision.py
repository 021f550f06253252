"""``caseload review``, ``event`` and ``victim-update``: supervision and keeping victims told.

Each record is dated (``--on``, default today), written with the actor and time,
and logged in the decision log. ``crime show`` lists them.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from caseload.cli.common import (
    ActorOption,
    open_store,
    parse_date_arg,
    parse_past_date_arg,
    resolve_actor,
    typed,
)
from caseload.cli.output import info

RefArg = Annotated[str, typer.Argument(metavar="CRIME", help="The crime reference.")]


def _note(value: str) -> str:
    from caseload.domain.values import clean_text

    return clean_text(value, "the note", max_length=2000)


def _quality(value: str) -> str:
    from caseload.domain.sampling import parse_quality

    return parse_quality(value)


def _kind(value: str) -> str:
    from caseload.domain.events import parse_event_kind

    return parse_event_kind(value)


def _every(value: str) -> int:
    """A span like 14d or 2w; ``default`` (or ``none``) clears the agreement (0)."""
    from caseload.domain.values import parse_span_days

    if value.strip().lower() in ("default", "none"):
        return 0
    days = parse_span_days(value)
    if days < 1 or days > 3650:
        raise ValueError("the agreed frequency must be between 1 day and 10 years")
    return days


NoteOption = Annotated[
    str,
    typer.Option(
        "--note",
        "-m",
        metavar="TEXT",
        parser=typed(_note),
        help="What was done or said (recorded).",
    ),
]
OnOption = Annotated[
    date | None,
    typer.Option(
        "--on",
        metavar="DATE",
        parser=parse_past_date_arg,
        help="The day it happened (default today).",
    ),
]


def review(
    ctx: typer.Context,
    reference: RefArg,
    note: NoteOption,
    next_due: Annotated[
        date | None,
        typer.Option(
            "--next",
            metavar="DATE",
            parser=parse_date_arg,
            help="When the next review is due (an earlier date than the review_days rule).",
        ),
    ] = None,
    quality: Annotated[
        str | None,
        typer.Option(
            "--quality",
            metavar="RESULT",
            parser=typed(_quality),
            help="A quality review's result: pass, advice or fail (e.g. of a crime drawn by "
            "'caseload sample').",
        ),
    ] = None,
    on: OnOption = None,
    actor: ActorOption = None,
) -> None:
    """Record a supervisory review of a live crime (with --quality, a quality review)."""
    from datetime import datetime

    from caseload.domain.inputs import ReviewCreate, validated
    from caseload.store.log import decision_time
    from caseload.store.supervision import record_review
    from caseload.store.team_policy import load_policies

    day = on or datetime.now().date()
    data = validated(ReviewCreate, note=note, reviewed_on=day, next_due=next_due, quality=quality)
    with open_store(ctx).write() as conn:
        crime = record_review(
            conn, reference, data, actor=resolve_actor(actor), at=decision_time(conn)
        )
        policy = load_policies(conn).of(int(crime["team_id"]))  # the crime's team's
    what = f"a quality review ({quality})" if quality else "a review"
    info(
        f"Recorded {what} of {crime['reference']} on {day}; "
        f"{next_review(day, next_due, policy, str(crime.get('risk') or 'standard'))}."
    )


def next_review(day: date, next_due: date | None, policy: Any, risk: str = "standard") -> str:
    """When the next review is due after one on ``day``, and why: ``--next`` can only bring
    it forward, never past the rule for the crime's risk grade (``review_days``,
    ``review_days_medium``, ``review_days_high``; ``domain.audit.review_due``)."""
    from datetime import timedelta

    from caseload.domain.audit import review_due
    from caseload.domain.risk import review_interval, review_setting

    days, setting = review_interval(risk, policy), review_setting(risk)
    rule = day + timedelta(days=days)
    due = review_due(day, day, next_due, days)
    if next_due is None:
        return f"next review due by {due} ({setting}: {days} days)"
    if next_due <= rule:
        return f"next review due by {due} (as asked)"
    return (
        f"next review due by {due}, not {next_due}: the {setting} rule "
        f"({days} days) comes first, and --next can only bring a review forward"
    )


def event(
    ctx: typer.Context,
    reference: RefArg,
    kind: Annotated[
        str,
        typer.Argument(
            metavar="KIND",
            parser=typed(_kind),
            help="arrested, interviewed (under caution), released (without charge), "
            "bailed (or released under investigation), charged, nfa (no further action), "
            "not-investigated (a decision not to investigate), bail-conditions-changed, or "
            "out-of-court-disposal.",
        ),
    ],
    on: OnOption = None,
    actor: ActorOption = None,
) -> None:
    """Record a key investigative event; the victim must be told within the Code's deadline."""
    from datetime import datetime

    from caseload.domain.events import describe_event
    from caseload.domain.inputs import KeyEventCreate, validated
    from caseload.domain.workdays import add_working_days
    from caseload.store.log import decision_time
    from caseload.store.supervision import record_event
    from caseload.store.team_policy import load_policies

    day = on or datetime.now().date()
    data = validated(KeyEventCreate, kind=kind, occurred_on=day)
    with open_store(ctx).write() as conn:
        crime = record_event(
            conn, reference, data, actor=resolve_actor(actor), at=decision_time(conn)
        )
        policy = load_policies(conn).of(int(crime["team_id"]))  # the crime's team's
    enhanced = bool(crime["victim_enhanced"])
    days = policy.notify_working_days_enhanced if enhanced else policy.notify_working_days
    deadline = add_working_days(day, days)
    service = "enhanced service" if enhanced else "standard service"
    info(
        f"Recorded '{describe_event(kind)}' on {crime['reference']} ({day}); tell the victim "
        f"by {deadline} ({days} working day{'' if days == 1 else 's'}, {service})."
    )


def victim_update(
    ctx: typer.Context,
    reference: RefArg,
    note: Annotated[
        str | None,
        typer.Option(
            "--note",
            "-m",
            metavar="TEXT",
            parser=typed(_note),
            help="What the victim was told (recorded).",
        ),
    ] = None,
    on: OnOption = None,
    every: Annotated[
        int | None,
        typer.Option(
            "--every",
            metavar="SPAN",
            parser=typed(_every),
            help="Store the update frequency agreed with the victim (e.g. 14d, 2w); "
            "'default' returns to the victim_update_days policy.",
        ),
    ] = None,
    actor: ActorOption = None,
) -> None:
    """Record that the victim was updated, and/or the update frequency agreed with them."""
    from datetime import datetime

    from caseload.errors import InputError
    from caseload.store.log import decision_time
    from caseload.store.supervision import record_victim_update, set_update_frequency

    if note is None and every is None:
        raise InputError("Give --note (an update was made) and/or --every (agreed frequency).")
    if note is None and on is not None:
        raise InputError("--on dates an update; give --note with it.")
    from caseload.domain.inputs import VictimUpdateCreate, validated

    today = datetime.now().date()
    data = (
        validated(VictimUpdateCreate, note=note, updated_on=on or today)
        if note is not None
        else None
    )
    who = resolve_actor(actor)
    messages = []
    with open_store(ctx).write() as conn:
        now = decision_time(conn)
        if every is not None:
            old, crime = set_update_frequency(
                conn, reference, every=every or None, actor=who, at=now
            )
            new = every or None
            if old == new:
                messages.append(f"{crime['reference']}: the agreed frequency was already that.")
            elif new is None:
                messages.append(
                    f"{crime['reference']}: no agreed frequency now; the victim_update_days "
                    "policy applies."
                )
            else:
                messages.append(
                    f"{crime['reference']}: victim updates agreed every {new} "
                    f"day{'' if new == 1 else 's'}."
                )
        if data is not None:
            crime = record_victim_update(conn, reference, data, actor=who, at=now)
            messages.append(
                f"Recorded a victim update on {crime['reference']} ({data.updated_on})."
            )
    for message in messages:
        info(message)


def register(app: typer.Typer) -> None:
    app.command("review")(review)
    app.command("event")(event)
    app.command("victim-update")(victim_update)
