"""The CSV files caseload reads: one column spec per kind, and row validation.

Plain functions over plain values, no I/O: the importer (``store.importer``)
streams a file through ``match_header`` and ``parse_row`` and does the storage.

* A ``Spec`` lists a kind's columns (name, parser, required or default), the
  column whose value must be unique within one file (``key``), and an optional
  ``check`` for rules across the columns of one row (``finalised_on`` needs an
  ``outcome``). Adding a kind (reviews, events, victim updates) means adding a
  spec here and a writer in ``store.importer``.
* Header names match case-insensitively and in any order (DOMAIN.md).
* A cell is read back exactly as ``caseload ... --format csv`` wrote it: the
  neutralising ``'`` in front of ``=``, ``+``, ``-``, ``@``, tab or CR is removed.
* Every problem is ``(column, message)``; ``problem_text`` words it as
  ``line N, column C: message`` with the header as line 1, as an editor counts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from caseload.domain.levels import parse_level
from caseload.domain.officers import parse_capacity, parse_rank, parse_status
from caseload.domain.outcomes import parse_outcome
from caseload.domain.values import (
    UNPRINTABLE,
    clean_text,
    in_range,
    normalise_collar,
    not_future,
    parse_bool,
    parse_date,
)
from caseload.domain.victims import parse_category

Problem = tuple[str, str]  # (column, message)

# Same rule as cli.output.neutralise/unneutralise; repeated here so the domain needs no CLI.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def unneutralise(text: str) -> str:
    """Undo the ``'`` that caseload's CSV export puts before a formula-like cell."""
    if len(text) > 1 and text[0] == "'" and (text[1] in _FORMULA_PREFIXES or text[1] == "'"):
        return text[1:]
    return text


@dataclass(frozen=True)
class Column:
    """One column: its header name, how a non-blank cell is parsed, and blank handling."""

    name: str
    parse: Callable[[str], Any]
    required: bool = False  # the header must name it and every cell must be filled
    default: Any = None  # the value of a blank cell in an optional column
    not_future: bool = False  # a date or time that cannot be after today


@dataclass(frozen=True)
class Spec:
    """A kind of CSV file: its columns, its within-file unique key and row-level rules."""

    kind: str  # as typed: caseload import KIND
    noun: str  # singular, for messages: "crime"
    plural: str
    columns: tuple[Column, ...]
    key: Callable[[Mapping[str, Any]], Any] | None = None  # unique within one file
    key_column: str = ""
    key_label: str = ""  # how a duplicate is named: "reference"
    check: Callable[[Mapping[str, Any]], list[Problem]] | None = None
    by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {c.name: c for c in self.columns})

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


MEMO_LIMIT = 20_000  # remembered cells per column; the memo starts again when full

Memo = dict[str, tuple[Any, "str | None"]]  # raw cell -> (value, problem or None)


@dataclass(frozen=True)
class Header:
    """Where each known column sits in a row; unknown columns are skipped.

    ``plan`` pairs every column of the spec with its cell index (None: not in the
    file) and, for every column but the file's key, a memo of the cells already
    read: a crime file repeats its types, teams, levels, holders and dates on
    every row, and a cell's value depends on its text alone, so each distinct cell
    is parsed once. ``today`` is read once per file for the not-in-the-future checks.
    """

    positions: dict[str, int]
    width: int
    plan: tuple[tuple[Column, int | None, Memo | None], ...] = ()
    today: date = field(default_factory=date.today)


def problem_text(line: int, column: str | None, message: str) -> str:
    """``line 4, column reported_on: '31/02/2024' is not a real date``."""
    where = f"line {line}, column {column}" if column else f"line {line}"
    return f"{where}: {message}"


def _some(names: Sequence[str], shown: int = 10) -> str:
    """A readable list of names: the first few, each cut short, and how many more."""
    cut = [n if len(n) <= 40 else n[:39] + "…" for n in names[:shown]]
    more = f" and {len(names) - shown:,} more" if len(names) > shown else ""
    return ", ".join(cut) + more


def match_header(
    spec: Spec, cells: Sequence[str], *, ignore_unknown: bool = False
) -> tuple[Header, list[Problem]]:
    """Match header cells to the spec's columns (any case, any order, spaces trimmed)."""
    problems: list[Problem] = []
    positions: dict[str, int] = {}
    unknown: list[str] = []
    for index, raw in enumerate(cells):
        name = raw.strip().lower().replace(" ", "_")
        if name in spec.by_name:
            if name in positions:
                problems.append((name, f"the column {name} appears twice in the header"))
            else:
                positions[name] = index
        elif not ignore_unknown:
            unknown.append(raw.strip() or f"(blank, column {index + 1})")
    if unknown:
        problems.append(
            (
                "",
                f"unknown column{'s' if len(unknown) > 1 else ''} {_some(unknown)} "
                f"(expected {', '.join(spec.names)}; --ignore-unknown skips others)",
            )
        )
    missing = [name for name in spec.required if name not in positions]
    if missing:
        problems.append(
            (
                "",
                f"missing required column{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
            )
        )
    plan: tuple[tuple[Column, int | None, Memo | None], ...] = tuple(
        (column, positions.get(column.name), None if column.name == spec.key_column else {})
        for column in spec.columns
    )
    return Header(positions, len(cells), plan, date.today()), problems


