"""The public notice (no login) and the objection form: what a member of the public sees
and what filing an objection stores."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from config import Settings
from tests import factories
from workflow.services import clock
from workflow.storage.models import AttachmentRow, ObjectionRow

DURING_NOTICE = datetime(2006, 5, 8, 2, tzinfo=UTC)  # Monday, notice ends Wednesday 10 May


@pytest.fixture
def notice_day() -> Any:
    clock.freeze(DURING_NOTICE)
    yield DURING_NOTICE
    clock.freeze(None)


def count(uow: Any, model: Any) -> int:
    with uow() as u:
        return int(u.session.scalar(select(func.count()).select_from(model)) or 0)


def test_public_notice_lists_only_cases_under_notice_without_contacts(
        client: Any, world: factories.World, notice_day: datetime) -> None:
    shown = factories.published(world)
    hidden = factories.recommended(world, "hunan_applicant", "hunan_reviewer",
                                   applicant_name="长沙工程机械出口创新基地")
    page = client.get("/notice")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "武汉光谷光电子信息产业集群" in html
    assert "长沙工程机械出口创新基地" not in html
    assert f"/notice/{shown}" in html and f"/notice/{hidden}" not in html
    # the names and the authority (002 §六(三)); the figures only if the round says so
    # (tests/integration/test_designation_and_public_register.py); contacts never
    assert "8.6" not in html and "湖北省" in html
    for personal in ("张明", "027-87654321", "zhang@example.gov.cn"):
        assert personal not in html
    assert "还剩 2 个工作日" in html  # Tue 9 and Wed 10 May
    # what the notice is, in its programme's words ([notice] in programmes/mofcom-2006-6.toml)
    assert "<h1>科技兴贸出口创新基地网上公示</h1>" in html
    assert "根据商技发〔2006〕6号，商务部在核准前将各地推荐的出口创新基地名单在网上公示" in html


def test_case_not_under_notice_is_not_public(client: Any, world: factories.World) -> None:
    app_id = factories.recommended(world)
    assert client.get(f"/notice/{app_id}").status_code == 404
    assert client.post(f"/notice/{app_id}", data={"name": "x", "contact": "y",
                                                  "text": "z"}).status_code == 404


def test_filing_an_objection_stores_one_row_and_shows_a_confirmation_number(
        client: Any, world: factories.World, notice_day: datetime) -> None:
    app_id = factories.published(world)
    detail = client.get(f"/notice/{app_id}").get_data(as_text=True)
    assert "张明" not in detail and "提交异议" in detail
    r = client.post(f"/notice/{app_id}", data={
        "name": "李华", "contact": "13800138000", "text": "出口额数据与海关统计不符",
        "file": (io.BytesIO(factories.PDF), "evidence.pdf")},
        content_type="multipart/form-data")
    assert r.status_code == 302
    done = client.get(r.headers["Location"]).get_data(as_text=True)
    with world.uow() as u:
        rows = list(u.session.scalars(select(ObjectionRow)))
        assert len(rows) == 1
        obj = rows[0]
        att = u.session.get(AttachmentRow, obj.attachment_id)
        assert att is not None and att.kind == "objection_evidence"
        assert att.application_id == app_id and att.filename == "evidence.pdf"
    assert obj.confirmation_no in done and obj.confirmation_no.startswith("YY20060508")
    assert obj.name == "李华" and obj.text == "出口额数据与海关统计不符"


def test_bad_input_is_shown_next_to_each_field_keeps_the_text_and_stores_nothing(
        client: Any, world: factories.World, notice_day: datetime) -> None:
    app_id = factories.published(world)
    before = count(world.uow, AttachmentRow)
    r = client.post(f"/notice/{app_id}", data={
        "name": "", "contact": "13800138000", "text": "我的异议理由",
        "file": (io.BytesIO(b"MZ\x90\x00not a pdf"), "evidence.pdf")},
        content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert 'data-testid="error-name"' in html and "姓名：必填" in html
    assert 'data-testid="error-file"' in html and "文件内容与扩展名不符" in html
    assert "我的异议理由" in html and 'value="13800138000"' in html
    assert count(world.uow, ObjectionRow) == 0
    assert count(world.uow, AttachmentRow) == before


def test_a_file_with_a_path_in_its_name_is_refused(
        client: Any, world: factories.World, notice_day: datetime) -> None:
    app_id = factories.published(world)
    before = count(world.uow, AttachmentRow)
    r = client.post(f"/notice/{app_id}", data={
        "name": "李华", "contact": "13800138000", "text": "理由",
        "file": (io.BytesIO(factories.PDF), "../../etc/evidence.pdf")},
        content_type="multipart/form-data")
    # werkzeug strips nothing here: the service refuses the name itself
    assert r.status_code == 422, r.get_data(as_text=True)
    assert "文件名无效" in r.get_data(as_text=True)
    assert count(world.uow, ObjectionRow) == 0 and count(world.uow, AttachmentRow) == before


def test_objections_after_the_notice_ended_are_refused(
        client: Any, world: factories.World) -> None:
    app_id = factories.published(world)
    clock.freeze(datetime(2006, 5, 11, 2, tzinfo=UTC))
    try:
        html = client.get(f"/notice/{app_id}").get_data(as_text=True)
        assert "公示期已结束" in html and 'data-testid="objection-form"' not in html
        r = client.post(f"/notice/{app_id}", data={"name": "a", "contact": "b", "text": "c"})
        assert r.status_code == 404
    finally:
        clock.freeze(None)
    assert count(world.uow, ObjectionRow) == 0


def test_english_notice_page_is_translated(client: Any, world: factories.World,
                                           notice_day: datetime) -> None:
    factories.published(world)
    client.post("/lang/en")
    html = client.get("/notice").get_data(as_text=True)
    assert "Public notice: export innovation bases" in html and "Hubei" in html
    assert "Under MOFCOM notice [2006] No. 6, the Ministry publishes" in html


def test_the_public_form_carries_a_csrf_token_and_a_post_without_one_is_refused(
        settings: Settings, world: factories.World, notice_day: datetime) -> None:
    import re

    from web import create_app

    app_id = factories.published(world)
    client = create_app({"TESTING": True}, settings=settings).test_client()  # CSRF on
    form = client.get(f"/notice/{app_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert token, "the objection form has no CSRF token"
    data = {"name": "李华", "contact": "13800138000", "text": "理由"}
    assert client.post(f"/notice/{app_id}", data=data).status_code == 400
    assert count(world.uow, ObjectionRow) == 0
    r = client.post(f"/notice/{app_id}", data={**data, "csrf_token": token.group(1)})
    assert r.status_code == 302 and count(world.uow, ObjectionRow) == 1
