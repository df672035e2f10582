"""The attack suite: every route and form against cross-province IDOR (web and API),
missing or wrong CSRF tokens, XSS and SQL-looking payloads, hostile uploads, path
traversal and brute force. Everything is refused, nothing is stored, never a 500; every
response carries the security headers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from werkzeug.routing import Rule

from config import Settings
from tests import factories
from tests.crawl import ADMINS, browser, url_for_rule
from tests.factories import PASSWORD, PDF
from workflow.services import cases, clock, objections, tokens
from workflow.storage.db import get_engine
from workflow.storage.models import Base

XSS = '<script>alert("x")</script>"><img src=x onerror=alert(1)>'
SQLI = "' OR '1'='1' --; DROP TABLE users; --"


def counts(db_url: str) -> dict[str, int]:
    """Rows per table (the audit log grows by design, so it is left out)."""
    with get_engine(db_url).connect() as conn:
        return {t.name: conn.execute(text(f'SELECT count(*) FROM "{t.name}"')).scalar_one()
                for t in Base.metadata.sorted_tables if t.name != "audit_log"}


def rules(app: Any, method: str) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if method in (r.methods or set())
            and r.endpoint not in ("health.healthz",)]


@pytest.fixture
def csrf_app(settings: Settings, world: factories.World) -> Any:
    """The app as deployed: CSRF protection ON (the shared `app` fixture turns it off)."""
    from web import create_app

    return create_app({"TESTING": True}, settings=settings)


def csrf_login(client: Any, username: str) -> str:
    """Log in through the real form; returns a valid CSRF token of this session."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, page
    r = client.post("/login", data={"username": username, "password": PASSWORD,
                                    "csrf_token": token.group(1)})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    inbox = client.get("/inbox").get_data(as_text=True)
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', inbox) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', inbox)
    return found.group(1) if found else token.group(1)


# --- headers, GET safety, 500s: every GET route, web and API, as every kind of user ---------

T = datetime(2006, 5, 8, 2, tzinfo=UTC)  # a notice is running (2006-04-28 … 05-10)
ROLES = (None, "hubei_applicant", "hubei_reviewer", "hunan_reviewer", "mofcom", *ADMINS)
# GET routes that no one opens with the crawl's placeholder values, and why (a new route
# must either open for some role in the crawl or be listed here with its reason)
NEEDS_MORE = {
    "/": "redirects to the inbox (or the login)",
    "/admin/": "redirects each admin to their own page",
    "/inbox/bulk/results": "a bulk action first: it shows its results once "
    "(tests/web/test_reviewer_pages.py)",
    "/login/otp": "a password step first (test_security_accounts.py)",
    "/notice/<int:app_id>/filed": "an objection filed in this browser "
    "(tests/e2e/test_public_notice_browser.py)",
    "/static/<path:filename>": "a real file name (the crawl asks for a missing one)",
    "/cases/<int:app_id>/attachments/<int:attachment_id>": "an attachment id: "
    "test_a_stored_file_is_served_as_an_attachment_under_its_checked_name",
    "/cases/<int:app_id>/attachments/<int:attachment_id>/preview": "an attachment id: "
    "tests/web/test_attachment_preview_and_versions.py",
    "/api/v1/attachments/<int(max=2147483647):attachment_id>/content": "an attachment id",
    "/objections/<int:objection_id>/evidence": "an objection with evidence",
    "/reports/assessment/preview": "a period to preview (422 names the field)",
    "/api/v1/evaluations": "a period (422 names the field)",
    "/api/v1/evaluation-runs/<int(max=2147483647):run_id>": "a run queued first: "
    "tests/integration/test_api_reports.py",
    "/api/v1/webhooks/<int(max=2147483647):webhook_id>/deliveries": "a webhook id: "
    "tests/integration/test_webhooks.py",
    "/webhooks/<int:webhook_id>": "a webhook id: tests/web/test_webhooks_page.py",
    "/api/v1/programmes/<string(maxlength=60):code>": "a programme's code: "
    "tests/integration/test_programme_guangdong.py",
}


