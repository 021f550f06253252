"""``caseload suggest``: rank the officers who could take a crime.

Thin: find the crime, rank its team's officers (``cli.ranking``, the same ranking
``assign --auto`` takes the top of) inside one read transaction, render.
"""

from __future__ import annotations

from typing import Annotated

import typer

from caseload.cli.common import MOST_ROWS, open_store
from caseload.cli.output import FormatOption, Layout, OutputFormat, WideOption, info, render
from caseload.cli.ranking import rank_for

SUGGEST_COLUMNS = (
    "rank",
    "collar",
    "name",
    "team",
    "accreditation",
    "linked",
    "live",
    "weighted_load",
    "load_share",
    "experience_months",
    "reasons",
)
# On a narrow terminal (output.Layout): the reasons wrap, and what they already say goes first.
SUGGEST_DROP = ("load_share", "experience_months", "accreditation", "weighted_load")


def suggest(
    ctx: typer.Context,
    reference: Annotated[str, typer.Argument(metavar="CRIME", help="The crime reference.")],
    top: Annotated[
        int,
        typer.Option(
            "--top",
            "-n",
            metavar="N",
            min=1,
            max=MOST_ROWS,
            help="Show at most this many officers.",
        ),
    ] = 5,
    any_team: Annotated[
        bool,
        typer.Option("--any-team", help="Consider officers of every team, not only the crime's."),
    ] = False,
    fmt: FormatOption = OutputFormat.table,
    wide: WideOption = False,
) -> None:
    """Rank the officers who could take a crime, with the reasons for each place.

    Eligible: active, accredited at or above the crime's required level, in the
    crime's team (or --any-team), and not at the inexperienced limit or their
    personal capacity. Order: holds a linked crime, then lowest weighted load
    relative to capacity, then most experience, then collar. Exit 3 when nobody is
    eligible, saying why for each group of officers.
    """
    from caseload.store.crimes import find

    with open_store(ctx).read() as conn:
        crime = find(conn, reference)
        ranking = rank_for(conn, crime, any_team=any_team)
    if crime["holder"]:
        info(
            f"{crime['reference']} is held by {crime['holder']}; these officers could take it over."
        )
    rows = [
        {
            "rank": c.rank,
            "collar": c.officer.collar,
            "name": c.officer.name,
            "team": c.officer.team,
            "accreditation": c.officer.accreditation,
            "linked": ", ".join(c.linked),
            "live": c.officer.live,
            "weighted_load": c.officer.weighted_load,
            "load_share": f"{float(c.share):.0%}",
            "experience_months": c.officer.experience_months,
            "reasons": "; ".join(c.reasons),
        }
        for c in ranking.candidates[:top]
    ]
    render(
        rows,
        SUGGEST_COLUMNS,
        fmt,
        title=f"Who could take {crime['reference']} ({crime['crime_type']}, {crime['risk']} "
        f"risk, needs {crime['required_level']}, {crime['team']})",
        # Without --any-team every officer is of the crime's team, named in the title.
        layout=Layout(
            drop=SUGGEST_DROP if any_team else ("team", *SUGGEST_DROP),
            wrap=("reasons",),
            last=("team",),
        ),
        wide=wide,
    )


def register(app: typer.Typer) -> None:
    """Add this module's command to the root app."""
    app.command("suggest")(suggest)