def parse_row(
    spec: Spec, header: Header, cells: Sequence[str]
) -> tuple[dict[str, Any], list[Problem]]:
    """Parse one data row; returns the values by column name and every problem found."""
    problems: list[Problem] = []
    count = len(cells)
    if count > header.width and any(cell.strip() for cell in cells[header.width :]):
        problems.append(
            ("", f"the row has {count} cells but the header has {header.width} columns")
        )
    values: dict[str, Any] = {}
    today = header.today
    for column, index, memo in header.plan:
        raw = cells[index] if index is not None and index < count else ""
        seen = memo.get(raw) if memo is not None else None
        if seen is None:
            seen = parse_cell(column, raw, today)
            if memo is not None:
                if len(memo) >= MEMO_LIMIT:
                    memo.clear()
                memo[raw] = seen
        value, problem = seen
        values[column.name] = value
        if problem is not None:
            problems.append((column.name, problem))
    if not problems and spec.check is not None:
        problems.extend(spec.check(values))
    return values, problems


def parse_cell(column: Column, raw: str, today: date) -> tuple[Any, str | None]:
    """One cell's value and its problem (None when it has none); a cell that does not
    parse has the value None."""
    text = raw.strip()
    if text and text[0] == "'":
        text = unneutralise(text).strip()
    if not text:
        return column.default, "a value is required" if column.required else None
    try:
        value = column.parse(text)
    except ValueError as exc:
        return None, str(exc)
    if column.not_future:
        try:
            not_future(value.date() if isinstance(value, datetime) else value, today=today)
        except ValueError as exc:
            return value, str(exc)
    return value, None


# --- cell parsers ---------------------------------------------------------------------------


def _text(what: str, max_length: int = 200) -> Callable[[str], str]:
    """A one-line text cell (``values.clean_text``'s rules, with a fast path for good cells)."""

    def parse(value: str) -> str:
        if len(value) <= max_length and not UNPRINTABLE.search(value):
            return value  # already trimmed by parse_row, not blank
        return clean_text(value, what, max_length=max_length)

    return parse


def parse_when(text: str) -> datetime:
    """A moment: ISO ``2025-04-03 14:20[:05]`` (or ``T``), or a date (its midnight)."""
    value = text.strip()
    if len(value) > 10 and value[:4].isdigit():
        try:
            moment = datetime.fromisoformat(value).replace(tzinfo=None, microsecond=0)
        except ValueError:
            pass
        else:
            in_range(moment.date())
            return moment
    try:
        return datetime.combine(parse_date(value), time.min)
    except ValueError as exc:
        if "outside the dates" in str(exc):
            raise
        raise ValueError(
            f"'{value}' is not a date or time (use YYYY-MM-DD, YYYY-MM-DD HH:MM or DD/MM/YYYY)"
        ) from None


# --- the kinds ------------------------------------------------------------------------------