@pytest.fixture
def frozen() -> Iterator[None]:
    clock.freeze(T)
    yield
    clock.freeze(None)


def as_user(app: Any, world: factories.World, who: str | None, n: int
            ) -> tuple[Any, dict[str, str]]:
    """A logged-in browser (admins with their second factor) and API bearer headers."""
    client = browser(app, world, who, T, n)
    if who is None:
        return client, {}
    token = tokens.issue_token(world.uow(), world.id(who)).token
    return client, {"Authorization": f"Bearer {token}"}


def crawl_targets(app: Any, world: factories.World) -> list[tuple[Rule, str]]:
    """Every GET route with concrete URLs: ids of a case under notice (with an objection),
    of an approved base and of a draft, so notice, objection, dashboard, report and form
    pages have data."""
    under_notice = factories.published(world)
    objections.file_objection(world.uow(), under_notice, "王五", "13900000000", "数据有误",
                              ip="198.51.100.7")
    base = factories.approved(world, "hunan_applicant", "hunan_reviewer")
    draft = factories.draft(world, "hubei_applicant")
    out = []
    for rule in rules(app, "GET"):
        idents = (under_notice, base, draft) if rule.arguments else (under_notice,)
        out += [(rule, url_for_rule(rule, i)) for i in dict.fromkeys(idents)]
    return out


def test_every_route_answers_every_user_with_the_security_headers_and_never_a_500(
        app: Any, world: factories.World, frozen: None) -> None:
    targets = crawl_targets(app, world)
    opened: set[str] = set()
    for n, who in enumerate(ROLES):
        client, bearer = as_user(app, world, who, n)
        for rule, url in targets:
            r = client.get(url, headers=bearer if url.startswith("/api/") else {})
            assert r.status_code < 500, (who, url, r.status_code)
            if r.status_code < 300:
                opened.add(rule.rule)
            csp = r.headers.get("Content-Security-Policy", "")
            assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp, url
            assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
            assert r.headers.get("X-Content-Type-Options") == "nosniff", url
            assert r.headers.get("Referrer-Policy"), url
            assert "Strict-Transport-Security" not in r.headers  # plain HTTP here
            if who is not None:
                assert "no-store" in r.headers.get("Cache-Control", ""), url  # personal
    never = {rule.rule for rule, _ in targets} - opened
    assert sorted(never) == sorted(NEEDS_MORE), "no role opened these: cover them or list them"
    for route in ("/notice", "/notice/<int:app_id>", "/dashboard", "/dashboard.xlsx",
                  "/exports/applications.xlsx", "/reports/", "/reports/bases/<int:app_id>",
                  "/notifications", "/admin/outbox", "/admin/audit", "/api/v1/docs",
                  "/api/v1/objections", "/api/v1/audit-log", "/objections", "/webhooks"):
        assert route in opened, route  # the routes added since the suite was written


def contents(db_url: str) -> dict[str, list[str]]:
    """Every row of every table but the audit log (which grows by design); a token's
    `last_used_at` is left out too (using a token records when)."""
    with get_engine(db_url).connect() as conn:
        out = {}
        for t in Base.metadata.sorted_tables:
            if t.name == "audit_log":
                continue
            cols = [c for c in t.columns if (t.name, c.name) != ("api_tokens", "last_used_at")]
            rows = conn.execute(t.select().with_only_columns(*cols))
            out[t.name] = sorted(repr(tuple(r)) for r in rows)
        return out


def test_no_get_request_changes_anything(app: Any, world: factories.World, db_url: str,
                                         frozen: None) -> None:
    targets = crawl_targets(app, world)
    for n, who in enumerate(ROLES):
        client, bearer = as_user(app, world, who, n)
        before = contents(db_url)
        for _rule, url in targets:
            client.get(url, headers=bearer if url.startswith("/api/") else {})
        after = contents(db_url)
        assert after == before, (who, [t for t in before if before[t] != after[t]])


