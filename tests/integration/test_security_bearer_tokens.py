"""Bearer tokens follow the password: no token while a password is temporary or expired,
and none survives what ends the user's sessions (Hardening items 2 and 3).

- The API hands no token for a temporary (admin-reset, new account) or expired password,
  and refuses every token of a user whose password must change: `403
  password_change_required` (problem+json, Chinese and English), until it is changed on
  the web.
- Login tokens (`POST /api/v1/auth/token`) end with the user's sessions: logout, a
  password change, an admin's password or TOTP reset. Personal tokens end on a password
  change when the user ticks the box on the password page (ticked by default); the choice
  is audited.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests import factories
from tests.factories import PASSWORD
from workflow.services import audit, cases, clock, passwords, tokens, user_admin
from workflow.storage.models import UserRow

NEW = "Mine-own-2006!"
TEMPORARY = "Temp-pass-2006x"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def api_login(client: Any, username: str, password: str = PASSWORD) -> Any:
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def login_token(client: Any, username: str) -> str:
    r = api_login(client, username)
    assert r.status_code == 201, r.get_json()
    return str(r.get_json()["token"])


def personal_token(world: factories.World, username: str) -> str:
    return tokens.create(world.uow(), world.id(username), "省平台对接").token


def web_login(client: Any, username: str, password: str = PASSWORD) -> None:
    r = client.post("/login", data={"username": username, "password": password})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]


def change_on_the_page(client: Any, current: str, revoke_personal: bool) -> Any:
    form = {"current_password": current, "new_password": NEW, "confirm": NEW}
    if revoke_personal:
        form["revoke_personal_tokens"] = "y"
    return client.post("/account/password", data=form)


def assert_change_password_first(r: Any) -> None:
    assert r.status_code == 403 and r.mimetype == "application/problem+json"
    body = r.get_json()
    assert body["code"] == "password_change_required"
    assert "修改密码" in body["detail"] and "/account/password" in body["title"]


def password_changes(world: factories.World) -> list[Any]:
    return audit.search(world.uow(), world.id("auditor"), {"event": "password_changed"})


# --- item 2: no token for a temporary or expired password ---------------------------------

def test_after_an_admin_reset_the_api_gives_no_token_until_the_password_is_changed(
        world: factories.World, app: Any) -> None:
    client = app.test_client()
    before = login_token(client, "mofcom2")
    user_admin.reset_password(world.uow(), world.id("sysadmin"), world.id("mofcom2"), TEMPORARY)
    assert client.get("/api/v1/me", headers=bearer(before)).status_code == 401  # ended

    assert_change_password_first(api_login(client, "mofcom2", TEMPORARY))
    refused = audit.search(world.uow(), world.id("auditor"), {"event": "token_refused"})
    assert [(r.actor_name, r.details["reason"]) for r in refused] == [
        ("mofcom2", "password_change_required")]

    web = app.test_client()
    web_login(web, "mofcom2", TEMPORARY)
    assert change_on_the_page(web, TEMPORARY, revoke_personal=True).status_code == 302
    assert api_login(client, "mofcom2", NEW).status_code == 201


def test_a_password_past_its_ninety_days_gets_no_token(world: factories.World,
                                                       client: Any) -> None:
    with world.uow() as u:
        u.session.get(UserRow, world.id("hubei_reviewer")).password_changed_at = \
            datetime.now(UTC) - timedelta(days=91)
        u.commit()
    assert_change_password_first(api_login(client, "hubei_reviewer"))


def test_a_token_of_a_user_who_must_change_the_password_can_do_nothing(
        world: factories.World, client: Any) -> None:
    """E.g. one handed out for a temporary password before the API refused them."""
    app_id = factories.recommended(world)
    with world.uow() as u:
        u.session.get(UserRow, world.id("mofcom2")).must_change_password = True
        u.commit()
    token = tokens.issue_token(world.uow(), world.id("mofcom2")).token
    version = cases.load(world.uow(), world.id("mofcom"), app_id).row.version

    published = client.post(f"/api/v1/applications/{app_id}/transitions", headers=bearer(token),
                            json={"trigger": "publish_notice", "version": version})
    assert_change_password_first(published)
    made = client.post("/api/v1/tokens", headers=bearer(token), json={"name": "永久"})
    assert_change_password_first(made)
    assert_change_password_first(client.get("/api/v1/me", headers=bearer(token)))
    assert cases.load(world.uow(), world.id("mofcom"), app_id).row.state == "recommended"
    assert len(tokens.list_own(world.uow(), world.id("mofcom2"))) == 1  # nothing made


def test_a_personal_token_stops_when_the_password_expires_and_works_again_once_changed(
        world: factories.World, client: Any) -> None:
    start = datetime.now(UTC)
    clock.freeze(start)
    try:
        token = personal_token(world, "hubei_reviewer")
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
        clock.freeze(start + timedelta(days=91))
        assert_change_password_first(client.get("/api/v1/me", headers=bearer(token)))
        passwords.change_password(world.uow(), world.id("hubei_reviewer"), PASSWORD, NEW)
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    finally:
        clock.freeze(None)


# --- item 3: tokens end with the sessions ---------------------------------------------------

def test_a_password_change_ends_login_tokens_and_personal_ones_when_ticked(
        world: factories.World, app: Any) -> None:
    attacker = app.test_client()
    stolen_login, stolen_personal = (login_token(attacker, "hubei_reviewer"),
                                     personal_token(world, "hubei_reviewer"))
    victim = app.test_client()
    web_login(victim, "hubei_reviewer")
    page = victim.get("/account/password").get_data(as_text=True)
    assert 'name="revoke_personal_tokens"' in page and "checked" in page  # ticked by default
    assert change_on_the_page(victim, PASSWORD, revoke_personal=True).status_code == 302
    victim.post("/logout")

    for token in (stolen_login, stolen_personal):
        assert attacker.get("/api/v1/applications", headers=bearer(token)).status_code == 401
    [changed] = password_changes(world)
    assert changed.details == {"login_tokens_revoked": 1, "personal_tokens": "revoked",
                               "personal_tokens_revoked": 1}


def test_keeping_personal_tokens_is_the_users_audited_choice(world: factories.World,
                                                            app: Any) -> None:
    integration = app.test_client()
    login = login_token(integration, "hubei_reviewer")
    platform = personal_token(world, "hubei_reviewer")
    user = app.test_client()
    web_login(user, "hubei_reviewer")
    assert change_on_the_page(user, PASSWORD, revoke_personal=False).status_code == 302

    assert integration.get("/api/v1/me", headers=bearer(login)).status_code == 401
    assert integration.get("/api/v1/me", headers=bearer(platform)).status_code == 200
    [changed] = password_changes(world)
    assert changed.details["personal_tokens"] == "kept"
    assert changed.details["login_tokens_revoked"] == 1


def test_logout_ends_login_tokens_but_not_personal_ones(world: factories.World,
                                                       app: Any) -> None:
    api = app.test_client()
    login, platform = login_token(api, "hubei_reviewer"), personal_token(world, "hubei_reviewer")
    browser = app.test_client()
    web_login(browser, "hubei_reviewer")
    browser.post("/logout")
    assert api.get("/api/v1/me", headers=bearer(login)).status_code == 401
    assert api.get("/api/v1/me", headers=bearer(platform)).status_code == 200
    assert login_token(api, "hubei_reviewer")  # logging in again gives a new one


def test_a_totp_reset_ends_the_users_login_tokens(world: factories.World, client: Any) -> None:
    token = login_token(client, "hubei_reviewer")
    user_admin.reset_totp(world.uow(), world.id("secadmin"), world.id("hubei_reviewer"))
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


@pytest.mark.parametrize("name", ["login", " Login "])
def test_a_personal_token_may_not_take_the_login_tokens_name(client: Any, name: str) -> None:
    r = client.post("/api/v1/tokens", headers=bearer(login_token(client, "hubei_reviewer")),
                    json={"name": name})
    assert r.status_code == 422
    assert [e["code"] for e in r.get_json()["errors"]] == ["reserved_name"]
