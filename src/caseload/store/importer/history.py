"""Allocation history files (``import history``): intervals as they were, staged in a
temporary table and checked with SQL before anything is written."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    and_,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection

from caseload.domain.csvschema import HISTORY
from caseload.errors import InputError
from caseload.store.importer.framework import MAX_LISTED, Counts, KindWriter, Problems, Row, as_text
from caseload.store.models import allocation_table, crime_table, officer_table
from caseload.store.sqlfunc import one_of

_history_meta = MetaData()
_history_stage = Table(
    "import_history_stage",
    _history_meta,
    Column("line", Integer, nullable=False),
    Column("crime_id", Integer, nullable=False),
    Column("officer_id", Integer, nullable=False),
    Column("start_at", DateTime, nullable=False),
    Column("end_at", DateTime),
    Column("actor", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("matched", Boolean, nullable=False, default=False),
    # The checks join the file's rows with each other by crime (overlaps, two current
    # holdings): without it, a large file's self-join is quadratic.
    Index("ix_import_history_stage_crime", "crime_id", "start_at"),
    prefixes=["TEMPORARY"],
)


class HistoryWriter(KindWriter):
    """Allocation intervals as they were. History is added to, never rewritten:

    * a row for an interval the store holds (same crime and ``from``) must say what the
      store says (holder, ``to``, reason): then it is unchanged; any difference is an
      error naming the line (exit 2), so a past day's holder or the current holder
      cannot be moved by a file;
    * a new closed interval (``to`` given) is a past holding: it must not overlap the
      crime's other intervals (the store's or the file's), and it is recorded as it was
      (the live-crime rules are about today's holdings) with a ``past-holding`` log entry;
    * a new open interval (``to`` blank) is a current holding: the crime must be live and
      have no holder, and it is an allocation like any other, through
      ``store.allocation.allocate_many`` (limit, accreditation, status and capacity rules;
      a block-mode breach refuses the file, exit 3, unless ``--override``), logged as
      ``allocate``.

    The log's actor is whoever runs the import; the file's ``actor`` column is kept in
    each entry's detail as ``recorded_actor``, and each interval keeps its row's reason.
    Rows are staged in a temporary table (with their line numbers) and checked with SQL
    before anything is written.
    """

    spec = HISTORY

    def prepare_check(self, conn: Connection) -> None:
        self.collars = {str(c) for (c,) in conn.execute(select(officer_table.c.collar))}

    def check_batch(self, conn: Connection, rows: Sequence[Row], problems: Problems) -> None:
        refs = {values["reference"] for _, values in rows if values["reference"]}
        reported = {
            str(r): day
            for r, day in conn.execute(
                select(crime_table.c.reference, crime_table.c.reported_on).where(
                    one_of(conn, crime_table.c.reference, refs)
                )
            )
        }
        for line, values in rows:
            ref, start = values["reference"], values["from"]
            if ref and ref not in reported:
                problems.add(line, "reference", f"there is no crime {ref}")
            elif ref and start is not None and start.date() < reported[ref]:
                problems.add(
                    line,
                    "from",
                    f"{as_text(start)} is before the crime was reported ({reported[ref]})",
                )
            if values["holder"] and values["holder"] not in self.collars:
                problems.add(line, "holder", f"there is no officer with collar {values['holder']}")

    def prepare_write(self, conn: Connection) -> None:
        _history_stage.drop(conn, checkfirst=True)
        _history_stage.create(conn)
        self.officers = {
            str(collar): int(officer_id)
            for officer_id, collar in conn.execute(
                select(officer_table.c.id, officer_table.c.collar)
            )
        }

    def write_batch(self, conn: Connection, rows: Sequence[Row], counts: Counts) -> None:
        refs = {values["reference"] for _, values in rows}
        ids = {
            str(r.reference): int(r.id)
            for r in conn.execute(
                select(crime_table.c.id, crime_table.c.reference).where(
                    one_of(conn, crime_table.c.reference, refs)
                )
            )
        }
        conn.execute(
            insert(_history_stage),
            [
                {
                    "line": line,
                    "crime_id": ids[v["reference"]],
                    "officer_id": self.officers[v["holder"]],
                    "start_at": v["from"],
                    "end_at": v["to"],
                    "actor": v["actor"],
                    "reason": v["reason"],
                }
                for line, v in rows
            ],
        )

    def finish(self, conn: Connection, counts: Counts) -> None:
        a, s = allocation_table, _history_stage
        same = and_(a.c.crime_id == s.c.crime_id, a.c.start_at == s.c.start_at)
        conn.execute(update(s).where(select(a.c.id).where(same).exists()).values(matched=True))
        self._check_unchanged(conn)
        counts.unchanged = int(
            conn.execute(select(func.count()).select_from(s).where(s.c.matched)).scalar_one()
        )
        self._check_open(conn)
        self._check_overlaps(conn)
        counts.new = self._record_past(conn) + self._allocate_current(conn, counts)
        _history_stage.drop(conn)

    def _check_unchanged(self, conn: Connection) -> None:
        """A row for an interval the store holds must say what the store says."""
        a, s, o = allocation_table, _history_stage, officer_table
        same = and_(a.c.crime_id == s.c.crime_id, a.c.start_at == s.c.start_at)
        differs = conn.execute(
            select(s.c.line, s.c.officer_id, s.c.end_at, a.c.officer_id, o.c.collar, a.c.end_at)
            .join(a, same)
            .join(o, o.c.id == a.c.officer_id)
            .where(
                or_(
                    a.c.officer_id != s.c.officer_id,
                    a.c.end_at.is_distinct_from(s.c.end_at),
                    a.c.reason != s.c.reason,
                )
            )
            .order_by(s.c.line)
            .limit(MAX_LISTED + 1)
        ).all()
        if not differs:
            return
        problems = Problems()
        for line, officer, end, held_by, collar, ended in differs:
            column = "holder" if officer != held_by else "to" if end != ended else "reason"
            held = f"{collar} until {as_text(ended)}" if ended is not None else f"{collar}, now"
            problems.add(
                line,
                column,
                f"the store already holds this interval ({held}) and the row differs; "
                "history is never rewritten (to change who holds a crime now, use "
                "'caseload assign')",
            )
        raise InputError(
            "Some rows would change allocation intervals the store already holds; "
            "nothing was imported.",
            problems.details(),
        )

    def _check_open(self, conn: Connection) -> None:
        """A new current holding: the crime is live and has no holder (one in the file)."""
        a, s, c = allocation_table, _history_stage, crime_table
        s2 = s.alias("s2")
        new_open = and_(s.c.matched.is_(False), s.c.end_at.is_(None))
        clash = conn.execute(
            select(s.c.line)
            .where(
                new_open,
                or_(
                    select(a.c.id)
                    .where(a.c.crime_id == s.c.crime_id, a.c.end_at.is_(None))
                    .exists(),
                    select(s2.c.line)
                    .where(
                        s2.c.crime_id == s.c.crime_id,
                        s2.c.end_at.is_(None),
                        s2.c.matched.is_(False),
                        s2.c.line < s.c.line,
                    )
                    .exists(),
                ),
            )
            .order_by(s.c.line)
            .limit(MAX_LISTED + 1)
        ).all()
        if clash:
            problems = Problems()
            for row in clash:
                problems.add(
                    row.line,
                    "to",
                    "the crime already has a current holder (an interval with no end); "
                    "to move it, use 'caseload assign'",
                )
            raise InputError(
                "Some allocation intervals clash with a current holding; nothing was imported.",
                problems.details(),
            )
        finalised = conn.execute(
            select(s.c.line, c.c.reference)
            .join(c, c.c.id == s.c.crime_id)
            .where(new_open, c.c.finalised_on.is_not(None))
            .order_by(s.c.line)
            .limit(MAX_LISTED + 1)
        ).all()
        if finalised:
            problems = Problems()
            for line, reference in finalised:
                problems.add(
                    line,
                    "to",
                    f"{reference} is finalised: a current holding (blank 'to') is for a live "
                    "crime (a finalised crime's last holder is the crimes file's 'holder')",
                )
            raise InputError(
                "Some current holdings are for finalised crimes; nothing was imported.",
                problems.details(),
            )

    def _check_overlaps(self, conn: Connection) -> None:
        """A new interval overlaps none of the crime's others, the store's or the file's."""
        a, s = allocation_table, _history_stage
        s2 = s.alias("s2")
        far = datetime(9999, 12, 31)

        def overlapping(other: Any) -> Any:
            return and_(
                other.c.crime_id == s.c.crime_id,
                other.c.start_at < func.coalesce(s.c.end_at, far),
                s.c.start_at < func.coalesce(other.c.end_at, far),
            )

        stored = (
            select(s.c.line, a.c.start_at.label("other_start"), literal(0).label("other_line"))
            .join(a, overlapping(a))
            .where(s.c.matched.is_(False))
        )
        in_file = (
            select(s.c.line, s2.c.start_at.label("other_start"), s2.c.line.label("other_line"))
            .join(s2, and_(overlapping(s2), s2.c.line < s.c.line))
            .where(s.c.matched.is_(False), s2.c.matched.is_(False))
        )
        found = conn.execute(stored.union_all(in_file).order_by("line").limit(MAX_LISTED + 1)).all()
        if not found:
            return
        problems = Problems()
        for line, other_start, other_line in found:
            where = f"line {other_line}'s" if other_line else "an interval the store holds"
            problems.add(
                line,
                "from",
                f"the interval overlaps {where} (from {as_text(other_start)}); "
                "history is added to, never rewritten",
            )
        raise InputError(
            "Some allocation intervals overlap; nothing was imported.", problems.details()
        )

    def _record_past(self, conn: Connection) -> int:
        """New closed intervals, as they were, each with a ``past-holding`` log entry."""
        a, s, c, o = allocation_table, _history_stage, crime_table, officer_table
        past = and_(s.c.matched.is_(False), s.c.end_at.is_not(None))
        rows = conn.execute(
            select(s.c.start_at, s.c.end_at, s.c.actor, s.c.reason, c.c.reference, o.c.collar)
            .join(c, c.c.id == s.c.crime_id)
            .join(o, o.c.id == s.c.officer_id)
            .where(past)
            .order_by(s.c.line)
        ).all()
        if not rows:
            return 0
        from caseload.store.identity import store_login

        actor = self.options.actor
        conn.execute(
            insert(a).from_select(
                [
                    "crime_id",
                    "officer_id",
                    "start_at",
                    "end_at",
                    "actor",
                    "login",
                    "reason",
                    "warnings",
                ],
                select(
                    s.c.crime_id,
                    s.c.officer_id,
                    s.c.start_at,
                    s.c.end_at,
                    literal(actor),
                    literal(store_login(conn)),
                    s.c.reason,
                    literal(""),
                ).where(past),
            )
        )
        self._log(
            conn,
            [
                {
                    "at": self.options.at,
                    "actor": actor,
                    "kind": "past-holding",
                    "crime_ref": str(reference),
                    "collar": str(collar),
                    "reason": str(reason),
                    "detail": {
                        "start_at": as_text(start),
                        "end_at": as_text(end),
                        "recorded_actor": str(recorded),
                    },
                }
                for start, end, recorded, reason, reference, collar in rows
            ],
        )
        return len(rows)

    def _allocate_current(self, conn: Connection, counts: Counts) -> int:
        """New open intervals: allocations under the rules, through ``allocate_many``."""
        from caseload.store.allocation import AllocationRequest

        s, c, o = _history_stage, crime_table, officer_table
        rows = conn.execute(
            select(
                s.c.line,
                s.c.crime_id,
                s.c.officer_id,
                s.c.start_at,
                s.c.actor,
                s.c.reason,
                c.c.reference,
                o.c.collar,
            )
            .join(c, c.c.id == s.c.crime_id)
            .join(o, o.c.id == s.c.officer_id)
            .where(s.c.matched.is_(False), s.c.end_at.is_(None))
            .order_by(s.c.line)
        ).all()
        if not rows:
            return 0
        requests = [
            AllocationRequest(
                crime_id=int(crime_id),
                reference=str(reference),
                officer_id=int(officer_id),
                collar=str(collar),
                line=int(line),
                start_at=start,
                reason=str(reason),
                note={"recorded_actor": str(recorded)},
            )
            for line, crime_id, officer_id, start, recorded, reason, reference, collar in rows
        ]
        return self._allocate_many(conn, requests, counts)
