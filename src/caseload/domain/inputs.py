"""What the single-record commands take: validated input models (pydantic, no database).

In the style of FastAPI's full-stack template, each command that writes one record has
a model carrying its input (``OfficerCreate``, ``OfficerUpdate``, ``TeamCreate``,
``ReviewCreate``, ``PolicyChange``, ...); the store's single-record functions take
these models. The field rules are not written here: each field type below runs the
one parser the CLI options and the CSV columns use (``domain.values``,
``domain.levels``, ``domain.officers``, ``domain.policy``), so a rule lives in one
place whichever way a value arrives.

``validated(Model, **values)`` builds a model; a pydantic ``ValidationError`` becomes
one ``InputError`` (exit 2) naming the option, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, model_validator

from caseload.domain.events import parse_event_kind
from caseload.domain.levels import parse_level
from caseload.domain.officers import check_capacity, parse_rank, parse_status
from caseload.domain.outcomes import OUTCOMES
from caseload.domain.policy import parse_setting
from caseload.domain.sampling import parse_quality
from caseload.domain.values import clean_text, in_range, normalise_collar, not_future
from caseload.errors import InputError

M = TypeVar("M", bound="Input")


def _text(what: str, max_length: int = 200, *, optional: bool = False) -> Callable[[str], str]:
    def check(value: str) -> str:
        if optional and not value.strip():
            return ""
        return clean_text(value, what, max_length=max_length)

    return check


def _past(day: date) -> date:
    return in_range(not_future(day))


Collar = Annotated[str, AfterValidator(normalise_collar)]
Level = Annotated[str, AfterValidator(parse_level)]
Status = Annotated[str, AfterValidator(parse_status)]
Rank = Annotated[str, AfterValidator(parse_rank)]
Capacity = Annotated[int | None, AfterValidator(check_capacity)]
PastDate = Annotated[date, AfterValidator(_past)]  # the day something happened
Day = Annotated[date, AfterValidator(in_range)]  # a planned day (a next review)
Name = Annotated[str, AfterValidator(_text("the name"))]
TeamName = Annotated[str, AfterValidator(_text("the team", 100))]
Reason = Annotated[str, AfterValidator(_text("the reason", 2000, optional=True))]
GivenReason = Annotated[str, AfterValidator(_text("the reason", 2000))]  # a reason is required
Override = Annotated[str, AfterValidator(_text("the override reason", 2000))]
Note = Annotated[str, AfterValidator(_text("the note", 2000))]
CrimeType = Annotated[str, AfterValidator(_text("the crime type", 100))]
EventKind = Annotated[str, AfterValidator(parse_event_kind)]
Quality = Annotated[str, AfterValidator(parse_quality)]


class Input(BaseModel):
    """A command's validated input: immutable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    # How the command line names a field, where not ``--field-name``.
    options: ClassVar[dict[str, str]] = {}


def option_name(model: type[Input], field: str) -> str:
    return model.options.get(field, "--" + field.replace("_", "-"))


def validated(model: type[M], **values: Any) -> M:
    """``model(**values)``, or InputError (exit 2) with the first problem in one sentence
    naming the option: "Invalid --since: 2031-01-01 is in the future."."""
    try:
        return model(**values)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        cause = error.get("ctx", {}).get("error")
        message = str(cause) if isinstance(cause, ValueError) else str(error["msg"])
        field = str(error["loc"][0]) if error["loc"] else ""
        from caseload.domain.values import escape_unprintable

        message = escape_unprintable(message)  # it may quote what was typed
        if not field:  # a rule over several fields: its message is the sentence
            raise InputError(f"{message}.") from None
        raise InputError(f"Invalid {option_name(model, field)}: {message}.") from None


# --- officers -------------------------------------------------------------------------------


class OfficerCreate(Input):
    """``officer add`` (and the officers import's columns)."""

    options: ClassVar[dict[str, str]] = {"collar": "COLLAR", "investigator_since": "--since"}

    collar: Collar
    name: Name
    team: TeamName
    accreditation: Level
    investigator_since: PastDate
    rank: Rank = ""
    status: Status = "active"
    capacity: Capacity = None
    trainee: bool = False


class OfficerUpdate(Input):
    """``officer update``: only the fields given change (``changes()``); at least one."""

    options: ClassVar[dict[str, str]] = {"investigator_since": "--since"}

    name: Name | None = None
    team: TeamName | None = None
    rank: Rank | None = None
    accreditation: Level | None = None
    investigator_since: PastDate | None = None
    capacity: Capacity = None
    trainee: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> OfficerUpdate:
        if not self.model_fields_set:
            raise ValueError("Nothing to change: give at least one option (see --help)")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields given, by the import column names (``capacity`` may be None: clear)."""
        return {
            key: getattr(self, key)
            for key in type(self).model_fields
            if key in self.model_fields_set
        }


class OfficerStatus(Input):
    """``officer status COLLAR STATUS``."""

    options: ClassVar[dict[str, str]] = {"status": "STATUS"}

    status: Status
    reason: Reason = ""


# --- crimes ---------------------------------------------------------------------------------


class CrimeCreate(Input):
    """``crime add CRIME``: ``required_level`` None takes the allocation matrix's."""

    options: ClassVar[dict[str, str]] = {
        "reference": "CRIME",
        "crime_type": "--type",
        "reported_on": "--reported",
        "required_level": "--level",
        "victim_enhanced": "--enhanced",
    }

    reference: Annotated[str, AfterValidator(_text("the reference", 64))]
    crime_type: CrimeType
    team: TeamName
    reported_on: PastDate
    required_level: Level | None = None
    victim_enhanced: bool = False