OFFICERS = Spec(
    kind="officers",
    noun="officer",
    plural="officers",
    columns=(
        Column("collar", normalise_collar, required=True),
        Column("name", _text("the name"), required=True),
        Column("team", _text("the team", 100), required=True),
        Column("accreditation", parse_level, required=True),
        Column("investigator_since", parse_date, required=True, not_future=True),
        Column("rank", parse_rank, default=""),
        Column("status", parse_status, default="active"),
        Column("capacity", parse_capacity, default=None),
        Column("trainee", parse_bool, default=False),
        Column("supervisor", normalise_collar, default=None),  # a collar; None: nobody
    ),
    key=lambda v: v["collar"],
    key_column="collar",
    key_label="collar",
)


def _grade(value: str) -> str:
    from caseload.domain.risk import parse_grade

    return parse_grade(value)


def _check_crime(values: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    finalised_on, outcome = values["finalised_on"], values["outcome"]
    if finalised_on is not None and outcome is None:
        problems.append(("outcome", "a finalised crime needs an outcome (Home Office type)"))
    elif outcome is not None and finalised_on is None:
        problems.append(("finalised_on", "an outcome needs the date the crime was finalised"))
    elif finalised_on is not None and finalised_on < values["reported_on"]:
        problems.append(
            (
                "finalised_on",
                f"{finalised_on.isoformat()} is before the crime was reported "
                f"({values['reported_on'].isoformat()})",
            )
        )
    allocated_on = values["allocated_on"]
    if allocated_on is not None:
        if values["holder"] is None:
            problems.append(("allocated_on", "a date of allocation needs a holder"))
        elif allocated_on.date() < values["reported_on"]:
            problems.append(
                (
                    "allocated_on",
                    f"{allocated_on.date().isoformat()} is before the crime was reported "
                    f"({values['reported_on'].isoformat()})",
                )
            )
    return problems


CRIMES = Spec(
    kind="crimes",
    noun="crime",
    plural="crimes",
    columns=(
        Column("reference", _text("the reference", 64), required=True),
        Column("crime_type", _text("the crime type", 100), required=True),
        Column("reported_on", parse_date, required=True, not_future=True),
        Column("team", _text("the team", 100), required=True),
        Column("required_level", parse_level, default=None),  # None: from the matrix
        Column("holder", normalise_collar, default=None),
        # A victim_category makes the victim enhanced, whatever this column says.
        Column("victim_enhanced", parse_bool, default=False),
        Column("victim_category", parse_category, default=None),
        Column("finalised_on", parse_date, not_future=True),
        Column("outcome", parse_outcome, default=None),
        Column("allocated_on", parse_when, not_future=True),  # None: now
        # Last, so that a file written for the columns before it still reads (blank).
        Column("risk", _grade, default=None),  # None: standard (a new crime), or kept
    ),
    key=lambda v: v["reference"],
    key_column="reference",
    key_label="reference",
    check=_check_crime,
)

MATRIX = Spec(
    kind="matrix",
    noun="matrix entry",
    plural="matrix entries",
    columns=(
        Column("crime_type", _text("the crime type", 100), required=True),
        Column("required_level", parse_level, required=True),
        Column("risk", _grade, default=None),  # None: the type's own row
    ),
    key=lambda v: (v["crime_type"].lower(), "" if v["risk"] in (None, "standard") else v["risk"]),
    key_column="crime_type",
    key_label="crime type",
)


def _check_interval(values: Mapping[str, Any]) -> list[Problem]:
    start, end = values["from"], values["to"]
    if end is not None and end <= start:
        return [("to", f"{end} is not after 'from' ({start})")]
    return []


HISTORY = Spec(
    kind="history",
    noun="allocation interval",
    plural="allocation intervals",
    columns=(
        Column("reference", _text("the reference", 64), required=True),
        Column("holder", normalise_collar, required=True),
        Column("from", parse_when, required=True, not_future=True),
        Column("to", parse_when, not_future=True),  # None: the current holding
        Column("actor", _text("the actor", 100), required=True),
        Column("reason", _text("the reason", 2000), default="imported history"),
    ),
    key=lambda v: (v["reference"], v["from"]),
    key_column="from",
    key_label="interval (reference and from)",
    check=_check_interval,
)

# --- supervision and victim contact (issue 4): rows of review, key_event, victim_update ---
# ``on`` is the day it happened, as the commands' ``--on`` option.


def _event_kind(value: str) -> str:
    from caseload.domain.events import parse_event_kind

    return parse_event_kind(value)


def _quality(value: str) -> str:
    from caseload.domain.sampling import parse_quality

    return parse_quality(value)


def _check_review(values: Mapping[str, Any]) -> list[Problem]:
    day, due = values["on"], values["next_due"]
    if due is not None and day is not None and due <= day:
        return [("next_due", f"{due.isoformat()} is not after the review ({day.isoformat()})")]
    return []


REVIEWS = Spec(
    kind="reviews",
    noun="review",
    plural="reviews",
    columns=(
        Column("reference", _text("the reference", 64), required=True),
        Column("on", parse_date, required=True, not_future=True),
        Column("note", _text("the note", 2000), required=True),
        Column("next_due", parse_date, default=None),
        Column("actor", _text("the actor", 100), default=None),  # None: the importer
        Column("quality", _quality, default=None),  # a quality review's result
    ),
    key=lambda v: (v["reference"], v["on"]),
    key_column="on",
    key_label="review (reference and day)",
    check=_check_review,
)

EVENTS = Spec(
    kind="events",
    noun="key event",
    plural="key events",
    columns=(
        Column("reference", _text("the reference", 64), required=True),
        Column("kind", _event_kind, required=True),
        Column("on", parse_date, required=True, not_future=True),
        Column("actor", _text("the actor", 100), default=None),
    ),
    key=lambda v: (v["reference"], v["kind"], v["on"]),
    key_column="on",
    key_label="key event (reference, kind and day)",
)

VICTIM_UPDATES = Spec(
    kind="victim-updates",
    noun="victim update",
    plural="victim updates",
    columns=(
        Column("reference", _text("the reference", 64), required=True),
        Column("on", parse_date, required=True, not_future=True),
        Column("note", _text("the note", 2000), required=True),
        Column("actor", _text("the actor", 100), default=None),
    ),
    key=lambda v: (v["reference"], v["on"]),
    key_column="on",
    key_label="victim update (reference and day)",
)

# --- absences (issue 18): dated absences and capacity reductions -----------------------------


def _absence_kind(value: str) -> str:
    from caseload.domain.absences import parse_kind

    return parse_kind(value)


def _percent(value: str) -> int:
    from caseload.domain.absences import parse_percent

    return parse_percent(value)


def _check_absence(values: Mapping[str, Any]) -> list[Problem]:
    from caseload.domain.absences import REDUCED, check_dates

    start, end, kind = values["from"], values["to"], values["kind"]
    if start is not None:
        problem = check_dates(start, end)
        if problem is not None:
            return [("to", problem)]
    if kind == REDUCED and values["percent"] is None:
        return [("percent", "a capacity reduction (kind reduced) needs its percentage")]
    if kind is not None and kind != REDUCED and values["percent"] is not None:
        return [("percent", "a percentage is only for a capacity reduction (kind reduced)")]
    return []


ABSENCES = Spec(
    kind="absences",
    noun="absence",
    plural="absences",
    columns=(
        Column("collar", normalise_collar, required=True),
        Column("kind", _absence_kind, required=True),
        Column("from", parse_date, required=True),  # planned absences may lie ahead
        Column("to", parse_date, default=None),  # None: open-ended
        Column("percent", _percent, default=None),
        Column("reason", _text("the reason", 2000), required=True),
    ),
    key=lambda v: (v["collar"], v["kind"], v["from"]),
    key_column="from",
    key_label="absence (collar, kind and from)",
    check=_check_absence,
)


VICTIM_REFERRALS = Spec(
    kind="victim-referrals",
    noun="victim referral",
    plural="victim referrals",
    columns=(
        Column("reference", _text("the reference", 64), required=True),
        Column("on", parse_date, required=True, not_future=True),
        Column("declined", parse_bool, default=False),  # yes: the victim declined
        Column("actor", _text("the actor", 100), default=None),
    ),
    key=lambda v: (v["reference"], v["on"]),
    key_column="on",
    key_label="victim referral (reference and day)",
)

SPECS: dict[str, Spec] = {
    spec.kind: spec
    for spec in (
        OFFICERS,
        CRIMES,
        MATRIX,
        HISTORY,
        REVIEWS,
        EVENTS,
        VICTIM_UPDATES,
        VICTIM_REFERRALS,
        ABSENCES,
    )
}
