"""What the route crawls of the security suites share: a concrete URL for every route, and
a logged-in browser for any role (the three admins with their second factor)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pyotp
from werkzeug.routing import Rule

from tests import factories
from tests.factories import PASSWORD
from workflow.services import clock, second_factor

ADMINS = ("sysadmin", "secadmin", "auditor")
# a harmless value for every URL part that is not an id
PLACEHOLDER = {"code": "en", "decision": "uphold", "filename": "nothing-here.css",
               "period": "2006", "year": "2006"}


def url_for_rule(rule: Rule, ident: int) -> str:
    """A concrete URL for a rule: every id is `ident`, other parts a harmless value."""
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(r"<[^>]*\b" + name + ">", PLACEHOLDER.get(name, str(ident)), url)
    return url


def browser(app: Any, world: factories.World, username: str | None, at: datetime,
            step: int) -> Any:
    """A test client logged in as `username` (None: anonymous) through the real forms;
    admins enrol a second factor and log in with a code. The clock is frozen `step`
    minutes after `at`, so each login gets codes of its own."""
    client = app.test_client()
    if username is None:
        return client
    if username not in ADMINS:
        factories.login(client, username)
        return client
    secret = second_factor.new_totp_secret()
    clock.freeze(at + timedelta(minutes=step))
    second_factor.enrol_totp(world.uow(), world.id(username), secret,
                        pyotp.TOTP(secret).at(clock.utcnow()),
                        secret_key=app.config["SETTINGS"].secret_key)
    clock.freeze(at + timedelta(minutes=step, seconds=30))
    client.post("/login", data={"username": username, "password": PASSWORD})
    r = client.post("/login/otp", data={"otp": pyotp.TOTP(secret).at(clock.utcnow())})
    assert r.status_code == 302, (username, r.get_data(as_text=True)[:300])
    return client
