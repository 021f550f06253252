"""The store's tables, declared once as SQLModel ``table=True`` classes.

Design:

* SQLModel is the schema: each class below is one table, and ``SQLModel.metadata``
  is what Alembic compares the migrations with (``schema()``, tests/test_store.py).
  Set work (workload, audit, export, import, rebalance) is SQLAlchemy Core over the
  classes' tables (``officer_table`` is ``Officer.__table__``): one statement per
  set, never a row object per row.
* ``crime.holder_id`` is the current holder, kept in the same transaction as the
  allocation history so live counts are one indexed aggregate. ``allocation`` is
  the history: one interval per holding, never overwritten, from which any past
  day's holder can be rebuilt. ``finalisation`` does the same for live/finalised.
* ``log_entry`` is the decision log: every allocation, override, policy change,
  review and victim update, with a SHA-256 hash chained to the entry before it.
* ``log_entry`` and ``allocation`` are append-only (migration 0005's triggers):
  entries are never updated or deleted, an interval is only ever closed. ``login``
  beside ``actor`` is who acted (``store.identity``).
* Dates are calendar dates; times are the force's local wall-clock time (naive).
* Column types are given as SQLAlchemy types (``sa_type``) so that the migration
  scripts, which use plain SQLAlchemy types, compare equal and import no sqlmodel.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlmodel import Field, SQLModel

metadata: MetaData = SQLModel.metadata


def _key() -> Any:
    return Field(default=None, primary_key=True)


def _text(length: int, **kw: Any) -> Any:
    """A VARCHAR(length) column (``str | None`` annotations make it nullable)."""
    return Field(sa_type=String(length), **kw)


def _long(**kw: Any) -> Any:
    """A TEXT column."""
    return Field(sa_type=Text, **kw)


def _at() -> Any:
    """A naive local wall-clock timestamp (see the module docstring)."""
    return Field(sa_type=DateTime())


def _day() -> Any:
    return Field(sa_type=Date)


def _crime_key() -> Any:
    return Field(foreign_key="crime.id", sa_type=Integer)


class Team(SQLModel, table=True):
    __tablename__ = "team"

    id: int | None = _key()
    name: str = _text(100, unique=True)


class Officer(SQLModel, table=True):
    __tablename__ = "officer"
    __table_args__ = (Index("ix_officer_team_status", "team_id", "status"),)

    id: int | None = _key()
    collar: str = _text(16, unique=True)
    name: str = _text(200)
    team_id: int = Field(foreign_key="team.id", sa_type=Integer)
    rank: str = _text(20, default="")
    accreditation: str = _text(8)
    investigator_since: date = _day()
    status: str = _text(12, default="active")
    capacity: int | None = Field(default=None, sa_type=Integer)
    trainee: bool = Field(default=False, sa_type=Boolean)
    # Who supervises them: another officer's id (migration 0008; no foreign key, so that the
    # column is one ADD COLUMN on SQLite; ``store.supervisors`` checks it on every write).
    supervisor_id: int | None = Field(default=None, sa_type=Integer)


class OfficerHistory(SQLModel, table=True):
    """An officer's facts over time (migration 0006): one interval per spell of unchanged
    team, status, accreditation, trainee flag, capacity and investigator_since. The first
    interval has no start (``valid_from`` NULL: as far back as the store goes), the current
    one no end; ``valid_to`` is the first day of the next (``store.officer_history``)."""

    __tablename__ = "officer_history"
    __table_args__ = (Index("ix_officer_history_officer", "officer_id", "valid_from"),)

    id: int | None = _key()
    officer_id: int = Field(foreign_key="officer.id", sa_type=Integer)
    valid_from: date | None = Field(default=None, sa_type=Date)
    valid_to: date | None = Field(default=None, sa_type=Date)
    team_id: int = Field(foreign_key="team.id", sa_type=Integer)
    status: str = _text(12)
    accreditation: str = _text(8)
    trainee: bool = Field(default=False, sa_type=Boolean)
    capacity: int | None = Field(default=None, sa_type=Integer)
    investigator_since: date = _day()


class Absence(SQLModel, table=True):
    """A dated absence or capacity reduction (``domain.absences``); ``ends_on`` NULL: open.
    Cancelled ones are kept (``cancelled_at``) and count for nothing."""

    __tablename__ = "absence"
    __table_args__ = (Index("ix_absence_officer", "officer_id", "starts_on"),)

    id: int | None = _key()
    officer_id: int = Field(foreign_key="officer.id", sa_type=Integer)
    kind: str = _text(12)
    starts_on: date = _day()
    ends_on: date | None = Field(default=None, sa_type=Date)
    percent: int | None = Field(default=None, sa_type=Integer)
    reason: str = _long()
    actor: str = _text(100)
    at: datetime = _at()
    cancelled_at: datetime | None = Field(default=None, sa_type=DateTime())
    cancelled_by: str | None = _text(100, default=None)


class Crime(SQLModel, table=True):
    __tablename__ = "crime"
    __table_args__ = (
        Index("ix_crime_holder_live", "holder_id", "finalised_on"),
        Index("ix_crime_team_live", "team_id", "finalised_on"),
        Index("ix_crime_type", "crime_type"),
        # ix_crime_live: see schema() below.
    )

    id: int | None = _key()
    reference: str = _text(64, unique=True)
    crime_type: str = _text(100)
    required_level: str = _text(8)
    level_defaulted: bool = Field(default=False, sa_type=Boolean)
    reported_on: date = _day()
    team_id: int = Field(foreign_key="team.id", sa_type=Integer)
    victim_enhanced: bool = Field(default=False, sa_type=Boolean)
    # The enhanced entitlement's category (domain.victims); NULL: standard, or enhanced
    # recorded as yes/no only ("category not recorded"). Migration 0009.
    victim_category: str | None = _text(30, default=None)
    holder_id: int | None = Field(default=None, foreign_key="officer.id", sa_type=Integer)
    finalised_on: date | None = Field(default=None, sa_type=Date)
    outcome: int | None = Field(default=None, sa_type=Integer)
    victim_update_every: int | None = Field(default=None, sa_type=Integer)
    created_at: datetime = _at()
    # The current risk grade (``crime_risk`` keeps its history; migration 0008).
    risk: str = _text(8, default="standard", sa_column_kwargs={"server_default": "standard"})
    # The crime's own level while its risk raises ``required_level`` above it (the matrix's
    # risk rows); NULL when the risk raises nothing. Lowering the risk goes back to it.
    base_level: str | None = _text(8, default=None)


class Allocation(SQLModel, table=True):
    __tablename__ = "allocation"
    __table_args__ = (
        Index("ix_allocation_crime", "crime_id", "start_at"),
        Index("ix_allocation_officer", "officer_id", "start_at"),
        # ux_allocation_open: see schema() below.
    )

    id: int | None = _key()
    crime_id: int = _crime_key()
    officer_id: int = Field(foreign_key="officer.id", sa_type=Integer)
    start_at: datetime = _at()
    end_at: datetime | None = Field(default=None, sa_type=DateTime())
    actor: str = _text(100)
    login: str | None = _text(100, default=None)  # who acted (store.identity); 0005 on
    reason: str = _long()
    warnings: str = _long(default="", sa_column_kwargs={"server_default": ""})
    override_reason: str | None = _long(default=None)
    ended_by: str | None = _text(100, default=None)
    end_reason: str | None = _long(default=None)
    plan_id: str | None = _text(40, default=None)
    auto: bool = Field(default=False, sa_type=Boolean)


class CrimeRisk(SQLModel, table=True):
    """A crime's risk grade as an interval, like an allocation: never overwritten, only
    closed when the grade changes. A crime with no interval covering a moment was
    ``standard`` then (every crime recorded before migration 0008, and every crime
    recorded as standard)."""

    __tablename__ = "crime_risk"
    __table_args__ = (Index("ix_crime_risk_crime", "crime_id", "start_at"),)

    id: int | None = _key()
    crime_id: int = _crime_key()
    grade: str = _text(8)
    start_at: datetime = _at()
    end_at: datetime | None = Field(default=None, sa_type=DateTime())
    actor: str = _text(100)
    reason: str = _long(default="", sa_column_kwargs={"server_default": ""})


class Finalisation(SQLModel, table=True):
    __tablename__ = "finalisation"
    __table_args__ = (Index("ix_finalisation_crime", "crime_id", "finalised_on"),)

    id: int | None = _key()
    crime_id: int = _crime_key()
    finalised_on: date = _day()
    outcome: int = Field(sa_type=Integer)
    reopened_on: date | None = Field(default=None, sa_type=Date)
    actor: str = _text(100)


class MatrixEntry(SQLModel, table=True):
    __tablename__ = "matrix_entry"

    type_key: str = _text(100, primary_key=True)
    crime_type: str = _text(100)
    required_level: str = _text(8)


class MatrixRiskEntry(SQLModel, table=True):
    """A matrix row for one crime type at one risk grade (``medium`` or ``high``): crimes of
    the type at that grade or above need at least this level (``domain.risk``)."""

    __tablename__ = "matrix_risk_entry"

    type_key: str = _text(100, primary_key=True)
    risk: str = _text(8, primary_key=True)
    crime_type: str = _text(100)
    required_level: str = _text(8)


class PolicySetting(SQLModel, table=True):
    __tablename__ = "policy_setting"

    name: str = _text(40, primary_key=True)
    value: str = _text(40)


class TeamPolicySetting(SQLModel, table=True):
    """A policy setting overridden for one team (``policy set NAME VALUE --team TEAM``):
    the team's officers and crimes are judged by it instead of the force's value."""

    __tablename__ = "team_policy_setting"

    team_id: int = Field(foreign_key="team.id", sa_type=Integer, primary_key=True)
    name: str = _text(40, primary_key=True)
    value: str = _text(40)


class LogEntry(SQLModel, table=True):
    __tablename__ = "log_entry"
    __table_args__ = (
        Index("ix_log_crime", "crime_ref", "id"),
        Index("ix_log_collar", "collar", "id"),
    )

    id: int | None = _key()
    at: datetime = _at()
    actor: str = _text(100)
    login: str | None = _text(100, default=None)  # who acted (store.identity), hashed; 0005 on
    kind: str = _text(30)
    crime_ref: str | None = _text(64, default=None)
    collar: str | None = _text(16, default=None)
    reason: str = _long(default="", sa_column_kwargs={"server_default": ""})
    detail: str = _long(default="{}", sa_column_kwargs={"server_default": "{}"})
    prev_hash: str = _text(64)
    hash: str = _text(64)


class Review(SQLModel, table=True):
    __tablename__ = "review"
    # next_due too (migration 0003): the audit reads the last review from the index alone.
    __table_args__ = (Index("ix_review_crime", "crime_id", "reviewed_on", "id", "next_due"),)

    id: int | None = _key()
    crime_id: int = _crime_key()
    reviewed_on: date = _day()
    at: datetime = _at()
    actor: str = _text(100)  # the author; '' when an import did not say ("not given")
    note: str = _long()
    next_due: date | None = Field(default=None, sa_type=Date)
    imported_by: str | None = _text(100, default=None)  # who ran the import (migration 0004)
    quality: str | None = _text(8, default=None)  # a quality review's result (0008): pass, ...


class KeyEvent(SQLModel, table=True):
    __tablename__ = "key_event"
    __table_args__ = (Index("ix_key_event_crime", "crime_id", "occurred_on"),)

    id: int | None = _key()
    crime_id: int = _crime_key()
    kind: str = _text(40)
    occurred_on: date = _day()
    at: datetime = _at()
    actor: str = _text(100)


class VictimUpdate(SQLModel, table=True):
    __tablename__ = "victim_update"
    __table_args__ = (Index("ix_victim_update_crime", "crime_id", "updated_on"),)

    id: int | None = _key()
    crime_id: int = _crime_key()
    updated_on: date = _day()
    at: datetime = _at()
    actor: str = _text(100)  # the author; '' when an import did not say ("not given")
    note: str = _long()
    imported_by: str | None = _text(100, default=None)  # who ran the import (migration 0004)


class VictimReferral(SQLModel, table=True):
    """Right 4: the victim's details passed to support services, or the victim declined
    (migration 0009)."""

    __tablename__ = "victim_referral"
    __table_args__ = (Index("ix_victim_referral_crime", "crime_id", "referred_on"),)

    id: int | None = _key()
    crime_id: int = _crime_key()
    referred_on: date = _day()
    declined: bool = Field(default=False, sa_type=Boolean)
    at: datetime = _at()
    actor: str = _text(100)  # the author; '' when an import did not say ("not given")
    imported_by: str | None = _text(100, default=None)  # who ran the import


class DutyStart(SQLModel, table=True):
    """The day the store began recording a duty (migration 0009: ``victim-referral``, the
    day of the upgrade): crimes reported before it are not checked for that duty."""

    __tablename__ = "duty_start"

    duty: str = _text(40, primary_key=True)
    start_on: date = _day()


class CrimeLink(SQLModel, table=True):
    __tablename__ = "crime_link"
    __table_args__ = (
        Index("ux_crime_link_pair", "crime_a_id", "crime_b_id", unique=True),
        Index("ix_crime_link_b", "crime_b_id"),
    )

    id: int | None = _key()
    crime_a_id: int = Field(foreign_key="crime.id", sa_type=Integer)
    crime_b_id: int = Field(foreign_key="crime.id", sa_type=Integer)
    kind: str = _text(20)


class AuditRun(SQLModel, table=True):
    __tablename__ = "audit_run"

    id: int | None = _key()
    at: datetime = _at()
    as_of: date = _day()
    counts: str = _long()


# The teams each supervisor login may act in (``caseload access``, PostgreSQL): the
# row-level security policies read it. Roles themselves are PostgreSQL roles.
class AccessGrant(SQLModel, table=True):
    __tablename__ = "access_grant"

    login: str = _text(100, primary_key=True)
    team_id: int = Field(foreign_key="team.id", sa_type=Integer, primary_key=True)


def _table(model: type[SQLModel]) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


# The tables, for Core statements (set work): ``select(officer_table.c.collar)``.
team_table = _table(Team)
officer_table = _table(Officer)
officer_history_table = _table(OfficerHistory)
absence_table = _table(Absence)
crime_table = _table(Crime)
allocation_table = _table(Allocation)
finalisation_table = _table(Finalisation)
crime_risk_table = _table(CrimeRisk)
matrix_table = _table(MatrixEntry)
matrix_risk_table = _table(MatrixRiskEntry)
policy_table = _table(PolicySetting)
team_policy_table = _table(TeamPolicySetting)
log_table = _table(LogEntry)
review_table = _table(Review)
event_table = _table(KeyEvent)
victim_update_table = _table(VictimUpdate)
link_table = _table(CrimeLink)
referral_table = _table(VictimReferral)
duty_start_table = _table(DutyStart)
audit_run_table = _table(AuditRun)
access_grant_table = _table(AccessGrant)


def schema() -> MetaData:
    """``metadata`` with the two partial indexes as well, for Alembic's comparison.

    They are declared here rather than on the tables because naming a PostgreSQL
    option makes SQLAlchemy import its PostgreSQL dialect (some 50 ms) in every
    command, and no command needs Index objects: the migrations create the indexes
    (0001, 0002) and queries only benefit from them."""
    if "ix_crime_live" not in {index.name for index in crime_table.indexes}:
        c, a = crime_table.c, allocation_table.c
        # Live crimes only: workload, live counts, unallocated, audit.
        Index(
            "ix_crime_live",
            c.holder_id,
            c.required_level,
            c.risk,  # workload counts live crimes by grade from the index alone (0008)
            c.finalised_on,  # listed so that SQLite counts the index as covering
            sqlite_where=text("finalised_on IS NULL"),
            postgresql_where=text("finalised_on IS NULL"),
        )
        # At most one open interval per crime.
        Index(
            "ux_allocation_open",
            a.crime_id,
            unique=True,
            sqlite_where=text("end_at IS NULL"),
            postgresql_where=text("end_at IS NULL"),
        )
    return metadata
