"""The public notice, the objection form and the dashboard in a real browser, in Chinese
and in English at 1366×768; screenshots in test-artifacts/e2e/ (notice-*, dashboard-*)."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from tests import factories
from tests.e2e.conftest import LiveServer
from tests.e2e.test_walkthrough import VIEWPORT, _uow, login
from workflow.services import clock
from workflow.storage.models import ObjectionRow, ReferenceStatRow

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def no_sideways_scroll(page: Any) -> bool:
    return bool(page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


def to_english(page: Any) -> None:
    page.click("[data-testid=lang-switch]")
    page.wait_for_selector("html[lang=en]")


def test_public_files_an_objection_and_the_ministry_reads_the_dashboard(
        chromium: Any, live_server: LiveServer, shots: Any) -> None:
    base = live_server
    world = factories.build_world(_uow(base))
    shown = factories.published(world)
    factories.published(world, "sichuan_applicant", "sichuan_reviewer",
                        applicant_name="成都软件与信息服务出口基地",
                        hightech_exports_100m_usd="3.4")
    factories.approved(world, "hunan_applicant", "hunan_reviewer",
                       applicant_name="长沙工程机械出口创新基地",
                       hightech_exports_100m_usd="0.6")
    factories.submitted(world, "guangdong_applicant", applicant_name="东莞电子信息产业集群")
    with world.uow() as u:
        u.session.scalars(select(ReferenceStatRow).where(ReferenceStatRow.year == 2005)).one(
        ).national_hightech_exports_100m_usd = Decimal("2182")
        u.commit()
    clock.freeze(datetime(2006, 5, 8, 10, tzinfo=clock.CHINA))  # Monday; notices end Wed 10 May
    try:
        # the public notice, no login
        context = chromium.new_context(viewport=VIEWPORT, locale="zh-CN")
        page = context.new_page()
        page.goto(f"{base}/notice")
        rows = page.locator("[data-testid^=notice-case-]")
        assert rows.count() == 2  # the approved and the submitted case are not on it
        assert "还剩 2 个工作日" in page.text_content("[data-testid=notice-2006]")
        assert "张明" not in page.content()  # no contact person on the public page
        assert no_sideways_scroll(page)
        shots(page, "notice-zh")

        # an objection with a field missing: refused next to the field, text kept
        page.click(f"[data-testid=notice-case-{shown}] >> text=提出异议")
        page.fill("#contact", "13800000000")
        page.fill("#text", "该基地申报的高新技术产品出口额与海关统计不符。")
        page.click("[data-testid=objection-submit]")
        assert "姓名：必填" in page.text_content("[data-testid=error-name]")
        assert page.input_value("#text").startswith("该基地申报的高新技术产品出口额")
        assert no_sideways_scroll(page)
        shots(page, "notice-objection-error-zh")
        page.fill("#name", "王五")
        page.click("[data-testid=objection-submit]")
        page.wait_for_url(re.compile(r".*/notice/\d+/filed"))
        number = page.text_content("[data-testid=confirmation-no]").strip()
        with world.uow() as u:
            assert u.session.scalars(select(ObjectionRow.confirmation_no)).one() == number
        shots(page, "notice-objection-filed-zh")

        page.goto(f"{base}/notice")
        to_english(page)
        assert "Public notice of the 2006 round" in page.content()
        assert "2 working days left" in page.text_content("[data-testid=notice-2006]")
        assert no_sideways_scroll(page)
        shots(page, "notice-en")
        page.goto(f"{base}/notice/{shown}")
        shots(page, "notice-case-en")
        context.close()

        # the ministry: objection desk and dashboard, charts drawn from the tables
        page = login(chromium, base, "mofcom")
        page.goto(f"{base}/objections")
        assert "13800000000" in page.content()  # the objector's contact, ministry eyes only
        shots(page, "objections-zh")
        page.goto(f"{base}/dashboard")
        page.wait_for_selector("[data-chart-drawn]")
        assert page.locator("[data-chart-drawn] canvas").count() >= 4
        assert page.text_content("[data-testid=goal-bases]").count("1") >= 1
        assert "%" in page.text_content("[data-testid=share-pct]")
        assert no_sideways_scroll(page)
        shots(page, "dashboard-zh")
        to_english(page)
        page.wait_for_selector("[data-chart-drawn]")
        assert "Progress towards the programme goals" in page.content()
        assert no_sideways_scroll(page)
        shots(page, "dashboard-en")
        page.goto(f"{base}/objections")
        shots(page, "objections-en")
        page.context.close()

        # a province sees its own figures only
        page = login(chromium, base, "hunan_reviewer")
        page.goto(f"{base}/dashboard")
        page.wait_for_selector("[data-chart-drawn]")
        assert "湖南省" in page.text_content("[data-testid=dashboard-scope]")
        assert "湖北省" not in page.text_content("#table-by_authority")
        shots(page, "dashboard-province-zh")
        page.context.close()
    finally:
        clock.freeze(None)
