"""The three separated admin roles land on their own pages, not on a worklist they have no
part in, and their menu leads there (issue: a reviewer's and an applicant's day)."""

from __future__ import annotations

import time
from typing import Any

import pyotp
import pytest

from tests import factories
from workflow.services import second_factor

LANDING = {"sysadmin": "/admin/accounts", "secadmin": "/admin/security",
           "auditor": "/admin/audit"}


@pytest.mark.parametrize("username", sorted(LANDING))
def test_an_admin_lands_on_their_own_page_with_a_menu_link_to_it(
        client: Any, world: factories.World, username: str) -> None:
    secret = second_factor.new_totp_secret()  # admins log in with a second factor
    second_factor.enrol_totp(world.uow(), world.id(username), secret, pyotp.TOTP(secret).now(),
                        secret_key=client.application.config["SETTINGS"].secret_key)
    r = client.post("/login", data={"username": username, "password": factories.PASSWORD})
    assert r.status_code == 302
    # the next step's code (one is used only once; the step before or after is accepted)
    r = client.post("/login/otp", data={"otp": pyotp.TOTP(secret).at(time.time() + 30)})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    page = client.get(r.headers["Location"], follow_redirects=True)
    assert page.status_code == 200
    assert page.request.path == LANDING[username]
    html = page.get_data(as_text=True)
    assert "无权访问" not in html and 'href="/admin/"' in html
    # the worklist they have no part in sends them home too, not to a 403
    inbox = client.get("/inbox")
    assert inbox.status_code == 302 and inbox.headers["Location"].endswith("/admin/")
