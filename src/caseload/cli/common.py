"""What every command shares: the open store, the actor, and option parsers.

Option parsers turn what people type into values, and turn a ``ValueError``
from the domain parsers into Typer's usage error (exit code 2, one sentence).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from caseload.store.connection import Store
    from caseload.store.executor import Executor

T = TypeVar("T")

# The most rows a count option (--limit, --top, --last) may ask for: far beyond any store,
# and inside the 64-bit integers SQLite and PostgreSQL bind (a larger number overflowed).
MOST_ROWS = 1_000_000_000


@dataclass
class AppState:
    """Per-invocation state set by the root callback."""

    db: str | None = None
    _store: Store | None = field(default=None, repr=False)

    def store(self) -> Store:
        """The store, opened (and upgraded if older) on first use; exit 4 if unusable."""
        if self._store is None:
            from caseload.store.connection import to_url
            from caseload.store.migrate import open_store

            self._store = open_store(to_url(self.db))
            note_read_only(self._store, self._store.read_only)
            _freeze_start_up()
        return self._store

    @contextmanager
    def executor(
        self,
        *,
        write: bool = False,
        quick: bool = True,
        serves: Callable[[Executor], bool] | None = None,
    ) -> Iterator[Executor]:
        """One transaction's executor, chosen by the store (``store.executor``)."""
        from caseload.store.connection import to_url
        from caseload.store.executor import open_executor

        url = to_url(self.db)
        with open_executor(url, full=self.store, write=write, quick=quick, serves=serves) as ex:
            _freeze_start_up()
            yield ex

    def close(self) -> None:
        if self._store is not None:
            self._store.dispose()
            self._store = None


_start_up_paused = False


def pause_gc_for_start_up() -> None:
    """No cyclic collections while a command imports its modules (SQLAlchemy and
    SQLModel create some 100,000 objects and none is garbage): each collection during
    the import would walk them all again. ``_freeze_start_up`` turns the collector back on."""
    import gc

    global _start_up_paused
    _start_up_paused = True
    gc.disable()


def _freeze_start_up() -> None:
    """Move everything alive now (SQLAlchemy's and caseload's modules, the engine)
    out of the cyclic garbage collector's reach: it lives until exit anyway, and
    otherwise every collection while a command builds its rows walks it again."""
    # Kept: without it crime show takes 1.11x the wall time, a team's plan 1.14x the CPU.
    import gc

    global _start_up_paused
    gc.freeze()
    if _start_up_paused:
        _start_up_paused = False
        gc.enable()


def note_read_only(store: Store, reason: str | None) -> None:
    """Say on stderr that the store was opened read-only, and why."""
    if reason:
        typer.echo(
            f"Note: the store {store.location} is {reason}; it was opened read-only "
            "(changes made elsewhere meanwhile may not be seen, and nothing can be saved).",
            err=True,
        )


def state(ctx: typer.Context) -> AppState:
    obj = ctx.find_root().obj
    if not isinstance(obj, AppState):  # a command invoked without the root callback
        obj = AppState(db=os.environ.get("CASELOAD_DB"))
        ctx.find_root().obj = obj
    return obj


def open_store(ctx: typer.Context) -> Store:
    return state(ctx).store()


def open_executor(
    ctx: typer.Context,
    *,
    write: bool = False,
    quick: bool = True,
    serves: Callable[[Executor], bool] | None = None,
) -> AbstractContextManager[Executor]:
    """One transaction's executor: the quick sqlite3 one where it can serve (``quick``: the
    command needs only the store's named statements; ``serves``: and they fit this store),
    else SQLAlchemy's."""
    return state(ctx).executor(write=write, quick=quick, serves=serves)


def resolve_actor(actor: str | None) -> str:
    """``--actor``, else ``CASELOAD_ACTOR``, else the login name; refused (exit 2) when
    the name given holds a control character, as every free text is."""
    from caseload.domain.values import escape_unprintable, unprintable_problem
    from caseload.errors import InputError

    source = "--actor" if actor else "CASELOAD_ACTOR"
    value = (actor or os.environ.get("CASELOAD_ACTOR") or "").strip()
    problem = unprintable_problem(value, source)
    if problem is not None:
        raise InputError(f"{problem}; nothing was written.")
    if not value:
        try:
            value = escape_unprintable(getpass.getuser())
        except Exception:  # no login name in some containers
            value = "unknown"
    return value[:100]


def typed(parse: Callable[[str], T]) -> Callable[[Any], T]:
    """Wrap a domain parser for Typer's ``parser=``: ValueError becomes a usage error."""

    def parser(value: Any) -> T:
        if not isinstance(value, str):
            return value  # type: ignore[no-any-return,unused-ignore]
        try:
            return parse(value)
        except ValueError as exc:
            from caseload.domain.values import escape_unprintable

            # the message may quote what was typed: shown escaped, as all text is
            raise typer.BadParameter(escape_unprintable(str(exc))) from None

    return parser


def _parse_date(value: str) -> date:
    from caseload.domain.values import parse_date

    return parse_date(value)


def _parse_past_date(value: str) -> date:
    from caseload.domain.values import parse_past_date

    return parse_past_date(value)


def _parse_level(value: str) -> str:
    from caseload.domain.levels import parse_level

    return parse_level(value)


def _parse_grade(value: str) -> str:
    from caseload.domain.risk import parse_grade

    return parse_grade(value)


def _parse_collar(value: str) -> str:
    from caseload.domain.values import normalise_collar

    return normalise_collar(value)


def _parse_text(value: str) -> str:
    from caseload.domain.values import clean_text

    return clean_text(value, "the text", max_length=2000)


parse_date_arg = typed(_parse_date)  # a planned day, or a day to look at
parse_past_date_arg = typed(_parse_past_date)  # the day something happened: not after today
parse_level_arg = typed(_parse_level)
parse_grade_arg = typed(_parse_grade)  # a risk grade: standard, medium or high
parse_collar_arg = typed(_parse_collar)
parse_text_arg = typed(_parse_text)


def text_arg(what: str, *, max_length: int = 2000, optional: bool = False) -> Callable[[Any], str]:
    """A parser for a free-text option (``values.clean_text``: trimmed, no control
    characters); ``optional``: an empty value is allowed and stays empty."""

    def parse(value: str) -> str:
        from caseload.domain.values import clean_text

        if optional and not value.strip():
            return ""
        return clean_text(value, what, max_length=max_length)

    return typed(parse)


def _parse_actor(value: str) -> str:
    from caseload.domain.values import unprintable_problem

    problem = unprintable_problem(value, "the actor")
    if problem is not None:
        raise ValueError(problem)
    return value


ActorOption = Annotated[
    str | None,
    typer.Option(
        "--actor",
        metavar="NAME",
        parser=typed(_parse_actor),
        help="Who is making this decision (default: CASELOAD_ACTOR, else your login name).",
    ),
]
AsOfOption = Annotated[
    date | None,
    typer.Option(
        "--as-of",
        metavar="DATE",
        parser=parse_date_arg,
        help="Show the store as it was at the end of this day (YYYY-MM-DD or DD/MM/YYYY).",
    ),
]
TeamFilter = Annotated[
    str | None, typer.Option("--team", "-t", metavar="TEAM", help="Only this team.")
]
