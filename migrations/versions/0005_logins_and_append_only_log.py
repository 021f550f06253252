"""logins beside actors; the decision log and allocation history append-only

* ``log_entry.login`` and ``allocation.login``: who acted, as the database
  (PostgreSQL's ``session_user``) or the operating system (SQLite) knows them,
  beside the display name in ``actor`` (``store.identity``). A log entry's hash
  covers its login; entries and intervals recorded before this revision have none
  (NULL: not recorded, nothing is invented), and their hashes are unchanged.
* Triggers refuse UPDATE and DELETE of log entries, DELETE of allocation intervals
  and any change to a closed interval (closing an open one stays allowed); on
  PostgreSQL also TRUNCATE, a log entry naming another login than ``session_user``,
  and each new interval is stamped with ``session_user`` (``store.guards``).
* ``access_grant``: the teams each supervisor login may act in, which PostgreSQL's
  row-level security policies read (``caseload access``; unused on SQLite).

The columns are added with plain ADD COLUMN, not a batch (copy-and-move) alteration:
on SQLite a batch alteration recreates the table and would drop its triggers. Any
later migration that alters these tables in batch mode must create them again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# An interval's fields other than how it ended: never changed once recorded.
_KEPT = (
    "id",
    "crime_id",
    "officer_id",
    "start_at",
    "actor",
    "login",
    "reason",
    "warnings",
    "override_reason",
    "plan_id",
    "auto",
)

_LOG_REFUSED = "the decision log is append-only: entries cannot be changed or removed"
_DELETE_REFUSED = "allocation history is append-only: intervals cannot be removed"
_CLOSED_REFUSED = "allocation history is append-only: only an open interval can be closed"


def _sqlite() -> None:
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _KEPT)
    for name, when, message in (
        ("log_entry_no_update", "BEFORE UPDATE ON log_entry", _LOG_REFUSED),
        ("log_entry_no_delete", "BEFORE DELETE ON log_entry", _LOG_REFUSED),
        ("allocation_no_delete", "BEFORE DELETE ON allocation", _DELETE_REFUSED),
        (
            "allocation_closed",
            f"BEFORE UPDATE ON allocation WHEN OLD.end_at IS NOT NULL OR {changed}",
            _CLOSED_REFUSED,
        ),
    ):
        op.execute(
            f"CREATE TRIGGER IF NOT EXISTS {name} {when} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )


def _postgresql() -> None:
    changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in _KEPT)
    op.execute(
        "CREATE OR REPLACE FUNCTION caseload_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = '42501'; END $$"
    )
    op.execute(
        "CREATE OR REPLACE FUNCTION caseload_log_login() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN IF NEW.login IS DISTINCT FROM session_user::text THEN RAISE EXCEPTION "
        "'a decision-log entry must name the login writing it (%), not %', "
        "session_user, coalesce(NEW.login, 'none') USING ERRCODE = '42501'; END IF; "
        "RETURN NEW; END $$"
    )
    op.execute(
        "CREATE OR REPLACE FUNCTION caseload_stamp_login() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN NEW.login := session_user; RETURN NEW; END $$"
    )
    for name, when, function in (
        ("log_entry_no_update", "BEFORE UPDATE ON log_entry FOR EACH ROW", _LOG_REFUSED),
        ("log_entry_no_delete", "BEFORE DELETE ON log_entry FOR EACH ROW", _LOG_REFUSED),
        ("log_entry_no_truncate", "BEFORE TRUNCATE ON log_entry", _LOG_REFUSED),
        ("allocation_no_delete", "BEFORE DELETE ON allocation FOR EACH ROW", _DELETE_REFUSED),
        ("allocation_no_truncate", "BEFORE TRUNCATE ON allocation", _DELETE_REFUSED),
        (
            "allocation_closed",
            f"BEFORE UPDATE ON allocation FOR EACH ROW WHEN (OLD.end_at IS NOT NULL OR {changed})",
            _CLOSED_REFUSED,
        ),
    ):
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {when.split(' ON ')[1].split()[0]}")
        op.execute(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION caseload_refuse('{function}')")
    op.execute("DROP TRIGGER IF EXISTS log_entry_login ON log_entry")
    op.execute(
        "CREATE TRIGGER log_entry_login BEFORE INSERT ON log_entry FOR EACH ROW "
        "EXECUTE FUNCTION caseload_log_login()"
    )
    op.execute("DROP TRIGGER IF EXISTS allocation_login ON allocation")
    op.execute(
        "CREATE TRIGGER allocation_login BEFORE INSERT ON allocation FOR EACH ROW "
        "EXECUTE FUNCTION caseload_stamp_login()"
    )


def upgrade() -> None:
    op.add_column("log_entry", sa.Column("login", sa.String(length=100), nullable=True))
    op.add_column("allocation", sa.Column("login", sa.String(length=100), nullable=True))
    op.create_table(
        "access_grant",
        sa.Column("login", sa.String(length=100), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("login", "team_id"),
    )
    if op.get_bind().dialect.name == "sqlite":
        _sqlite()
    else:
        _postgresql()


def downgrade() -> None:
    bind = op.get_bind()
    names = (
        ("log_entry_no_update", "log_entry"),
        ("log_entry_no_delete", "log_entry"),
        ("log_entry_no_truncate", "log_entry"),
        ("log_entry_login", "log_entry"),
        ("allocation_no_delete", "allocation"),
        ("allocation_no_truncate", "allocation"),
        ("allocation_closed", "allocation"),
        ("allocation_login", "allocation"),
    )
    for name, table in names:
        if bind.dialect.name == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    if bind.dialect.name != "sqlite":
        for function in ("caseload_refuse", "caseload_log_login", "caseload_stamp_login"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_table("access_grant")
    with op.batch_alter_table("allocation", schema=None) as batch_op:
        batch_op.drop_column("login")
    with op.batch_alter_table("log_entry", schema=None) as batch_op:
        batch_op.drop_column("login")
