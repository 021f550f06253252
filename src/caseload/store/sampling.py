"""Dip-sampling: the live crimes of a team a quality sample is drawn from, and the draw's
log entry (``domain.sampling`` draws)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from caseload.store import log
from caseload.store.models import crime_table, officer_table, review_table

SAMPLE_COLUMNS = (
    "reference",
    "crime_type",
    "risk",
    "victim_enhanced",
    "holder",
    "reported_on",
    "last_review",
)


def candidates(conn: Connection, team_id: int) -> list[dict[str, Any]]:
    """The team's live crimes with what the sample shows: one query."""
    c, o, r = crime_table, officer_table, review_table
    last_review = select(func.max(r.c.reviewed_on)).where(r.c.crime_id == c.c.id)
    query = (
        select(
            c.c.reference,
            c.c.crime_type,
            c.c.risk,
            c.c.victim_enhanced,
            o.c.collar.label("holder"),
            c.c.reported_on,
            last_review.scalar_subquery().label("last_review"),
        )
        .outerjoin(o, o.c.id == c.c.holder_id)
        .where(c.c.team_id == team_id, c.c.finalised_on.is_(None))
    )
    return [dict(row._mapping) for row in conn.execute(query)]


def draw_sample(
    conn: Connection, team: str, *, size: int, seed: int, actor: str, at: datetime
) -> tuple[list[dict[str, Any]], int, str]:
    """Draw and log a quality sample of a team's live crimes; returns the crimes drawn,
    how many live crimes it was drawn from, and the team's name as stored."""
    from caseload.domain.sampling import draw
    from caseload.store.reference import resolve_team

    team_id, name = resolve_team(conn, team)
    live = candidates(conn, team_id)
    drawn = draw(live, size, seed)
    log.append(
        conn,
        at=at,
        actor=actor,
        kind="sample",
        detail={
            "team": name,
            "size": size,
            "seed": seed,
            "from": len(live),
            "crimes": [str(c["reference"]) for c in drawn],
        },
    )
    return drawn, len(live), name
