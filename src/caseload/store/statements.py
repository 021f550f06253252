"""The named statements both executors run, and their SQLite text compiled ahead.

The operations written against ``store.executor.Executor`` (one allocation, one
officer's workload, a team's plan, the log's tail, one crime's or one officer's record:
``store.records``) ask for their statements by the names below. ``SqlAlchemyExecutor``
builds a statement here for its connection's dialect and binds the inputs;
``SqliteExecutor`` runs the SQLite text of the same statement from ``precompiled.json``
beside this file, without importing SQLAlchemy.
``python -m caseload.store.statements`` rewrites that file, and tests/test_direct.py
fails when it no longer matches what these queries compile to, so a change to a
query cannot leave the quick executor running the old SQL.

Each statement is compiled with sample values for its named inputs (the values bound
at run time); every other bound value is a constant of the query (a status, a level
name, a flag's text) and is kept beside the text. ``FOR UPDATE`` compiles to nothing
on SQLite (its BEGIN IMMEDIATE already serialises writers). Each result column's name
and kind (``column_kind``) is kept too, so ``Executor.records`` reads a date, a
timestamp or a Boolean back as SQLAlchemy's types would on either executor.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from caseload.domain.policy import DEFAULTS, WEIGHT_SETTINGS
from caseload.store.executor import PRECOMPILED as PRECOMPILED
from caseload.store.records import STORY
from caseload.store.workload import workload_inputs

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect


def _policy(dialect: Dialect) -> Any:
    from caseload.store.reference import policy_query

    return policy_query()


def _policy_teams(dialect: Dialect) -> Any:
    from caseload.store.team_policy import team_policy_query

    return team_policy_query()


def _officer_team(dialect: Dialect) -> Any:
    from sqlalchemy import String, bindparam, select

    from caseload.store.models import officer_table

    collar = bindparam("collar", "AA00001", String())
    return select(officer_table.c.team_id).where(officer_table.c.collar == collar)


def _workload_officer(dialect: Dialect) -> Any:
    from caseload.store.workload import workload_query

    return workload_query(DEFAULTS, collar="AA00001")


def _workload_listing(as_of: date | None) -> Callable[[Dialect], Any]:
    """Every officer's row, today or on a past day bound by name, as the raw cursor reads
    them (a Boolean as yes/no text)."""

    def build(dialect: Dialect) -> Any:
        from caseload.store.export import cursor_reads
        from caseload.store.workload import workload_query

        query = workload_query(DEFAULTS, as_of=as_of, named=True)
        read = cursor_reads(dialect.name, query)
        return query if read is None else read

    return build


def _crime_lines(dialect: Dialect) -> Any:
    """Every crime in the import columns, each row one line joined by SQLite (the export)."""
    from caseload.store.export import crimes_query, joined
    from caseload.store.models import crime_table

    query = crimes_query()
    lines = joined(dialect.name, query, crime_table.c.id)
    return query if lines is None else lines


def _crime_cells(dialect: Dialect) -> Any:
    """The export's crimes with ids ``first``..``last``, cell by cell as the raw cursor reads
    them (for a batch of lines the writer cannot pass through)."""
    from sqlalchemy import Integer, bindparam

    from caseload.store.export import crimes_query, cursor_reads, key_range
    from caseload.store.models import crime_table

    query = crimes_query()
    read = cursor_reads(dialect.name, query)
    first, last = bindparam("first", 1, Integer()), bindparam("last", 1, Integer())
    return key_range(query if read is None else read, crime_table.c.id, first, last)


def _crime_count(dialect: Dialect) -> Any:
    from caseload.store.export import count_query, crimes_query

    return count_query(crimes_query())


def _crime(dialect: Dialect) -> Any:
    from sqlalchemy import bindparam

    from caseload.store.allocation import crime_facts_query
    from caseload.store.models import crime_table

    chosen = crime_facts_query().where(crime_table.c.reference == bindparam("reference", "X"))
    return chosen.with_for_update(of=crime_table)  # a writer queues for the crime on PostgreSQL


def _officer_lock(dialect: Dialect) -> Any:
    """Lock the officer's row before its live count is read (PostgreSQL only)."""
    from sqlalchemy import String, bindparam, select

    from caseload.store.models import officer_table

    collar = bindparam("collar", "AA00001", String())
    return select(officer_table.c.id).where(officer_table.c.collar == collar).with_for_update()