def test_an_admin_opening_a_case_export_gets_the_refusal_page_not_an_error(
        app: Any, world: factories.World, frozen: None) -> None:
    client, _ = as_user(app, world, "auditor", 1)
    r = client.get("/exports/applications.xlsx")
    assert r.status_code == 403 and "管理员角色不能办理申报业务" in r.get_data(as_text=True)


def test_hsts_is_sent_when_served_over_tls(app: Any) -> None:
    r = app.test_client().get("/login", base_url="https://eib.example.gov.cn")
    assert r.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_session_cookie_is_httponly_and_samesite(app: Any) -> None:
    r = app.test_client().post("/login", data={"username": "mofcom", "password": PASSWORD})
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


# --- CSRF ----------------------------------------------------------------------------------

def test_every_form_post_without_or_with_a_wrong_csrf_token_is_refused(
        csrf_app: Any, world: factories.World, db_url: str) -> None:
    app_id = factories.draft(world)
    client = csrf_app.test_client()
    csrf_login(client, "hubei_applicant")
    before = counts(db_url)
    posts = [r for r in rules(csrf_app, "POST") if not r.rule.startswith("/api/")]
    assert {"/notice/<int:app_id>", "/objections/<int:objection_id>/<any(uphold, dismiss):decision>",
            "/reports/assessment/run", "/reports/bases/<int:app_id>/quarter",
            "/notifications/read", "/admin/outbox/<int:outbox_id>/retry", "/tokens",
            "/admin/audit/export", "/inbox/bulk"} <= {r.rule for r in posts}
    for rule in posts:
        url = url_for_rule(rule, app_id)
        for extra in ({}, {"csrf_token": "forged-token"}):
            r = client.post(url, data={"reason": "x", "trigger": "submit", "version": "1",
                                       **extra})
            assert r.status_code == 400, (rule.rule, extra, r.status_code)
    assert counts(db_url) == before


def test_a_valid_csrf_token_is_accepted(csrf_app: Any, world: factories.World) -> None:
    client = csrf_app.test_client()
    token = csrf_login(client, "hubei_reviewer")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def test_a_cross_site_login_post_is_refused(csrf_app: Any) -> None:
    r = csrf_app.test_client().post("/login", data={"username": "mofcom",
                                                    "password": PASSWORD})
    assert r.status_code == 400


# --- IDOR across provinces ------------------------------------------------------------------

def test_another_provinces_case_is_not_found_by_url(client: Any, world: factories.World,
                                                    db_url: str) -> None:
    app_id = factories.submitted(world)
    with world.uow() as u:
        from workflow.storage.models import AttachmentRow

        att = u.session.query(AttachmentRow).filter_by(application_id=app_id).first().id
    client.post("/login", data={"username": "hunan_reviewer", "password": PASSWORD})
    before = counts(db_url)
    for url in (f"/cases/{app_id}", f"/applications/{app_id}/edit",
                f"/applications/{app_id}/print", f"/cases/{app_id}/attachments/{att}",
                f"/reports/bases/{app_id}"):
        assert client.get(url).status_code == 404, url
    for url, data in ((f"/cases/{app_id}/fire", {"trigger": "recommend", "version": "2"}),
                      (f"/cases/{app_id}/attestations", {"version": "2"}),
                      (f"/cases/{app_id}/attachments", {"kind": "recommendation_letter"})):
        assert client.post(url, data=data).status_code == 404, url
    assert counts(db_url) == before
    assert cases.load(world.uow(), world.id("hubei_reviewer"), app_id).row.state == \
        "provincially_reviewed"


def test_another_provinces_case_is_not_found_by_api(api: Any, world: factories.World,
                                                    db_url: str) -> None:
    app_id = factories.submitted(world)
    hunan, other = api.as_("hunan_reviewer"), api.as_("hubei_applicant2")  # other: not the owner
    before = counts(db_url)
    for url in (f"/api/v1/applications/{app_id}", f"/api/v1/applications/{app_id}/history",
                f"/api/v1/applications/{app_id}/eligibility",
                f"/api/v1/applications/{app_id}/attachments"):
        r = hunan.get(url)
        assert r.status_code == 404 and r.mimetype == "application/problem+json", url
    assert hunan.post(f"/api/v1/applications/{app_id}/transitions",
                      json={"trigger": "recommend", "version": 2}).status_code == 404
    assert hunan.patch(f"/api/v1/applications/{app_id}",
                       json={"applicant_name": "x", "version": 2}).status_code == 404
    assert other.get(f"/api/v1/applications/{app_id}").status_code == 404
    assert counts(db_url) == before


