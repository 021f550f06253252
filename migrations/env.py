"""Alembic environment for caseload: runs on the connection caseload hands it."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from caseload.store.models import schema

config = context.config
target_metadata = schema()  # SQLModel.metadata, with the two partial indexes


def run_migrations(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    engine = engine_from_config(
        config.get_section(config.config_ini_section) or {},
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as conn:
        run_migrations(conn)
