"""``caseload victim-referral``: Victims' Code Right 4, the referral to support services.

The victim's details are passed to victim support services (or the victim declines)
within ``referral_working_days`` of reporting; the audit's ``victim-referral-overdue``
finds a crime without one, and ``report compliance`` counts them.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from caseload.cli.common import ActorOption, open_store, parse_past_date_arg, resolve_actor
from caseload.cli.output import info


def victim_referral(
    ctx: typer.Context,
    reference: Annotated[str, typer.Argument(metavar="CRIME", help="The crime reference.")],
    declined: Annotated[
        bool,
        typer.Option("--declined", help="The victim declined a referral (this meets Right 4)."),
    ] = False,
    on: Annotated[
        date | None,
        typer.Option(
            "--on",
            metavar="DATE",
            parser=parse_past_date_arg,
            help="The day it was made (default today).",
        ),
    ] = None,
    actor: ActorOption = None,
) -> None:
    """Record a Right 4 referral to victim support services, or that the victim declined."""
    from datetime import datetime

    from caseload.store.log import decision_time
    from caseload.store.victims import record_referral

    day = on or datetime.now().date()
    with open_store(ctx).write() as conn:
        crime = record_referral(
            conn,
            reference,
            on=day,
            declined=declined,
            actor=resolve_actor(actor),
            at=decision_time(conn),
        )
    what = "that the victim declined a referral" if declined else "a referral to victim support"
    timing = "on time" if crime["on_time"] else "late"
    info(
        f"Recorded {what} on {crime['reference']} ({day}): {timing}, due by {crime['due']} "
        "(referral_working_days)."
    )


def register(app: typer.Typer) -> None:
    app.command("victim-referral")(victim_referral)
