"""`procure db upgrade` builds the schema on SQLite and PostgreSQL, and migrations reverse."""

from __future__ import annotations

from sqlalchemy import inspect

from procure.store import migrate
from procure.store.database import make_engine
from procure.store.tables import metadata


def test_upgrade_creates_every_table_and_downgrade_removes_them(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
        tables = set(inspect(engine).get_table_names())
        assert set(metadata.tables) <= tables

        migrate.downgrade(engine, "base")
        assert not set(metadata.tables) & set(inspect(engine).get_table_names())

        migrate.upgrade(engine)  # and back again, as an operator would after a rollback
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()


def test_the_schema_matches_the_table_definitions(database_url: str) -> None:
    """No change to tables.py without a migration: autogenerate finds nothing to do."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine)
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), metadata)
        assert diff == []
    finally:
        engine.dispose()
