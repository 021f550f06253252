"""Support: a plan of moves shown as tables, CSV or JSON (rebalance, handover).

``show_plan`` renders a ``domain.planning.Plan``: the moves, the officers before and
after, and what remains, then one summary line on stderr.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from caseload.cli.common import parse_text_arg
from caseload.cli.output import Layout, OutputFormat, info, render, warn

if TYPE_CHECKING:
    from caseload.domain.planning import Plan

# The options a plan is applied with (rebalance, handover).
PlanReasonOption = Annotated[
    str | None,
    typer.Option(
        "--reason",
        "-r",
        metavar="TEXT",
        parser=parse_text_arg,
        help="Why: recorded with every move.  [required with --apply]",
    ),
]
PlanIdOption = Annotated[
    str | None,
    typer.Option(
        "--plan",
        metavar="ID",
        help="Apply only if the plan is still this one (the id the dry run printed).",
    ),
]

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
