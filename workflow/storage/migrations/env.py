"""Alembic environment: the URL comes from the caller or from DATABASE_URL."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection

from workflow.storage.db import make_engine
from workflow.storage.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from config import load_settings

    return load_settings().database_url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def _migrate(conn: Connection) -> None:
    """Run the migrations on `conn`. SQLite: a batch migration rebuilds a table (create a
    copy, fill it, drop the table, rename the copy); dropping a table that other rows
    reference fails while foreign keys are enforced, so they are off while migrating (the
    pragma only takes outside a transaction) and every reference is checked before the
    migration commits."""
    sqlite = conn.dialect.name == "sqlite"
    driver: Any = conn.connection.driver_connection  # sqlite3, in autocommit (storage.db)
    if sqlite:
        driver.execute("PRAGMA foreign_keys=OFF")
    try:
        context.configure(connection=conn, target_metadata=target_metadata,
                          render_as_batch=sqlite)
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left dangling references: {broken[:5]}")
    finally:
        if sqlite:
            driver.execute("PRAGMA foreign_keys=ON")


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        _migrate(conn)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
