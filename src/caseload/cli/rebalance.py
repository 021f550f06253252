"""``caseload rebalance``: plan the moves that put a team's caseloads right, and apply them.

Thin: load the team with one query each for officers and crimes
(``store.engine_queries``), plan in memory (``domain.planning``), render the plan
(``cli.plans.show_plan``); ``--only`` runs chosen steps of the plan. ``--apply`` plans
again inside the write transaction and applies through the one allocation path, so a
stale plan is never applied.
"""

from __future__ import annotations

from typing import Annotated

import typer

from caseload.cli.common import (
    ActorOption,
    open_executor,
    open_store,
    resolve_actor,
)
from caseload.cli.output import FormatOption, OutputFormat, WideOption, info
from caseload.cli.plans import PlanIdOption, PlanReasonOption, show_plan


def rebalance(
    ctx: typer.Context,
    team: Annotated[
        str | None,
        typer.Option("--team", "-t", metavar="TEAM", help="Plan this team (default: every team)."),
    ] = None,
    apply: Annotated[
        bool,
        typer.Option("--apply", help="Execute the plan in one transaction (needs --reason)."),
    ] = False,
    reason: PlanReasonOption = None,
    plan_id: PlanIdOption = None,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            metavar="STEP",
            help="Run only these steps: re-home (or rehome), limit, accreditation, even; "
            "repeat the option or separate with commas (default: every step).",
        ),
    ] = None,
    changed: Annotated[
        bool,
        typer.Option("--changed", help="List only officers whose caseload the plan changes."),
    ] = False,
    actor: ActorOption = None,
    fmt: FormatOption = OutputFormat.table,
    wide: WideOption = False,
) -> None:
    """Plan moves that put a team's caseloads right; with --apply, make them.

    In order: re-home crimes of officers who are not active; bring inexperienced
    officers to the limit and everyone to capacity; fix accreditation mismatches;
    then even out weighted load where the gap is over rebalance_threshold. Never to
    an ineligible officer or past a limit; never a crime reassigned more than
    reassign_churn times; an enhanced-service victim's crime, or a high-risk one, only
    when the first three steps require it. Without --apply nothing is written. --only
    runs the steps named (re-home, limit, accreditation, even) and no others.
    """
    from caseload.domain.planning import ALL_STEPS, STEP_NAMES, step_numbers
    from caseload.errors import InputError, PolicyRefused
    from caseload.store.log import decision_time

    steps = ALL_STEPS
    if only:
        try:
            steps = step_numbers(name for item in only for name in item.split(",") if name)
        except ValueError as exc:
            raise InputError(f"--only: {exc}.") from None
    again = "".join(f" --only {STEP_NAMES[step]}" for step in sorted(steps) if steps != ALL_STEPS)

    if not apply and (reason or plan_id):
        raise InputError("--reason and --plan go with --apply; without it nothing is written.")
    if apply and not reason:
        raise InputError("Give a reason with --reason; every move records one.")
    if not apply:
        from caseload.store.engine_queries import plan_for

        # One team's plan needs only named statements; the whole store's, SQLAlchemy.
        with open_executor(ctx, quick=bool(team)) as executor:
            plan = plan_for(executor, team, steps=steps)
        show_plan(plan, fmt, changed=changed, applied=False, wide=wide)
        if plan.moves:
            info(
                f"Nothing was changed. To make these moves: caseload rebalance"
                f"{' --team ' + repr(team) if team else ''}{again} --apply --plan {plan.plan_id} "
                "--reason TEXT"
            )
        return
    assert reason is not None
    from caseload import interrupts
    from caseload.store.engine_queries import apply_plan, plan_for

    interrupts.note(
        unsaved="no move was saved (the transaction was rolled back)", saved="nothing was changed"
    )
    with open_store(ctx).write() as conn:
        plan = plan_for(conn, team, steps=steps)  # planned again inside the write transaction
        if plan_id and plan_id.strip() != plan.plan_id:
            raise PolicyRefused(
                f"The store has changed since plan {plan_id.strip()} was shown; "
                "nothing was applied.",
                [f"The plan is now {plan.plan_id}: review it with 'caseload rebalance' first."],
            )
        moved = apply_plan(
            conn, plan, actor=resolve_actor(actor), at=decision_time(conn), reason=reason
        )
        interrupts.note(
            unsaved="no move was saved (the transaction was rolled back)",
            saved=f"plan {plan.plan_id} was applied: all {moved} "
            f"{'move was' if moved == 1 else 'moves were'} saved before the interrupt",
        )
        interrupts.checkpoint("rebalance-applying")
    interrupts.checkpoint("rebalance-committed")
    show_plan(plan, fmt, changed=changed, applied=True, wide=wide)
    info(
        f"Applied plan {plan.plan_id}: {moved:,} {'move' if moved == 1 else 'moves'} recorded."
        if moved
        else "Nothing to move; nothing was changed."
    )


def register(app: typer.Typer) -> None:
    """Add this module's command to the root app."""
    app.command("rebalance")(rebalance)
