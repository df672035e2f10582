"""Two clocks: `APP_NOW` pins the domain's clock (deadlines, the dates a case records) for a
demo walkthrough of 2006, while everything security does — TOTP codes, session timeouts,
token expiry, lockouts, password age, audit and log timestamps — keeps the real time."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyotp
import pytest

from config import Settings, logs
from tests import factories
from tests.factories import PASSWORD
from workflow.errors import ValidationFailed
from workflow.services import audit, clock, second_factor, tokens, user_admin
from workflow.storage.models import UserRow

APP_NOW = "2006-05-08T09:00+08:00"
PINNED = datetime(2006, 5, 8, 1, 0, tzinfo=UTC)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The app's settings as `APP_NOW=… make run` reads them: the app pins the clock."""
    return replace(settings, app_now=datetime.fromisoformat(APP_NOW))


@pytest.fixture(autouse=True)
def demo_clock() -> Iterator[None]:
    """The demo's pinned clock, as the app pins it (here too, for services called directly)."""
    clock.freeze(None)
    clock.pin(datetime.fromisoformat(APP_NOW))
    yield
    clock.pin(None)


def near_now(moment: datetime, plus: timedelta = timedelta(0)) -> bool:
    """Within a minute of the real time (+ `plus`): never 2006."""
    return abs(moment - (datetime.now(UTC) + plus)) < timedelta(minutes=1)


def set_user(world: factories.World, username: str, **values: Any) -> None:
    with world.uow() as u:
        user = u.session.get(UserRow, world.id(username))
        for k, v in values.items():
            setattr(user, k, v)
        u.commit()


def web_login(client: Any, username: str, password: str = PASSWORD) -> Any:
    return client.post("/login", data={"username": username, "password": password})


def test_the_domain_clock_follows_app_now() -> None:
    assert clock.utcnow() == PINNED and clock.today() == date(2006, 5, 8)
    assert near_now(clock.real_utcnow())


def test_a_totp_code_for_the_real_time_is_accepted_and_one_for_2006_refused(
        world: factories.World, client: Any) -> None:
    secret = second_factor.new_totp_secret()
    totp = pyotp.TOTP(secret)
    uid, key = world.id("hubei_reviewer"), client.application.config["SETTINGS"].secret_key
    with pytest.raises(ValidationFailed) as err:
        second_factor.enrol_totp(world.uow(), uid, secret, totp.at(PINNED), secret_key=key)
    assert err.value.first.code == "invalid_totp"
    second_factor.enrol_totp(world.uow(), uid, secret, totp.now(), secret_key=key)

    creds = {"username": "hubei_reviewer", "password": PASSWORD}
    of_2006 = client.post("/api/v1/auth/token", json={**creds, "otp": totp.at(PINNED)})
    assert of_2006.status_code == 401
    assert of_2006.get_json()["errors"][0]["code"] == "invalid_totp"
    # the next 30 seconds' code: the one just used to enrol may not be used again
    real = client.post("/api/v1/auth/token", json={**creds, "otp": totp.at(time.time() + 30)})
    assert real.status_code == 201


def test_a_session_idle_for_thirty_real_minutes_ends_though_app_now_stands_still(
        client: Any) -> None:
    assert web_login(client, "hubei_reviewer").status_code == 302
    assert client.get("/inbox").status_code == 200  # begun now: neither idle nor expired
    with client.session_transaction() as sess:
        sess["seen"] = time.time() - 31 * 60
    r = client.get("/inbox")
    assert r.status_code == 302 and "reason=idle" in r.headers["Location"]


def test_a_session_twelve_real_hours_old_ends(client: Any) -> None:
    web_login(client, "hubei_reviewer")
    with client.session_transaction() as sess:
        sess["started"] = time.time() - 12 * 3600 - 60
    r = client.get("/inbox")
    assert r.status_code == 302 and "reason=expired" in r.headers["Location"]


def test_a_login_token_lasts_twelve_real_hours_and_its_login_is_audited_at_the_real_time(
        world: factories.World, client: Any) -> None:
    r = client.post("/api/v1/auth/token",
                    json={"username": "hubei_reviewer", "password": PASSWORD})
    assert r.status_code == 201
    expires = datetime.fromisoformat(r.get_json()["expires_at"])
    assert near_now(expires, timedelta(hours=12))
    bearer = {"Authorization": f"Bearer {r.get_json()['token']}"}
    assert client.get("/api/v1/applications", headers=bearer).status_code == 200
    logged = audit.search(world.uow(), world.id("auditor"), {"event": "login_succeeded"})
    assert logged and near_now(logged[0].at)


def test_personal_token_expiry_is_by_the_real_date(world: factories.World,
                                                   client: Any) -> None:
    real_today = clock.local_date(datetime.now(UTC))
    three_days_ago = datetime.now(UTC) - timedelta(days=3)
    stale = tokens.create(world.uow(), world.id("hubei_reviewer"), "old", "read",
                          real_today - timedelta(days=1), now=three_days_ago).token
    r = client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {stale}"})
    assert r.status_code == 401  # expired yesterday, however early APP_NOW says it is

    login = client.post("/api/v1/auth/token",
                        json={"username": "hubei_reviewer", "password": PASSWORD})
    bearer = {"Authorization": f"Bearer {login.get_json()['token']}"}
    made = client.post("/api/v1/tokens", headers=bearer, json={
        "name": "省平台", "expires_on": (real_today + timedelta(days=1)).isoformat()})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["active"] is True


def test_a_lockout_lasts_fifteen_real_minutes(world: factories.World, client: Any) -> None:
    for _ in range(5):
        web_login(client, "hubei_reviewer", "wrong-Password-1")
    locks = user_admin.lockouts(world.uow(), world.id("secadmin"), world.id("hubei_reviewer"))
    assert len(locks) == 1 and near_now(locks[0][1], timedelta(minutes=15))


def test_a_password_changed_ninety_one_real_days_ago_must_be_changed(
        world: factories.World, client: Any) -> None:
    set_user(world, "hubei_reviewer",
             password_changed_at=datetime.now(UTC) - timedelta(days=91))
    web_login(client, "hubei_reviewer")
    assert client.get("/inbox").headers["Location"].endswith("/account/password")


def test_a_case_records_the_pinned_day_while_its_audit_record_has_the_real_time(
        world: factories.World, api: Any) -> None:
    app_id = factories.submitted(world)
    reviewer = api.as_("hubei_reviewer")
    version = reviewer.get(f"/api/v1/applications/{app_id}").get_json()["version"]
    fired = reviewer.post(f"/api/v1/applications/{app_id}/transitions", json={
        "trigger": "return_for_revision", "version": version, "reason": "请补充出口数据来源"})
    assert fired.status_code == 200, fired.get_json()
    history = reviewer.get(f"/api/v1/applications/{app_id}/history")
    assert datetime.fromisoformat(history.get_json()[-1]["at"]) == PINNED
    action = audit.search(world.uow(), world.id("auditor"),
                          {"event": "case_action", "object_id": str(app_id)})[0]
    assert action.details["trigger"] == "return_for_revision" and near_now(action.at)


def test_log_lines_carry_the_real_time_in_utc() -> None:
    out = io.StringIO()
    handler = logs.make_handler("web", out)
    logger = logging.getLogger("test.clocks")
    logger.addHandler(handler)
    try:
        logger.warning("a line")
    finally:
        logger.removeHandler(handler)
    stamp = json.loads(out.getvalue())["time"]
    assert stamp.endswith("Z") and near_now(datetime.fromisoformat(stamp))
