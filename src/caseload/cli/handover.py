"""``caseload handover OFFICER``: move every live crime an officer holds, as a plan.

Thin: the plan comes from ``store.handover`` (a rebalance plan in handover mode:
``domain.planning.plan_rebalance`` with the officer leaving), shown by
``cli.plans.show_plan``; ``--apply`` plans again inside the write transaction, checks
the plan id and applies through the path a rebalance is applied by.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import typer

from caseload.cli.common import (
    ActorOption,
    open_store,
    parse_collar_arg,
    parse_date_arg,
    resolve_actor,
)
from caseload.cli.output import FormatOption, OutputFormat, WideOption, info
from caseload.cli.plans import PlanIdOption, PlanReasonOption, show_plan


def handover(
    ctx: typer.Context,
    officer: Annotated[
        str,
        typer.Argument(
            metavar="OFFICER", parser=parse_collar_arg, help="The officer's collar number."
        ),
    ],
    from_: Annotated[
        date | None,
        typer.Option(
            "--from",
            metavar="DATE",
            parser=parse_date_arg,
            help="The day the moves take effect (default: today). A later day can be "
            "planned, but applied only on or after it; an earlier day starts the new "
            "holdings then.",
        ),
    ] = None,
    apply: Annotated[
        bool,
        typer.Option("--apply", help="Make the moves in one transaction (needs --reason)."),
    ] = False,
    reason: PlanReasonOption = None,
    plan_id: PlanIdOption = None,
    actor: ActorOption = None,
    fmt: FormatOption = OutputFormat.table,
    wide: WideOption = False,
) -> None:
    """Plan moving every live crime an officer holds to others; with --apply, make it.

    Planned as rebalance plans: each crime goes to an active officer of its own team
    accredited for it with room under their team's limits, to the holder of a linked
    crime first (linked crimes stay together), else the least loaded; an
    enhanced-service victim's crimes are placed first. Only the officer's crimes
    move. A crime nobody can take, or reassigned more than reassign_churn times,
    stays and is listed under what remains. Without --apply nothing is written.
    """
    from caseload.errors import InputError, PolicyRefused
    from caseload.store.handover import apply_handover, handover_plan
    from caseload.store.log import decision_time

    today = date.today()
    day = from_ or today
    if not apply and (reason or plan_id):
        raise InputError("--reason and --plan go with --apply; without it nothing is written.")
    if apply and not reason:
        raise InputError("Give a reason with --reason; every move records one.")
    if apply and day > today:
        raise InputError(
            f"--from {day} is after today: a handover takes effect when it is applied; "
            f"plan it now and apply it on or after {day}. Nothing was changed."
        )
    if not apply:
        with open_store(ctx).read() as conn:
            holder, plan = handover_plan(conn, officer, on=day)
        _show(plan, holder["collar"], fmt, applied=False, wide=wide)
        if plan.moves:
            info(
                f"Nothing was changed. To make these moves: caseload handover {holder['collar']}"
                f"{f' --from {day}' if from_ else ''} --apply --plan {plan.plan_id} "
                "--reason TEXT"
            )
        return
    assert reason is not None
    from caseload import interrupts

    interrupts.note(
        unsaved="no move was saved (the transaction was rolled back)", saved="nothing was changed"
    )
    start_at = datetime.combine(day, datetime.min.time()) if day < today else None
    with open_store(ctx).write() as conn:
        holder, plan = handover_plan(conn, officer, on=day)  # again, inside the write
        if plan_id and plan_id.strip() != plan.plan_id:
            raise PolicyRefused(
                f"The store has changed since plan {plan_id.strip()} was shown; "
                "nothing was applied.",
                [
                    f"The plan is now {plan.plan_id}: review it with "
                    f"'caseload handover {holder['collar']}' first."
                ],
            )
        moved = apply_handover(
            conn,
            plan,
            start_at=start_at,
            actor=resolve_actor(actor),
            at=decision_time(conn),
            reason=reason,
        )
        interrupts.note(
            unsaved="no move was saved (the transaction was rolled back)",
            saved=f"handover {plan.plan_id} was applied: all {moved} "
            f"{'move was' if moved == 1 else 'moves were'} saved before the interrupt",
        )
    _show(plan, holder["collar"], fmt, applied=True, wide=wide)
    info(
        f"Applied handover {plan.plan_id}: {moved:,} {'move' if moved == 1 else 'moves'} recorded."
        if moved
        else "Nothing to move; nothing was changed."
    )


def _show(plan: object, collar: str, fmt: OutputFormat, *, applied: bool, wide: bool) -> None:
    from caseload.domain.planning import Plan

    assert isinstance(plan, Plan)
    if not plan.moves and not plan.remaining:
        info(f"{collar} holds no live crimes; there is nothing to hand over.")
    show_plan(plan, fmt, changed=True, applied=applied, wide=wide)


def register(app: typer.Typer) -> None:
    """Add this module's command to the root app."""
    app.command("handover")(handover)
