"""Behind a reverse proxy every connection comes from the proxy's address. With
TRUSTED_PROXIES set to the number of proxies, the client's own address (from the
X-Forwarded-For they append) is what the lockout, the rate limits and the audit log see;
unset, the header is ignored, so a client cannot pick an address by writing one
(issue "Hardening" §7)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from config import Settings
from tests import factories
from tests.factories import PASSWORD
from web.extensions import limiter
from workflow.storage.models import AuditRow

PROXY = "10.0.0.2"  # nginx on another host: every connection comes from it
ALICE, MALLORY = "198.51.100.7", "203.0.113.5"


@pytest.fixture
def web(settings: Settings, world: factories.World, request: pytest.FixtureRequest) -> Any:
    """A client of the app created with TRUSTED_PROXIES as the test's parameter."""
    from web import create_app

    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, settings=replace(
        settings, trusted_proxies=request.param)).test_client()


def login(web: Any, forwarded_for: str, password: str = PASSWORD) -> Any:
    """A login through the proxy, which appends the client's address."""
    return web.post("/login", data={"username": "hubei_reviewer", "password": password},
                    environ_base={"REMOTE_ADDR": PROXY},
                    headers={"X-Forwarded-For": forwarded_for})


@pytest.mark.parametrize("web", [1], indirect=True)
def test_behind_a_trusted_proxy_one_clients_failures_lock_out_only_that_client(
        web: Any, world: factories.World) -> None:
    for _ in range(5):
        assert login(web, MALLORY, "wrong-Password-1").status_code == 401
    refused = login(web, MALLORY)  # even the right password, from the guessing client
    assert refused.status_code == 401 and "登录失败次数过多" in refused.get_data(as_text=True)
    assert login(web, ALICE).status_code == 302  # the real user elsewhere gets in
    with world.uow() as u:
        failed = set(u.session.scalars(select(AuditRow.ip)
                                       .where(AuditRow.event == "login_failed")))
    assert failed == {MALLORY}  # the auditor sees the client, not the proxy


@pytest.mark.parametrize("web", [1], indirect=True)
def test_behind_a_trusted_proxy_each_client_has_its_own_login_budget(web: Any) -> None:
    for _ in range(10):
        login(web, MALLORY, "wrong-Password-1")
    assert login(web, MALLORY).status_code == 429
    assert login(web, ALICE).status_code == 302


@pytest.mark.parametrize("web", [1], indirect=True)
def test_a_client_cannot_pose_as_another_through_the_trusted_proxy(web: Any) -> None:
    for _ in range(5):  # a forged address first; the proxy appends the real one
        login(web, f"{ALICE}, {MALLORY}", "wrong-Password-1")
    assert login(web, ALICE).status_code == 302
    assert login(web, MALLORY).status_code == 401


@pytest.mark.parametrize("web", [0], indirect=True)
def test_without_trusted_proxies_x_forwarded_for_is_ignored(web: Any) -> None:
    for n in range(10):  # a new made-up address on every try buys nothing
        login(web, f"192.0.2.{n}", "wrong-Password-1")
    assert login(web, ALICE).status_code == 429
    limiter.reset()  # the budget aside: the lockout holds as well
    refused = login(web, "192.0.2.200")
    assert refused.status_code == 401 and "登录失败次数过多" in refused.get_data(as_text=True)
