"""One crime's or one officer's whole record, as ``crime show`` and ``officer show`` read it.

Both are written once against ``store.executor.Executor`` and read only named statements
(``store.statements``): on the quick sqlite3 executor a show command never imports
SQLAlchemy; through SQLAlchemy (PostgreSQL, an older store) the same statements run.
``Executor.records`` gives every value as SQLAlchemy's types do (dates, timestamps,
bools) on either executor, so what the commands render is the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from caseload.errors import NotFound
from caseload.store.absences import officer_absences
from caseload.store.executor import Executor, SqliteExecutor, connection_of
from caseload.store.team_policy import policies_of

if TYPE_CHECKING:
    from caseload.domain.absences import Absence
    from caseload.domain.policy import Policy

# The import columns, in the order `crime list --format csv` writes them.
CRIME_COLUMNS = (
    "reference",
    "crime_type",
    "reported_on",
    "team",
    "required_level",
    "holder",
    "victim_enhanced",
    "victim_category",
    "finalised_on",
    "outcome",
    "risk",
)

# The import columns, in the order `officer list --format csv` writes them.
OFFICER_COLUMNS = (
    "collar",
    "name",
    "team",
    "rank",
    "accreditation",
    "investigator_since",
    "status",
    "capacity",
    "trainee",
    "supervisor",
)

# A crime's story, in the order ``crime show`` lists it: each section is the named
# statement ``crime.SECTION`` (``store.crimes.story_query``).
STORY = (
    "allocations",
    "risk_grades",
    "reviews",
    "events",
    "victim_updates",
    "victim_referrals",
)


@dataclass(frozen=True)
class CrimeRecord:
    """A crime (``store.crimes.record_query``'s columns), its story by section, the
    policy of its team and the reason given with its latest victim entitlement."""

    crime: dict[str, Any]
    story: dict[str, list[dict[str, Any]]]
    policy: Policy
    entitlement_reason: str | None


def crime_record(executor: Executor, reference: str) -> CrimeRecord:
    """The crime ``reference`` with its story; NotFound if there is no such crime."""
    ref = reference.strip()
    found = executor.records("crime.record", reference=ref)
    if not found:
        raise NotFound.crime(ref)
    crime = found[0]
    story = {section: executor.records(f"crime.{section}", crime=crime["id"]) for section in STORY}
    reason = executor.first("crime.entitlement", reference=crime["reference"])
    return CrimeRecord(
        crime=crime,
        story=story,
        policy=policies_of(executor).of(int(crime["team_id"])),
        entitlement_reason=None if reason is None else str(reason[0]),
    )


@dataclass(frozen=True)
class OfficerRecord:
    """An officer (``store.officers.record_query``'s columns: the record, id, team id and
    live crimes), the policy of their team and their absences not cancelled."""

    officer: dict[str, Any]
    policy: Policy
    absences: list[Absence]


def officer_record(executor: Executor, collar: str) -> OfficerRecord:
    """The officer ``collar``; NotFound if there is no such officer."""
    wanted = collar.strip().upper()
    found = executor.records("officer.record", collar=wanted)
    if not found:
        raise NotFound.officer(wanted)
    officer = found[0]
    return OfficerRecord(
        officer=officer,
        policy=policies_of(executor).of(int(officer["team_id"])),
        absences=officer_absences(executor, int(officer["id"])),
    )


def crimes_file(executor: Executor, *, count: bool = False) -> tuple[Any, int | None]:
    """Every crime in the import columns (CRIME_COLUMNS), in record order, for
    ``cli.csv_writer.write_rows`` (``export crimes``), and with ``count`` how many. On the
    quick executor the named statements' joined lines (``export.crimes.lines``, a batch's
    cells from ``export.crimes.cells``); through SQLAlchemy the export's own choice
    (``store.export.export_rows``)."""
    total = None
    if count:
        found = executor.first("export.crimes.count")
        total = int(found[0]) if found else 0
    if isinstance(executor, SqliteExecutor):
        return executor.joined_lines("export.crimes.lines", "export.crimes.cells"), total
    from caseload.store.export import crimes_query, export_rows

    conn = connection_of(executor)
    return export_rows(conn, crimes_query(), CRIME_COLUMNS, lines=True), total
