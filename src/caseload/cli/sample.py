"""``caseload sample``: draw live crimes of a team for a quality review (dip-sampling).

Thin: parse, ``store.sampling.draw_sample`` in one write transaction (the draw is
logged), render. The draw is ``domain.sampling.draw``: weighted toward high risk and
enhanced-service victims, and the same for the same seed.
"""

from __future__ import annotations

from typing import Annotated

import typer

from caseload.cli.common import MOST_ROWS, ActorOption, open_store, resolve_actor
from caseload.cli.output import FormatOption, Layout, OutputFormat, WideOption, info, render

SAMPLE_LAYOUT = Layout(drop=("reported_on", "victim_enhanced", "last_review"), wrap=("crime_type",))


def sample(
    ctx: typer.Context,
    team: Annotated[
        str, typer.Option("--team", "-t", metavar="TEAM", help="Draw from this team's live crimes.")
    ],
    size: Annotated[
        int,
        typer.Option("--size", metavar="N", min=1, max=MOST_ROWS, help="How many crimes."),
    ],
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            metavar="S",
            min=1,
            max=2**31 - 1,
            help="Draw the same sample again (the seed a draw printed); default: a new one.",
        ),
    ] = None,
    actor: ActorOption = None,
    fmt: FormatOption = OutputFormat.table,
    wide: WideOption = False,
) -> None:
    """Draw live crimes of a team for a supervisor's quality review (logged).

    Weighted toward the crimes that matter most: high risk counts 4, medium 2, standard 1,
    doubled for an enhanced-service victim. The same --seed over the same live crimes
    draws the same sample. Record each result with 'caseload review CRIME --quality
    pass|advice|fail --note TEXT'.
    """
    from caseload.domain.sampling import new_seed
    from caseload.store.log import decision_time
    from caseload.store.sampling import SAMPLE_COLUMNS, draw_sample

    chosen = seed if seed is not None else new_seed()
    with open_store(ctx).write() as conn:
        drawn, live, name = draw_sample(
            conn, team, size=size, seed=chosen, actor=resolve_actor(actor), at=decision_time(conn)
        )
    render(
        drawn,
        SAMPLE_COLUMNS,
        fmt,
        title=f"Quality sample of {name}: {len(drawn)} of {live} live crimes (seed {chosen})",
        layout=SAMPLE_LAYOUT,
        wide=wide,
    )
    fewer = f"; the team has only {live} live crimes" if len(drawn) < size else ""
    info(
        f"Drew {len(drawn)} crimes with seed {chosen}{fewer} (logged). 'caseload sample "
        f"--team {name!r} --size {size} --seed {chosen}' draws them again."
    )


def register(app: typer.Typer) -> None:
    """Add this module's command to the root app."""
    app.command("sample")(sample)
