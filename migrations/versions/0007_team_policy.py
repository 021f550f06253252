"""per-team policy: a setting overridden for one team

``team_policy_setting`` holds a setting's value for one team (``caseload policy set
NAME VALUE --team TEAM``); a team without a row works to the force's value. A new,
empty table: existing stores keep the force-wide policy they had, so nothing needs
backfilling.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 00:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "team_policy_setting",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("team_id", "name"),
    )


def downgrade() -> None:
    op.drop_table("team_policy_setting")
