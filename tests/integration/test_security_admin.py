"""三员分立: the system admin, security admin and auditor each do their own job only, none
of them can act on a case, and nobody can edit or delete an audit record through the
application (GB/T 22239-2019 8.1.4.2 c/d, 8.1.4.3 c)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyotp
import pytest

from tests import factories
from tests.factories import PASSWORD
from workflow.errors import Forbidden, NotFound, ValidationFailed
from workflow.services import audit, cases, clock, files, second_factor, security_policy, user_admin
from workflow.storage.models import UserRow

ADMINS = ("sysadmin", "secadmin", "auditor")
T = datetime(2006, 4, 20, 1, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen() -> Any:
    clock.freeze(T)
    yield
    clock.freeze(None)


def admin_client(app: Any, world: factories.World, username: str) -> Any:
    """A browser session for an admin who has enrolled TOTP and logged in with a code."""
    secret = second_factor.new_totp_secret()
    second_factor.enrol_totp(world.uow(), world.id(username), secret,
                        pyotp.TOTP(secret).at(clock.utcnow()),
                        secret_key=app.config["SETTINGS"].secret_key)
    clock.freeze(T.replace(minute=1))
    client = app.test_client()
    client.post("/login", data={"username": username, "password": PASSWORD})
    r = client.post("/login/otp", data={"otp": pyotp.TOTP(secret).at(clock.utcnow())})
    assert r.status_code == 302, r.get_data(as_text=True)
    return client


# --- no admin acts on a case -------------------------------------------------------------

@pytest.mark.parametrize("admin", ADMINS)
def test_no_admin_role_can_read_or_move_a_case(world: factories.World, admin: str) -> None:
    app_id = factories.submitted(world)
    uid = world.id(admin)
    calls = [
        lambda: cases.load(world.uow(), uid, app_id),
        lambda: cases.fire(world.uow(), uid, app_id, "recommend", None),
        lambda: cases.fire(world.uow(), uid, app_id, "return_for_revision", None,
                           reason="请补充材料"),
        lambda: cases.update_draft(world.uow(), uid, app_id, {}, 1),
        lambda: cases.list_applications(world.uow(), uid),
        lambda: cases.history_of(world.uow(), uid, app_id),
        lambda: files.attach(world.uow(), uid, app_id, "recommendation_letter", "a.pdf",
                             factories.PDF, world.upload_dir, 1 << 20),
    ]
    for call in calls:
        with pytest.raises(Forbidden) as err:
            call()
        assert err.value.first.code == "admin_cannot_act_on_cases"
    with pytest.raises(Forbidden):
        cases.create_draft(world.uow(), uid, factories.form_data())
    assert cases.load(world.uow(), world.id("hubei_reviewer"), app_id).row.state == \
        "provincially_reviewed"


# --- none does another's job ---------------------------------------------------------------

def _jobs(world: factories.World) -> dict[str, list[Any]]:
    target = world.id("hunan_reviewer")
    return {
        "sysadmin": [
            lambda uid: user_admin.create_user(world.uow(), uid, {
                "username": "new_one", "display_name": "新用户", "email": "n@example.gov.cn",
                "role": "applicant", "authority": "420000", "password": "Temp-pass-2006"}),
            lambda uid: user_admin.set_active(world.uow(), uid, target, False),
            lambda uid: user_admin.reset_password(world.uow(), uid, target, "Temp-pass-2006"),
        ],
        "secadmin": [
            lambda uid: user_admin.set_role(world.uow(), uid, target, "ministry_reviewer"),
            lambda uid: user_admin.unlock(world.uow(), uid, target),
            lambda uid: user_admin.reset_totp(world.uow(), uid, target),
            lambda uid: user_admin.update_policy(world.uow(), uid, {"lockout_minutes": "30"}),
        ],
        "auditor": [
            lambda uid: audit.search(world.uow(), uid, {}),
            lambda uid: audit.export_csv(world.uow(), uid, {}),
            lambda uid: audit.export_xlsx(world.uow(), uid, {}),
        ],
    }


@pytest.mark.parametrize("actor", [*ADMINS, "mofcom", "hubei_reviewer"])
def test_each_admin_job_is_refused_to_everyone_else(world: factories.World, actor: str) -> None:
    for owner, jobs in _jobs(world).items():
        if owner == actor:
            continue
        for job in jobs:
            with pytest.raises(Forbidden):
                job(world.id(actor))
    with world.uow() as u:  # nothing changed
        from workflow.storage.models import UserRow

        hunan = u.session.get(UserRow, world.id("hunan_reviewer"))
        assert (hunan.role, hunan.is_active, hunan.must_change_password) == (
            "provincial_reviewer", True, False)
    assert security_policy.policy(world.uow()).lockout_minutes == 15


def test_each_admin_does_their_own_job(world: factories.World) -> None:
    for owner, jobs in _jobs(world).items():
        for job in jobs:
            job(world.id(owner))


def test_the_system_admin_cannot_grant_an_admin_role(world: factories.World) -> None:
    with pytest.raises(ValidationFailed) as err:
        user_admin.create_user(world.uow(), world.id("sysadmin"), {
            "username": "shadow", "display_name": "影子", "email": "s@example.gov.cn",
            "role": "security_admin", "password": "Temp-pass-2006"})
    assert err.value.first.field == "role"


def test_the_security_admin_cannot_change_their_own_role(world: factories.World) -> None:
    with pytest.raises(Forbidden) as err:
        user_admin.set_role(world.uow(), world.id("secadmin"), world.id("secadmin"), "auditor")
    assert err.value.first.code == "not_on_yourself"


def test_a_role_change_is_audited_with_before_and_after(world: factories.World) -> None:
    user_admin.set_role(world.uow(), world.id("secadmin"), world.id("hubei_reviewer"),
                      "provincial_reviewer", "430000")
    row = audit.search(world.uow(), world.id("auditor"), {"event": "role_changed"})[0]
    assert row.actor_name == "secadmin" and row.object_id == str(world.id("hubei_reviewer"))
    assert row.details["before"]["authority"] == "420000"
    assert row.details["after"]["authority"] == "430000"


def test_out_of_range_settings_are_refused_naming_the_field(world: factories.World) -> None:
    with pytest.raises(ValidationFailed) as err:
        user_admin.update_policy(world.uow(), world.id("secadmin"),
                               {"session_idle_minutes": "0", "lockout_threshold": "x"})
    assert {r.field for r in err.value.refusals} == {"session_idle_minutes",
                                                     "lockout_threshold"}
    assert security_policy.policy(world.uow()).session_idle_minutes == 30


# --- through the web -----------------------------------------------------------------------

PAGES = {
    "sysadmin": [("get", "/admin/accounts"), ("get", "/admin/backups"),
                 ("get", "/admin/authorities")],
    "secadmin": [("get", "/admin/security"), ("get", "/admin/roles")],
    "auditor": [("get", "/admin/audit")],
}


@pytest.mark.parametrize("admin", ADMINS)
def test_each_admin_sees_only_their_own_pages(app: Any, world: factories.World,
                                              admin: str) -> None:
    client = admin_client(app, world, admin)
    for owner, pages in PAGES.items():
        for method, url in pages:
            status = getattr(client, method)(url).status_code
            assert status == (200 if owner == admin else 403), (admin, url, status)
    assert client.get("/admin/").status_code == 302
    app_id = factories.submitted(world)
    assert client.get(f"/applications/{app_id}").status_code in (403, 404)


def test_case_roles_cannot_open_admin_pages(client: Any) -> None:
    client.post("/login", data={"username": "mofcom", "password": PASSWORD})
    for pages in PAGES.values():
        for _, url in pages:
            assert client.get(url).status_code == 403
    assert client.post("/admin/roles/1/unlock").status_code == 403


def test_the_system_admin_opens_and_disables_accounts_on_the_web(app: Any,
                                                                 world: factories.World) -> None:
    client = admin_client(app, world, "sysadmin")
    r = client.post("/admin/accounts", data={
        "username": "wuhan_city", "display_name": "武汉市<script>", "email": "w@example.gov.cn",
        "role": "applicant", "authority": "420000", "password": "Temp-pass-2006"})
    assert r.status_code == 302
    page = client.get("/admin/accounts").get_data(as_text=True)
    assert "武汉市&lt;script&gt;" in page and "武汉市<script>" not in page
    bad = client.post("/admin/accounts", data={
        "username": "weak_one", "display_name": "弱密码", "email": "w@example.gov.cn",
        "role": "applicant", "authority": "420000", "password": "weak"}, follow_redirects=True)
    assert [r.status_code for r in bad.history] == [303]  # post/redirect/get
    assert 'value="weak_one"' in bad.get_data(as_text=True)
    users, _ = user_admin.list_users(world.uow(), world.id("sysadmin"))
    target = next(u for u in users if u.username == "wuhan_city")
    assert client.post(f"/admin/accounts/{target.id}/disable").status_code == 302
    users, _ = user_admin.list_users(world.uow(), world.id("sysadmin"))
    assert not next(u for u in users if u.username == "wuhan_city").is_active
    assert "weak_one" not in {u.username for u in users}


def test_the_auditor_searches_and_downloads_the_log_as_an_attachment(
        app: Any, world: factories.World) -> None:
    client = admin_client(app, world, "auditor")
    page = client.get("/admin/audit?event=login_succeeded")
    assert page.status_code == 200 and 'data-event="login_succeeded"' in page.get_data(
        as_text=True)
    for fmt, magic in (("csv", b"\xef\xbb\xbfid,"), ("xlsx", b"PK")):
        r = client.post("/admin/audit/export", data={"format": fmt})
        assert r.status_code == 200 and r.data.startswith(magic)
        assert r.headers["Content-Disposition"].startswith("attachment;")
    bad = client.get("/admin/audit?since=yesterday")
    assert bad.status_code == 422


def test_the_application_has_no_route_that_changes_or_deletes_audit_records(app: Any) -> None:
    for rule in app.url_map.iter_rules():
        if "audit" in rule.rule:
            assert rule.methods is not None
            assert not ({"PUT", "PATCH", "DELETE"} & rule.methods), rule.rule
            if "POST" in rule.methods:  # only the auditor's search/export form posts
                assert rule.endpoint in ("admin.audit_log", "admin.audit_export"), rule.endpoint


def test_unlocking_an_unknown_user_is_not_found(world: factories.World) -> None:
    with pytest.raises(NotFound):
        user_admin.unlock(world.uow(), world.id("secadmin"), 999_999)


def test_a_refused_policy_or_role_comes_back_to_its_page_once_and_changes_nothing(
        app: Any, world: factories.World) -> None:
    client = admin_client(app, world, "secadmin")
    before = client.get("/admin/security").get_data(as_text=True)
    assert 'value="5"' in before or "lockout_threshold" in before
    bad = client.post("/admin/security", data={
        "lockout_threshold": "99", "lockout_minutes": "30", "password_max_age_days": "90",
        "session_idle_minutes": "30", "session_absolute_hours": "12"})
    assert bad.status_code == 303 and bad.headers["Location"].endswith("/admin/security")
    page = client.get("/admin/security").get_data(as_text=True)
    assert 'data-field="lockout_threshold"' in page and 'value="99"' in page  # as typed
    again = client.get("/admin/security").get_data(as_text=True)  # shown once
    assert 'data-field="lockout_threshold"' not in again and 'value="99"' not in again
    # a role the account cannot have: said on the roles page, nothing changed
    target = world.id("hubei_applicant")
    bad = client.post(f"/admin/roles/{target}", data={"role": "no_such_role"})
    assert bad.status_code == 303 and bad.headers["Location"].endswith("/admin/roles")
    page = client.get("/admin/roles").get_data(as_text=True)
    assert 'role="alert"' in page
    with world.uow() as u:
        assert u.session.get(UserRow, target).role == "applicant"
