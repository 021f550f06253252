"""indexes chosen from the queries, and planner statistics

``ix_crime_live`` holds live crimes only (``finalised_on IS NULL``): 250,000
entries in a store of 1,000,000 crimes. The whole-force workload groups it by
holder without reading the table (it covers holder and required level; SQLite
counts a partial index as covering only when the WHERE column is listed too,
hence ``finalised_on`` as its last column); the audit's officer checks and
accreditation check read live crimes through it.

ANALYZE (sampled) gives the planner the tables' shapes: without statistics
SQLite may find a holding's allocation interval by walking every interval of the
holder instead of the crime's one or two. Bulk imports refresh it too.
tests/test_query_plans.py holds the plans these buy.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 13:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

TABLES = (  # the store's tables at this revision (0001 created them all)
    "team",
    "officer",
    "crime",
    "allocation",
    "finalisation",
    "matrix_entry",
    "policy_setting",
    "log_entry",
    "review",
    "key_event",
    "victim_update",
    "crime_link",
    "audit_run",
)

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crime", schema=None) as batch_op:
        batch_op.create_index(
            "ix_crime_live",
            ["holder_id", "required_level", "finalised_on"],
            unique=False,
            sqlite_where=sa.text("finalised_on IS NULL"),
            postgresql_where=sa.text("finalised_on IS NULL"),
        )
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA analysis_limit = 1000")
        op.execute("ANALYZE")
    else:
        # The store's own tables: a bare ANALYZE visits every table of the database that
        # the user can see, and waits on other schemas' and applications' locks.
        op.execute("ANALYZE " + ", ".join(TABLES))


def downgrade() -> None:
    with op.batch_alter_table("crime", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_crime_live",
            sqlite_where=sa.text("finalised_on IS NULL"),
            postgresql_where=sa.text("finalised_on IS NULL"),
        )
