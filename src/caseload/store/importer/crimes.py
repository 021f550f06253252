"""Crimes files (``import crimes``; police.uk files through ``police_uk``): crimes
matched by reference, inserted or updated; live crimes' holders through the one
allocation path, finalised crimes' holders recorded as intervals; finalisations,
reopenings and risk grades."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection

from caseload.domain.csvschema import CRIMES
from caseload.domain.levels import RANK
from caseload.domain.risk import DEFAULT_GRADE
from caseload.errors import InputError
from caseload.store.bulk import insert_rows, update_rows
from caseload.store.importer.framework import (
    Counts,
    KindWriter,
    Problems,
    Row,
    as_text,
    change_detail,
)
from caseload.store.models import (
    allocation_table,
    crime_risk_table,
    crime_table,
    finalisation_table,
    officer_table,
)
from caseload.store.reference import ensure_teams, matrix, required_level_for, risk_matrix, team_ids
from caseload.store.sqlfunc import one_of

if TYPE_CHECKING:
    from caseload.store.allocation import HoldingChange


def _as_datetime(value: Any) -> datetime:
    """A timestamp an aggregate returned as SQLite's text."""
    return datetime.fromisoformat(str(value))


def victim_entitlement(values: Mapping[str, Any], current: Any) -> tuple[bool, str | None]:
    """A crime row's enhanced entitlement and category (``domain.victims``). A category
    makes the victim enhanced; an enhanced row without one keeps the category already
    recorded for the crime (a re-imported yes/no file does not erase it); a standard row
    has none."""
    category = values.get("victim_category")
    enhanced = bool(values.get("victim_enhanced")) or category is not None
    if enhanced and category is None and current is not None and current["victim_enhanced"]:
        category = current["victim_category"]
    return enhanced, category if enhanced else None


@dataclass
class _Changes:
    """What one batch of crime rows changes, gathered row by row (``CrimeWriter._changes``),
    then written."""

    inserts: list[dict[str, Any]] = field(default_factory=list)  # new crimes' rows
    updates: list[dict[str, Any]] = field(default_factory=list)  # changed crimes' rows
    # (reference, on, outcome): new finalisation rows
    finalise: list[tuple[str, date, int]] = field(default_factory=list)
    reopen: list[int] = field(default_factory=list)  # crime ids
    refinalise: list[dict[str, Any]] = field(default_factory=list)  # corrected finalisations
    entries: list[dict[str, Any]] = field(default_factory=list)  # crime-update log entries
    # (its log entry, the change) of crimes kept by their holder, to check
    held: list[tuple[dict[str, Any], HoldingChange]] = field(default_factory=list)
    # reference, grade, new crime, reported
    graded: list[tuple[str, str, bool, date]] = field(default_factory=list)
    unassign: list[tuple[str, str]] = field(default_factory=list)  # (reference, collar): live
    # line, values, holder id: live crimes' new holders
    allocations: list[tuple[int, Mapping[str, Any], int]] = field(default_factory=list)
    # Finalised crimes' holdings (reference, officer id or 0, start): new crimes', existing ones'.
    recorded: list[tuple[str, int, datetime]] = field(default_factory=list)
    records: list[tuple[str, int, datetime]] = field(default_factory=list)
    # records: line, allocated_on given
    record_lines: dict[str, tuple[int, bool]] = field(default_factory=dict)


