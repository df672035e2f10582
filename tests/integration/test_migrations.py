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


def test_rounds_in_use_move_to_their_life_dates_keeping_every_case(empty_db: str) -> None:
    """Schema 0012 on a database with rounds and their cases (the foreign keys of the
    cases must not stop it): an open round counts as opened on 1 January of its year, a
    switched-off one as closed on 31 December, a `closes_on` in its rules becomes its
    closing day — and every case still points at its round."""
    from sqlalchemy import text

    upgrade(empty_db, "0011")
    engine = make_engine(empty_db)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO authorities (id, code, name_zh, name_en, region, kind, "
                          "has_existing_bases) VALUES (1, '420000', '湖北省', 'Hubei', 'central', "
                          "'province', false)"))
        conn.execute(text("INSERT INTO users (id, username, display_name, email, role, "
                          "authority_id, is_head, password_hash, password_history, "
                          "must_change_password, is_active, locale, mail_digest, failed_logins, "
                          "session_epoch, created_at) VALUES (1, 'a', 'a', 'a@x.cn', "
                          "'applicant', 1, false, 'x', '[]', false, true, 'zh', false, 0, 0, "
                          "'2006-01-01')"))
        for rid, year, is_open, params in ((1, 2005, False, "{}"), (2, 2006, True,
                                                                    '{"closes_on": "2006-12-31"}'),
                                           (3, 2007, True, "{}")):
            conn.execute(text("INSERT INTO rounds (id, year, name_zh, name_en, params, is_open, "
                              "created_at) VALUES (:i, :y, 'r', 'r', :p, :o, '2026-01-01')"),
                         {"i": rid, "y": year, "p": params, "o": is_open})
            conn.execute(text("INSERT INTO applications (id, round_id, authority_id, owner_id, "
                              "kind, state, version, attestations, created_at, updated_at, "
                              "state_changed_at) VALUES (:i, :i, 1, 1, 'new_base', 'drafted', 1, "
                              "'{}', '2006-01-01', '2006-01-01', '2006-01-01')"), {"i": rid})
    engine.dispose()
    upgrade(empty_db)
    engine = make_engine(empty_db)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT year, opened_on, closed_on, params FROM rounds "
                                 "ORDER BY year")).all()
        cases = conn.execute(text("SELECT a.id, r.year FROM applications a JOIN rounds r "
                                  "ON r.id = a.round_id ORDER BY a.id")).all()
    engine.dispose()
    got = [(y, str(o), str(c) if c else None) for y, o, c, _p in rows]
    assert got == [(2005, "2005-01-01", "2005-12-31"), (2006, "2006-01-01", "2006-12-31"),
                   (2007, "2007-01-01", None)]
    assert all("closes_on" not in str(p) for *_r, p in rows)
    assert [(i, y) for i, y in cases] == [(1, 2005), (2, 2006), (3, 2007)]
