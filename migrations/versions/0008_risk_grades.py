"""risk grades and their history, the matrix by risk, supervisors, quality reviews

* ``crime.risk``: the current grade (``standard``, ``medium``, ``high``); every existing
  crime is backfilled ``standard`` by the column's server default (one ALTER TABLE on
  both backends: no table is rebuilt, so 0005's triggers are untouched).
* ``crime_risk``: the grade's history as intervals, like allocations. A moment no
  interval covers was ``standard``: the crimes recorded before this revision need no
  interval rows to say so.
* ``crime.base_level``: the crime's own level while its risk raises its required level
  through the matrix (NULL otherwise: every existing crime).
* ``matrix_risk_entry``: matrix rows for a crime type at a risk grade.
* ``officer.supervisor_id``: who supervises the officer (another officer; NULL: none
  recorded, every existing officer). No foreign key: a plain ADD COLUMN on SQLite.
* ``review.quality``: a quality review's result (``pass``, ``advice``, ``fail``; NULL for
  a review that graded nothing, as every existing one).
* ``ix_crime_live`` gains ``risk``, so that workload counts live crimes by grade from
  the index alone, as it counts them by level.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 00:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_LIVE = sa.text("finalised_on IS NULL")


def _live_index(columns: list[str]) -> None:
    op.drop_index("ix_crime_live", table_name="crime", sqlite_where=_LIVE, postgresql_where=_LIVE)
    op.create_index(
        "ix_crime_live",
        "crime",
        columns,
        unique=False,
        sqlite_where=_LIVE,
        postgresql_where=_LIVE,
    )


def upgrade() -> None:
    op.add_column(
        "crime",
        sa.Column("risk", sa.String(length=8), nullable=False, server_default="standard"),
    )
    op.add_column("crime", sa.Column("base_level", sa.String(length=8), nullable=True))
    op.add_column("officer", sa.Column("supervisor_id", sa.Integer(), nullable=True))
    op.add_column("review", sa.Column("quality", sa.String(length=8), nullable=True))
    op.create_table(
        "matrix_risk_entry",
        sa.Column("type_key", sa.String(length=100), nullable=False),
        sa.Column("risk", sa.String(length=8), nullable=False),
        sa.Column("crime_type", sa.String(length=100), nullable=False),
        sa.Column("required_level", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("type_key", "risk"),
    )
    op.create_table(
        "crime_risk",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crime_id", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=8), nullable=False),
        sa.Column("start_at", sa.DateTime(), nullable=False),
        sa.Column("end_at", sa.DateTime(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(["crime_id"], ["crime.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_crime_risk_crime", "crime_risk", ["crime_id", "start_at"], unique=False)
    _live_index(["holder_id", "required_level", "risk", "finalised_on"])


def downgrade() -> None:
    _live_index(["holder_id", "required_level", "finalised_on"])
    op.drop_index("ix_crime_risk_crime", table_name="crime_risk")
    op.drop_table("crime_risk")
    op.drop_table("matrix_risk_entry")
    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.drop_column("supervisor_id")
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.drop_column("quality")
    with op.batch_alter_table("crime", schema=None) as batch_op:
        batch_op.drop_column("base_level")
        batch_op.drop_column("risk")
