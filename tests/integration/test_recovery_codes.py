"""2FA recovery codes (issue 17): enrolling shows ten one-time codes once, kept only
hashed; each logs in once in place of the one-time code, audited; new ones make the old
ones void; the enrolment page explains the steps and names the apps."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from tests import factories
from tests.factories import PASSWORD
from workflow.services import clock, second_factor, user_admin
from workflow.storage.models import AuditRow, UserRow

T = datetime(2006, 4, 20, 1, 0, tzinfo=UTC)
CODE = re.compile(r"<code>([2-9a-z]{5}-[2-9a-z]{5})</code>")


@pytest.fixture(autouse=True)
def frozen() -> Any:
    clock.freeze(T)
    yield
    clock.freeze(None)


def login(client: Any, username: str = "hubei_reviewer", password: str = PASSWORD) -> Any:
    return client.post("/login", data={"username": username, "password": password})


def enrol_on_the_page(client: Any) -> tuple[str, list[str]]:
    """The user enrols as on the page; (secret, the recovery codes shown)."""
    login(client)
    page = client.get("/account/totp").get_data(as_text=True)
    with client.session_transaction() as sess:
        secret = sess["totp_pending"]
    assert " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)) in page
    done = client.post("/account/totp", data={"otp": pyotp.TOTP(secret).at(T)})
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    return secret, CODE.findall(done.get_data(as_text=True))


def stored_codes(world: factories.World, username: str = "hubei_reviewer") -> list[str]:
    with world.uow() as u:
        return list(u.session.get(UserRow, world.id(username)).totp_recovery_codes)


def events(world: factories.World, name: str) -> list[AuditRow]:
    with world.uow() as u:
        return list(u.session.scalars(select(AuditRow).where(AuditRow.event == name)))


def test_the_enrolment_page_explains_the_steps_names_the_apps_and_groups_the_key(
        client: Any) -> None:
    login(client)
    page = client.get("/account/totp").get_data(as_text=True)
    for app_name in ("腾讯身份验证器", "Microsoft Authenticator", "Google Authenticator",
                     "FreeOTP"):
        assert app_name in page
    assert "扫描二维码" in page and "10 个恢复码" in page
    key = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page)
    assert key and all(len(block) == 4 for block in key.group(1).split(" ")[:-1])


def test_enrolling_shows_ten_recovery_codes_once_and_stores_them_only_hashed(
        client: Any, world: factories.World) -> None:
    _secret, codes = enrol_on_the_page(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = stored_codes(world)
    assert len(stored) == 10 and all(h.startswith("$argon2id$") for h in stored)
    assert not any(c.replace("-", "") in "".join(stored) for c in codes)
    page = client.get("/account/totp").get_data(as_text=True)
    assert "未使用的恢复码：10 个" in page
    assert not any(c in page for c in codes)  # never shown again


def test_a_recovery_code_logs_in_once_in_place_of_the_one_time_code(
        app: Any, world: factories.World) -> None:
    _secret, codes = enrol_on_the_page(app.test_client())
    clock.freeze(T + timedelta(minutes=5))
    lost_phone = app.test_client()
    assert login(lost_phone).headers["Location"].endswith("/login/otp")
    assert lost_phone.post("/login/otp", data={"otp": codes[3].upper().replace("-", " ")}
                           ).status_code == 302  # typed from paper: case and spaces vary
    assert lost_phone.get("/inbox").status_code == 200
    used = events(world, "recovery_code_used")
    assert len(used) == 1 and used[0].details["left"] == 9
    assert "未使用的恢复码：9 个" in lost_phone.get("/account/totp").get_data(as_text=True)

    again = app.test_client()
    login(again)
    refused = again.post("/login/otp", data={"otp": codes[3]})
    assert refused.status_code == 401 and "恢复码不正确或已使用" in refused.get_data(as_text=True)
    assert again.get("/inbox").status_code == 302  # not logged in


def test_new_recovery_codes_void_the_old_ones_and_need_the_password(
        app: Any, world: factories.World) -> None:
    client = app.test_client()
    _secret, old = enrol_on_the_page(client)
    wrong = client.post("/account/recovery-codes", data={"password": "not-my-Password-1"})
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.get_data(as_text=True)
    assert len(stored_codes(world)) == 10 and not events(world, "recovery_codes_regenerated")
    fresh = client.post("/account/recovery-codes", data={"password": PASSWORD})
    new = CODE.findall(fresh.get_data(as_text=True))
    assert fresh.status_code == 200 and len(new) == 10 and not set(new) & set(old)
    assert "原有的恢复码已全部作废" in fresh.get_data(as_text=True)
    assert len(events(world, "recovery_codes_regenerated")) == 1

    clock.freeze(T + timedelta(minutes=5))
    other = app.test_client()
    login(other)
    assert other.post("/login/otp", data={"otp": old[0]}).status_code == 401
    assert other.post("/login/otp", data={"otp": new[0]}).status_code == 302


def test_the_api_takes_a_recovery_code_as_the_otp(app: Any, world: factories.World) -> None:
    secret = second_factor.new_totp_secret()
    codes = second_factor.enrol_totp(world.uow(), world.id("hubei_reviewer"), secret,
                                pyotp.TOTP(secret).at(T),
                                secret_key=app.config["SETTINGS"].secret_key)
    r = app.test_client().post("/api/v1/auth/token", json={
        "username": "hubei_reviewer", "password": PASSWORD, "otp": codes[0]})
    assert r.status_code == 201
    assert len(stored_codes(world)) == 9


def test_a_security_admin_reset_of_the_factor_voids_the_recovery_codes(
        app: Any, world: factories.World) -> None:
    secret = second_factor.new_totp_secret()
    second_factor.enrol_totp(world.uow(), world.id("hubei_reviewer"), secret,
                        pyotp.TOTP(secret).at(T), secret_key=app.config["SETTINGS"].secret_key)
    user_admin.reset_totp(world.uow(), world.id("secadmin"), world.id("hubei_reviewer"))
    assert stored_codes(world) == []
