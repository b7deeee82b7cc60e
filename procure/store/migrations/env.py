"""Alembic environment: runs on the connection ``procure.store.migrate`` hands over."""

from __future__ import annotations

from alembic import context

from procure.store.tables import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only through procure.store.migrate
    raise RuntimeError("run migrations with `procure db upgrade`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