# --- XSS and SQL-looking payloads -----------------------------------------------------------

def test_xss_in_every_text_field_is_rendered_escaped(client: Any, world: factories.World) -> None:
    app_id = factories.submitted(world, applicant_name="基地" + XSS, contact_person="张" + XSS[:40],
                                 address="地址" + XSS, characteristic_industry="产业" + XSS,
                                 products=[{"name": "产品" + XSS[:150],
                                            "exports_10k_usd": "3000"}])
    cases.fire(world.uow(), world.id("hubei_reviewer"), app_id, "return_for_revision", None,
               reason="请补充" + XSS)
    for who, urls in (("hubei_applicant", [f"/cases/{app_id}", f"/applications/{app_id}/edit",
                                            f"/applications/{app_id}/print", "/inbox"]),
                      ("hubei_reviewer", [f"/cases/{app_id}"])):
        client.post("/login", data={"username": who, "password": PASSWORD})
        for url in urls:
            body = client.get(url).get_data(as_text=True)
            assert "<script>alert" not in body and "<img src=x" not in body, (who, url)
    body = client.get(f"/cases/{app_id}").get_data(as_text=True)
    assert "&lt;script&gt;" in body


def test_sql_looking_input_is_just_text(client: Any, api: Any, world: factories.World,
                                        db_url: str) -> None:
    factories.submitted(world)
    hunan = api.as_("hunan_reviewer")
    before = counts(db_url)
    client.post("/login", data={"username": "hunan_reviewer", "password": PASSWORD})
    r = client.get("/inbox", query_string={"q": SQLI})
    assert r.status_code == 200 and "武汉光谷" not in r.get_data(as_text=True)
    r = hunan.get("/api/v1/applications", query_string={"q": SQLI})
    assert r.status_code in (200, 422) and "武汉光谷" not in r.get_data(as_text=True)
    bad = client.post("/login", data={"username": SQLI, "password": SQLI})
    assert bad.status_code == 401
    assert counts(db_url) == {**before, "login_failures": before["login_failures"] + 1}


# --- uploads --------------------------------------------------------------------------------

@pytest.fixture
def small_upload_app(settings: Settings, world: factories.World, tmp_path: Path) -> Any:
    from web import create_app

    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, settings=replace(
        settings, max_upload_mb=1, upload_dir=tmp_path / "uploads"))


