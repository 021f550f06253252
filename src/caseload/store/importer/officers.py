"""Officers files (``import officers``): officers matched by collar, inserted or updated,
their supervisors set after the last row (a supervisor may be a later row), and the
officers' history brought up to date once, at the end."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from caseload.domain.csvschema import OFFICERS
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
from caseload.store.models import officer_table
from caseload.store.reference import ensure_teams, team_ids
from caseload.store.sqlfunc import one_of


class OfficerWriter(KindWriter):
    spec = OFFICERS

    FIELDS = (
        "name",
        "team_id",
        "rank",
        "accreditation",
        "investigator_since",
        "status",
        "capacity",
        "trainee",
    )

    def prepare_write(self, conn: Connection) -> None:
        self.teams = team_ids(conn)
        # (line, collar, supervisor, state): set after the last batch, since a
        # supervisor may be a later row of the file
        self.supervisors: list[tuple[int, str, str | None, str]] = []  # state: new, same, changed

    def write_batch(self, conn: Connection, rows: Sequence[Row], counts: Counts) -> None:
        o = officer_table
        collars = [values["collar"] for _, values in rows]
        existing = {
            str(r.collar): r._mapping
            for r in conn.execute(select(o).where(one_of(conn, o.c.collar, collars)))
        }
        ensure_teams(conn, {v["team"]: None for _, v in rows}, self.teams)
        team_names = {team_id: name for name, team_id in self.teams.items()}
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        entries: list[dict[str, Any]] = []
        changed: list[tuple[int, Mapping[str, Any], Mapping[str, Any]]] = []
        checked: dict[int, tuple[int, dict[str, Any], str]] = {}  # id: line, entry, team
        for line, values in rows:
            row = {key: values[key] for key in self.FIELDS if key != "team_id"}
            row["team_id"] = self.teams[values["team"].lower()]
            current = existing.get(values["collar"])
            if current is None:
                self.supervisors.append((line, values["collar"], values.get("supervisor"), "new"))
                inserts.append({"collar": values["collar"], **row})
                counts.new += 1
                added: dict[str, Any] = {k: as_text(v) for k, v in values.items()}
                entries.append(self._entry("officer-add", added, collar=values["collar"]))
                continue
            diff = {k: (current[k], v) for k, v in row.items() if current[k] != v}
            state = "changed" if diff else "same"
            self.supervisors.append((line, values["collar"], values.get("supervisor"), state))
            if not diff:
                counts.unchanged += 1
                continue
            updates.append({"id": current["id"], **{k: row[k] for k in self.FIELDS}})
            counts.updated += 1
            detail = change_detail(diff, team_names)
            entries.append(self._entry("officer-update", detail, collar=values["collar"]))
            changed.append((int(current["id"]), dict(current), {**current, **row}))
            checked[int(current["id"])] = (line, entries[-1], values["team"])
        self._check_holdings(conn, changed, checked, counts)
        insert_rows(conn, o, inserts)
        update_rows(conn, o, "id", updates)
        self._log(conn, entries)
        self.touched = True

    def finish(self, conn: Connection, counts: Counts) -> None:
        """The rows' supervisors (``_supervisors``), then officers' history: one interval
        closed and one opened for each changed officer (``store.officer_history.sync``,
        set-based over the whole table, once)."""
        from caseload.store.officer_history import sync

        self._supervisors(conn, counts)
        if getattr(self, "touched", False):
            sync(conn, on=self.options.at.date())

    def _supervisors(self, conn: Connection, counts: Counts) -> None:
        """Each row's supervisor: an officer of the store or the file, not themself (else
        the whole file is refused, naming the lines); a change is logged per officer."""
        from caseload.store.supervisors import check_supervisor

        o = officer_table
        ids = {
            str(c): (int(i), s)
            for i, c, s in conn.execute(select(o.c.id, o.c.collar, o.c.supervisor_id))
        }
        known = {collar: oid for collar, (oid, _) in ids.items()}
        collar_of = {oid: collar for collar, oid in known.items()}
        problems = Problems()
        updates: list[dict[str, Any]] = []
        entries: list[dict[str, Any]] = []
        for line, collar, supervisor, state in self.supervisors:
            problem = check_supervisor(collar, supervisor, known)
            if problem is not None:
                problems.add(line, "supervisor", problem)
                continue
            oid, old_id = ids[collar]
            new_id = known[supervisor] if supervisor else None
            if new_id == old_id:
                continue
            updates.append({"id": oid, "supervisor_id": new_id})
            old = collar_of.get(old_id) if old_id is not None else None
            if state == "new":
                continue  # the officer-add entry names the supervisor
            entries.append(
                self._entry(
                    "officer-update", {"supervisor": [old or "", supervisor or ""]}, collar=collar
                )
            )
            if state == "same":
                counts.unchanged -= 1
                counts.updated += 1
        if problems.total:
            raise InputError(
                "Some supervisors cannot be recorded; nothing was imported.", problems.details()
            )
        update_rows(conn, o, "id", updates)
        self._log(conn, entries)

    def _check_holdings(
        self,
        conn: Connection,
        changed: Sequence[tuple[int, Mapping[str, Any], Mapping[str, Any]]],
        checked: Mapping[int, tuple[int, dict[str, Any], str]],
        counts: Counts,
    ) -> None:
        """An update that puts what the officer holds in breach of the allocation rules
        (``store.officers.change_breaches``) warns, naming the fix, and is recorded in
        the row's ``officer-update`` entry; as ``officer update`` does."""
        from caseload.domain.rules import rebalance_hint
        from caseload.store.officers import breach_detail, change_breaches

        for officer_id, breaches in change_breaches(
            conn, changed, on=self.options.at.date()
        ).items():
            line, entry, team = checked[officer_id]
            entry["detail"].update(breach_detail(breaches))
            for breach in breaches:
                counts.warn(f"line {line}: {breach.text()}; {rebalance_hint(team)}")
