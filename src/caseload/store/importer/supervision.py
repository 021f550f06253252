"""Reviews, key events, victim updates and Right 4 referrals (``import reviews``,
``events``, ``victim-updates``, ``victim-referrals``): rows added to a crime's record."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from caseload.domain.csvschema import EVENTS, REVIEWS, VICTIM_REFERRALS, VICTIM_UPDATES
from caseload.store.importer.framework import Counts, KindWriter, Problems, Row
from caseload.store.models import crime_table, officer_table
from caseload.store.sqlfunc import one_of


class SupervisionWriter(KindWriter):
    """Reviews, key events and victim updates (issue 4): rows added to a crime's record.

    Checked: the crime exists and the day is not before it was reported. A row already
    recorded (same crime and day; for events also the same kind) is left alone, so a
    file can be imported again. Writing goes through ``store.supervision.add_many``.
    """

    record = ""  # store.supervision kind: review, key-event, victim-update
    day = "on"  # the CSV column with the day

    def check_batch(self, conn: Connection, rows: Sequence[Row], problems: Problems) -> None:
        refs = {values["reference"] for _, values in rows if values["reference"]}
        reported = {
            str(r.reference): r.reported_on
            for r in conn.execute(
                select(crime_table.c.reference, crime_table.c.reported_on).where(
                    one_of(conn, crime_table.c.reference, refs)
                )
            )
        }
        for line, values in rows:
            ref, day = values["reference"], values[self.day]
            if not ref:
                continue
            if ref not in reported:
                problems.add(line, "reference", f"there is no crime {ref}", "unknown crime")
            elif day is not None and day < reported[ref]:
                problems.add(
                    line,
                    self.day,
                    f"{day.isoformat()} is before the crime was reported "
                    f"({reported[ref].isoformat()})",
                )

    def write_batch(self, conn: Connection, rows: Sequence[Row], counts: Counts) -> None:
        from caseload.store.supervision import add_many, existing_keys

        refs = {values["reference"] for _, values in rows}
        crimes = {
            str(r.reference): (int(r.id), r.collar)
            for r in conn.execute(
                select(crime_table.c.id, crime_table.c.reference, officer_table.c.collar)
                .outerjoin(officer_table, officer_table.c.id == crime_table.c.holder_id)
                .where(one_of(conn, crime_table.c.reference, refs))
            )
        }
        done = existing_keys(conn, self.record, [crime_id for crime_id, _ in crimes.values()])
        new: list[dict[str, Any]] = []
        for _, values in rows:
            crime_id, holder = crimes[values["reference"]]
            key = (
                (crime_id, values["kind"], values[self.day])
                if self.record == "key-event"
                else (crime_id, values[self.day])
            )
            if key in done:
                counts.unchanged += 1
                continue
            done.add(key)
            new.append(
                {
                    **values,
                    "crime_id": crime_id,
                    "holder": holder,
                    "on": values[self.day],
                }
            )
        counts.new += add_many(conn, self.record, new, actor=self.options.actor, at=self.options.at)


class ReviewWriter(SupervisionWriter):
    spec, record = REVIEWS, "review"


class EventWriter(SupervisionWriter):
    spec, record = EVENTS, "key-event"


class VictimUpdateWriter(SupervisionWriter):
    spec, record = VICTIM_UPDATES, "victim-update"


class VictimReferralWriter(SupervisionWriter):
    spec, record = VICTIM_REFERRALS, "victim-referral"