def _upload(client: Any, app_id: int, name: str, data: bytes) -> Any:
    import io

    return client.post(f"/cases/{app_id}/attachments",
                       data={"kind": "development_plan", "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_hostile_uploads_are_refused_and_nothing_is_written(
        small_upload_app: Any, world: factories.World, db_url: str, tmp_path: Path) -> None:
    app_id = factories.draft(world)
    client = small_upload_app.test_client()
    client.post("/login", data={"username": "hubei_applicant", "password": PASSWORD})
    before = counts(db_url)
    # refused with its reason on the case page (303 there: post/redirect/get), or 413
    cases_ = [("big.pdf", PDF + b"0" * (1024 * 1024 + 10), "文件超过 1 MB 上限"),
              ("huge.pdf", PDF + b"0" * (3 * 1024 * 1024), 413),  # over the request cap
              ("plan.pdf", b"MZ\x90\x00\x03" + b"\x00" * 100, "文件内容与扩展名不符"),
              ("plan.exe", PDF, "仅支持 PDF"),
              ("plan.html", b"<html><script>alert(1)</script>", "仅支持 PDF"),
              ("../../../../tmp/evil.pdf", PDF, "文件名无效"),
              ("", PDF, "请选择要上传的文件")]
    for name, data, said in cases_:
        r = _upload(client, app_id, name, data)
        if said == 413:
            assert r.status_code == 413, (name, r.status_code)
            continue
        assert r.status_code == 303, (name, r.status_code)
        page = client.get(r.headers["Location"]).get_data(as_text=True)
        assert re.search(r'data-testid="upload-error">[^<]*' + re.escape(str(said)), page), name
    assert counts(db_url) == before
    uploads = tmp_path / "uploads"
    assert not uploads.exists() or list(uploads.iterdir()) == []
    assert not Path("/tmp/evil.pdf").exists()


def test_a_stored_file_is_served_as_an_attachment_under_its_checked_name(
        small_upload_app: Any, world: factories.World, tmp_path: Path) -> None:
    app_id = factories.draft(world)
    client = small_upload_app.test_client()
    client.post("/login", data={"username": "hubei_applicant", "password": PASSWORD})
    # a Windows path never reaches the disk: the bytes go under a generated name
    assert _upload(client, app_id, "..\\..\\发展方案.pdf", PDF).status_code == 302
    stored = list((tmp_path / "uploads").iterdir())
    assert len(stored) == 1 and re.fullmatch(r"[0-9a-f]{32}", stored[0].name)
    with world.uow() as u:
        from workflow.storage.models import AttachmentRow

        row = u.session.query(AttachmentRow).filter_by(application_id=app_id).one()
        att = row.id
        assert row.filename.endswith("发展方案.pdf") and not set("/\\") & set(row.filename)
    r = client.get(f"/cases/{app_id}/attachments/{att}")
    assert r.status_code == 200 and r.data == PDF
    assert r.headers["Content-Disposition"].startswith("attachment;")
    assert r.headers["X-Content-Type-Options"] == "nosniff"


# --- brute force ----------------------------------------------------------------------------

def test_brute_force_on_the_login_is_slowed_then_stopped(app: Any, db_url: str) -> None:
    client = app.test_client()
    statuses = [client.post("/login", data={"username": "mofcom",
                                            "password": f"guess-{i}-Guess"}).status_code
                for i in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]
    assert client.post("/login", data={"username": "mofcom",
                                       "password": PASSWORD}).status_code == 429
    other = app.test_client()  # the real user, from another address, is not locked out
    assert other.post("/login", data={"username": "mofcom", "password": PASSWORD},
                      environ_base={"REMOTE_ADDR": "10.20.30.40"}).status_code == 302


def test_brute_force_on_api_tokens_is_rate_limited(client: Any) -> None:
    statuses = [client.post("/api/v1/auth/token", json={"username": "mofcom",
                                                        "password": f"x-{i}-Guess"}).status_code
                for i in range(11)]
    assert statuses[-1] == 429 and 500 not in statuses


# --- personal data ----------------------------------------------------------------------------

def test_personal_data_stays_with_the_roles_that_need_it(client: Any, api: Any,
                                                         world: factories.World,
                                                         request: Any) -> None:
    from datetime import UTC, datetime

    from workflow.services import clock, objections

    app_id = factories.published(world)
    clock.freeze(datetime(2006, 5, 8, 2, tzinfo=UTC))  # during the notice
    request.addfinalizer(lambda: clock.freeze(None))
    objections.file_objection(world.uow(), app_id, "李四", "13800001234", "数据有误",
                              ip="203.0.113.5")
    private = ("张明", "027-87654321", "zhang@example.gov.cn", "13800001234", "203.0.113.5")
    public = client.get(f"/notice/{app_id}").get_data(as_text=True) + \
        client.get(f"/api/v1/notices/{app_id}").get_data(as_text=True)
    assert "武汉光谷" in public
    assert not [p for p in private if p in public]
    for who in ("hubei_reviewer", "hubei_applicant"):  # objectors are the ministry's to see
        client.post("/login", data={"username": who, "password": PASSWORD})
        seen = client.get(f"/cases/{app_id}").get_data(as_text=True) + \
            client.get("/objections").get_data(as_text=True) + \
            api.as_(who).get("/api/v1/objections").get_data(as_text=True)
        assert "13800001234" not in seen and "203.0.113.5" not in seen, who
