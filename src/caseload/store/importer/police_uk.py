"""Police.uk files (``import police-uk``): police.uk street-level files through the crime import.

``PoliceUkWriter`` is a ``CrimeWriter``: each batch of street-level rows becomes
crime-import rows (``domain.police_uk.as_crime``) and is written by the same
``write_batch`` as ``caseload import crimes``, so the matrix, the log entries, the
finalisation records and the speed are the crimes import's. What it adds:

* rows without a Crime ID (anti-social behaviour) are passed over and counted;
* a Crime ID repeated with other cells (police.uk files hold a few, e.g. a changed
  location or crime type) keeps its first row, counted, rather than refusing the
  file (``keep_first``); exact repeats are imported once, as for every kind;
* a crime's holder and victim-enhanced flag are not in the files: the store's are
  kept, so re-importing a file never unassigns or changes them.

Teams named by the rows are created as ``import crimes`` creates them
(``store.reference.ensure_teams`` inside ``CrimeWriter.write_batch``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from caseload.domain.csvschema import SPECS
from caseload.domain.police_uk import POLICE_UK, TEAM_BY, as_crime
from caseload.store.importer.crimes import CrimeWriter
from caseload.store.importer.framework import Counts, Problems, Row
from caseload.store.importer.source import Source
from caseload.store.models import crime_table, officer_table
from caseload.store.sqlfunc import one_of

NO_CRIME_ID = "rows without a Crime ID (anti-social behaviour)"


class PoliceUkWriter(CrimeWriter):
    spec = POLICE_UK
    keep_first = True

    def _team(self) -> tuple[str | None, str]:
        opts = self.options.kind_options
        team_by = str(opts.get("team_by") or "borough")
        if team_by not in TEAM_BY:
            raise ValueError(team_by)
        return opts.get("team"), team_by

    def passes_over(self, values: Mapping[str, Any]) -> str | None:
        return None if values["crime_id"] else NO_CRIME_ID

    def _crimes(self, rows: Sequence[Row]) -> list[Row]:
        team, team_by = self._team()
        today = date.today()
        return [
            (line, as_crime(values, team=team, team_by=team_by, today=today))
            for line, values in rows
        ]

    def check_batch(self, conn: Connection, rows: Sequence[Row], problems: Problems) -> None:
        return None  # no holders in police.uk files: nothing to look up

    def write_batch(self, conn: Connection, rows: Sequence[Row], counts: Counts) -> None:
        crimes = self._crimes(rows)
        if self.had_rows and crimes:
            c, o = crime_table, officer_table
            refs = [values["reference"] for _, values in crimes]
            kept = {
                str(r.reference): (r.collar, bool(r.victim_enhanced))
                for r in conn.execute(
                    select(c.c.reference, o.c.collar, c.c.victim_enhanced)
                    .outerjoin(o, o.c.id == c.c.holder_id)
                    .where(one_of(conn, c.c.reference, refs))
                )
            }
            for _, values in crimes:
                found = kept.get(values["reference"])
                if found is not None:
                    values["holder"], values["victim_enhanced"] = found
        super().write_batch(conn, crimes, counts)

    def log_detail(self, source: Source) -> dict[str, Any]:
        detail = super().log_detail(source)
        if source.conflicts:
            detail["first_kept"] = source.conflicts
        return detail


SPECS[POLICE_UK.kind] = POLICE_UK  # the summary names its rows as it names every kind's
