"""Models and migrations agree, and the migrations run both ways, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from workflow.storage.db import make_engine
from workflow.storage.migrate import downgrade, upgrade
from workflow.storage.models import Base


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'm.db'}"
    server: str = request.getfixturevalue("pg_server")
    engine = make_engine(server)
    downgrade(server, "base") if inspect(engine).has_table("alembic_version") else None
    engine.dispose()
    return server


def test_upgrade_head_gives_exactly_the_models(empty_db: str) -> None:
    upgrade(empty_db)
    engine = make_engine(empty_db)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"


def test_downgrade_base_removes_every_table_and_upgrade_restores_them(empty_db: str) -> None:
    upgrade(empty_db)
    downgrade(empty_db, "base")
    engine = make_engine(empty_db)
    left = set(inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert left == set()
    upgrade(empty_db)
    engine = make_engine(empty_db)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"applications", "transition_history", "outbox", "audit_log"} <= tables
