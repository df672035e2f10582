"""/api/v1/docs renders the whole contract in chromium under the strict CSP, offline."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import LiveServer


@pytest.mark.browser
def test_the_api_reference_lists_every_operation_without_any_outside_request(
        chromium: Any, live_server: LiveServer, shots: Any) -> None:
    page = chromium.new_page()
    outside: list[str] = []
    blocked: list[str] = []
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith(live_server) and not r.url.startswith("data:") else None)
    page.on("console", lambda m: blocked.append(m.text)
            if "Content Security Policy" in m.text else None)
    page.goto(f"{live_server}/api/v1/docs")
    page.wait_for_selector(".opblock", timeout=20000)
    spec = page.request.get(f"{live_server}/api/v1/openapi.json").json()
    operations = sum(1 for item in spec["paths"].values() for m in item
                     if m in ("get", "post", "put", "patch", "delete"))
    assert page.locator(".opblock").count() == operations
    assert page.get_by_text("/api/v1/applications/{app_id}/transitions").count() >= 1
    assert outside == [] and blocked == []
    shots(page, "api-docs")
    page.close()
