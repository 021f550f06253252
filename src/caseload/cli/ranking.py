"""Who could take a crime: the ranking ``suggest`` shows and ``assign --auto`` takes.

Loads the crime's team (``store.engine_queries``) and ranks it in memory
(``domain.planning.rank_candidates``); nobody eligible is PolicyRefused (exit 3),
saying why for each group of officers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from caseload.domain.planning import Candidate, Ranking


def rank_for(conn: Any, crime: dict[str, Any], *, any_team: bool) -> Ranking:
    """The ranking for a crime found by ``store.crimes.find``; PolicyRefused if nobody."""
    from caseload.domain.planning import LiveCrime, rank_candidates
    from caseload.errors import InputError, PolicyRefused
    from caseload.store.engine_queries import linked_holders, load_officers
    from caseload.store.team_policy import load_policies

    if crime["finalised_on"] is not None:
        raise InputError(
            f"Crime {crime['reference']} was finalised on {crime['finalised_on']}; "
            "only a live crime can be allocated."
        )
    policy = load_policies(conn)  # each officer is ranked by their team's limits
    officers = load_officers(conn, policy, teams=None if any_team else [int(crime["team_id"])])
    target = LiveCrime(
        id=int(crime["id"]),
        reference=str(crime["reference"]),
        team_id=int(crime["team_id"]),
        required_level=str(crime["required_level"]),
        victim_enhanced=bool(crime["victim_enhanced"]),
        holder_id=crime["holder_id"],
    )
    if not any_team:
        officers = [o for o in officers if o.team_id == target.team_id]
    ranking = rank_candidates(
        target, officers, policy, linked=linked_holders(conn, target.id), any_team=any_team
    )
    if not ranking.candidates:
        where = "in any team" if any_team else f"in {crime['team']}"
        if not officers:
            raise PolicyRefused(
                f"Nobody can take {target.reference}: there are no officers {where}.",
                ["Add officers with 'caseload officer add', or try --any-team."],
            )
        raise PolicyRefused(
            f"Nobody {where} can take {target.reference} (needs {target.required_level}); "
            "no unqualified or overloaded officer is suggested instead.",
            [*ranking.refusals, *([] if any_team else ["Try --any-team to look further."])],
        )
    return ranking


def auto_pick(conn: Any, reference: str) -> Candidate:
    """``assign --auto``: the top suggestion for a crime; PolicyRefused if nobody."""
    from caseload.store.crimes import find

    return rank_for(conn, find(conn, reference), any_team=False).candidates[0]
