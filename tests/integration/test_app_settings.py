"""A test configuration is passed to `create_app`, not set in the environment."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from config import for_tests
from tests import factories
from workflow.services import clock


@pytest.fixture
def poisoned_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """An environment that names no usable database, broker or key: reading it anywhere
    would fail (SettingsError) or reach the wrong database."""
    monkeypatch.setenv("DATABASE_URL", "mysql://nowhere/eib")
    monkeypatch.setenv("CELERY_BROKER_URL", "gopher://nowhere")
    monkeypatch.setenv("APP_NOW", "not a moment")


def test_an_app_made_from_settings_runs_on_them_alone(
        poisoned_env: None, db_url: str, tmp_path: Path, world: factories.World) -> None:
    from web import create_app

    pinned = datetime.fromisoformat("2006-04-20T09:00+08:00")
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, settings=for_tests(
        tmp_path / "instance", db_url, app_now=pinned, metrics_token="scrape-me"))
    try:
        client: Any = app.test_client()
        factories.login(client, "hubei_applicant")  # the users of the settings' database
        page = client.get("/", follow_redirects=True)
        assert page.status_code == 200 and "hubei_applicant" in page.get_data(as_text=True)
        assert clock.today().isoformat() == "2006-04-20"  # APP_NOW from the settings
        r = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.7"},
                       headers={"Authorization": "Bearer scrape-me"})
        assert r.status_code == 200 and b"eib_http_requests_total" in r.data
    finally:
        clock.pin(None)
