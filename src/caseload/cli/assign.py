"""``caseload assign`` and ``caseload unassign``: change a crime's holder.

Thin commands: parse, call ``store.allocation`` inside one write transaction,
render. The policy rules themselves live in ``domain.rules`` and are applied by
``store.allocation.allocate_many`` on every path that allocates.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from caseload.cli.common import (
    ActorOption,
    open_executor,
    open_store,
    parse_collar_arg,
    parse_text_arg,
    resolve_actor,
)
from caseload.cli.output import info, warn

RefArg = Annotated[str, typer.Argument(metavar="CRIME", help="The crime reference.")]
ReasonOption = Annotated[
    str | None,
    typer.Option(
        "--reason",
        "-r",
        metavar="TEXT",
        parser=parse_text_arg,
        help="Why (recorded with the decision).  [required]",
    ),
]


def assign(
    ctx: typer.Context,
    reference: RefArg,
    officer: Annotated[
        str | None,
        typer.Argument(
            metavar="OFFICER",
            parser=parse_collar_arg,
            help="Collar of the officer to allocate it to (a held crime is transferred).",
        ),
    ] = None,
    reason: ReasonOption = None,
    override: Annotated[
        str | None,
        typer.Option(
            "--override",
            metavar="REASON",
            parser=parse_text_arg,
            help="Allocate even though a block-mode rule refuses it; the reason is recorded.",
        ),
    ] = None,
    auto: Annotated[
        bool,
        typer.Option(
            "--auto",
            help="Take the top suggestion of 'caseload suggest' (no OFFICER); recorded as "
            "automatic, with the reasons printed.",
        ),
    ] = False,
    actor: ActorOption = None,
) -> None:
    """Allocate a crime to an officer, or transfer it if it is held.

    Warns (and records the warning) when an inexperienced officer goes past the
    limit, the officer is not active, or past personal capacity; refuses with
    exit 3 a block-mode breach (by default: a crime above the officer's
    accreditation) unless --override gives a reason.
    """
    from caseload.errors import InputError, PolicyRefused

    if officer is None and not auto:
        raise InputError("Name the officer to allocate it to (a collar number), or give --auto.")
    if officer is not None and auto:
        raise InputError("Give an OFFICER or --auto, not both.")
    if not reason:
        raise InputError("Give a reason with --reason; every allocation records one.")
    chosen = None
    decision: dict[str, Any] = {  # the time is taken under the lock
        "actor": resolve_actor(actor),
        "reason": reason,
        "override": override,
    }
    from caseload.store.allocation import allocate
    from caseload.store.log import decision_time

    try:
        # --auto ranks officers (through SQLAlchemy) inside the allocation's transaction.
        with open_executor(ctx, write=True, quick=not auto) as executor:
            decision["at"] = decision_time(executor)
            if auto:
                from caseload.cli.ranking import auto_pick
                from caseload.store.executor import connection_of

                chosen = auto_pick(connection_of(executor), reference)
                officer = chosen.officer.collar
            assert officer is not None
            outcome = allocate(executor, reference, officer, auto=auto, **decision)
    except PolicyRefused as exc:
        if not auto:
            exc.details.append(
                "To allocate anyway, add --override REASON (the reason is recorded)."
            )
        raise
    if chosen is not None:
        info(f"Chosen automatically (top suggestion): {'; '.join(chosen.reasons)}.")
    request = outcome.request
    if outcome.previous_collar:
        info(f"Transferred {request.reference} from {outcome.previous_collar} to {request.collar}.")
    else:
        info(f"Allocated {request.reference} to {request.collar}.")
    for message in outcome.warnings:
        warn(message + ".")
    if outcome.overridden:
        info(f"Override recorded: {override}")
    elif override:
        info("No block-mode rule refused this allocation; the override was not needed.")


def unassign(
    ctx: typer.Context,
    reference: RefArg,
    reason: ReasonOption = None,
    actor: ActorOption = None,
) -> None:
    """Take a live crime off its holder; it becomes unallocated (recorded)."""
    from caseload.errors import InputError
    from caseload.store.allocation import unassign as unassign_crime
    from caseload.store.log import decision_time

    if not reason:
        raise InputError("Give a reason with --reason; every change of holder records one.")
    with open_store(ctx).write() as conn:
        previous = unassign_crime(
            conn, reference, actor=resolve_actor(actor), at=decision_time(conn), reason=reason
        )
    info(f"Took {reference.strip()} off {previous}; it is now unallocated.")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("assign")(assign)
    app.command("unassign")(unassign)
