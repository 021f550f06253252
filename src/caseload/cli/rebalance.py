"""``caseload rebalance``: plan the moves that put a team's caseloads right, and apply them.

Thin: load the team with one query each for officers and crimes
(``store.engine_queries``), plan in memory (``domain.planning``), render the plan
(``show_plan``). ``--apply`` plans again inside the write transaction and applies
through the one allocation path, so a stale plan is never applied.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from caseload.cli.common import (
    ActorOption,
    gc_paused,
    open_executor,
    open_store,
    parse_text_arg,
    resolve_actor,
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

if TYPE_CHECKING:
    from caseload.domain.planning import Plan

MOVE_COLUMNS = ("crime", "team", "required_level", "from", "to", "step", "why")
OFFICER_COLUMNS = (
    "collar",
    "name",
    "team",
    "accreditation",
    "status",
    "inexperienced",
    "ceiling",
    "live_before",
    "live_after",
    "weighted_before",
    "weighted_after",
)
REMAINING_COLUMNS = ("kind", "team", "collar", "crime", "required_level", "detail")

# On a narrow terminal (output.Layout): the why and the detail wrap; the team goes first.
MOVE_LAYOUT = Layout(drop=("team", "required_level"), wrap=("why",))
OFFICER_LAYOUT = Layout(
    drop=("team", "inexperienced", "status", "accreditation", "weighted_before", "weighted_after")
)
REMAINING_LAYOUT = Layout(drop=("team", "required_level"), wrap=("detail",))


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
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason",
            "-r",
            metavar="TEXT",
            parser=parse_text_arg,
            help="Why: recorded with every move.  [required with --apply]",
        ),
    ] = None,
    plan_id: Annotated[
        str | None,
        typer.Option(
            "--plan",
            metavar="ID",
            help="Apply only if the plan is still this one (the id the dry run printed).",
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
    when the first three steps require it. Without --apply nothing is written.
    """
    from caseload.errors import InputError, PolicyRefused
    from caseload.store.log import decision_time

    if not apply and (reason or plan_id):
        raise InputError("--reason and --plan go with --apply; without it nothing is written.")
    if apply and not reason:
        raise InputError("Give a reason with --reason; every move records one.")
    if not apply:
        from caseload.store.engine_queries import plan_for

        with gc_paused():
            # One team's plan needs only named statements; the whole store's, SQLAlchemy.
            with open_executor(ctx, quick=bool(team)) as executor:
                plan = plan_for(executor, team)
            show_plan(plan, fmt, changed=changed, applied=False, wide=wide)
        if plan.moves:
            info(
                f"Nothing was changed. To make these moves: caseload rebalance"
                f"{' --team ' + repr(team) if team else ''} --apply --plan {plan.plan_id} "
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
        with gc_paused():
            plan = plan_for(conn, team)  # planned again inside the write transaction
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


def show_plan(
    plan: Plan, fmt: OutputFormat, *, changed: bool, applied: bool, wide: bool = False
) -> None:
    import sys

    from caseload.domain.planning import STEP_NAMES

    names = {c.officer.team_id: c.officer.team for c in plan.officers}
    moves = [
        {
            "crime": m.reference,
            "team": names.get(m.team_id, str(m.team_id)),
            "required_level": m.required_level,
            "from": m.from_collar,
            "to": m.to_collar,
            "step": f"{m.step} {STEP_NAMES[m.step]}",
            "why": m.why,
        }
        for m in plan.moves
    ]
    officers = [
        {
            "collar": c.officer.collar,
            "name": c.officer.name,
            "team": c.officer.team,
            "accreditation": c.officer.accreditation,
            "status": c.officer.status,
            "inexperienced": c.officer.inexperienced,
            "ceiling": c.ceiling,
            "live_before": c.officer.live,
            "live_after": c.live_after,
            "weighted_before": c.officer.weighted_load,
            "weighted_after": c.weighted_after,
        }
        for c in plan.officers
        if not changed or c.live_after != c.officer.live
    ]
    remaining = [
        {
            "kind": r.kind,
            "team": names.get(r.team_id, str(r.team_id)),
            "collar": r.collar,
            "crime": r.reference,
            "required_level": r.required_level,
            "detail": r.detail,
        }
        for r in plan.remaining
    ]
    gaps = {names.get(t, str(t)): {"before": b, "after": a} for t, (b, a) in plan.gaps.items()}
    if fmt is OutputFormat.json:
        document = {
            "plan_id": plan.plan_id,
            "applied": applied,
            "moves": moves,
            "officers": officers,
            "remaining": remaining,
            "missing_capacity": plan.missing_by_level,
            "gaps": gaps,
        }
        write_document(document, sys.stdout)
        return
    if fmt is OutputFormat.csv:
        render(moves, MOVE_COLUMNS, fmt, wide=wide)
    else:
        verb = "Applied" if applied else "Plan"
        render(
            moves,
            MOVE_COLUMNS,
            fmt,
            title=f"{verb} {plan.plan_id}: moves",
            layout=MOVE_LAYOUT,
            wide=wide,
        )
        sys.stdout.write("\n")
        render(
            officers,
            OFFICER_COLUMNS,
            fmt,
            title="Officers before and after",
            layout=OFFICER_LAYOUT,
            wide=wide,
        )
        if remaining:
            sys.stdout.write("\n")
            render(
                remaining,
                REMAINING_COLUMNS,
                fmt,
                title="What remains",
                layout=REMAINING_LAYOUT,
                wide=wide,
            )
    by_step: dict[int, int] = {}
    for m in plan.moves:
        by_step[m.step] = by_step.get(m.step, 0) + 1
    moved_gaps = {t: g for t, g in gaps.items() if g["before"] != g["after"]}
    counts = ", ".join(f"{n:,} {STEP_NAMES[s]}" for s, n in sorted(by_step.items()))
    info(
        f"Plan {plan.plan_id}: {len(plan.moves):,} {'move' if len(plan.moves) == 1 else 'moves'}"
        + (f" ({counts})" if counts else "")
        + (
            "; weighted-load gap "
            + ", ".join(f"{t} {g['before']} -> {g['after']}" for t, g in moved_gaps.items())
            if moved_gaps
            else ""
        )
        + "."
    )
    if plan.missing_by_level:
        warn(
            "Not enough qualified capacity: "
            + ", ".join(
                f"{n} live {'crime' if n == 1 else 'crimes'} needing {lvl} or above"
                for lvl, n in plan.missing_by_level.items()
            )
            + " have no officer with room."
        )
    for r in plan.remaining:
        if r.kind == "reassign-churn":
            warn(f"{r.reference}: {r.detail}.")


def write_document(document: dict[str, Any], out: Any) -> None:
    """JSON with one list item per line, encoded item by item (fast for 10,000s of moves)."""
    import json

    out.write("{")
    for index, (key, value) in enumerate(document.items()):
        out.write(",\n" if index else "\n")
        out.write(f"  {json.dumps(key)}: ")
        if isinstance(value, list) and value:
            out.write("[\n    " + ",\n    ".join(json.dumps(item) for item in value) + "\n  ]")
        else:
            out.write(json.dumps(value))
    out.write("\n}\n")


def register(app: typer.Typer) -> None:
    """Add this module's command to the root app."""
    app.command("rebalance")(rebalance)
