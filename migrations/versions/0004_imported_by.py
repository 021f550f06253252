"""reviews and victim updates keep who imported them apart from who made them

A review or victim update imported from a file without an ``actor`` column used to be
credited to whoever ran the import. Now ``actor`` (the author) is left empty, which
caseload shows as "not given", and the new ``imported_by`` column names the person who
ran the import (NULL for records made with ``caseload review`` / ``victim-update``).
Adding a nullable column is one ALTER TABLE on both backends: no table is rebuilt.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("review", "victim_update"):
        op.add_column(table, sa.Column("imported_by", sa.String(length=100), nullable=True))


def downgrade() -> None:
    for table in ("review", "victim_update"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("imported_by")