def _officer(dialect: Dialect) -> Any:
    from sqlalchemy import String, bindparam, select

    from caseload.store.allocation import officer_facts_query
    from caseload.store.models import crime_table, officer_table

    collar = bindparam("collar", "AA00001", String())
    chosen = select(officer_table.c.id).where(officer_table.c.collar == collar)
    return officer_facts_query(
        officer_table.c.collar == collar, crime_table.c.holder_id == chosen.scalar_subquery()
    )


def _absences(dialect: Dialect) -> Any:
    from caseload.store.absences import outlook_query

    return outlook_query()


def _teams(dialect: Dialect) -> Any:
    from caseload.store.reference import teams_query

    return teams_query()


def _rebalance_crimes(dialect: Dialect) -> Any:
    from caseload.store.engine_queries import in_teams, live_crimes_query
    from caseload.store.models import crime_table

    return live_crimes_query(in_teams(crime_table.c.team_id, [1]))


def _rebalance_officers(dialect: Dialect) -> Any:
    from types import SimpleNamespace

    from sqlalchemy import or_

    from caseload.store.engine_queries import in_teams, officer_loads_query
    from caseload.store.models import officer_table
    from caseload.store.sqlfunc import one_of

    on = SimpleNamespace(dialect=dialect)  # one_of reads only the dialect
    holders = one_of(on, officer_table.c.id, [1, 2], name="also")
    return officer_loads_query(DEFAULTS, or_(in_teams(officer_table.c.team_id, [1]), holders))


def _rebalance_links(dialect: Dialect) -> Any:
    from caseload.store.engine_queries import in_teams, links_query
    from caseload.store.models import crime_table

    return links_query(in_teams(crime_table.c.team_id, [1]))


def _crime_record(dialect: Dialect) -> Any:
    from sqlalchemy import String, bindparam

    from caseload.store.crimes import record_query
    from caseload.store.models import crime_table

    return record_query().where(crime_table.c.reference == bindparam("reference", "X", String()))


def _crime_story(section: str) -> Callable[[Dialect], Any]:
    def build(dialect: Dialect) -> Any:
        from sqlalchemy import Integer, bindparam

        from caseload.store.crimes import story_query

        return story_query(section, bindparam("crime", 1, Integer()))

    return build


def _crime_entitlement(dialect: Dialect) -> Any:
    from caseload.store.victims import entitlement_reason_query

    return entitlement_reason_query()


def _officer_record(dialect: Dialect) -> Any:
    from caseload.store.officers import record_query

    return record_query()


def _officer_absences(dialect: Dialect) -> Any:
    from sqlalchemy import Integer, bindparam

    from caseload.store.absences import absences_query

    return absences_query(bindparam("officer", 1, Integer()))


def _log_tail(dialect: Dialect) -> Any:
    from caseload.store.log import tail_query

    return tail_query()


# The inputs that workload_query binds by name.
_WORKLOAD_INPUTS = frozenset(workload_inputs(DEFAULTS, on=date(2026, 1, 1)))

