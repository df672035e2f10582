"""An applicant in a real browser (issue 17): pages forward and back through a sorted
inbox, saves that view under a name and finds it again; on a case page, previews an
uploaded image and a PDF in the page and sees a replaced file's earlier version."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from tests import factories
from tests.e2e.conftest import LiveServer
from tests.e2e.test_walkthrough import _uow, login
from workflow.services import clock

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def _png(width: int = 40, height: int = 30) -> bytes:
    """A real (decodable) PNG: a red rectangle."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _rows(page: Any) -> list[str]:
    return page.locator("tr[data-case]").evaluate_all(
        "rows => rows.map(r => r.getAttribute('data-case'))")


def test_paging_back_saving_a_view_and_previewing_files(chromium: Any, live_server: LiveServer,
                                                       shots: Any, tmp_path: Path) -> None:
    base = live_server
    world = factories.build_world(_uow(live_server))
    try:
        clock.freeze(factories.at("2006-04-05"))
        ids = [factories.draft(world, applicant_name=f"草稿{i:02d}") for i in range(12)]
        page = login(chromium, base, "hubei_applicant")
        page.goto(f"{base}/inbox?tab=all&sort=applicant&dir=asc&per=10")
        first = _rows(page)
        assert first == [str(i) for i in ids[:10]]
        page.click("a[rel=next]")
        assert _rows(page) == [str(i) for i in ids[10:]]
        page.click("a[rel=prev]")
        assert _rows(page) == first and page.locator("a[rel=prev]").count() == 0
        assert "sort=applicant" in page.url

        page.fill("#sf-name", "")
        page.click("[data-testid=save-filter]")  # no name: refused, the field focused
        assert "请填写筛选名称" in page.locator("#sf-name-error").inner_text()
        assert page.evaluate("document.activeElement.id") == "sf-name"
        page.fill("#sf-name", "按名称排序的草稿")
        page.click("[data-testid=save-filter]")
        page.goto(f"{base}/inbox")
        page.click("[data-saved-filter='按名称排序的草稿'] a")
        assert "sort=applicant" in page.url and _rows(page) == first
        shots(page, "inbox-saved-filter")

        app_id = ids[0]
        page.goto(f"{base}/cases/{app_id}")
        uploads = tmp_path / "up"
        uploads.mkdir()
        for name, data, kind in (("厂房.png", _png(), "other"),
                                 ("方案初稿.pdf", factories.PDF + b"% 1\n", "development_plan"),
                                 ("方案定稿.pdf", factories.PDF + b"% 2\n", "development_plan")):
            (uploads / name).write_bytes(data)
            page.select_option("#up-kind", kind)
            page.set_input_files("#up-file", str(uploads / name))
            page.click("form.upload button[type=submit]")
            page.wait_for_url(re.compile(rf".*/cases/{app_id}#attachments$"))
        image = page.locator("li[data-attachment]", has_text="厂房.png")
        image.locator("summary", has_text="预览").click()
        img = image.locator("img")
        img.wait_for()
        page.wait_for_function("img => img.complete && img.naturalWidth === 40",
                               arg=img.element_handle())
        plan = page.locator("li[data-attachment]", has_text="方案定稿.pdf")
        assert "第 2 版" in plan.inner_text()
        src = plan.locator("iframe").get_attribute("src")
        assert src
        served = page.request.get(f"{base}{src}")
        assert served.headers["content-type"] == "application/pdf"
        assert served.headers["content-disposition"].startswith("inline")
        plan.locator("summary", has_text="历史版本").click()
        earlier = plan.locator("tr[data-version='1']")
        assert "方案初稿.pdf" in earlier.inner_text() and "hubei_applicant" in earlier.inner_text()
        old = page.request.get(f"{base}{earlier.locator('a').get_attribute('href')}")
        assert old.body() == factories.PDF + b"% 1\n"
        shots(page, "case-attachment-versions")
    finally:
        clock.freeze(None)
