"""the Victims' Code in full: enhanced entitlement categories, Right 4 referrals

* ``crime.victim_category``: why the victim is entitled to the enhanced service
  (``most-serious``, ``persistently-targeted``, ``vulnerable-or-intimidated``;
  ``domain.victims``). Backfill: a crime already marked enhanced (the old yes/no) keeps
  ``victim_enhanced`` and gets NULL, which caseload shows as "category not recorded";
  nothing is invented. A standard crime has NULL too.

* ``victim_referral``: Right 4 referrals to victim support services (or the victim's
  recorded decline), one row each, like ``victim_update``.
* ``duty_start``: the day the store began recording a duty. The upgrade (or ``init``)
  records ``victim-referral`` as starting today: crimes reported before it, such as
  months of police.uk history, are not checked for a referral (caseload never had a
  way to record one), so the audit and the compliance return count Right 4 only from
  the day it could be met.

Columns are added with plain ADD COLUMN, not a batch alteration (see 0005: a batch
alteration would drop the append-only triggers on SQLite).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 01:00:00
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("crime", sa.Column("victim_category", sa.String(length=30), nullable=True))
    # The backfill: no category on any crime, recorded or standard (enhanced ones read as
    # "category not recorded"); explicit so that a re-run never leaves a stray value.
    op.execute("UPDATE crime SET victim_category = NULL")
    op.create_table(
        "victim_referral",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crime_id", sa.Integer(), nullable=False),
        sa.Column("referred_on", sa.Date(), nullable=False),
        sa.Column("declined", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("imported_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["crime_id"], ["crime.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_victim_referral_crime", "victim_referral", ["crime_id", "referred_on"], unique=False
    )
    duty_start = op.create_table(
        "duty_start",
        sa.Column("duty", sa.String(length=40), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("duty"),
    )
    op.bulk_insert(duty_start, [{"duty": "victim-referral", "start_on": date.today()}])


def downgrade() -> None:
    op.drop_table("duty_start")
    op.drop_index("ix_victim_referral_crime", table_name="victim_referral")
    op.drop_table("victim_referral")
    with op.batch_alter_table("crime", schema=None) as batch_op:
        batch_op.drop_column("victim_category")
