"""``caseload crime risk``: grade a crime's risk (standard, medium, high), logged.

Joined to the ``crime`` group by ``cli/app.py``. Thin: parse, ``store.risk.set_risk``
in one write transaction, report.
"""

from __future__ import annotations

from typing import Annotated

import typer

from caseload.cli.common import ActorOption, open_store, parse_grade_arg, resolve_actor, text_arg
from caseload.cli.output import info


def risk(
    ctx: typer.Context,
    reference: Annotated[str, typer.Argument(metavar="CRIME", help="The crime reference.")],
    grade: Annotated[
        str,
        typer.Argument(
            metavar="GRADE",
            parser=parse_grade_arg,
            help="The risk grade: standard, medium or high.",
        ),
    ],
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            "-r",
            metavar="TEXT",
            parser=text_arg("the reason"),
            help="Why the grade changes (recorded), e.g. the DASH assessment.",
        ),
    ],
    override: Annotated[
        str | None,
        typer.Option(
            "--override",
            metavar="REASON",
            parser=text_arg("the override reason"),
            help="Keep the holder although the new grade's level is above their "
            "accreditation (block mode; recorded).",
        ),
    ] = None,
    actor: ActorOption = None,
) -> None:
    """Grade a crime's risk: standard, medium or high (kept with history, logged).

    The grade can raise the crime's required level through the matrix's risk rows, and
    sets how often it must be reviewed (review_days, review_days_medium, review_days_high).
    """
    from caseload.cli.output import warn
    from caseload.store.log import decision_time
    from caseload.store.risk import set_risk

    with open_store(ctx).write() as conn:
        done = set_risk(
            conn,
            reference,
            grade,
            reason=reason,
            actor=resolve_actor(actor),
            at=decision_time(conn),
            override=override,
        )
    for message in done.warnings:
        warn(message + ".")
    level = (
        f"; it now requires {done.new_level} (was {done.old_level})"
        if done.new_level != done.old_level
        else ""
    )
    info(f"{done.reference} is now {done.new} risk (was {done.old}){level}.")


def register(crime_app: typer.Typer) -> None:
    """Add ``crime risk`` to the crime group."""
    crime_app.command("risk")(risk)
