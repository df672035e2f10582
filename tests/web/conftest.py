"""Helpers for the web UI tests: log in through the real login form."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from config import Settings
from tests import factories


class Browser:
    """The Flask test client, logged in as one user through /login."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def login(self, username: str, lang: str | None = None) -> Browser:
        self.client.post("/logout")
        r = self.client.post("/login", data={"username": username,
                                             "password": factories.PASSWORD})
        assert r.status_code == 302, r.get_data(as_text=True)[:500]
        if lang:
            self.client.post(f"/lang/{lang}")
        return self

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, **kw)

    def post(self, url: str, **kw: Any) -> Any:
        return self.client.post(url, **kw)

    def text(self, url: str, status: int = 200) -> str:
        r = self.client.get(url)
        assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:2000])
        return str(r.get_data(as_text=True))


@pytest.fixture
def browser(client: Any) -> Browser:
    return Browser(client)


@pytest.fixture
def frozen() -> Any:
    """Pin the clock to Friday 2006-04-21 10:00 Beijing time (restored afterwards)."""
    from datetime import datetime

    from workflow.services import clock

    clock.freeze(datetime(2006, 4, 21, 10, 0, tzinfo=clock.CHINA))
    yield clock
    clock.freeze(None)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The app reads the files the factories attached (tests.factories.World.upload_dir)."""
    return replace(settings, upload_dir=factories.UPLOAD_DIR)
