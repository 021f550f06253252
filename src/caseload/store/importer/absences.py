"""Absence files (``import absences``): each new absence booked as ``officer absence add``
books it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from caseload.domain.csvschema import ABSENCES
from caseload.store.importer.framework import Counts, KindWriter, Problems, Row
from caseload.store.models import officer_table
from caseload.store.sqlfunc import one_of


class AbsenceWriter(KindWriter):
    """Absences (``store.absences``): checked against the officers and each officer's
    absences in the store and earlier in the file (``domain.absences.clashes``); a row the
    store already holds (same officer, kind, dates and percentage) is left alone, so a
    file can be imported again. Each new absence is logged as ``officer absence add``'s."""

    spec = ABSENCES

    def prepare_check(self, conn: Connection) -> None:
        self.booked: dict[str, list[Any]] = {}  # collar -> absences (store, then file)
        self.officers: dict[str, tuple[int, str]] = {}

    def _known(self, conn: Connection, collars: set[str]) -> None:
        from caseload.store.absences import officer_absences

        wanted = collars - self.officers.keys()
        if not wanted:
            return
        o = officer_table
        for row in conn.execute(
            select(o.c.id, o.c.collar, o.c.status).where(one_of(conn, o.c.collar, wanted))
        ):
            self.officers[str(row.collar)] = (int(row.id), str(row.status))
            self.booked[str(row.collar)] = officer_absences(conn, int(row.id))

    def check_batch(self, conn: Connection, rows: Sequence[Row], problems: Problems) -> None:
        from caseload.domain.absences import Absence, clashes

        self._known(conn, {values["collar"] for _, values in rows if values["collar"]})
        for line, values in rows:
            collar, kind, start = values["collar"], values["kind"], values["from"]
            if not collar or kind is None or start is None:
                continue
            if collar not in self.officers:
                problems.add(line, "collar", f"there is no officer {collar}", "unknown officer")
                continue
            if self.officers[collar][1] == "left":
                problems.add(line, "collar", f"{collar} has left", "officer who has left")
                continue
            end, percent = values["to"], values["percent"]
            if end is not None and end < start:
                continue  # the row check has said so
            existing = self.booked[collar]
            same = [
                a
                for a in existing
                if (a.kind, a.starts_on, a.ends_on, a.percent) == (kind, start, end, percent)
            ]
            if same:
                continue  # already booked: left alone
            found = clashes(kind, start, end, existing)
            if found:
                shown = "; ".join((f"#{a.id} " if a.id > 0 else "") + a.words() for a in found)
                problems.add(
                    line,
                    "from",
                    f"{collar} already has an absence on those days ({shown})",
                    "overlapping absence",
                )
                continue
            existing.append(Absence(-line, kind, start, end, percent))

    def write_batch(self, conn: Connection, rows: Sequence[Row], counts: Counts) -> None:
        from caseload.store.absences import add, officer_absences

        o = officer_table
        ids = {
            str(row.collar): int(row.id)
            for row in conn.execute(
                select(o.c.id, o.c.collar).where(
                    one_of(conn, o.c.collar, {values["collar"] for _, values in rows})
                )
            )
        }
        for line, values in rows:
            collar = values["collar"]
            officer_id = ids[collar]
            wanted = (values["kind"], values["from"], values["to"], values["percent"])
            if any(
                (a.kind, a.starts_on, a.ends_on, a.percent) == wanted
                for a in officer_absences(conn, officer_id)
            ):
                counts.unchanged += 1
                continue
            add(
                conn,
                collar,
                kind=values["kind"],
                starts_on=values["from"],
                ends_on=values["to"],
                percent=values["percent"],
                reason=values["reason"],
                actor=self.options.actor,
                at=self.options.at,
                line=line,
            )
            counts.new += 1
