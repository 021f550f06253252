"""SQL expressions shared by the store's queries, portable between SQLite and PostgreSQL.

SQLite keeps dates as ISO text, so date arithmetic compiles differently there
(``_by_dialect`` registers each function's two forms); ``unindexed`` is a planner
hint that only SQLite needs; ``one_of`` binds a whole key list as one value;
``sqlite_line`` joins a row's cells into one text on SQLite (export and ``due`` lines).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date
from typing import Any

from sqlalchemy import (
    ARRAY,
    Date,
    DateTime,
    Integer,
    String,
    any_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction

from caseload.domain.levels import RANK
from caseload.domain.officers import inexperienced_after
from caseload.domain.values import as_of_values
from caseload.store.executor import SEPARATOR
from caseload.store.sqlite_values import key_list


def date_literal(value: date) -> Any:
    """A date as a typed SQL literal (compared with date columns on every dialect)."""
    return literal(value, Date())


def as_of_binds(as_of: date, *, named: bool = False) -> tuple[Any, Any]:
    """A past day and its end (``domain.values.end_of_day``) as a query compares them:
    plain values (bound anonymously), or with ``named`` bound by the names
    ``domain.values.as_of_values`` gives them, for a statement compiled ahead."""
    values = as_of_values(as_of)
    day, end = values["as_of"], values["as_of_end"]
    if not named:
        return day, end
    return bindparam("as_of", day, Date()), bindparam("as_of_end", end, DateTime())


def level_rank(expr: Any) -> Any:
    """An accreditation or required level's place in ``domain.levels.LEVELS`` (none 0 ...
    PIP4 4), as SQL: compare two of them to ask ``is_accredited_for`` of a whole set."""
    return case({level: rank for level, rank in RANK.items()}, value=expr, else_=0)


def inexperienced_on(officer: Any, on: date, inexperienced_months: int) -> Any:
    """``domain.officers.is_inexperienced`` for every row of ``officer`` (the officer
    table or an alias) on the day ``on``: a trainee, or began investigating after
    ``inexperienced_after`` (one date comparison; tests check it day by day)."""
    cutoff = inexperienced_after(on, inexperienced_months)
    return inexperienced_since(officer, literal(cutoff, Date()))


def inexperienced_since(officer: Any, cutoff: Any) -> Any:
    """``inexperienced_on`` with the cutoff date as SQL (a value bound by name in a
    statement compiled ahead: ``store.statements``)."""
    return or_(officer.c.trainee == true(), officer.c.investigator_since > cutoff)


def _by_dialect(
    function: type[GenericFunction[Any]],
    default: Callable[..., str],
    sqlite: Callable[..., str],
) -> None:
    """Compile ``function`` with ``default`` everywhere and ``sqlite`` on SQLite; each is
    given the function's arguments already compiled to SQL text."""

    def compiler_for(render: Callable[..., str]) -> Callable[..., str]:
        def compile_element(element: Any, compiler: Any, **kw: Any) -> str:
            return render(*(compiler.process(arg, **kw) for arg in element.clauses))

        return compile_element

    compiles(function)(compiler_for(default))
    compiles(function, "sqlite")(compiler_for(sqlite))


class unindexed(GenericFunction[Any]):  # noqa: N801 - reads as SQL
    """A column whose indexes SQLite's planner must not use here (``+column``, SQLite's
    documented way to say so); the value is unchanged, and other databases get the
    column as it is. For a check that reads every live crime's row anyway: scanning the
    table in its own order is about twice as fast as walking an index team by team,
    which is what SQLite picks when the findings are ordered by team."""

    inherit_cache = True


class day_of(GenericFunction[date]):  # noqa: N801 - reads as SQL
    """The calendar date of a timestamp."""

    type = Date()
    inherit_cache = True


class plus_days(GenericFunction[date]):  # noqa: N801 - reads as SQL
    """A date plus a whole number of days (both SQL expressions)."""

    type = Date()
    inherit_cache = True


