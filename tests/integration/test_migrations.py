"""Models and migrations agree, and the migrations run both ways, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from workflow.storage.db import make_engine
from workflow.storage.migrate import downgrade, upgrade
from workflow.storage.models import Base


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    server: str = request.getfixturevalue("pg_server")
    engine = make_engine(server)
    downgrade(server, "base") if inspect(engine).has_table("alembic_version") else None
    engine.dispose()
    yield server
    # the session's database: the tests after this one expect it at the head (one that
    # ended on an older revision left them without its tables); they empty it themselves
    upgrade(server)


# SQLite's reflection cannot read an index on an expression (the inbox's due-date order,
# 0031), so autogenerate cannot compare it there: it is checked by name and expression
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_upgrade_head_gives_exactly_the_models(empty_db: str) -> None:
    upgrade(empty_db)
    engine = make_engine(empty_db)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
        sorted_by = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'ix_applications_due_sort'"
            if conn.dialect.name == "sqlite" else
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_applications_due_sort'"
        ).scalar()
    engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"
    # the inbox orders by this expression (models.due_sort_key): the index must be it
    assert sorted_by is not None and "coalesce(due_on, '9999-12-31'" in sorted_by.lower(), sorted_by


# SQLite's reflection skips an index on an expression with a warning (0031's, of the
# applications' due-date order); the tests that reflect tables at head meet it there
pytestmark = pytest.mark.filterwarnings(
    "ignore:Skipped unsupported reflection of expression-based index")

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


def test_bases_approved_before_the_register_enter_it_from_their_history(empty_db: str) -> None:
    """0014: each approved case becomes an export innovation base in the register, with
    its status over time replayed from its history; the flag it replaces goes, and comes
    back on a downgrade as the register says."""
    from datetime import UTC, date, datetime

    from sqlalchemy import MetaData, insert, select

    upgrade(empty_db, "0012")
    engine = make_engine(empty_db)
    meta = MetaData()
    meta.reflect(engine, only=["authorities", "users", "rounds", "applications",
                               "transition_history"])
    t = meta.tables
    now = datetime(2006, 3, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(insert(t["authorities"]), [
            {"id": 1, "code": "420000", "name_zh": "湖北省", "name_en": "Hubei",
             "region": "central", "kind": "province", "has_existing_bases": True},
            {"id": 2, "code": "430000", "name_zh": "湖南省", "name_en": "Hunan",
             "region": "central", "kind": "province", "has_existing_bases": False}])
        conn.execute(insert(t["users"]).values(
            id=1, username="u", display_name="u", email="u@example.cn", role="applicant",
            is_head=False, password_hash="x", password_history=[], must_change_password=False,
            is_active=True, locale="zh", mail_digest=False, failed_logins=0, session_epoch=0,
            created_at=now))
        conn.execute(insert(t["rounds"]).values(id=1, year=2006, name_zh="2006", name_en="2006",
                                                params={}, created_at=now))
        for app_id, authority, name, state in ((1, 1, "武汉光谷", "rectifying"),
                                               (2, 2, "长沙材料", "revoked")):
            conn.execute(insert(t["applications"]).values(
                id=app_id, round_id=1, authority_id=authority, owner_id=1, kind="new_base",
                industry_field="information", applicant_name=name, state=state, version=9,
                attestations={}, created_at=now, updated_at=now, state_changed_at=now))
        steps = [(1, "approve", "publicly_shown", "approved", datetime(2006, 5, 15, 2)),
                 (1, "keep_designation", "approved", "re_evaluated", datetime(2007, 1, 15, 2)),
                 (1, "order_rectification", "re_evaluated", "rectifying",
                  datetime(2008, 1, 14, 20)),  # 15 January in Beijing
                 (2, "approve", "publicly_shown", "approved", datetime(2006, 5, 15, 2)),
                 (2, "revoke", "approved", "revoked", datetime(2007, 1, 16, 2))]
        for version, (app_id, trigger, source, dest, at) in enumerate(steps, start=1):
            conn.execute(insert(t["transition_history"]).values(
                application_id=app_id, version=version, trigger=trigger, from_state=source,
                to_state=dest, actor_id=1, actor_role="ministry_reviewer", actor_name="m",
                at=at.replace(tzinfo=UTC), eligibility=[], data={}, reason="理由"))
    engine.dispose()
    upgrade(empty_db)
    engine = make_engine(empty_db)
    meta = MetaData()
    meta.reflect(engine, only=["export_bases", "export_base_events", "authorities"])
    bases, events = meta.tables["export_bases"], meta.tables["export_base_events"]
    with engine.connect() as conn:
        rows = conn.execute(select(bases.c.application_id, bases.c.base_type, bases.c.status,
                                   bases.c.designated_on, bases.c.status_since)
                            .order_by(bases.c.application_id)).all()
        history = conn.execute(select(events.c.status, events.c.effective_on, events.c.decision)
                               .order_by(events.c.id)).all()
        assert "has_existing_bases" not in meta.tables["authorities"].c
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        (1, "innovation", "rectifying", date(2006, 5, 15), date(2008, 1, 15)),
        (2, "innovation", "revoked", date(2006, 5, 15), date(2007, 1, 16))]
    assert [tuple(h) for h in history] == [
        ("designated", date(2006, 5, 15), "approve"),
        ("rectifying", date(2008, 1, 15), "order_rectification"),
        ("designated", date(2006, 5, 15), "approve"),
        ("revoked", date(2007, 1, 16), "revoke")]
    downgrade(empty_db, "0012")
    engine = make_engine(empty_db)
    with engine.connect() as conn:
        flags = {code: flag for code, flag in conn.exec_driver_sql(
            "SELECT code, has_existing_bases FROM authorities")}
    engine.dispose()
    assert {k: bool(v) for k, v in flags.items()} == {"420000": True, "430000": False}


FORM_2006 = {  # every column of the 2006 申报书 that schema 0021 moves into the document
    "contact_person": "张明", "contact_phone": "027-87654321", "contact_email": "zm@hb.gov.cn",
    "filled_on": "2006-03-31", "address": "武汉市洪山区珞喻路1号",
    "characteristic_industry": "光电子信息", "enterprise_count": 412,
    "total_sales_100m_cny": "1234.5678", "total_assets_10k_cny": "98765432.1000",
    "exports_100m_usd": "12.3000", "export_growth_pct": "-3.25", "profit_tax_10k_cny": "0.0001",
    "hightech_exports_100m_usd": "8.6000", "hightech_export_growth_pct": "48.00",
    "hightech_export_growth_pct_prev1": "60.50", "hightech_export_growth_pct_prev2": "9999.99",
    "employees": 35000,
}


def test_form_columns_move_into_one_document_losslessly_and_back(empty_db: str) -> None:
    """Schema 0021 on a populated database: every value of every 2006 form column is in the
    application's form document afterwards, exactly (decimals to the last digit, dates,
    counts), an empty column leaves no key, and the form reads them back typed; downgrade
    puts each value back in its column."""
    from decimal import Decimal

    from sqlalchemy import text

    from workflow.programme import programme

    upgrade(empty_db, "0016")
    engine = make_engine(empty_db)
    columns = ", ".join(FORM_2006)
    params = ", ".join(f":{k}" for k in FORM_2006)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO authorities (id, code, name_zh, name_en, region, kind, "
                          "is_active, region_overridden) VALUES (1, '420000', "
                          "'湖北省', 'Hubei', 'central', 'province', true, false)"))
        conn.execute(text("INSERT INTO users (id, username, display_name, email, role, "
                          "authority_id, is_head, password_hash, password_history, "
                          "must_change_password, is_active, locale, mail_digest, failed_logins, "
                          "session_epoch, created_at) VALUES (1, 'a', 'a', 'a@x.cn', "
                          "'applicant', 1, false, 'x', '[]', false, true, 'zh', false, 0, 0, "
                          "'2006-01-01')"))
        conn.execute(text("INSERT INTO rounds (id, year, name_zh, name_en, params, opened_on, "
                          "created_at) VALUES (1, 2006, 'r', 'r', '{}', '2006-01-01', "
                          "'2006-01-01')"))
        for app_id, values in ((1, FORM_2006), (2, {k: None for k in FORM_2006})):
            conn.execute(text(
                "INSERT INTO applications (id, round_id, authority_id, owner_id, kind, state, "
                f"version, attestations, applicant_name, {columns}, created_at, updated_at, "
                f"state_changed_at) VALUES (:id, 1, 1, 1, 'new_base', 'drafted', 1, '{{}}', "
                f"'武汉光谷', {params}, '2006-01-01', '2006-01-01', '2006-01-01')"),
                {"id": app_id, **values})
    engine.dispose()
    upgrade(empty_db, "0021")
    engine = make_engine(empty_db)
    with engine.connect() as conn:
        docs = dict(conn.execute(text("SELECT id, form FROM applications ORDER BY id")).all())
        names = conn.execute(text("SELECT applicant_name FROM applications")).scalars().all()
        left = {c["name"] for c in inspect(conn).get_columns("applications")} & set(FORM_2006)
    engine.dispose()
    doc = docs[1] if isinstance(docs[1], dict) else __import__("json").loads(docs[1])
    empty = docs[2] if isinstance(docs[2], dict) else __import__("json").loads(docs[2])
    assert left == set()
    assert doc == FORM_2006 and empty == {}
    assert names == ["武汉光谷", "武汉光谷"]
    typed = programme().form.decode(doc, "武汉光谷")
    assert typed["total_assets_10k_cny"] == Decimal("98765432.1")
    assert typed["hightech_export_growth_pct_prev2"] == Decimal("9999.99")
    assert str(typed["filled_on"]) == "2006-03-31" and typed["employees"] == 35000
    downgrade(empty_db, "0016")
    engine = make_engine(empty_db)
    with engine.connect() as conn:
        back = conn.execute(text(f"SELECT {columns} FROM applications WHERE id = 1")).one()
        none = conn.execute(text(f"SELECT {columns} FROM applications WHERE id = 2")).one()
    engine.dispose()
    for (name, want), got in zip(FORM_2006.items(), back, strict=True):
        assert str(got) == str(want) or Decimal(str(got)) == Decimal(str(want)), name
    assert all(v is None for v in none)


QUARTERS_2006 = [  # (id, exports, high-tech exports, enterprises) as 0028 kept them
    (1, "52000.1234", "31000.0000", 120), (2, "98765432.1234", "0.0001", 0),
    (3, None, "12.5000", None), (4, None, None, None)]


def test_quarter_figures_move_into_one_document_losslessly_and_back(empty_db: str) -> None:
    """Schema 0029 on a populated database: each quarterly report's three figures are in
    its `figures` document afterwards, exactly (decimals to the last digit, counts as
    numbers), an empty figure leaves no key, and the page's reader types them back;
    downgrade puts every value back in its column."""
    import json
    from datetime import UTC, datetime
    from decimal import Decimal

    from sqlalchemy import MetaData, insert, text

    from workflow.programme import programme
    from workflow.quarterly_data import read_figures

    upgrade(empty_db, "0028")
    engine = make_engine(empty_db)
    meta = MetaData()
    meta.reflect(engine, only=["authorities", "users", "rounds", "applications",
                               "quarterly_reports"])
    t = meta.tables
    now = datetime(2007, 1, 10, 2, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(insert(t["authorities"]).values(
            id=1, code="420000", name_zh="湖北省", name_en="Hubei", region="central",
            kind="province", is_active=True, region_overridden=False))
        conn.execute(insert(t["users"]).values(
            id=1, username="u", display_name="u", email="u@example.cn", role="applicant",
            authority_id=1, is_head=False, password_hash="x", password_history=[],
            must_change_password=False, is_active=True, locale="zh", mail_digest=False,
            failed_logins=0, session_epoch=0, created_at=now))
        conn.execute(insert(t["rounds"]).values(id=1, year=2006, name_zh="2006", name_en="2006",
                                                params={}, opened_on=now.date(), created_at=now))
        conn.execute(insert(t["applications"]).values(
            id=1, round_id=1, authority_id=1, owner_id=1, kind="new_base", state="approved",
            version=1, attestations={}, form={}, applicant_name="武汉光谷", created_at=now,
            updated_at=now, state_changed_at=now))
        for report_id, exports, hightech, count in QUARTERS_2006:
            conn.execute(insert(t["quarterly_reports"]).values(
                id=report_id, application_id=1, year=2006, quarter=report_id, revision=1,
                is_current=True, exports_10k_usd=exports, hightech_exports_10k_usd=hightech,
                enterprise_count=count, enterprises=[{"name": "烽火通信"}], source="form",
                submitted_by_id=1, submitted_at=now))
    engine.dispose()
    upgrade(empty_db, "0029")
    engine = make_engine(empty_db)
    with engine.connect() as conn:
        docs = dict(conn.execute(text("SELECT id, figures FROM quarterly_reports "
                                      "ORDER BY id")).all())
        left = {c["name"] for c in inspect(conn).get_columns("quarterly_reports")}
    engine.dispose()
    docs = {k: v if isinstance(v, dict) else json.loads(v) for k, v in docs.items()}
    assert left.isdisjoint({"exports_10k_usd", "hightech_exports_10k_usd", "enterprise_count"})
    assert docs == {
        1: {"exports_10k_usd": "52000.1234", "hightech_exports_10k_usd": "31000.0000",
            "enterprise_count": 120},
        2: {"exports_10k_usd": "98765432.1234", "hightech_exports_10k_usd": "0.0001",
            "enterprise_count": 0},
        3: {"hightech_exports_10k_usd": "12.5000"}, 4: {}}
    columns = programme().quarterly.columns.base  # type: ignore[union-attr]
    typed = read_figures(docs[2], columns)
    assert typed["exports_10k_usd"] == Decimal("98765432.1234")
    assert typed["enterprise_count"] == 0
    downgrade(empty_db, "0028")
    engine = make_engine(empty_db)
    with engine.connect() as conn:
        back = conn.execute(text("SELECT id, exports_10k_usd, hightech_exports_10k_usd, "
                                 "enterprise_count FROM quarterly_reports ORDER BY id")).all()
    engine.dispose()
    for (report_id, *want), (got_id, *got) in zip(QUARTERS_2006, back, strict=True):
        assert got_id == report_id
        for w, g in zip(want, got, strict=True):
            assert (w is None and g is None) or Decimal(str(g)) == Decimal(str(w)), report_id