def _outcome(value: int) -> int:
    if value not in OUTCOMES:
        raise ValueError(f"{value} is not a Home Office outcome type")
    return value


Outcome = Annotated[int, AfterValidator(_outcome)]


class CrimeUpdate(Input):
    """``crime update CRIME --reason ...``: only the fields given change (``changes()``); at
    least one. ``override`` records why a level above the holder's accreditation is set in
    block mode."""

    options: ClassVar[dict[str, str]] = {
        "crime_type": "--type",
        "reported_on": "--reported",
        "required_level": "--level",
        "victim_enhanced": "--enhanced",
    }
    # What a correction may change, in the order it is reported.
    correctable: ClassVar[tuple[str, ...]] = (
        "crime_type",
        "team",
        "reported_on",
        "required_level",
        "victim_enhanced",
    )

    reason: GivenReason
    crime_type: CrimeType | None = None
    team: TeamName | None = None
    reported_on: Day | None = None  # not after the decision's day: checked by the store
    required_level: Level | None = None
    victim_enhanced: bool | None = None
    override: Override | None = None

    @model_validator(mode="after")
    def _something(self) -> CrimeUpdate:
        if not self.changes():
            raise ValueError(
                "Nothing to change: give --type, --team, --reported, --level or "
                "--enhanced/--standard"
            )
        return self

    def changes(self) -> dict[str, Any]:
        """The correctable fields given (None is not given: none of them can be cleared)."""
        return {key: value for key in self.correctable if (value := getattr(self, key)) is not None}


class CrimeFinalise(Input):
    """``crime finalise CRIME --outcome N``: finalised on ``finalised_on``."""

    options: ClassVar[dict[str, str]] = {"finalised_on": "--on"}

    outcome: Outcome
    finalised_on: PastDate
    reason: Reason = ""


class CrimeReopen(Input):
    """``crime reopen CRIME --reason ...``: live again from ``reopened_on``, with its last
    holder under the allocation rules (``override`` a block-mode refusal), or none."""

    options: ClassVar[dict[str, str]] = {"reopened_on": "--on"}

    reopened_on: PastDate
    reason: GivenReason
    override: Override | None = None
    unallocated: bool = False

    @model_validator(mode="after")
    def _one_way_back(self) -> CrimeReopen:
        if self.override and self.unallocated:
            raise ValueError("Give --override or --unallocated, not both")
        return self


# --- teams ----------------------------------------------------------------------------------


class TeamCreate(Input):
    """``team add NAME``."""

    options: ClassVar[dict[str, str]] = {"name": "NAME"}

    name: Annotated[str, AfterValidator(_text("the team name", 100))]


class TeamRename(Input):
    """``team rename OLD NEW``."""

    options: ClassVar[dict[str, str]] = {"old": "OLD", "new": "NEW"}

    old: Annotated[str, AfterValidator(_text("the team name", 100))]
    new: Annotated[str, AfterValidator(_text("the team name", 100))]
    reason: str = ""


# --- supervision ----------------------------------------------------------------------------


class ReviewCreate(Input):
    """``review CRIME --note ...``: a supervisory review on ``reviewed_on``."""

    options: ClassVar[dict[str, str]] = {"reviewed_on": "--on", "next_due": "--next"}

    note: Note
    reviewed_on: PastDate
    next_due: Day | None = None
    quality: Quality | None = None  # a quality review's result: pass, advice or fail


class KeyEventCreate(Input):
    """``event CRIME KIND``."""

    options: ClassVar[dict[str, str]] = {"kind": "KIND", "occurred_on": "--on"}

    kind: EventKind
    occurred_on: PastDate


class VictimUpdateCreate(Input):
    """``victim-update CRIME --note ...``."""

    options: ClassVar[dict[str, str]] = {"updated_on": "--on"}

    note: Note
    updated_on: PastDate


# --- reference data -------------------------------------------------------------------------


class PolicyChange(Input):
    """``policy set NAME VALUE``: ``value`` is the setting's parsed value
    (``domain.policy.parse_setting``), ``name`` its lower-case key."""

    options: ClassVar[dict[str, str]] = {"name": "NAME", "value": "VALUE"}

    name: str
    value: int | str
    reason: Reason = ""

    @model_validator(mode="before")
    @classmethod
    def _parsed(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("value"), str):
            key = str(data.get("name", "")).strip().lower()
            try:
                value = parse_setting(key, data["value"])
            except ValueError as exc:
                raise ValueError(f"{exc}; nothing was changed") from None
            return {**data, "name": key, "value": value}
        return data


class MatrixChange(Input):
    """``matrix set TYPE LEVEL``."""

    options: ClassVar[dict[str, str]] = {"crime_type": "TYPE", "required_level": "LEVEL"}

    crime_type: CrimeType
    required_level: Level
