"""The one builder of test forces: teams, officers, crimes, allocations at chosen times,
finalisations, reviews, key events, victim updates and policy.

Everything goes through the store's own write functions (the same ones the
commands use), each with an explicit time, so a test can lay down several weeks
of history and then ask the CLI about a day in the middle. Two ways in, one writer
underneath: ``Force`` (one transaction a call, on a store it opens) and the
functions on an open write connection (``add_officer``, ``add_crimes``, with
``tests.helpers.store.writing``) or a store URL (``allocate_refs``, ``set_policy``).
``add_teams`` goes through the CLI, as a user does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from caseload.store.connection import Store, to_url
from caseload.store.migrate import open_store
from tests.helpers.cli import Runner
from tests.helpers.store import writing

ACTOR = "builder"
TEAM = "Lewisham CID"


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour))


def ensure_team(conn: Any, name: str) -> None:
    """Teams are created before they are named (as ``caseload team add`` does)."""
    from caseload.store.reference import ensure_teams, team_ids

    ensure_teams(conn, [name], team_ids(conn))


def add_teams(run: Runner, *names: str) -> None:
    """Create teams first, as a user does with ``caseload team add`` (commands that name a
    team refuse one that does not exist)."""
    for name in names:
        result = run("team", "add", name)
        assert result.exit_code == 0, result.output


def add_officer(
    conn: Any,
    collar: str,
    *,
    name: str = "Sam Jones",
    rank: str = "TDC",
    accreditation: str = "PIP2",
    since: date = date(2010, 1, 1),
    team: str = TEAM,
    trainee: bool = False,
    capacity: int | None = None,
    status: str = "active",
    actor: str = "setup",
    at: datetime = datetime(2020, 1, 1),
) -> None:
    """One officer, and the team if it is new, in the open write transaction ``conn``."""
    from caseload.store.officers import add

    values = {
        "collar": collar,
        "name": name,
        "team": team,
        "rank": rank,
        "accreditation": accreditation,
        "investigator_since": since,
        "status": status,
        "capacity": capacity,
        "trainee": trainee,
    }
    ensure_team(conn, team)
    add(conn, values, actor=actor, at=at)


def add_crime(
    conn: Any,
    reference: str,
    *,
    team: str,
    reported_on: date,
    level: str | None,
    actor: str,
    at: datetime,
    crime_type: str = "Burglary",
    enhanced: bool = False,
) -> None:
    """One live crime, and its team if it is new, in the open write transaction ``conn``."""
    from caseload.store.crimes import add

    ensure_team(conn, team)
    add(
        conn,
        {
            "reference": reference,
            "crime_type": crime_type,
            "team": team,
            "reported_on": reported_on,
            "required_level": level,
            "victim_enhanced": enhanced,
        },
        actor=actor,
        at=at,
    )


def add_crimes(
    conn: Any,
    count: int,
    *,
    prefix: str = "CR/",
    level: str = "PIP1",
    team: str = TEAM,
    reported_on: date = date(2026, 1, 5),
    start: int = 1,
) -> list[str]:
    """``count`` crimes ``PREFIX<start>``, ``PREFIX<start+1>``, ...; returns their references."""
    refs = [f"{prefix}{number}" for number in range(start, start + count)]
    for ref in refs:
        add_crime(
            conn,
            ref,
            team=team,
            reported_on=reported_on,
            level=level,
            actor="setup",
            at=datetime(2026, 1, 5),
        )
    return refs


def requests_for(conn: Any, refs: Sequence[str], collar: str, *, first_line: int | None = None):  # type: ignore[no-untyped-def]
    """AllocationRequests for these crimes to one officer (ids looked up in bulk)."""
    from sqlalchemy import select

    from caseload.store.allocation import AllocationRequest
    from caseload.store.models import crime_table, officer_table

    crime, officer = crime_table, officer_table
    ids = dict(
        conn.execute(select(crime.c.reference, crime.c.id).where(crime.c.reference.in_(refs))).all()
    )
    officer_id = conn.execute(select(officer.c.id).where(officer.c.collar == collar)).scalar_one()
    return [
        AllocationRequest(
            crime_id=ids[ref],
            reference=ref,
            officer_id=officer_id,
            collar=collar,
            line=None if first_line is None else first_line + index,
        )
        for index, ref in enumerate(refs)
    ]


def allocate_refs(
    db_url: str, refs: Sequence[str], collar: str, *, at: datetime | None = None, **options: Any
) -> list[Any]:
    from caseload.store.allocation import allocate_many

    with writing(db_url) as conn:
        return allocate_many(
            conn,
            requests_for(conn, refs, collar),
            actor="setup",
            at=at or datetime.now(),
            reason=options.pop("reason", "setup"),
            **options,
        )


def pip1_holder_and_pip2_spare(db_url: str) -> None:
    """AB1 (DC Ann Bell, PIP1) holds CR/1 and CR/2 (Burglary, PIP1); CD2 (DC Cal Dunn,
    PIP2) holds nothing; CR/3 is unallocated."""
    with writing(db_url) as conn:
        add_officer(conn, "AB1", name="Ann Bell", rank="DC", accreditation="PIP1")
        add_officer(conn, "CD2", name="Cal Dunn", rank="DC", accreditation="PIP2")
        add_crimes(conn, 3)
    allocate_refs(db_url, ["CR/1", "CR/2"], "AB1")


def set_policy(db_url: str, name: str, value: str) -> None:
    from caseload.store.reference import set_policy as store_set_policy

    with writing(db_url) as conn:
        store_set_policy(conn, name, value, actor="setup", at=datetime.now())


class Force:
    """Write helpers over one initialised store (``store`` fixture first)."""

    def __init__(self, db_url: str) -> None:
        self.store: Store = open_store(to_url(db_url))

    def close(self) -> None:
        self.store.dispose()

    def officer(
        self,
        collar: str,
        *,
        name: str = "Sam Patel",
        team: str = "Lewisham CID",
        rank: str = "DC",
        accreditation: str = "PIP2",
        since: date = date(2015, 1, 1),
        status: str = "active",
        capacity: int | None = None,
        trainee: bool = False,
        when: datetime | None = None,
    ) -> None:
        with self.store.write() as conn:
            add_officer(
                conn,
                collar,
                name=name,
                team=team,
                rank=rank,
                accreditation=accreditation,
                since=since,
                status=status,
                capacity=capacity,
                trainee=trainee,
                actor=ACTOR,
                at=when or datetime(2020, 1, 1, 9),
            )

    def crimes(
        self,
        references: list[str],
        *,
        reported: date,
        team: str = "Lewisham CID",
        crime_type: str = "Burglary",
        level: str | None = "PIP1",
        enhanced: bool = False,
    ) -> None:
        with self.store.write() as conn:
            for ref in references:
                add_crime(
                    conn,
                    ref,
                    team=team,
                    reported_on=reported,
                    crime_type=crime_type,
                    level=level,
                    enhanced=enhanced,
                    actor=ACTOR,
                    at=at(reported, 8),
                )

    def crime(self, reference: str, **kwargs: Any) -> None:
        self.crimes([reference], **kwargs)

    def assign(self, references: list[str] | str, collar: str, when: datetime) -> None:
        from caseload.store.allocation import allocate

        refs = [references] if isinstance(references, str) else references
        with self.store.write() as conn:
            for ref in refs:
                allocate(conn, ref, collar, actor=ACTOR, at=when, reason="test", override="test")

    def unassign(self, reference: str, when: datetime) -> None:
        from caseload.store.allocation import unassign

        with self.store.write() as conn:
            unassign(conn, reference, actor=ACTOR, at=when, reason="test")

    def finalise(self, reference: str, on: date, outcome: int = 18) -> None:
        from caseload.domain.inputs import CrimeFinalise
        from caseload.store.crimes import finalise

        data = CrimeFinalise(outcome=outcome, finalised_on=on)
        with self.store.write() as conn:
            finalise(conn, reference, data, actor=ACTOR, at=at(on, 17))

    def reopen(self, reference: str, on: date) -> None:
        from caseload.domain.inputs import CrimeReopen
        from caseload.store.crimes import reopen

        data = CrimeReopen(reopened_on=on, reason="test")
        with self.store.write() as conn:
            reopen(conn, reference, data, actor=ACTOR, at=at(on, 10))

    def review(self, reference: str, on: date, next_due: date | None = None) -> None:
        from caseload.store.supervision import record_review

        with self.store.write() as conn:
            record_review(
                conn, reference, note="reviewed", on=on, next_due=next_due, actor=ACTOR, at=at(on)
            )

    def event(self, reference: str, kind: str, on: date) -> None:
        from caseload.store.supervision import record_event

        with self.store.write() as conn:
            record_event(conn, reference, kind=kind, on=on, actor=ACTOR, at=at(on))

    def update(self, reference: str, on: date) -> None:
        from caseload.store.supervision import record_victim_update

        with self.store.write() as conn:
            record_victim_update(conn, reference, note="told", on=on, actor=ACTOR, at=at(on))

    def every(self, reference: str, days: int | None) -> None:
        from caseload.store.supervision import set_update_frequency

        with self.store.write() as conn:
            set_update_frequency(conn, reference, every=days, actor=ACTOR, at=datetime.now())

    def policy(self, name: str, value: str) -> None:
        from caseload.store.reference import set_policy

        with self.store.write() as conn:
            set_policy(conn, name, value, actor=ACTOR, at=datetime.now())


def refs(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:03d}" for i in range(1, n + 1)]


def days_ago(n: int) -> date:
    return date.today() - timedelta(days=n)