# name: (builder for a dialect, the inputs bound at run time)
STATEMENTS: dict[str, tuple[Callable[[Dialect], Any], frozenset[str]]] = {
    "policy": (_policy, frozenset()),
    "policy.teams": (_policy_teams, frozenset()),
    "workload.officer": (_workload_officer, _WORKLOAD_INPUTS),
    "workload.force": (_workload_listing(None), _WORKLOAD_INPUTS - {"collar"}),
    "workload.as_of": (
        _workload_listing(date(2026, 1, 1)),
        (_WORKLOAD_INPUTS - {"collar", "today"}) | {"as_of", "as_of_end"},
    ),
    "officer.team": (_officer_team, frozenset({"collar"})),
    "allocation.crime": (_crime, frozenset({"reference"})),
    "allocation.officer": (_officer, frozenset({"collar"})),
    "allocation.officer.lock": (_officer_lock, frozenset({"collar"})),
    "allocation.absences": (_absences, frozenset({"collar", "today", "horizon"})),
    "log.tail": (_log_tail, frozenset()),
    "teams": (_teams, frozenset()),
    "rebalance.crimes": (_rebalance_crimes, frozenset({"team"})),
    "rebalance.officers": (
        _rebalance_officers,
        frozenset({"team", "also", "today", *WEIGHT_SETTINGS}),
    ),
    "rebalance.links": (_rebalance_links, frozenset({"team"})),
    "crime.record": (_crime_record, frozenset({"reference"})),
    "export.crimes.lines": (_crime_lines, frozenset()),
    "export.crimes.cells": (_crime_cells, frozenset({"first", "last"})),
    "export.crimes.count": (_crime_count, frozenset()),
    **{f"crime.{section}": (_crime_story(section), frozenset({"crime"})) for section in STORY},
    "crime.entitlement": (_crime_entitlement, frozenset({"reference"})),
    "officer.record": (_officer_record, frozenset({"collar"})),
    "officer.absences": (_officer_absences, frozenset({"officer"})),
}


def build(name: str, dialect: Dialect) -> Any:
    """The named statement for ``dialect``, with sample values for its inputs (bound
    again at run time: ``SqlAlchemyExecutor``)."""
    return STATEMENTS[name][0](dialect)


def column_kind(column: Any) -> str | None:
    """How a result column is read back from SQLite's cursor (``sqlite_values.PARSERS``):
    ``date``, ``timestamp``, ``bool``, or None for a value the cursor gives as it is (an
    int, text). Any other type is refused: its value would not read back as SQLAlchemy's."""
    from sqlalchemy import Boolean, Date, DateTime, Integer, String
    from sqlalchemy.types import NullType

    kind = column.type
    if isinstance(kind, DateTime):
        return "timestamp"
    if isinstance(kind, Date):
        return "date"
    if isinstance(kind, Boolean):
        return "bool"
    if isinstance(kind, Integer | String | NullType):
        return None
    raise ValueError(f"column {column.key}: no SQLite reading for {kind!r}")


def compile_all() -> dict[str, dict[str, Any]]:
    """Each statement's SQLite text (named parameters), inputs, constants, result
    columns (name, kind) and the positions of those that may hold text
    (``store.executor.RawRows``)."""
    from sqlalchemy.dialects import sqlite

    from caseload.store.export import text_positions

    dialect = sqlite.dialect(paramstyle="named")
    result: dict[str, dict[str, Any]] = {}
    for name, (build, inputs) in STATEMENTS.items():
        query = build(dialect)
        compiled = query.compile(dialect=dialect)
        params = compiled.params
        if not inputs <= params.keys():
            raise ValueError(f"{name}: no bound value named {sorted(inputs - params.keys())}")
        constants = {key: value for key, value in params.items() if key not in inputs}
        for key, value in constants.items():
            if value is not None and type(value) not in (int, str):
                raise ValueError(f"{name}: constant {key} is {value!r}, not an int or text")
        columns = [[column.key, column_kind(column)] for column in query.selected_columns]
        result[name] = {
            "sql": str(compiled),
            "inputs": sorted(inputs),
            "constants": constants,
            "columns": columns,
            "text": text_positions(query),
        }
    return result


def render() -> str:
    """``precompiled.json``'s text."""
    return json.dumps(compile_all(), indent=1, sort_keys=True) + "\n"


def main() -> None:
    import sys

    PRECOMPILED.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"Wrote {PRECOMPILED} ({len(STATEMENTS)} statements).\n")


if __name__ == "__main__":
    main()