class CrimeWriter(KindWriter):
    """Crimes by reference. Live crimes' holders go through ``allocate_many``.

    Each change to an existing crime is logged (``crime-update``); new crimes are
    covered by the import's summary entry.

    A finalised crime's holder is a record of who held it, not an allocation made
    now: the live-crime rules cannot apply (``allocate_many`` refuses finalised
    crimes), so its holding is recorded as an interval directly, as the history
    import does.
    """

    spec = CRIMES
    adds_crimes = True

    FIELDS = (
        "crime_type",
        "required_level",
        "level_defaulted",
        "reported_on",
        "team_id",
        "victim_enhanced",
        "victim_category",
        "risk",
        "base_level",
        "finalised_on",
        "outcome",
    )

    def prepare_check(self, conn: Connection) -> None:
        self.collars = {str(c) for (c,) in conn.execute(select(officer_table.c.collar))}

    def check_batch(self, conn: Connection, rows: Sequence[Row], problems: Problems) -> None:
        for line, values in rows:
            holder = values["holder"]
            if holder is not None and holder not in self.collars:
                problems.add(
                    line, "holder", f"there is no officer with collar {holder}", "unknown holder"
                )

    def prepare_write(self, conn: Connection) -> None:
        self.teams = team_ids(conn)
        self.levels = matrix(conn)
        self.risks = risk_matrix(conn)
        self.officers = {
            str(collar): int(officer_id)
            for officer_id, collar in conn.execute(
                select(officer_table.c.id, officer_table.c.collar)
            )
        }
        self.collar_of = {officer_id: collar for collar, officer_id in self.officers.items()}
        # Into an empty table every row is new: skip looking each batch up.
        self.had_rows = conn.execute(select(crime_table.c.id).limit(1)).first() is not None

    def write_batch(self, conn: Connection, rows: Sequence[Row], counts: Counts) -> None:
        """Each row compared with the crime the store holds (``_changes``), then what
        changed written in this order: the rule checks on crimes their holders keep, the
        crimes' rows, finalisations, the ``crime-update`` entries, risk grades, then the
        holders: unassigned, recorded (finalised crimes) and allocated (live crimes)."""
        existing = self._existing(conn, rows)
        ensure_teams(conn, {v["team"]: None for _, v in rows}, self.teams)
        changes = self._changes(rows, existing, counts)
        if changes.held:  # before the rows change: the holders' counts must not include them yet
            self._check_held(conn, changes.held, counts)
        insert_rows(conn, crime_table, changes.inserts)
        update_rows(conn, crime_table, "id", changes.updates)
        ids = self._crime_ids(conn, changes)
        self._write_finalisations(conn, changes, ids)
        self._log(conn, changes.entries)
        if changes.graded:
            self._grade(
                conn, [(ids[ref], grade, new, on) for ref, grade, new, on in changes.graded]
            )
        self._unassign(conn, changes.unassign)
        self._write_holdings(conn, changes, ids)
        if changes.allocations:
            self._allocate(conn, changes.allocations, ids, counts)

    def _existing(self, conn: Connection, rows: Sequence[Row]) -> dict[str, Any]:
        """The store's crimes the rows name, by reference (none looked up in an empty table)."""
        if not self.had_rows:
            return {}
        c = crime_table
        refs = [values["reference"] for _, values in rows]
        return {
            str(r.reference): r._mapping
            for r in conn.execute(select(c).where(one_of(conn, c.c.reference, refs)))
        }

    def _changes(
        self, rows: Sequence[Row], existing: Mapping[str, Any], counts: Counts
    ) -> _Changes:
        """Each row new, changed or unchanged (counted), and what it changes gathered."""
        team_names = {team_id: name for name, team_id in self.teams.items()}
        changes = _Changes()
        for line, values in rows:
            ref = values["reference"]
            current = existing.get(ref)
            row = self._row(values, current)
            if row["risk"] != (current["risk"] if current is not None else DEFAULT_GRADE):
                changes.graded.append((ref, row["risk"], current is None, values["reported_on"]))
            holder = values["holder"]
            holder_id = self.officers[holder] if holder is not None else None
            old_holder = current["holder_id"] if current is not None else None
            holder_changes = holder_id != old_holder
            if current is None:
                self._add(values, row, holder_id, changes)
                counts.new += 1
            else:
                diff = {k: (current[k], v) for k, v in row.items() if current[k] != v}
                if not diff and not holder_changes:
                    counts.unchanged += 1
                    continue
                counts.updated += 1
                if diff:  # a change of holder alone is logged by the allocation path
                    self._update(values, current, row, diff, team_names, changes)
                    live = values["finalised_on"] is None
                    if old_holder is not None and not holder_changes and live:
                        self._keep_holder(line, ref, current, row, changes)
            if holder_changes:
                self._change_holder(line, values, current, holder_id, old_holder, changes)
        return changes

    def _row(self, values: Mapping[str, Any], current: Any) -> dict[str, Any]:
        """The crime's row as the file gives it: victim entitlement, risk grade and levels
        worked out with what the store already holds (``current``, None for a new crime)."""
        enhanced, category = victim_entitlement(values, current)
        row: dict[str, Any] = {
            "crime_type": values["crime_type"],
            "reported_on": values["reported_on"],
            "team_id": self.teams[values["team"].lower()],
            "victim_enhanced": enhanced,
            "victim_category": category,
            # blank: standard for a new crime; an existing one keeps its grade
            "risk": values.get("risk")
            or (current["risk"] if current is not None else DEFAULT_GRADE),
            "finalised_on": values["finalised_on"],
            "outcome": values["outcome"],
        }
        same_level = current is not None and values["required_level"] in (
            None,
            current["required_level"],
        )
        if same_level:
            # Blank keeps the crime's level (as a matrix change does); the same level
            # (e.g. a re-imported export) keeps whether it came from the default.
            row["required_level"] = current["required_level"]
            row["level_defaulted"] = current["level_defaulted"]
        elif values["required_level"] is not None:
            row["required_level"], row["level_defaulted"] = values["required_level"], False
        else:
            row["required_level"], row["level_defaulted"] = required_level_for(
                values["crime_type"], self.levels
            )
        self._with_risk(row, current, given=values["required_level"] is not None)
        return row

    def _add(
        self,
        values: Mapping[str, Any],
        row: Mapping[str, Any],
        holder_id: int | None,
        changes: _Changes,
    ) -> None:
        """A new crime. A new finalised crime is inserted with its holder (a record of who
        held it; its interval is opened by ``_write_holdings``); live crimes are allocated
        (``_allocate``). New crimes are recorded by the import's own log entry (and
        ``created_at``), not one entry each: a force-sized import stays a bulk insert."""
        ref = values["reference"]
        finalised = values["finalised_on"] is not None
        recorded_holder = holder_id if finalised else None
        changes.inserts.append(
            {"reference": ref, "created_at": self.options.at, "holder_id": recorded_holder, **row}
        )
        if finalised:
            changes.finalise.append((ref, values["finalised_on"], values["outcome"]))

    def _update(
        self,
        values: Mapping[str, Any],
        current: Any,
        row: Mapping[str, Any],
        diff: Mapping[str, tuple[Any, Any]],
        team_names: Mapping[int, str],
        changes: _Changes,
    ) -> None:
        """A changed crime: its row updated, a finalisation recorded, ended (reopened) or
        corrected, and the change logged (``crime-update``)."""
        ref = values["reference"]
        changes.updates.append({"id": current["id"], **{k: row[k] for k in self.FIELDS}})
        finalised = values["finalised_on"] is not None
        was_finalised = current["finalised_on"] is not None
        if finalised and not was_finalised:
            changes.finalise.append((ref, values["finalised_on"], values["outcome"]))
        elif was_finalised and not finalised:
            changes.reopen.append(int(current["id"]))
        elif finalised and ("finalised_on" in diff or "outcome" in diff):
            changes.refinalise.append(
                {
                    "b_crime": current["id"],
                    "b_on": values["finalised_on"],
                    "b_outcome": values["outcome"],
                }
            )
        changes.entries.append(
            self._entry("crime-update", change_detail(diff, team_names), crime_ref=ref)
        )

    def _keep_holder(
        self, line: int, ref: str, current: Any, row: Mapping[str, Any], changes: _Changes
    ) -> None:
        """A changed crime kept by its holder, live after the row: reopened, or its level
        raised, it is checked as the allocation rules would (``_check_held``), the result
        recorded in its ``crime-update`` entry (the last one gathered)."""
        reopened = current["finalised_on"] is not None
        raised = RANK[row["required_level"]] > RANK[current["required_level"]]
        if not (reopened or raised):
            return
        from caseload.store.allocation import HoldingChange

        old_holder = int(current["holder_id"])
        change = HoldingChange(
            crime_id=int(current["id"]),
            reference=ref,
            officer_id=old_holder,
            collar=self.collar_of.get(old_holder, ""),
            required_level=row["required_level"],
            reopened=reopened,
            old_level=None if reopened else current["required_level"],
            line=line,
        )
        changes.held.append((changes.entries[-1], change))

    def _change_holder(
        self,
        line: int,
        values: Mapping[str, Any],
        current: Any,
        holder_id: int | None,
        old_holder: int | None,
        changes: _Changes,
    ) -> None:
        """A crime whose holder the row changes: a finalised crime's holding is recorded
        (held from the allocation date, else from the report's day), a live crime's
        holder unassigned or allocated."""
        ref = values["reference"]
        if values["finalised_on"] is not None:
            start = values["allocated_on"] or datetime.combine(values["reported_on"], time.min)
            if current is None:
                changes.recorded.append((ref, holder_id or 0, start))
            else:  # checked against its recorded holdings (``_write_holdings``)
                changes.records.append((ref, holder_id or 0, start))
                changes.record_lines[ref] = (line, values["allocated_on"] is not None)
        elif holder_id is None:
            changes.unassign.append((ref, self.collar_of.get(int(old_holder or 0), "")))
        else:
            changes.allocations.append((line, values, holder_id))

    def _crime_ids(self, conn: Connection, changes: _Changes) -> dict[str, int]:
        """The ids of the crimes whose finalisation, holding or grade is written next (new
        crimes' ids are known once they are inserted), by reference."""
        c = crime_table
        wanted = [ref for ref, _, _ in changes.finalise] + [ref for ref, _, _ in changes.records]
        wanted += [ref for ref, _, _ in changes.recorded]
        wanted += [values["reference"] for _, values, _ in changes.allocations]
        wanted += [ref for ref, _, _, _ in changes.graded]
        if not wanted:
            return {}
        return {
            str(reference): int(crime_id)
            for crime_id, reference in conn.execute(
                select(c.c.id, c.c.reference).where(one_of(conn, c.c.reference, wanted))
            ).all()
        }

    def _write_finalisations(
        self, conn: Connection, changes: _Changes, ids: Mapping[str, int]
    ) -> None:
        """Finalisations recorded, ended (a reopened crime) and corrected."""
        f = finalisation_table
        if changes.finalise:
            insert_rows(
                conn,
                f,
                [
                    {
                        "crime_id": ids[ref],
                        "finalised_on": on,
                        "outcome": outcome,
                        "actor": self.options.actor,
                    }
                    for ref, on, outcome in changes.finalise
                ],
            )
        if changes.reopen:
            conn.execute(
                update(f)
                .where(one_of(conn, f.c.crime_id, changes.reopen), f.c.reopened_on.is_(None))
                .values(reopened_on=self.options.at.date())
            )
        if changes.refinalise:
            conn.execute(
                update(f)
                .where(f.c.crime_id == bindparam("b_crime"), f.c.reopened_on.is_(None))
                .values(finalised_on=bindparam("b_on"), outcome=bindparam("b_outcome")),
                changes.refinalise,
            )

    def _unassign(self, conn: Connection, unassign: Sequence[tuple[str, str]]) -> None:
        """Live crimes the file leaves without a holder, through the allocation path."""
        if not unassign:
            return
        from caseload.store.allocation import unassign as unassign_crime

        for ref, _collar in unassign:
            unassign_crime(
                conn, ref, actor=self.options.actor, at=self.options.at, reason=self.options.reason
            )

    def _write_holdings(self, conn: Connection, changes: _Changes, ids: Mapping[str, int]) -> None:
        """Finalised crimes' holdings: new crimes' opened; every holding that follows a
        crime's recorded ones checked (``_not_before``), then existing crimes' recorded."""
        records, record_lines = changes.records, changes.record_lines
        if changes.recorded:
            self._open_holdings(
                conn, [(ids[ref], officer, start) for ref, officer, start in changes.recorded]
            )
        starts = [  # (line, crime id, start, given) of holdings after existing ones
            (record_lines[ref][0], ids[ref], start, record_lines[ref][1])
            for ref, _, start in records
        ] + [
            (line, ids[values["reference"]], values["allocated_on"], True)
            for line, values, _ in changes.allocations
            if values["allocated_on"] is not None
        ]
        floors = self._not_before(conn, starts)
        if records:
            self._record_holdings(
                conn,
                [
                    # A start the file did not give (the report's day) would lie under the
                    # recorded holdings: the record changes now.
                    (
                        ids[ref],
                        officer,
                        self.options.at
                        if ids[ref] in floors and not record_lines[ref][1]
                        else start,
                    )
                    for ref, officer, start in records
                ],
            )

    def _allocate(
        self,
        conn: Connection,
        allocations: Sequence[tuple[int, Mapping[str, Any], int]],
        ids: Mapping[str, int],
        counts: Counts,
    ) -> None:
        """Live crimes' new holders, through the one allocation path (``_allocate_many``)."""
        from caseload.store.allocation import AllocationRequest

        requests = [
            AllocationRequest(
                crime_id=ids[values["reference"]],
                reference=values["reference"],
                officer_id=holder_id,
                collar=values["holder"],
                line=line,
                start_at=values["allocated_on"],
            )
            for line, values, holder_id in allocations
        ]
        self._allocate_many(conn, requests, counts)

    def _with_risk(self, row: dict[str, Any], current: Any, *, given: bool) -> None:
        """The row's required level at its risk grade (``domain.risk.level_with_risk``),
        worked out for a new crime, a new grade or a level the file gives; otherwise the
        crime keeps its levels (as it does when the matrix changes)."""
        from caseload.domain.risk import level_with_risk

        if current is not None and not given and row["risk"] == current["risk"]:
            row["base_level"] = current["base_level"]
            return
        own = row["required_level"]
        if current is not None and not given:
            own = current["base_level"] or current["required_level"]
        row["required_level"], row["base_level"] = level_with_risk(
            own, row["crime_type"], row["risk"], self.risks
        )

    def _grade(self, conn: Connection, graded: Sequence[tuple[int, str, bool, date]]) -> None:
        """Risk grade intervals: a new crime's grade from the day it was reported, an
        existing crime's new grade from now (its open interval closed)."""
        from caseload.store.risk import open_interval

        reason = self.options.reason
        new = [
            {
                "crime_id": crime_id,
                "grade": grade,
                "start_at": datetime.combine(on, time.min),
                "end_at": None,
                "actor": self.options.actor,
                "reason": reason,
            }
            for crime_id, grade, is_new, on in graded
            if is_new
        ]
        insert_rows(conn, crime_risk_table, new)
        for crime_id, grade, is_new, _ in graded:
            if not is_new:
                open_interval(
                    conn,
                    crime_id,
                    grade,
                    at=self.options.at,
                    actor=self.options.actor,
                    reason=reason,
                )

    def _not_before(
        self, conn: Connection, starts: Sequence[tuple[int, int, datetime, bool]]
    ) -> dict[int, datetime]:
        """History is added to, never rewritten: a holding that follows a crime's recorded
        ones starts when they end (the current one: when it began, as it is closed then).
        An ``allocated_on`` before that is an error naming the line; a start the file did
        not give is the caller's to move (the floors are returned by crime id)."""
        a = allocation_table
        crime_ids = sorted({crime_id for _, crime_id, _, _ in starts})
        if not crime_ids:
            return {}
        floors: dict[int, datetime] = {}
        for crime_id, floor in conn.execute(
            select(a.c.crime_id, func.max(func.coalesce(a.c.end_at, a.c.start_at)))
            .where(one_of(conn, a.c.crime_id, crime_ids))
            .group_by(a.c.crime_id)
        ):
            floors[int(crime_id)] = floor if isinstance(floor, datetime) else _as_datetime(floor)
        problems = Problems()
        for line, crime_id, start, given in starts:
            floor = floors.get(crime_id)
            if given and floor is not None and start < floor:
                problems.add(
                    line,
                    "allocated_on",
                    f"{as_text(start)} is before the crime's recorded holdings end "
                    f"({as_text(floor)}); history is added to, never rewritten",
                )
        if problems.total:
            raise InputError(
                "Some allocation dates would rewrite recorded holdings; nothing was imported.",
                problems.details(),
            )
        return floors

    def _check_held(
        self,
        conn: Connection,
        held: Sequence[tuple[dict[str, Any], HoldingChange]],
        counts: Counts,
    ) -> None:
        """Reopened and re-levelled crimes kept by their holder: the allocation rules
        (``store.allocation.check_holdings``: a block-mode breach refuses the file unless
        ``--override``); each warning is recorded in the row's ``crime-update`` entry."""
        from caseload.store.allocation import check_holdings

        outcomes = check_holdings(
            conn,
            [change for _, change in held],
            at=self.options.at,
            override=self.options.override,
        )
        for (entry, change), outcome in zip(held, outcomes, strict=True):
            entry["collar"] = change.collar
            entry["detail"].update(outcome.detail())
            for message in outcome.warnings:
                counts.warn(f"line {change.line}: {change.reference}: {message}")

    def _record_holdings(
        self, conn: Connection, holdings: Sequence[tuple[int, int, datetime]]
    ) -> None:
        """Existing finalised crimes: close any open interval when the new holding starts,
        open the named holder's (if any) and record them as the holder."""
        a = allocation_table
        conn.execute(
            update(a)
            .where(a.c.crime_id == bindparam("b_crime"), a.c.end_at.is_(None))
            .values(
                end_at=bindparam("b_end"),
                ended_by=self.options.actor,
                end_reason=self.options.reason,
            ),
            [{"b_crime": crime_id, "b_end": start} for crime_id, _, start in holdings],
        )
        self._open_holdings(conn, holdings)
        update_rows(
            conn,
            crime_table,
            "id",
            [{"id": cid, "holder_id": oid or None} for cid, oid, _ in holdings],
        )

    def _open_holdings(
        self, conn: Connection, holdings: Sequence[tuple[int, int, datetime]]
    ) -> None:
        """Open an interval for each finalised crime's named holder (officer id 0: none)."""
        from caseload.store.identity import store_login

        login = store_login(conn)
        opened = [
            {
                "crime_id": crime_id,
                "officer_id": officer_id,
                "start_at": start,
                "end_at": None,
                "actor": self.options.actor,
                "login": login,
                "reason": self.options.reason,
                "warnings": "",
                "auto": False,
            }
            for crime_id, officer_id, start in holdings
            if officer_id
        ]
        insert_rows(conn, allocation_table, opened)
