"""Hostile uploads (issue "Hardening" 1): a spreadsheet that unpacks to 800 MB, a billion
laughs, a Word bomb — each answered at once with a 422 naming the problem in Chinese and
English, nothing stored; and uploads are limited per user, on the pages and the API alike.
(The same files against gunicorn, two at once, with /login timed: test_upload_bombs_server.)"""

from __future__ import annotations

import io
import time
from datetime import datetime
from typing import Any

import pytest

from config import Settings
from tests import factories, hostile_files
from tests.factories import login
from workflow.programme import programme
from workflow.services import clock, quarterly_excel

PROBLEM = "application/problem+json"
HEADING = "季度数据报送模板"  # the notes sheet's first line (the programme's heading)
COLUMNS = programme().quarterly.columns  # type: ignore[union-attr]  # notice 002's


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """The generated template with 800 MB of comment after </sheetData> (~820 KB packed)."""
    return hostile_files.comment_bomb(quarterly_excel.template(HEADING, COLUMNS), mb=800)


@pytest.fixture
def in_2007() -> Any:
    clock.freeze(datetime(2007, 2, 1, 10, 0, tzinfo=clock.CHINA))
    yield
    clock.freeze(None)


@pytest.fixture
def base(world: factories.World, in_2007: Any) -> int:
    return factories.approved(world)


def upload_excel(me: Any, base: int, data: bytes) -> Any:
    return me.post(f"/api/v1/applications/{base}/quarterly-reports/excel",
                   data={"file": (io.BytesIO(data), "季度数据.xlsx")},
                   content_type="multipart/form-data")


def refused(r: Any, code: str) -> dict[str, Any]:
    """A 422 problem whose first error has `code`, with words in both languages."""
    assert r.status_code == 422, r.get_data(as_text=True)[:500]
    assert r.mimetype == PROBLEM
    body = r.get_json(force=True)
    assert body["code"] == "validation_error"
    first = body["errors"][0]
    assert first["code"] == code and first["field"] == "file"
    return first


def test_a_spreadsheet_that_unpacks_to_800_mb_is_refused_at_once_naming_the_bomb(
        api: Any, base: int, bomb: bytes) -> None:
    assert len(bomb) < 1024 * 1024
    me = api.as_("hubei_applicant")
    started = time.monotonic()
    first = refused(upload_excel(me, base, bomb), "archive_member_too_large")
    assert time.monotonic() - started < 10  # before: 30 s, then the worker was killed
    assert "解压后超过 16 MB" in first["message_zh"] and "压缩炸弹" in first["message_zh"]
    assert "unpacks to more than 16 MB" in first["message_en"]
    assert "zip bomb" in first["message_en"]
    assert first["details"]["member"] == hostile_files.SHEET
    assert me.get(f"/api/v1/applications/{base}/quarterly-reports").get_json() == []


def test_a_billion_laughs_spreadsheet_is_refused_naming_the_dtd(api: Any, base: int) -> None:
    me = api.as_("hubei_applicant")
    template = me.get("/api/v1/quarterly-template").data
    first = refused(upload_excel(me, base, hostile_files.billion_laughs(template)),
                    "xml_dtd_forbidden")
    assert "文档类型定义（DTD）" in first["message_zh"]
    assert "document type definition (DTD)" in first["message_en"]
    assert me.get(f"/api/v1/applications/{base}/quarterly-reports").get_json() == []


def test_the_reports_page_shows_why_the_bomb_was_refused(
        client: Any, world: factories.World, base: int, bomb: bytes) -> None:
    login(client, "hubei_reviewer")
    r = client.post(f"/reports/bases/{base}/upload",
                    data={"file": (io.BytesIO(bomb), "季度数据.xlsx")},
                    content_type="multipart/form-data")
    assert r.status_code == 303  # post/redirect/get: the base's page says why
    assert "疑似压缩炸弹" in client.get(r.headers["Location"]).get_data(as_text=True)


HOSTILE_WORD = {
    "200 MB document": (lambda: hostile_files.docx_bomb(200), "archive_member_too_large"),
    "billion laughs": (lambda: hostile_files.docx(
        hostile_files.LAUGHS.encode() + b"<w:document>&lol9;</w:document>"), "xml_dtd_forbidden"),
}


@pytest.mark.parametrize("case", list(HOSTILE_WORD))
def test_a_hostile_word_attachment_is_refused_and_nothing_is_written(
        api: Any, world: factories.World, case: str) -> None:
    build, code = HOSTILE_WORD[case]
    data = build()
    app_id = factories.draft(world)
    me = api.as_("hubei_applicant")
    before = me.get(f"/api/v1/applications/{app_id}/attachments").get_json()
    r = me.post(f"/api/v1/applications/{app_id}/attachments",
                data={"kind": "development_plan", "file": (io.BytesIO(data), "发展方案.docx")},
                content_type="multipart/form-data")
    refused(r, code)
    assert me.get(f"/api/v1/applications/{app_id}/attachments").get_json() == before


def test_a_real_word_attachment_still_goes_through(api: Any, world: factories.World) -> None:
    app_id = factories.draft(world)
    me = api.as_("hubei_applicant")
    r = me.post(f"/api/v1/applications/{app_id}/attachments",
                data={"kind": "development_plan",
                      "file": (io.BytesIO(hostile_files.docx()), "发展方案.docx")},
                content_type="multipart/form-data")
    assert r.status_code == 201, r.get_data(as_text=True)


@pytest.fixture
def limited(settings: Settings, world: factories.World) -> Any:
    from web import create_app

    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False,
                       "UPLOAD_RATE_LIMIT": "3 per minute"}, settings=settings)


def test_uploads_are_limited_per_user_on_the_api_and_the_pages_alike(
        limited: Any, world: factories.World, base: int, bomb: bytes) -> None:
    api = factories.ApiClient(limited.test_client())
    me = api.as_("hubei_applicant")
    page = limited.test_client()
    login(page, "hubei_applicant")
    refused(upload_excel(me, base, bomb), "archive_member_too_large")
    assert page.post(f"/reports/bases/{base}/upload",
                     data={"file": (io.BytesIO(bomb), "季度数据.xlsx")},
                     content_type="multipart/form-data").status_code == 303
    refused(upload_excel(me, base, bomb), "archive_member_too_large")
    r = upload_excel(me, base, bomb)  # the fourth in a minute, whichever way it came
    assert r.status_code == 429 and r.mimetype == PROBLEM
    assert r.get_json()["code"] == "rate_limited" and int(r.headers["Retry-After"]) > 0
    r = page.post(f"/reports/bases/{base}/upload",
                  data={"file": (io.BytesIO(bomb), "季度数据.xlsx")},
                  content_type="multipart/form-data")
    assert r.status_code == 429 and "操作过于频繁" in r.get_data(as_text=True)
    assert page.get(f"/reports/bases/{base}").status_code == 200  # reading is not limited
    # the province's reviewer, at the same address, has a budget of their own
    refused(upload_excel(api.as_("hubei_reviewer"), base, bomb), "archive_member_too_large")
