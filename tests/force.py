"""A small builder for test stores with a history: officers, crimes, allocations at
chosen times, finalisations, reviews, key events and victim updates.

Everything goes through the store's own write functions (the same ones the
commands use), each with an explicit time, so a test can lay down several weeks
of history and then ask the CLI about a day in the middle.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from caseload.store.connection import Store, to_url
from caseload.store.migrate import open_store

ACTOR = "builder"


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour))


def ensure_team(conn: Any, name: str) -> None:
    """Teams are created before they are named (as ``caseload team add`` does)."""
    from caseload.store.reference import ensure_teams, team_ids

    ensure_teams(conn, [name], team_ids(conn))


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
        from caseload.store.officers import add

        with self.store.write() as conn:
            ensure_team(conn, team)
            add(
                conn,
                {
                    "collar": collar,
                    "name": name,
                    "team": team,
                    "rank": rank,
                    "accreditation": accreditation,
                    "investigator_since": since,
                    "status": status,
                    "capacity": capacity,
                    "trainee": trainee,
                },
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
        from caseload.store.crimes import add

        with self.store.write() as conn:
            ensure_team(conn, team)
            for ref in references:
                add(
                    conn,
                    {
                        "reference": ref,
                        "crime_type": crime_type,
                        "team": team,
                        "reported_on": reported,
                        "required_level": level,
                        "victim_enhanced": enhanced,
                    },
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
        from caseload.store.crimes import finalise

        with self.store.write() as conn:
            finalise(conn, reference, outcome=outcome, on=on, actor=ACTOR, at=at(on, 17))

    def reopen(self, reference: str, on: date) -> None:
        from caseload.store.crimes import reopen

        with self.store.write() as conn:
            reopen(conn, reference, on=on, actor=ACTOR, at=at(on, 10), reason="test")

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
