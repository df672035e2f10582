"""Attachments on the case page (issue 17): a PDF or an image is previewed in the page
(served inline, its own type, never sniffed); an Office file is listed with its name,
size, uploader and time; replacing a file keeps the earlier versions, each listed with
who uploaded it, when and its size, and each still downloadable."""

from __future__ import annotations

import io
import re
from typing import Any

from tests import factories
from tests.hostile_files import docx

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _upload(b: Any, app_id: int, kind: str, name: str, data: bytes) -> Any:
    return b.post(f"/cases/{app_id}/attachments",
                  data={"kind": kind, "file": (io.BytesIO(data), name)},
                  content_type="multipart/form-data")


def _item(page: str, filename: str) -> str:
    found = re.search(r'<li data-attachment="\d+">(?:(?!</li>).)*?' + re.escape(filename)
                      + r'.*?</li>', page, re.S)
    assert found, filename
    return found.group(0)


def test_a_pdf_and_an_image_are_previewed_in_the_page_served_inline(
        browser: Any, world: factories.World, frozen: Any) -> None:
    app_id = factories.draft(world)
    b = browser.login("hubei_applicant")
    assert _upload(b, app_id, "development_plan", "方案.pdf", factories.PDF).status_code == 302
    assert _upload(b, app_id, "other", "厂房.png", PNG).status_code == 302
    page = b.text(f"/cases/{app_id}")
    pdf = re.search(r'<iframe src="([^"]+/preview)" title="预览：方案.pdf"', page)
    img = re.search(r'<img src="([^"]+/preview)" alt="预览：厂房.png"', page)
    assert pdf and img
    for url, ctype, body in ((pdf.group(1), "application/pdf", factories.PDF),
                             (img.group(1), "image/png", PNG)):
        r = b.get(url)
        assert r.status_code == 200 and r.data == body
        assert r.headers["Content-Type"] == ctype
        assert r.headers["Content-Disposition"].startswith("inline")
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'self'" in r.headers["Content-Security-Policy"]
    # the same file's download stays a download
    link = re.search(r'<a href="([^"]+)">方案.pdf</a>', page)
    assert link and b.get(link.group(1)).headers["Content-Disposition"].startswith("attachment")


def test_an_office_file_is_listed_with_its_metadata_and_never_shown_inline(
        browser: Any, world: factories.World, frozen: Any) -> None:
    app_id = factories.draft(world)
    b = browser.login("hubei_applicant")
    data = docx()
    assert _upload(b, app_id, "other", "说明.docx", data).status_code == 302
    item = _item(b.text(f"/cases/{app_id}"), "说明.docx")
    assert "hubei_applicant" in item  # the uploader (the demo users' names are their logins)
    assert "此类文件不能在线预览，请下载后查看" in item and "<iframe" not in item
    assert re.search(r"\d+(\.\d+)? ?(B|KB|字节)", item)  # its size
    att_id = re.search(r'data-attachment="(\d+)"', item)
    assert att_id
    r = b.get(f"/cases/{app_id}/attachments/{att_id.group(1)}/preview")
    assert r.status_code == 404 and "不能在线预览" in r.get_data(as_text=True)


def test_a_replaced_file_keeps_its_earlier_versions_each_downloadable(
        browser: Any, world: factories.World, frozen: Any) -> None:
    app_id = factories.draft(world)
    b = browser.login("hubei_applicant")
    first, second = factories.PDF + b"% v1\n", factories.PDF + b"% version two\n"
    _upload(b, app_id, "development_plan", "方案-初稿.pdf", first)
    _upload(b, app_id, "development_plan", "方案-定稿.pdf", second)
    page = b.text(f"/cases/{app_id}")
    item = _item(page, "方案-定稿.pdf")
    assert '<span class="badge" data-testid="version">第 2 版</span>' in item
    assert "历史版本（1）" in item
    old = re.search(r'<tr data-version="1"><td>第 1 版</td>\s*<td><a href="([^"]+)">方案-初稿.pdf'
                    r'</a></td>\s*<td>([^<]+)</td><td class="num">([^<]+)</td>'
                    r'<td class="num">([^<]+)</td>', item)
    assert old, item
    assert old.group(2) == "hubei_applicant" and "2006" in old.group(3)
    assert old.group(4) == f"{len(first)} B"
    assert b.get(old.group(1)).data == first  # the earlier version is still there
    current = re.search(r'<a href="([^"]+)">方案-定稿.pdf</a>', item)
    assert current and b.get(current.group(1)).data == second
    # the application form lists them the same way
    assert "历史版本（1）" in b.text(f"/applications/{app_id}/edit")


def test_nobody_outside_the_case_previews_its_files(
        browser: Any, world: factories.World, frozen: Any) -> None:
    app_id = factories.draft(world)
    b = browser.login("hubei_applicant")
    _upload(b, app_id, "development_plan", "方案.pdf", factories.PDF)
    att_id = re.search(r'data-attachment="(\d+)"', b.text(f"/cases/{app_id}"))
    assert att_id
    stranger = browser.login("hunan_applicant")
    assert stranger.get(f"/cases/{app_id}/attachments/{att_id.group(1)}/preview"
                        ).status_code == 404
