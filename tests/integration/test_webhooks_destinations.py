"""Webhooks never reach the server's own network unless an operator allows it
(WEBHOOK_ALLOWED_HOSTS): loopback, private and link-local destinations are refused when a
URL is registered and again at every delivery, after resolving the name — and the POST
goes to the address that was checked, so a name that re-resolves elsewhere (DNS
rebinding) gets nowhere. The deliveries list shows the receiver's HTTP status, never the
socket's error text: no port scanner for reviewers (issue "Hardening" §8)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from config import Settings
from tests import factories
from tests.integration.test_webhooks import (  # noqa: F401 - `receiver` is a fixture
    Receiver,
    deliveries,
    loopback_app,
    receiver,
    register,
    run,
    serving,
)
from workflow.services import webhooks
from workflow.storage.models import WebhookRow

REBINDING = "hooks.rebind.test"


class Dns:
    """Answers for one made-up name in turn (the last answer from then on); every other
    name as the system would."""

    def __init__(self, answers: list[str], real: Callable[..., Any]) -> None:
        self.answers, self.real, self.asked = answers, real, 0

    def __call__(self, host: Any, port: Any, *args: Any, **kw: Any) -> Any:
        if host != REBINDING:
            return self.real(host, port, *args, **kw)
        address = self.answers[min(self.asked, len(self.answers) - 1)]
        self.asked += 1
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port)))]


def rebinding(monkeypatch: pytest.MonkeyPatch, *answers: str) -> Dns:
    dns = Dns(list(answers), socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", dns)
    return dns


def port_of(rec: Receiver) -> int:
    return int(urlsplit(rec.url).port or 80)


@pytest.fixture
def app(settings: Settings, world: factories.World) -> Any:
    return loopback_app(settings)


def allow(app: Any, hosts: str | None) -> Settings:
    """The operator sets WEBHOOK_ALLOWED_HOSTS (None: unset) and restarts: the app and the
    worker run with the new settings, which this returns."""
    app.config["SETTINGS"] = replace(app.config["SETTINGS"], webhook_allowed_hosts=tuple(
        h.strip() for h in (hosts or "").split(",") if h.strip()))
    return app.config["SETTINGS"]  # type: ignore[no-any-return]


def stored(world: factories.World) -> list[str]:
    with world.uow() as u:
        return list(u.session.scalars(select(WebhookRow.url)))


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379/", "http://localhost:5432/",
                                 "http://169.254.169.254/latest/meta-data/",
                                 "http://10.0.0.8:8080/admin", "http://[::1]:22/"])
def test_a_url_on_the_servers_own_network_is_refused_and_nothing_is_stored(
        api: Any, app: Any, world: factories.World, url: str) -> None:
    allow(app, None)
    r = api.as_("hubei_reviewer").post("/api/v1/webhooks", json={"url": url})
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert [(e["field"], e["code"]) for e in r.get_json()["errors"]] == [
        ("url", "destination_not_allowed")]
    assert stored(world) == []


def test_an_internal_receiver_the_operator_allows_gets_its_deliveries(
        api: Any, app: Any, world: factories.World, receiver: Receiver) -> None:  # noqa: F811
    settings = allow(app, "localhost")  # by name; addresses and networks work too
    register(api, "hubei_reviewer", receiver.url.replace("127.0.0.1", "localhost"))
    factories.submitted(world)
    assert run(world, settings).delivered == 1 and len(receiver.requests) == 1


def test_a_receiver_no_longer_allowed_gets_nothing_more(
        api: Any, app: Any, world: factories.World, receiver: Receiver) -> None:  # noqa: F811
    allow(app, "127.0.0.1")
    register(api, "hubei_reviewer", receiver.url)
    settings = allow(app, None)  # the operator takes it off the list
    factories.submitted(world)
    assert run(world, settings).failed == 1
    assert receiver.requests == []
    [row] = deliveries(world)
    assert (row.last_status_code, row.last_error) == (None, webhooks.NOT_ALLOWED)


def test_a_name_that_resolves_to_an_internal_address_after_registration_gets_nothing(
        app: Any, world: factories.World, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = allow(app, "127.0.0.1")  # one internal receiver allowed; 127.0.0.2 is not
    with serving("127.0.0.1") as allowed, serving("127.0.0.2", port_of(allowed)) as internal:
        url = allowed.url.replace("127.0.0.1", REBINDING)
        rebinding(monkeypatch, "127.0.0.1", "127.0.0.2")  # registered, then rebound
        webhooks.create(world.uow(), world.id("hubei_reviewer"), url, settings=settings)
        factories.submitted(world)
        assert run(world, settings).failed == 1
        assert allowed.requests == [] and internal.requests == []
    [row] = deliveries(world)
    assert row.last_error == webhooks.NOT_ALLOWED


def test_the_post_goes_to_the_address_that_was_checked(
        app: Any, world: factories.World, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = allow(app, "127.0.0.1")
    with serving("127.0.0.1") as allowed, serving("127.0.0.2", port_of(allowed)) as internal:
        url = allowed.url.replace("127.0.0.1", REBINDING)
        # checked when registered and when delivered; any later look-up says 127.0.0.2
        dns = rebinding(monkeypatch, "127.0.0.1", "127.0.0.1", "127.0.0.2")
        webhooks.create(world.uow(), world.id("hubei_reviewer"), url, settings=settings)
        factories.submitted(world)
        assert run(world, settings).delivered == 1
        assert internal.requests == [] and len(allowed.requests) == 1
        [(headers, _)] = allowed.requests
        assert headers["Host"].split(":")[0] == REBINDING  # the name, at the checked address
        assert dns.asked == 2


def test_the_deliveries_list_shows_the_receivers_status_and_never_the_sockets_words(
        api: Any, app: Any, world: factories.World, receiver: Receiver,  # noqa: F811
        caplog: pytest.LogCaptureFixture) -> None:
    settings = allow(app, "127.0.0.1")
    answering = register(api, "hubei_reviewer", receiver.url)
    closed = register(api, "hubei_reviewer", "http://127.0.0.1:9/hook")  # nothing listens
    receiver.failures, receiver.fail_with = 1, 503
    factories.submitted(world)
    with caplog.at_level(logging.WARNING, logger="workflow.services.webhooks"):
        assert run(world, settings).failed == 2
    reviewer = api.as_("hubei_reviewer")
    [status] = reviewer.get(f"/api/v1/webhooks/{answering['id']}/deliveries").get_json()
    assert (status["last_status_code"], status["last_error"]) == (503, "HTTP 503")
    listed = reviewer.get(f"/api/v1/webhooks/{closed['id']}/deliveries")
    [silent] = listed.get_json()
    assert (silent["last_status_code"], silent["last_error"]) == (None, "no HTTP answer")
    assert "refused" not in listed.get_data(as_text=True).lower()
    assert "Connection refused" in caplog.text  # the operator still has the detail
