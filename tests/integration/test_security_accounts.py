"""Accounts to MLPS level 3: lockout and unlock, password policy, session timeouts, logout
everywhere, disabling, TOTP for the admin roles (GB/T 22239-2019 8.1.4.1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest

from tests import factories
from tests.factories import PASSWORD
from workflow.errors import ValidationFailed
from workflow.services import clock, passwords, second_factor, user_admin
from workflow.storage.models import UserRow

T = datetime(2006, 4, 20, 1, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen() -> Any:
    clock.freeze(T)
    yield
    clock.freeze(None)


def login(client: Any, username: str, password: str = PASSWORD,
          ip: str = "10.0.0.1") -> Any:
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def enrol(world: factories.World, app: Any, username: str) -> str:
    """Give a user a TOTP secret through the service, as the enrolment page does."""
    secret = second_factor.new_totp_secret()
    code = pyotp.TOTP(secret).at(clock.utcnow())
    second_factor.enrol_totp(world.uow(), world.id(username), secret, code,
                        secret_key=app.config["SETTINGS"].secret_key)
    return secret


def set_user(world: factories.World, username: str, **values: Any) -> None:
    with world.uow() as u:
        user = u.session.get(UserRow, world.id(username))
        for k, v in values.items():
            setattr(user, k, v)
        u.commit()


# --- lockout ---------------------------------------------------------------------------

def test_five_wrong_passwords_lock_that_address_out_for_fifteen_minutes(client: Any) -> None:
    for _ in range(4):
        assert login(client, "hubei_reviewer", "wrong-Password-1").status_code == 401
    fifth = login(client, "hubei_reviewer", "wrong-Password-1")
    assert fifth.status_code == 401
    assert "15 分钟" in fifth.get_data(as_text=True)
    refused = login(client, "hubei_reviewer")  # even the right password
    assert refused.status_code == 401 and "登录失败次数过多" in refused.get_data(as_text=True)
    clock.freeze(T + timedelta(minutes=15, seconds=1))
    assert login(client, "hubei_reviewer").status_code == 302


def test_an_attacker_elsewhere_cannot_lock_the_real_user_out(client: Any) -> None:
    for _ in range(5):
        login(client, "hubei_reviewer", "wrong-Password-1", ip="203.0.113.9")
    assert login(client, "hubei_reviewer", ip="203.0.113.9").status_code == 401
    assert login(client, "hubei_reviewer", ip="10.1.1.1").status_code == 302


def test_unknown_user_names_behave_exactly_like_real_ones(client: Any) -> None:
    real = login(client, "hubei_reviewer", "wrong-Password-1").get_data(as_text=True)
    ghost = login(client, "nobody_here", "wrong-Password-1").get_data(as_text=True)
    assert "用户名或密码错误" in real and "用户名或密码错误" in ghost


def test_the_security_admin_unlocks_a_locked_user_at_once(world: factories.World,
                                                          client: Any) -> None:
    for _ in range(5):
        login(client, "hubei_reviewer", "wrong-Password-1")
    users, locked = user_admin.list_users(world.uow(), world.id("secadmin"))
    assert "hubei_reviewer" in locked
    assert user_admin.unlock(world.uow(), world.id("secadmin"), world.id("hubei_reviewer")) == 1
    assert login(client, "hubei_reviewer").status_code == 302


def test_the_lockout_threshold_and_duration_are_settings(world: factories.World,
                                                         client: Any) -> None:
    user_admin.update_policy(world.uow(), world.id("secadmin"),
                           {"lockout_threshold": "3", "lockout_minutes": "60"})
    for _ in range(3):
        login(client, "hubei_reviewer", "wrong-Password-1")
    assert login(client, "hubei_reviewer").status_code == 401
    clock.freeze(T + timedelta(minutes=59))
    assert login(client, "hubei_reviewer").status_code == 401
    clock.freeze(T + timedelta(minutes=61))
    assert login(client, "hubei_reviewer").status_code == 302


# --- passwords -------------------------------------------------------------------------

@pytest.mark.parametrize(("password", "code"), [
    ("Short-1", "password_too_short"),
    ("alllowercaseletters", "password_too_simple"),
    ("hubei_reviewer-X1", "password_contains_username"),
    ("Password2024!", "password_too_common"),  # a common password with digits added
    ("P@ssw0rd123", "password_too_common"),
    ("Woaini1314!!", "password_too_common"),
    ("Qwerty123456", "password_too_common"),
])
def test_weak_passwords_are_refused_with_a_stable_code(password: str, code: str) -> None:
    problems = passwords.password_problems(password, "hubei_reviewer")
    assert code in [p.code for p in problems]


def test_the_common_password_list_ships_thousands_and_spares_ordinary_passwords() -> None:
    assert len(passwords.common_passwords()) > 9000  # ASVS V6.2.4: at least the top 3,000
    assert {"password", "qwerty123", "5201314", "woaini1314"} <= passwords.common_passwords()
    for fine in (PASSWORD, "Mine-own-2006", "Lemonade!Sky42", "Wuhan-temp-2006!x"):
        assert passwords.password_problems(fine, "hubei_reviewer") == [], fine


def test_a_common_password_is_refused_on_the_page_and_the_old_one_still_works(
        client: Any) -> None:
    login(client, "hubei_reviewer")
    r = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "Shanghai2006!",
        "confirm": "Shanghai2006!"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'data-code="password_too_common"' in html
    assert "该密码过于常见" in html
    client.post("/logout")
    assert login(client, "hubei_reviewer").status_code == 302  # nothing changed


def test_the_system_admin_cannot_hand_out_a_common_temporary_password(
        world: factories.World) -> None:
    with pytest.raises(ValidationFailed) as err:
        user_admin.create_user(world.uow(), world.id("sysadmin"), {
            "username": "wuhan_city", "display_name": "武汉市商务局", "email": "w@example.gov.cn",
            "role": "applicant", "authority": "420000", "password": "Password123!"})
    assert [(r.code, r.field) for r in err.value.refusals] == [
        ("password_too_common", "password")]


def test_a_password_may_not_be_one_of_the_last_five(world: factories.World) -> None:
    uid = world.id("hubei_reviewer")
    current = PASSWORD
    for i in range(4):
        new = f"Fresh-pass-{i}0"
        passwords.change_password(world.uow(), uid, current, new)
        current = new
    with pytest.raises(ValidationFailed) as err:  # the original is still among 5
        passwords.change_password(world.uow(), uid, current, PASSWORD)
    assert err.value.first.code == "password_reused"
    passwords.change_password(world.uow(), uid, current, "Fresh-pass-40")
    passwords.change_password(world.uow(), uid, "Fresh-pass-40", PASSWORD)  # 6th back: allowed


def test_a_new_account_must_change_its_password_before_anything_else(
        world: factories.World, client: Any) -> None:
    user_admin.create_user(world.uow(), world.id("sysadmin"), {
        "username": "wuhan_city", "display_name": "武汉市商务局", "email": "w@example.gov.cn",
        "role": "applicant", "authority": "420000", "password": "Temp-pass-2006"})
    assert login(client, "wuhan_city", "Temp-pass-2006").status_code == 302
    inbox = client.get("/inbox")
    assert inbox.status_code == 302 and inbox.headers["Location"].endswith("/account/password")
    changed = client.post("/account/password", data={
        "current_password": "Temp-pass-2006", "new_password": "Mine-own-2006",
        "confirm": "Mine-own-2006"})
    assert changed.status_code == 302
    assert client.get("/inbox").status_code == 200


def test_an_expired_password_sends_the_user_to_change_it(world: factories.World,
                                                          client: Any) -> None:
    set_user(world, "hubei_reviewer", password_changed_at=T - timedelta(days=91))
    login(client, "hubei_reviewer")
    assert client.get("/inbox").headers["Location"].endswith("/account/password")


# --- sessions --------------------------------------------------------------------------

def test_thirty_idle_minutes_end_the_session(client: Any) -> None:
    login(client, "hubei_reviewer")
    clock.freeze(T + timedelta(minutes=29))
    assert client.get("/inbox").status_code == 200
    clock.freeze(T + timedelta(minutes=29 + 31))
    r = client.get("/inbox")
    assert r.status_code == 302 and "reason=idle" in r.headers["Location"]


def test_twelve_hours_end_the_session_however_busy(client: Any) -> None:
    login(client, "hubei_reviewer")
    for minutes in range(20, 12 * 60, 20):
        clock.freeze(T + timedelta(minutes=minutes))
        assert client.get("/inbox").status_code == 200
    clock.freeze(T + timedelta(hours=12, minutes=1))
    r = client.get("/inbox")
    assert r.status_code == 302 and "reason=expired" in r.headers["Location"]


def test_login_issues_a_new_session(client: Any) -> None:
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    login(client, "hubei_reviewer")
    with client.session_transaction() as sess:
        assert "planted" not in sess and sess["sid"]


def test_logout_ends_every_session_of_that_user(app: Any) -> None:
    office, home = app.test_client(), app.test_client()
    login(office, "hubei_reviewer")
    login(home, "hubei_reviewer", ip="10.9.9.9")
    office.post("/logout")
    r = home.get("/inbox")
    assert r.status_code == 302 and "reason=ended" in r.headers["Location"]


def test_disabling_an_account_ends_its_sessions_and_tokens(world: factories.World,
                                                           client: Any, api: Any) -> None:
    login(client, "hubei_reviewer")
    reviewer = api.as_("hubei_reviewer")
    assert reviewer.get("/api/v1/applications").status_code == 200
    user_admin.set_active(world.uow(), world.id("sysadmin"), world.id("hubei_reviewer"), False)
    assert client.get("/inbox").status_code == 302
    assert reviewer.get("/api/v1/applications").status_code == 401
    assert login(client, "hubei_reviewer").status_code == 401


def test_a_role_change_ends_the_users_sessions(world: factories.World, client: Any) -> None:
    login(client, "hubei_reviewer")
    user_admin.set_role(world.uow(), world.id("secadmin"), world.id("hubei_reviewer"),
                      "provincial_reviewer", "430000")
    assert client.get("/inbox").status_code == 302


# --- TOTP ------------------------------------------------------------------------------

def test_an_admin_without_a_second_factor_must_enrol_before_anything_else(
        client: Any) -> None:
    assert login(client, "auditor").status_code == 302
    r = client.get("/admin/audit")
    assert r.status_code == 302 and r.headers["Location"].endswith("/account/totp")
    page = client.get("/account/totp").get_data(as_text=True)
    assert "<svg" in page
    with client.session_transaction() as sess:
        secret = sess["totp_pending"]
    done = client.post("/account/totp", data={"otp": pyotp.TOTP(secret).at(T)})
    assert done.status_code == 200 and "这些恢复码只显示这一次" in done.get_data(as_text=True)
    assert client.get("/admin/audit").status_code == 200


def test_an_enrolled_user_needs_the_code_and_each_code_works_once(
        world: factories.World, app: Any) -> None:
    secret = enrol(world, app, "auditor")
    clock.freeze(T + timedelta(seconds=60))
    client = app.test_client()
    step1 = login(client, "auditor")
    assert step1.headers["Location"].endswith("/login/otp")
    assert client.get("/admin/audit").status_code == 302  # not logged in yet
    code = pyotp.TOTP(secret).at(clock.utcnow())
    assert client.post("/login/otp", data={"otp": "000000" if code != "000000"
                                           else "111111"}).status_code == 401
    assert client.post("/login/otp", data={"otp": code}).status_code == 302
    assert client.get("/admin/audit").status_code == 200
    again = app.test_client()
    login(again, "auditor")
    assert again.post("/login/otp", data={"otp": code}).status_code == 401  # replayed


def test_the_api_refuses_an_admin_without_a_second_factor(client: Any) -> None:
    r = client.post("/api/v1/auth/token", json={"username": "secadmin", "password": PASSWORD})
    assert r.status_code == 401 and r.get_json()["code"] == "totp_required"


def test_the_api_takes_the_code_from_an_enrolled_user(world: factories.World,
                                                      client: Any) -> None:
    secret = enrol(world, client.application, "hubei_reviewer")
    clock.freeze(T + timedelta(seconds=60))
    without = client.post("/api/v1/auth/token",
                          json={"username": "hubei_reviewer", "password": PASSWORD})
    assert without.status_code == 401
    with_code = client.post("/api/v1/auth/token", json={
        "username": "hubei_reviewer", "password": PASSWORD,
        "otp": pyotp.TOTP(secret).at(clock.utcnow())})
    assert with_code.status_code == 201
