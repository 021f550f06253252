"""The statements the direct path runs, compiled ahead from the store's own Core queries.

``store.direct`` serves the one-officer commands on SQLite without importing
SQLAlchemy (importing it costs more than everything else such a command does). It
runs the SQLite text of the statements below, kept in ``precompiled.json`` beside
this file. ``python -m caseload.store.statements`` rewrites that file, and
tests/test_direct.py fails when it no longer matches what these queries compile to,
so a change to a query cannot leave the direct path running the old SQL.

Each statement is compiled with sample values for its named inputs (the values the
direct path binds at run time); every other bound value is a constant of the query
(a status, a level name, a flag's text) and is kept beside the text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from caseload.domain.policy import DEFAULTS, WEIGHT_SETTINGS
from caseload.store.workload import workload_inputs

PRECOMPILED = Path(__file__).with_name("precompiled.json")


def _policy() -> Any:
    from caseload.store.reference import policy_query

    return policy_query()


def _workload_officer() -> Any:
    from caseload.store.workload import workload_query

    return workload_query(DEFAULTS, collar="AA00001")


def _crime() -> Any:
    from sqlalchemy import bindparam

    from caseload.store.allocation import crime_facts_query
    from caseload.store.models import crime_table

    return crime_facts_query().where(crime_table.c.reference == bindparam("reference", "X"))


def _officer() -> Any:
    from sqlalchemy import String, bindparam, select

    from caseload.store.allocation import officer_facts_query
    from caseload.store.models import crime_table, officer_table

    collar = bindparam("collar", "AA00001", String())
    chosen = select(officer_table.c.id).where(officer_table.c.collar == collar)
    return officer_facts_query(
        officer_table.c.collar == collar, crime_table.c.holder_id == chosen.scalar_subquery()
    )


def _teams() -> Any:
    from caseload.store.reference import teams_query

    return teams_query()


def _rebalance_crimes() -> Any:
    from caseload.store.engine_queries import in_teams, live_crimes_query
    from caseload.store.models import crime_table

    return live_crimes_query(in_teams(crime_table.c.team_id, [1]))


def _rebalance_officers() -> Any:
    from types import SimpleNamespace

    from sqlalchemy import or_
    from sqlalchemy.dialects import sqlite

    from caseload.store.engine_queries import in_teams, officer_loads_query
    from caseload.store.models import officer_table
    from caseload.store.sqlfunc import one_of

    on_sqlite = SimpleNamespace(dialect=sqlite.dialect())  # one_of reads only the dialect
    holders = one_of(on_sqlite, officer_table.c.id, [1, 2], name="also")
    return officer_loads_query(DEFAULTS, or_(in_teams(officer_table.c.team_id, [1]), holders))


def _rebalance_links() -> Any:
    from caseload.store.engine_queries import in_teams, links_query
    from caseload.store.models import crime_table

    return links_query(in_teams(crime_table.c.team_id, [1]))


def _log_tail() -> Any:
    from caseload.store.log import tail_query

    return tail_query()


# The inputs that workload_query binds by name.
_WORKLOAD_INPUTS = frozenset(workload_inputs(DEFAULTS, on=date(2026, 1, 1)))

# name: (builder, the inputs bound at run time)
STATEMENTS: dict[str, tuple[Callable[[], Any], frozenset[str]]] = {
    "policy": (_policy, frozenset()),
    "workload.officer": (_workload_officer, _WORKLOAD_INPUTS),
    "allocation.crime": (_crime, frozenset({"reference"})),
    "allocation.officer": (_officer, frozenset({"collar"})),
    "log.tail": (_log_tail, frozenset()),
    "teams": (_teams, frozenset()),
    "rebalance.crimes": (_rebalance_crimes, frozenset({"team"})),
    "rebalance.officers": (
        _rebalance_officers,
        frozenset({"team", "also", *WEIGHT_SETTINGS}),
    ),
    "rebalance.links": (_rebalance_links, frozenset({"team"})),
}


def compile_all() -> dict[str, dict[str, Any]]:
    """Each statement's SQLite text (named parameters), inputs and constants."""
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect(paramstyle="named")
    result: dict[str, dict[str, Any]] = {}
    for name, (build, inputs) in STATEMENTS.items():
        compiled = build().compile(dialect=dialect)
        params = compiled.params
        if not inputs <= params.keys():
            raise ValueError(f"{name}: no bound value named {sorted(inputs - params.keys())}")
        constants = {key: value for key, value in params.items() if key not in inputs}
        for key, value in constants.items():
            if value is not None and type(value) not in (int, str):
                raise ValueError(f"{name}: constant {key} is {value!r}, not an int or text")
        result[name] = {"sql": str(compiled), "inputs": sorted(inputs), "constants": constants}
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
