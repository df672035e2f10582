"""Browser tests: the real app served by werkzeug in a thread, driven by Debian's chromium
through Playwright. Without chromium they skip with a message, unless REQUIRE_BROWSER=1."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config import Settings, for_tests

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _need_browser(why: str) -> None:
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required but {why}", pytrace=False)
    pytest.skip(f"browser tests skipped: {why} (install Debian's chromium; "
                f"REQUIRE_BROWSER=1 makes this a failure)")


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless chromium for the session (a fresh profile directory)."""
    if not Path(CHROMIUM).exists():
        _need_browser(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need_browser("the playwright package is not installed")
    with sync_playwright() as pw:  # launch() gives chromium a fresh temporary profile
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


class LiveServer(str):
    """The live server's base URL, which knows the settings the server runs with (its
    database, upload directory and secret key)."""

    settings: Settings


@pytest.fixture
def live_server(pg_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """The app on a free loopback port against the (PostgreSQL) test database."""
    from werkzeug.serving import make_server

    from web import create_app

    settings = for_tests(tmp_path / "instance", pg_url, upload_dir=tmp_path / "uploads")
    app = create_app({"TESTING": False}, settings=settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = LiveServer(f"http://127.0.0.1:{server.server_port}")
    base.settings = settings
    yield base
    server.shutdown()
    thread.join(5)


@pytest.fixture
def shots() -> Any:
    """`shots(page, name)` saves a screenshot under test-artifacts/e2e/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str, full: bool = True) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full)
        return path

    return take


@pytest.fixture
def own_pg(pg_server: str) -> Iterator[str]:
    """An empty PostgreSQL database of its own, for `make run` to migrate and load the demo
    into as on a new server (the session's test database holds other tests' leftovers)."""
    from tests.databases import create_database, drop_database

    url = create_database(pg_server, "eib_run")
    yield url
    drop_database(url)
