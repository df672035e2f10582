"""/metrics: what operators scrape, and who may see it."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests import factories
from workflow.errors import DomainError
from workflow.services.clock import utcnow
from workflow.storage.models import OutboxRow


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text format (None if absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        key, value = line.rsplit(" ", 1)
        metric, _, rest = key.partition("{")
        got = ",".join(sorted(rest.rstrip("}").split(","))) if rest else ""
        if metric == name and got == want:
            return float(value)
    return None


def scrape(client: Any) -> str:
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    return r.get_data(as_text=True)


def test_requests_are_counted_by_route_and_status_with_latency(client: Any) -> None:
    before = sample(scrape(client), "eib_http_requests_total", route="/login", method="GET",
                    status="200") or 0
    assert client.get("/login").status_code == 200
    text = scrape(client)
    assert sample(text, "eib_http_requests_total", route="/login", method="GET",
                  status="200") == before + 1
    assert (sample(text, "eib_http_request_seconds_count", route="/login", method="GET")
            or 0) >= 1


def test_transitions_are_counted_fired_and_refused_by_code(
        api: Any, world: factories.World, client: Any) -> None:
    app_id = factories.draft(world)
    factories.attach_required(world, app_id)
    text = scrape(client)
    fired0 = sample(text, "eib_transitions_total", trigger="submit", outcome="fired") or 0
    refused0 = sample(text, "eib_transitions_total", trigger="recommend",
                      outcome="trigger_not_allowed_in_state") or 0
    me = api.as_("hubei_applicant")
    assert me.post(f"/api/v1/applications/{app_id}/transitions",
                   json={"trigger": "recommend", "version": 1}).status_code == 422
    assert me.post(f"/api/v1/applications/{app_id}/transitions",
                   json={"trigger": "submit", "version": 1}).status_code == 200
    text = scrape(client)
    assert sample(text, "eib_transitions_total", trigger="submit", outcome="fired") == fired0 + 1
    assert sample(text, "eib_transitions_total", trigger="recommend",
                  outcome="trigger_not_allowed_in_state") == refused0 + 1


def test_outbox_depth_and_the_age_of_the_oldest_unsent_message(
        client: Any, world: factories.World) -> None:
    assert sample(scrape(client), "eib_outbox_depth") == 0
    with world.uow() as u:
        for minutes, status in ((30, "pending"), (5, "failed"), (90, "sent")):
            u.session.add(OutboxRow(
                dedupe_key=f"k{minutes}", recipient_email="a@example.gov.cn", kind="reminder",
                subject="提醒", body="…", status=status,
                created_at=utcnow() - timedelta(minutes=minutes)))
        u.commit()
    text = scrape(client)
    assert sample(text, "eib_outbox_depth") == 2  # the sent one is not waiting
    assert 30 * 60 <= (sample(text, "eib_outbox_oldest_unsent_seconds") or 0) < 31 * 60


def test_webhook_deliveries_waiting_and_dead_are_reported(
        client: Any, world: factories.World) -> None:
    from workflow.services import webhooks
    from workflow.storage.models import WebhookDeliveryRow

    text = scrape(client)
    assert sample(text, "eib_webhook_deliveries", status="pending") == 0
    assert sample(text, "eib_webhook_oldest_undelivered_seconds") == 0
    webhooks.create(world.uow(), world.id("mofcom"), "https://hooks.example.gov.cn/hook",
                    settings=client.application.config["SETTINGS"])
    for _ in range(3):
        factories.submitted(world)
    assert webhooks.scan(world.uow()).queued == 3  # three transitions, nothing sent yet
    with world.uow() as u:
        first, second, _third = u.session.query(WebhookDeliveryRow).order_by(
            WebhookDeliveryRow.id).all()
        first.status, first.created_at = "dead", utcnow() - timedelta(hours=3)
        second.created_at = utcnow() - timedelta(minutes=40)
        u.commit()
    text = scrape(client)
    assert sample(text, "eib_webhook_deliveries", status="pending") == 2
    assert sample(text, "eib_webhook_deliveries", status="dead") == 1
    # the dead one no longer counts as waiting: the oldest waiting is the 40-minute one
    assert 40 * 60 <= (sample(text, "eib_webhook_oldest_undelivered_seconds") or 0) < 41 * 60


def test_task_outcomes_are_counted(client: Any) -> None:
    from tasks.health import ping

    before = sample(scrape(client), "eib_tasks_total", task="tasks.health.ping",
                    outcome="success") or 0
    assert ping.apply().get() == "pong"
    assert sample(scrape(client), "eib_tasks_total", task="tasks.health.ping",
                  outcome="success") == before + 1


def test_metrics_are_hidden_from_other_hosts_unless_they_bring_the_token(client: Any) -> None:
    outside = {"REMOTE_ADDR": "203.0.113.7"}
    assert client.get("/metrics", environ_base=outside).status_code == 404
    app = client.application
    app.config["SETTINGS"] = dataclasses.replace(app.config["SETTINGS"],
                                                 metrics_token="s3cret-scrape-token")
    assert client.get("/metrics", environ_base=outside,
                      headers={"Authorization": "Bearer wrong"}).status_code == 404
    r = client.get("/metrics", environ_base=outside,
                   headers={"Authorization": "Bearer s3cret-scrape-token"})
    assert r.status_code == 200 and b"eib_http_requests_total" in r.data


def test_a_transition_fired_by_a_service_outside_flask_is_counted(
        db_url: str, tmp_path: Path, world: factories.World) -> None:
    """A worker (no Flask app, no request) counts what its services fire, as the web does."""
    from flask import has_app_context
    from prometheus_client import REGISTRY

    from config import for_tests
    from tasks.app import make_celery
    from web.metrics import count_call
    from workflow.services import cases, observe

    observe.remove_observer(count_call)  # as in a worker process that never built the web app
    make_celery(for_tests(tmp_path, db_url))

    def counted(trigger: str, outcome: str) -> float:
        return REGISTRY.get_sample_value(
            "eib_transitions_total", {"trigger": trigger, "outcome": outcome}) or 0

    app_id = factories.draft(world)
    factories.attach_required(world, app_id)
    fired, refused = counted("submit", "fired"), counted("approve", "trigger_not_allowed_in_state")
    applicant = world.id("hubei_applicant")
    with pytest.raises(DomainError):
        cases.fire(world.uow(), applicant, app_id, "approve", None)
    cases.fire(world.uow(), applicant, app_id, "submit", None, now=factories.T0)
    assert not has_app_context()
    assert counted("submit", "fired") == fired + 1
    assert counted("approve", "trigger_not_allowed_in_state") == refused + 1
