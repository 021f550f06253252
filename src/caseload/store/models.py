"""The store's tables.

Design:

* SQLModel classes define the schema (and Alembic compares migrations against
  them); data access goes through SQLAlchemy Core on ``Model.__table__`` so that
  counts, imports and exports never build ORM objects row by row.
* ``crime.holder_id`` is the current holder, kept in the same transaction as the
  allocation history so live counts are one indexed aggregate. ``allocation`` is
  the history: one interval per holding, never overwritten, from which any past
  day's holder can be rebuilt. ``finalisation`` does the same for live/finalised.
* ``log_entry`` is the decision log: every allocation, override, policy change,
  review and victim update, with a SHA-256 hash chained to the entry before it.
* Dates are calendar dates; times are the force's local wall-clock time.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, DateTime, Index, Text, text
from sqlmodel import Field, SQLModel


def _when(nullable: bool = False) -> Column:
    """A naive local wall-clock timestamp (see the module docstring)."""
    return Column(DateTime(), nullable=nullable)


class Team(SQLModel, table=True):
    __tablename__ = "team"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)


class Officer(SQLModel, table=True):
    __tablename__ = "officer"
    __table_args__ = (Index("ix_officer_team_status", "team_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    collar: str = Field(max_length=16, unique=True)
    name: str = Field(max_length=200)
    team_id: int = Field(foreign_key="team.id")
    rank: str = Field(default="", max_length=20)
    accreditation: str = Field(max_length=8)
    investigator_since: date
    status: str = Field(default="active", max_length=12)
    capacity: int | None = Field(default=None)
    trainee: bool = Field(default=False)


class Crime(SQLModel, table=True):
    __tablename__ = "crime"
    __table_args__ = (
        Index("ix_crime_holder_live", "holder_id", "finalised_on"),
        Index("ix_crime_team_live", "team_id", "finalised_on"),
        Index("ix_crime_type", "crime_type"),
        # Live crimes only (migration 0002): workload, live counts, unallocated, audit.
        Index(
            "ix_crime_live",
            "holder_id",
            "required_level",
            "finalised_on",  # listed so that SQLite counts the index as covering
            sqlite_where=text("finalised_on IS NULL"),
            postgresql_where=text("finalised_on IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=64, unique=True)
    crime_type: str = Field(max_length=100)
    required_level: str = Field(max_length=8)
    level_defaulted: bool = Field(default=False)
    reported_on: date
    team_id: int = Field(foreign_key="team.id")
    victim_enhanced: bool = Field(default=False)
    holder_id: int | None = Field(default=None, foreign_key="officer.id")
    finalised_on: date | None = Field(default=None)
    outcome: int | None = Field(default=None)
    victim_update_every: int | None = Field(default=None)
    created_at: datetime = Field(sa_column=_when())


class Allocation(SQLModel, table=True):
    __tablename__ = "allocation"
    __table_args__ = (
        Index("ix_allocation_crime", "crime_id", "start_at"),
        Index("ix_allocation_officer", "officer_id", "start_at"),
        Index(
            "ux_allocation_open",
            "crime_id",
            unique=True,
            sqlite_where=text("end_at IS NULL"),
            postgresql_where=text("end_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    crime_id: int = Field(foreign_key="crime.id")
    officer_id: int = Field(foreign_key="officer.id")
    start_at: datetime = Field(sa_column=_when())
    end_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    actor: str = Field(max_length=100)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    warnings: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    override_reason: str | None = Field(default=None, sa_column=Column(Text))
    ended_by: str | None = Field(default=None, max_length=100)
    end_reason: str | None = Field(default=None, sa_column=Column(Text))
    plan_id: str | None = Field(default=None, max_length=40)
    auto: bool = Field(default=False)


class Finalisation(SQLModel, table=True):
    __tablename__ = "finalisation"
    __table_args__ = (Index("ix_finalisation_crime", "crime_id", "finalised_on"),)

    id: int | None = Field(default=None, primary_key=True)
    crime_id: int = Field(foreign_key="crime.id")
    finalised_on: date
    outcome: int
    reopened_on: date | None = Field(default=None)
    actor: str = Field(max_length=100)


class MatrixEntry(SQLModel, table=True):
    __tablename__ = "matrix_entry"

    type_key: str = Field(primary_key=True, max_length=100)
    crime_type: str = Field(max_length=100)
    required_level: str = Field(max_length=8)


class PolicySetting(SQLModel, table=True):
    __tablename__ = "policy_setting"

    name: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=40)


class LogEntry(SQLModel, table=True):
    __tablename__ = "log_entry"
    __table_args__ = (
        Index("ix_log_crime", "crime_ref", "id"),
        Index("ix_log_collar", "collar", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_when())
    actor: str = Field(max_length=100)
    kind: str = Field(max_length=30)
    crime_ref: str | None = Field(default=None, max_length=64)
    collar: str | None = Field(default=None, max_length=16)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class Review(SQLModel, table=True):
    __tablename__ = "review"
    __table_args__ = (Index("ix_review_crime", "crime_id", "reviewed_on"),)

    id: int | None = Field(default=None, primary_key=True)
    crime_id: int = Field(foreign_key="crime.id")
    reviewed_on: date
    at: datetime = Field(sa_column=_when())
    actor: str = Field(max_length=100)
    note: str = Field(sa_column=Column(Text, nullable=False))
    next_due: date | None = Field(default=None)


class KeyEvent(SQLModel, table=True):
    __tablename__ = "key_event"
    __table_args__ = (Index("ix_key_event_crime", "crime_id", "occurred_on"),)

    id: int | None = Field(default=None, primary_key=True)
    crime_id: int = Field(foreign_key="crime.id")
    kind: str = Field(max_length=40)
    occurred_on: date
    at: datetime = Field(sa_column=_when())
    actor: str = Field(max_length=100)


class VictimUpdate(SQLModel, table=True):
    __tablename__ = "victim_update"
    __table_args__ = (Index("ix_victim_update_crime", "crime_id", "updated_on"),)

    id: int | None = Field(default=None, primary_key=True)
    crime_id: int = Field(foreign_key="crime.id")
    updated_on: date
    at: datetime = Field(sa_column=_when())
    actor: str = Field(max_length=100)
    note: str = Field(sa_column=Column(Text, nullable=False))


class CrimeLink(SQLModel, table=True):
    __tablename__ = "crime_link"
    __table_args__ = (
        Index("ux_crime_link_pair", "crime_a_id", "crime_b_id", unique=True),
        Index("ix_crime_link_b", "crime_b_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    crime_a_id: int = Field(foreign_key="crime.id")
    crime_b_id: int = Field(foreign_key="crime.id")
    kind: str = Field(max_length=20)


class AuditRun(SQLModel, table=True):
    __tablename__ = "audit_run"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_when())
    as_of: date
    counts: str = Field(sa_column=Column(Text, nullable=False))
