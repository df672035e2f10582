"""JSON logs: one object per line, a request id from the request to its tasks, no secrets."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from config import logs
from tests import factories


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Everything logged at INFO and above, as the production handler writes it."""
    buf = io.StringIO()
    handler = logs.make_handler("web", buf)
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield buf
    root.removeHandler(handler)
    root.setLevel(old)


def records(buf: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buf.getvalue().splitlines() if line.strip()]


def test_a_request_id_sent_by_the_caller_comes_back_and_is_on_every_line(
        client: Any, log_lines: io.StringIO) -> None:
    r = client.get("/login", headers={"X-Request-ID": "gw-7f3a-0001"})
    assert r.headers["X-Request-ID"] == "gw-7f3a-0001"
    access = [x for x in records(log_lines) if x.get("path") == "/login"]
    assert access and access[0]["request_id"] == "gw-7f3a-0001"
    assert access[0]["status"] == 200 and access[0]["level"] == "INFO"


def test_without_a_request_id_one_is_made_and_a_malformed_one_is_replaced(client: Any) -> None:
    made = client.get("/login").headers["X-Request-ID"]
    assert len(made) == 32
    bad = client.get("/login", headers={"X-Request-ID": "x\" onmouseover=1 " + "a" * 80})
    assert bad.headers["X-Request-ID"] != made and len(bad.headers["X-Request-ID"]) == 32


def test_tasks_enqueued_during_a_request_carry_its_id(client: Any) -> None:
    from celery.signals import before_task_publish

    import tasks  # noqa: F401 - its publish hook must be connected before ours, as in the app

    seen: list[dict[str, Any]] = []

    def capture(headers: dict[str, Any] | None = None, **_: Any) -> None:
        seen.append(dict(headers or {}))

    before_task_publish.connect(capture, weak=False)
    try:
        token = logs.request_id.set("req-42")
        try:
            from tasks import celery_app
            from tasks.health import ping

            # an in-memory broker of its own: the app's may be whatever an earlier test or
            # a process beside this suite configured; what is checked is the publish
            with celery_app.connection_for_write("memory://") as conn:
                ping.apply_async(connection=conn)
        finally:
            logs.request_id.reset(token)
    finally:
        before_task_publish.disconnect(capture)
    assert seen and seen[-1]["request_id"] == "req-42"


def test_passwords_and_tokens_never_reach_the_logs(
        api: Any, world: factories.World, client: Any, log_lines: io.StringIO) -> None:
    r = client.post("/api/v1/auth/token",
                    json={"username": "hubei_reviewer", "password": factories.PASSWORD})
    token = r.get_json()["token"]
    client.get("/api/v1/applications", headers={"Authorization": f"Bearer {token}"})
    client.post("/login", data={"username": "hubei_reviewer", "password": factories.PASSWORD})
    log = logging.getLogger("tests.ops")
    log.warning("retrying with password=%s on postgresql://eib:%s@db/eib", factories.PASSWORD,
                "db-pass-123")
    log.info("headers", extra={"authorization": f"Bearer {token}", "user": "hubei_reviewer"})
    try:
        raise RuntimeError(f"login failed for token {token}")
    except RuntimeError:
        log.exception("boom")
    out = log_lines.getvalue()
    assert out, "nothing was logged"
    for secret in (factories.PASSWORD, token, token[4:20], "db-pass-123"):
        assert secret not in out
    assert "hubei_reviewer" in out  # redaction keeps what is not secret
