"""Webhooks end to end on SQLite and PostgreSQL: registered through the API, fed by real
transitions, delivered by the service a worker runs to a real HTTP receiver on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from config import Settings
from tests import factories
from workflow.services import clock, tokens, webhooks
from workflow.storage.models import AuditRow, WebhookDeliveryRow, WebhookRow


@dataclass
class Receiver:
    """An HTTP server that records every POST and answers `fail_with` for the next
    `failures` requests (2xx after that)."""

    url: str = ""
    requests: list[tuple[Any, bytes]] = field(default_factory=list)  # (headers, body)
    failures: int = 0
    fail_with: int = 503

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.requests]


@contextmanager
def serving(host: str = "127.0.0.1", port: int = 0) -> Iterator[Receiver]:
    """A `Receiver` listening on `host` (port `port`, or a free one) until the block ends."""
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            rec.requests.append((self.headers, body))
            status = 204
            if rec.failures > 0:
                rec.failures -= 1
                status = rec.fail_with
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    rec.url = f"http://{host}:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving() as rec:
        yield rec


def register(api: Any, user: str, url: str) -> dict[str, Any]:
    r = api.as_(user).post("/api/v1/webhooks", json={"url": url})
    assert r.status_code == 201, r.get_data(as_text=True)
    return dict(r.get_json())


def run(world: factories.World, settings: Settings) -> webhooks.Delivery:
    """What beat and a worker (running with `settings`) do: scan the history, then POST
    what is due."""
    webhooks.scan(world.uow())
    return webhooks.deliver_due(world.uow(), settings=settings)


def deliveries(world: factories.World) -> list[WebhookDeliveryRow]:
    with world.uow() as u:
        return list(u.session.scalars(select(WebhookDeliveryRow).order_by(WebhookDeliveryRow.id)))


def later(minutes: float) -> None:
    clock.freeze(clock.utcnow() + timedelta(minutes=minutes))


pytestmark = pytest.mark.usefixtures("pinned_clock")  # the tests pin it; restored after each


LOOPBACK = ("127.0.0.1",)


def loopback_app(settings: Settings) -> Any:
    """The app with its settings allowing loopback (WEBHOOK_ALLOWED_HOSTS): the test
    receivers listen there, which webhooks may reach only when allowed."""
    from web import create_app

    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False},
                      settings=replace(settings, webhook_allowed_hosts=LOOPBACK))


@pytest.fixture
def app(settings: Settings, world: factories.World) -> Any:
    return loopback_app(settings)


@pytest.fixture
def runs_with(app: Any) -> Settings:
    """What the app runs with; the worker is given the same (the sealed secrets open)."""
    return app.config["SETTINGS"]  # type: ignore[no-any-return]


def test_a_province_hears_of_its_own_cases_signed_and_without_personal_data(
        api: Any, world: factories.World, receiver: Receiver, runs_with: Settings) -> None:
    hook = register(api, "hubei_reviewer", receiver.url)
    assert hook["authority_code"] == "420000" and hook["secret"]
    hubei = factories.submitted(world, contact_person="王秘密")
    factories.submitted(world, "hunan_applicant")  # another province's case
    assert run(world, runs_with).delivered == 1
    [(headers, body)] = receiver.requests
    assert headers["Content-Type"] == "application/json"
    assert webhooks.verify(hook["secret"], headers["X-EIB-Timestamp"], body,
                           headers["X-EIB-Signature"])
    assert not webhooks.verify("another-secret", headers["X-EIB-Timestamp"], body,
                               headers["X-EIB-Signature"])
    sent = json.loads(body)
    assert sent["event"] == "case.transitioned"
    assert str(sent["delivery_id"]) == headers["X-EIB-Delivery"]
    assert (sent["application_id"], sent["authority_code"], sent["trigger"]) == (
        hubei, "420000", "submit")
    assert (sent["from_state"], sent["to_state"], sent["version"]) == (
        "drafted", "provincially_reviewed", 2)
    assert sent["at"] == "2006-04-03T02:00:00Z" and sent["actor_role"] == "applicant"
    assert set(sent) == {"event", "delivery_id", "history_id", "application_id",
                         "authority_code", "province_code", "trigger", "from_state",
                         "to_state", "version", "at", "actor_role"}
    text = body.decode()
    for personal in ("王秘密", "武汉光谷", "zhang@example.gov.cn", "hubei_applicant"):
        assert personal not in text
    listed = api.as_("hubei_reviewer").get(f"/api/v1/webhooks/{hook['id']}/deliveries")
    [one] = listed.get_json()
    assert (one["status"], one["attempts"], one["last_status_code"]) == ("delivered", 1, 204)


def test_the_ministry_hears_of_every_province_and_a_new_webhook_gets_no_backfill(
        api: Any, world: factories.World, receiver: Receiver, runs_with: Settings) -> None:
    factories.submitted(world)  # before the webhook exists: never sent
    hook = register(api, "mofcom", receiver.url)
    assert hook["authority_code"] is None
    ids = {factories.submitted(world), factories.submitted(world, "hunan_applicant")}
    assert run(world, runs_with).delivered == 2
    assert {b["application_id"] for b in receiver.bodies()} == ids
    assert {b["authority_code"] for b in receiver.bodies()} == {"420000", "430000"}


def test_a_receiver_that_is_down_gets_the_delivery_once_it_is_up(
        api: Any, world: factories.World, receiver: Receiver, runs_with: Settings) -> None:
    register(api, "hubei_reviewer", receiver.url)
    factories.submitted(world)
    receiver.failures = 2
    assert run(world, runs_with).failed == 1
    [row] = deliveries(world)
    assert (row.status, row.attempts, row.last_status_code) == ("failed", 1, 503)
    assert timedelta(seconds=50) < row.next_attempt_at - clock.utcnow() <= timedelta(minutes=1)
    assert run(world, runs_with).handled == 0  # not due yet
    later(1.1)
    assert run(world, runs_with).failed == 1
    [row] = deliveries(world)
    assert row.attempts == 2 and row.next_attempt_at - clock.utcnow() > timedelta(minutes=4)
    later(5.1)
    assert run(world, runs_with).delivered == 1
    later(60)
    assert run(world, runs_with).handled == 0
    assert len(receiver.requests) == 3
    assert len({h["X-EIB-Delivery"] for h, _ in receiver.requests}) == 1
    [row] = deliveries(world)
    assert (row.status, row.attempts, row.last_error) == ("delivered", 3, None)


def test_a_network_error_is_recorded_and_retried() -> None:
    allowed = webhooks.Destinations.of(("127.0.0.1",))
    code, error = webhooks.post("http://127.0.0.1:9/closed", "s", 1, b"{}", timeout=2,
                                allowed=allowed)
    assert (code, error) == (None, webhooks.NO_ANSWER)
    values = webhooks.outcome(1, code, error, clock.utcnow())
    assert values["status"] == "failed" and values["last_error"] == error


def test_a_transition_is_queued_once_however_often_and_concurrently_the_scan_runs(
        api: Any, world: factories.World, receiver: Receiver, runs_with: Settings) -> None:
    register(api, "hubei_reviewer", receiver.url)
    register(api, "mofcom", receiver.url)
    factories.recommended(world)  # submit + recommend
    first = webhooks.scan(world.uow())
    assert first.queued == 4
    assert webhooks.scan(world.uow()).queued == 0
    results: list[int] = []
    errors: list[BaseException] = []

    def scan() -> None:
        try:
            results.append(webhooks.scan(world.uow()).queued)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    factories.submitted(world, "hubei_applicant2")
    threads = [threading.Thread(target=scan) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and sum(results) == 2
    later(2)  # past the settle time: the cursors move on, nothing is queued again
    assert webhooks.scan(world.uow()).queued == 0
    assert webhooks.scan(world.uow()).queued == 0
    rows = deliveries(world)
    assert len(rows) == 6 == len({(r.subscription_id, r.history_id) for r in rows})
    assert webhooks.deliver_due(world.uow(), settings=runs_with).delivered == 6
    assert len(receiver.requests) == 6


def test_dead_after_six_attempts_and_the_owner_can_retry_it(
        api: Any, world: factories.World, receiver: Receiver, runs_with: Settings) -> None:
    hook = register(api, "hubei_reviewer", receiver.url)
    factories.submitted(world)
    receiver.failures, receiver.fail_with = 100, 500
    webhooks.scan(world.uow())
    for _ in range(6):
        assert webhooks.deliver_due(world.uow(), settings=runs_with).handled == 1
        later(13 * 60)
    [row] = deliveries(world)
    assert (row.status, row.attempts, row.last_status_code) == ("dead", 6, 500)
    assert row.last_error and row.last_error.startswith("gave up after 6 attempts")
    assert webhooks.deliver_due(world.uow(), settings=runs_with).handled == 0
    clock.freeze(None)  # back to now, before the API's tokens are checked
    url = f"/api/v1/webhooks/{hook['id']}/deliveries/{row.id}/retry"
    assert api.as_("hunan_reviewer").post(url).status_code == 404
    receiver.failures = 0
    r = api.as_("hubei_reviewer").post(url)
    assert r.status_code == 200 and r.get_json()["status"] == "pending"
    assert api.as_("hubei_reviewer").post(url).status_code == 422  # not dead any more
    assert webhooks.deliver_due(world.uow(), settings=runs_with).delivered == 1
    [row] = deliveries(world)
    assert (row.status, row.attempts) == ("delivered", 1)
    with world.uow() as u:
        events = list(u.session.scalars(select(AuditRow.event).order_by(AuditRow.id)))
    assert {"webhook_created", "webhook_delivery_retried"} <= set(events)


def test_the_secret_is_shown_once_and_stored_encrypted(
        api: Any, world: factories.World, receiver: Receiver) -> None:
    hook = register(api, "hubei_reviewer", receiver.url)
    listed = api.as_("hubei_reviewer").get("/api/v1/webhooks")
    assert listed.status_code == 200
    assert [h["id"] for h in listed.get_json()] == [hook["id"]]
    assert "secret" not in listed.get_json()[0]
    assert hook["secret"] not in listed.get_data(as_text=True)
    with world.uow() as u:
        stored = u.session.scalars(select(WebhookRow.secret)).one()
        details = [json.dumps(d) for d in u.session.scalars(select(AuditRow.details))]
    assert stored.startswith("aesgcm1:") and hook["secret"] not in stored
    assert not any(hook["secret"] in d for d in details)


@pytest.mark.parametrize("url, code", [
    ("ftp://example.org/hook", "invalid_url"),
    ("not a url", "invalid_url"),
    ("http://user:pw@example.org/hook", "credentials_in_url"),
    ("https://example.org/" + "a" * 500, "too_long"),
    ("", "too_short"),
])
def test_a_bad_url_is_refused_naming_the_field_and_nothing_is_stored(
        api: Any, world: factories.World, url: str, code: str) -> None:
    r = api.as_("hubei_reviewer").post("/api/v1/webhooks", json={"url": url})
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    problem = r.get_json()
    assert problem["code"] == "validation_error"
    assert [(e["field"], e["code"]) for e in problem["errors"]] in (
        [("url", code)], [("url", "invalid_length")])
    with world.uow() as u:
        assert u.session.scalars(select(WebhookRow)).all() == []


def test_admins_and_applicants_may_not_and_other_provinces_see_nothing(
        api: Any, world: factories.World, receiver: Receiver) -> None:
    hook = register(api, "hubei_reviewer", receiver.url)
    for user in ("sysadmin", "secadmin", "auditor", "hubei_applicant"):
        # admins sign in with a one-time code: a personal token stands in for that here
        bearer = {"Authorization": f"Bearer {tokens.create(world.uow(), world.id(user), 't').token}"}
        for r in (api.client.get("/api/v1/webhooks", headers=bearer),
                  api.client.post("/api/v1/webhooks", json={"url": receiver.url},
                                  headers=bearer),
                  api.client.delete(f"/api/v1/webhooks/{hook['id']}", headers=bearer),
                  api.client.get(f"/api/v1/webhooks/{hook['id']}/deliveries",
                                 headers=bearer)):
            assert r.status_code == 403 and r.mimetype == "application/problem+json", user
            assert receiver.url not in r.get_data(as_text=True)
    other = api.as_("hunan_reviewer")
    assert other.get("/api/v1/webhooks").get_json() == []
    for r in (other.get(f"/api/v1/webhooks/{hook['id']}/deliveries"),
              other.delete(f"/api/v1/webhooks/{hook['id']}"),
              other.post(f"/api/v1/webhooks/{hook['id']}/deliveries/1/retry")):
        assert r.status_code == 404 and receiver.url not in r.get_data(as_text=True)
    # a colleague of the same province and the ministry see it
    assert [h["id"] for h in api.as_("hubei_reviewer2").get("/api/v1/webhooks").get_json()] \
        == [hook["id"]]
    assert [h["id"] for h in api.as_("mofcom").get("/api/v1/webhooks").get_json()] \
        == [hook["id"]]


def test_deleting_a_webhook_stops_its_deliveries(
        api: Any, world: factories.World, receiver: Receiver, runs_with: Settings) -> None:
    hook = register(api, "hubei_reviewer", receiver.url)
    factories.submitted(world)
    assert webhooks.scan(world.uow()).queued == 1
    assert api.as_("hubei_reviewer").delete(f"/api/v1/webhooks/{hook['id']}").status_code == 204
    factories.submitted(world)
    assert run(world, runs_with).handled == 0
    assert receiver.requests == []
    [row] = deliveries(world)
    assert row.status == "cancelled"
    assert api.as_("hubei_reviewer").get("/api/v1/webhooks").get_json() == []
    r = api.as_("hubei_reviewer").get(f"/api/v1/webhooks/{hook['id']}/deliveries")
    assert r.status_code == 404
    with world.uow() as u:
        assert "webhook_deleted" in set(u.session.scalars(select(AuditRow.event)))


def test_the_beat_task_scans_and_the_worker_task_delivers(
        api: Any, world: factories.World, receiver: Receiver, runs_with: Settings) -> None:
    from tasks import webhooks as webhook_tasks
    from tasks.app import make_celery

    make_celery(runs_with)  # the worker's app, made with the settings it runs with
    register(api, "hubei_reviewer", receiver.url)
    factories.submitted(world)
    assert webhook_tasks.scan.run() == {"webhooks": 1, "queued": 1}
    assert webhook_tasks.deliver_due.run() == {"delivered": 1, "failed": 0, "dead": 0}
    assert [b["trigger"] for b in receiver.bodies()] == ["submit"]
