"""review index covers the next-review date

The audit's review-overdue check reads, per live crime, the last review up to the
day and the next-review date that review set (the latest recorded, by id, when two
fall on one day). With ``id`` and ``next_due`` in the index, in that order, both
come from the index alone and in index order: the review rows are never visited and
nothing is sorted per crime. On a store of a million crimes it is the audit's
largest check. tests/test_query_plans.py holds
the plan.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 17:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.drop_index("ix_review_crime")
        batch_op.create_index(
            "ix_review_crime", ["crime_id", "reviewed_on", "id", "next_due"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.drop_index("ix_review_crime")
        batch_op.create_index("ix_review_crime", ["crime_id", "reviewed_on"], unique=False)
