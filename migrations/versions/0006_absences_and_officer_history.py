"""absences with dates; officers' facts kept as dated intervals

* ``absence``: an officer's dated absences (leave, sick, abstracted, training, court,
  other) and capacity reductions (``reduced``, with a percentage); ``ends_on`` NULL is
  open-ended; a cancelled absence is kept with ``cancelled_at``.
* ``officer_history``: team, status, accreditation, trainee flag, capacity and
  investigator_since as intervals ``[valid_from, valid_to)``. Backfilled with one
  interval per officer from today's values, with no start (``valid_from`` NULL): the
  store knows no earlier facts, so every earlier day is rebuilt with them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "officer_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("accreditation", sa.String(length=8), nullable=False),
        sa.Column("trainee", sa.Boolean(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("investigator_since", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["officer_id"], ["officer.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_officer_history_officer", "officer_history", ["officer_id", "valid_from"])
    op.create_table(
        "absence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("percent", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.Column("cancelled_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["officer_id"], ["officer.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_absence_officer", "absence", ["officer_id", "starts_on"])
    op.execute(
        "INSERT INTO officer_history (officer_id, valid_from, valid_to, team_id, status, "
        "accreditation, trainee, capacity, investigator_since) "
        "SELECT id, NULL, NULL, team_id, status, accreditation, trainee, capacity, "
        "investigator_since FROM officer"
    )


def downgrade() -> None:
    op.drop_index("ix_absence_officer", table_name="absence")
    op.drop_table("absence")
    op.drop_index("ix_officer_history_officer", table_name="officer_history")
    op.drop_table("officer_history")
