"""the Victims' Code in full: enhanced entitlement categories

* ``crime.victim_category``: why the victim is entitled to the enhanced service
  (``most-serious``, ``persistently-targeted``, ``vulnerable-or-intimidated``;
  ``domain.victims``). Backfill: a crime already marked enhanced (the old yes/no) keeps
  ``victim_enhanced`` and gets NULL, which caseload shows as "category not recorded";
  nothing is invented. A standard crime has NULL too.

Columns are added with plain ADD COLUMN, not a batch alteration (see 0005: a batch
alteration would drop the append-only triggers on SQLite).

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-02 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("crime", sa.Column("victim_category", sa.String(length=30), nullable=True))
    # The backfill: no category on any crime, recorded or standard (enhanced ones read as
    # "category not recorded"); explicit so that a re-run never leaves a stray value.
    op.execute("UPDATE crime SET victim_category = NULL")


def downgrade() -> None:
    with op.batch_alter_table("crime", schema=None) as batch_op:
        batch_op.drop_column("victim_category")
