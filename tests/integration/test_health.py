"""GET /healthz names each dependency and answers 503 when one is down."""

from __future__ import annotations

from typing import Any


def test_healthz_reports_database_ok_and_the_missing_worker(client: Any) -> None:
    # the test app's broker is in-memory with no worker consuming: a real round trip fails
    client.application.config["HEALTH_WORKER_TIMEOUT"] = 0.5
    r = client.get("/healthz")
    body = r.get_json()
    assert body["database"] == "ok"
    assert body["broker"] == "ok"
    assert body["worker"].startswith("error")
    assert r.status_code == 503


def test_healthz_names_an_unreachable_database(client: Any, monkeypatch: Any) -> None:
    client.application.config["DATABASE_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    client.application.config["HEALTH_WORKER_TIMEOUT"] = 0.5
    r = client.get("/healthz")
    assert r.status_code == 503
    assert r.get_json()["database"].startswith("error")
