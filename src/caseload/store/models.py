"""The store's tables, as SQLAlchemy Core ``Table`` objects on one ``metadata``.

Design:

* Plain Core tables: every query in caseload is a Core statement or SQL text, and
  no command builds a row object per row, so an ORM layer would only cost start-up
  time (SQLModel and the ORM added about 0.4 s to every command; see CHANGELOG).
  Alembic compares the migrations against ``schema()`` (tests/test_store.py).
* ``crime.holder_id`` is the current holder, kept in the same transaction as the
  allocation history so live counts are one indexed aggregate. ``allocation`` is
  the history: one interval per holding, never overwritten, from which any past
  day's holder can be rebuilt. ``finalisation`` does the same for live/finalised.
* ``log_entry`` is the decision log: every allocation, override, policy change,
  review and victim update, with a SHA-256 hash chained to the entry before it.
* ``log_entry`` and ``allocation`` are append-only (migration 0009's triggers):
  entries are never updated or deleted, an interval is only ever closed. ``login``
  beside ``actor`` is who acted (``store.identity``).
* Dates are calendar dates; times are the force's local wall-clock time (naive).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()


def _id() -> Column:
    return Column("id", Integer, primary_key=True)


def _text(name: str, length: int, *, nullable: bool = False, **kw: Any) -> Column:
    return Column(name, String(length), nullable=nullable, **kw)


def _crime_id() -> Column:
    return Column("crime_id", Integer, ForeignKey("crime.id"), nullable=False)


def _at(name: str = "at", *, nullable: bool = False) -> Column:
    """A naive local wall-clock timestamp (see the module docstring)."""
    return Column(name, DateTime(), nullable=nullable)


team_table = Table(
    "team",
    metadata,
    _id(),
    _text("name", 100, unique=True),
)

officer_table = Table(
    "officer",
    metadata,
    _id(),
    _text("collar", 16, unique=True),
    _text("name", 200),
    Column("team_id", Integer, ForeignKey("team.id"), nullable=False),
    _text("rank", 20, default=""),
    _text("accreditation", 8),
    Column("investigator_since", Date, nullable=False),
    _text("status", 12, default="active"),
    Column("capacity", Integer, nullable=True),
    Column("trainee", Boolean, nullable=False, default=False),
    Index("ix_officer_team_status", "team_id", "status"),
)

crime_table = Table(
    "crime",
    metadata,
    _id(),
    _text("reference", 64, unique=True),
    _text("crime_type", 100),
    _text("required_level", 8),
    Column("level_defaulted", Boolean, nullable=False, default=False),
    Column("reported_on", Date, nullable=False),
    Column("team_id", Integer, ForeignKey("team.id"), nullable=False),
    Column("victim_enhanced", Boolean, nullable=False, default=False),
    Column("holder_id", Integer, ForeignKey("officer.id"), nullable=True),
    Column("finalised_on", Date, nullable=True),
    Column("outcome", Integer, nullable=True),
    Column("victim_update_every", Integer, nullable=True),
    _at("created_at"),
    Index("ix_crime_holder_live", "holder_id", "finalised_on"),
    Index("ix_crime_team_live", "team_id", "finalised_on"),
    Index("ix_crime_type", "crime_type"),
    # ix_crime_live: see schema() below.
)

allocation_table = Table(
    "allocation",
    metadata,
    _id(),
    _crime_id(),
    Column("officer_id", Integer, ForeignKey("officer.id"), nullable=False),
    _at("start_at"),
    _at("end_at", nullable=True),
    _text("actor", 100),
    _text("login", 100, nullable=True),  # who acted (store.identity); 0009 on
    Column("reason", Text, nullable=False),
    Column("warnings", Text, nullable=False, default="", server_default=""),
    Column("override_reason", Text, nullable=True),
    _text("ended_by", 100, nullable=True),
    Column("end_reason", Text, nullable=True),
    _text("plan_id", 40, nullable=True),
    Column("auto", Boolean, nullable=False, default=False),
    Index("ix_allocation_crime", "crime_id", "start_at"),
    Index("ix_allocation_officer", "officer_id", "start_at"),
    # ux_allocation_open: see schema() below.
)

finalisation_table = Table(
    "finalisation",
    metadata,
    _id(),
    _crime_id(),
    Column("finalised_on", Date, nullable=False),
    Column("outcome", Integer, nullable=False),
    Column("reopened_on", Date, nullable=True),
    _text("actor", 100),
    Index("ix_finalisation_crime", "crime_id", "finalised_on"),
)

matrix_table = Table(
    "matrix_entry",
    metadata,
    _text("type_key", 100, primary_key=True),
    _text("crime_type", 100),
    _text("required_level", 8),
)

policy_table = Table(
    "policy_setting",
    metadata,
    _text("name", 40, primary_key=True),
    _text("value", 40),
)

log_table = Table(
    "log_entry",
    metadata,
    _id(),
    _at(),
    _text("actor", 100),
    _text("login", 100, nullable=True),  # who acted (store.identity), hashed; 0009 on
    _text("kind", 30),
    _text("crime_ref", 64, nullable=True),
    _text("collar", 16, nullable=True),
    Column("reason", Text, nullable=False, default="", server_default=""),
    Column("detail", Text, nullable=False, default="{}", server_default="{}"),
    _text("prev_hash", 64),
    _text("hash", 64),
    Index("ix_log_crime", "crime_ref", "id"),
    Index("ix_log_collar", "collar", "id"),
)

review_table = Table(
    "review",
    metadata,
    _id(),
    _crime_id(),
    Column("reviewed_on", Date, nullable=False),
    _at(),
    _text("actor", 100),
    Column("note", Text, nullable=False),
    Column("next_due", Date, nullable=True),
    # next_due too (migration 0003): the audit reads the last review from the index alone.
    Index("ix_review_crime", "crime_id", "reviewed_on", "id", "next_due"),
)

event_table = Table(
    "key_event",
    metadata,
    _id(),
    _crime_id(),
    _text("kind", 40),
    Column("occurred_on", Date, nullable=False),
    _at(),
    _text("actor", 100),
    Index("ix_key_event_crime", "crime_id", "occurred_on"),
)

victim_update_table = Table(
    "victim_update",
    metadata,
    _id(),
    _crime_id(),
    Column("updated_on", Date, nullable=False),
    _at(),
    _text("actor", 100),
    Column("note", Text, nullable=False),
    Index("ix_victim_update_crime", "crime_id", "updated_on"),
)

link_table = Table(
    "crime_link",
    metadata,
    _id(),
    Column("crime_a_id", Integer, ForeignKey("crime.id"), nullable=False),
    Column("crime_b_id", Integer, ForeignKey("crime.id"), nullable=False),
    _text("kind", 20),
    Index("ux_crime_link_pair", "crime_a_id", "crime_b_id", unique=True),
    Index("ix_crime_link_b", "crime_b_id"),
)

audit_run_table = Table(
    "audit_run",
    metadata,
    _id(),
    _at(),
    Column("as_of", Date, nullable=False),
    Column("counts", Text, nullable=False),
)

# The teams each supervisor login may act in (``caseload access``, PostgreSQL): the
# row-level security policies read it. Roles themselves are PostgreSQL roles.
access_grant_table = Table(
    "access_grant",
    metadata,
    _text("login", 100, primary_key=True),
    Column("team_id", Integer, ForeignKey("team.id"), primary_key=True),
)


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