class days_between(GenericFunction[int]):  # noqa: N801 - reads as SQL
    """The whole days from the first date to the second (negative when it is later)."""

    type = Integer()
    inherit_cache = True


class date_text(GenericFunction[str]):  # noqa: N801 - reads as SQL
    """A date as its ISO text, ``2026-04-01`` (as ``date.isoformat``), on every dialect
    (SQLite keeps that text already; PostgreSQL's own cast follows ``DateStyle``)."""

    type = String()
    inherit_cache = True


class later_of(GenericFunction[date]):  # noqa: N801 - reads as SQL
    """The later of two dates, the second when the first is NULL (``CASE WHEN a > b THEN
    a ELSE b END``). On SQLite ``coalesce(max(a, b), b)``, the same value with the first
    worked out once: it is often a correlated subquery, which a CASE runs twice."""

    type = Date()
    inherit_cache = True


def _each_use(element: Any, compiler: Any, kw: dict[str, Any]) -> list[Callable[[], str]]:
    """One callable per argument that compiles it anew at each use, as ``case()`` does: a
    bound value used twice then gets a parameter each time (SQLite's are positional)."""

    def compiled(arg: Any) -> Callable[[], str]:
        return lambda: str(compiler.process(arg, **kw))

    return [compiled(arg) for arg in element.clauses]


@compiles(later_of)
def _later_of(element: Any, compiler: Any, **kw: Any) -> str:
    a, b = _each_use(element, compiler, kw)
    return f"CASE WHEN {a()} > {b()} THEN {a()} ELSE {b()} END"


@compiles(later_of, "sqlite")
def _later_of_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    a, b = _each_use(element, compiler, kw)
    return f"coalesce(max({a()}, {b()}), {b()})"


_by_dialect(unindexed, lambda column: column, lambda column: f"+{column}")
_by_dialect(day_of, lambda at: f"CAST({at} AS DATE)", lambda at: f"date({at})")
_by_dialect(
    plus_days,
    lambda day, days: f"(CAST({day} AS DATE) + {days})",
    lambda day, days: f"date({day}, '+' || ({days}) || ' days')",
)
_by_dialect(
    days_between,
    lambda first, second: f"(CAST({second} AS DATE) - CAST({first} AS DATE))",
    lambda first, second: f"CAST(julianday({second}) - julianday({first}) AS INTEGER)",
)
_by_dialect(date_text, lambda day: f"to_char({day}, 'YYYY-MM-DD')", lambda day: f"({day})")


def one_of(
    conn: Any, column: Any, values: Collection[int] | Collection[str], *, name: str | None = None
) -> Any:
    """``column IN (values)`` with the whole list bound as ONE parameter: a JSON array
    read by ``json_each`` on SQLite, an array compared with ``= ANY`` on PostgreSQL.
    ``in_()`` binds every value separately, and expanding 5,000 of them on each
    execution cost SQLAlchemy more than the database spent answering; this statement
    compiles once and is cached like any other. ``name`` names the parameter, for
    statements compiled ahead (``store.statements``)."""
    items = list(values)
    if conn.dialect.name == "sqlite":
        listed = func.json_each(bindparam(name, key_list(items), type_=String()))
        return column.in_(select(listed.table_valued("value").c.value))
    return column == any_(bindparam(name, items, type_=ARRAY(column.type)))


def sqlite_line(cells: list[Any], separator: str = SEPARATOR) -> Any:
    """The cells as one text on SQLite, ``separator`` between them and NULL as an empty
    cell: one ``printf`` a row, not a chain of ``||`` that copies the line once per cell
    (the figures: ``benchmarks/RESULTS.md``, 2026-12-02 evening)."""
    form = separator.replace("%", "%%").join("%s" for _ in cells)
    return type_coerce(func.printf(literal(form, String), *cells), String)
