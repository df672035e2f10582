"""Nothing typed is lost: an applicant whose session ends while filling in the 申报书 logs
in again, is brought back to the form and gets what they typed back, then saves it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests import factories
from tests.e2e.conftest import LiveServer
from tests.e2e.drafts import draft_form_open
from tests.e2e.test_walkthrough import _uow, login
from workflow.services import clock

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def _log_in_again(page: Any) -> None:
    page.fill("#username", "hubei_applicant")
    page.fill("#password", factories.PASSWORD)
    page.click("main button[type=submit]")


def test_text_typed_before_the_session_ended_is_restored_after_logging_in_again(
        chromium: Any, live_server: LiveServer, shots: Any) -> None:
    with draft_form_open(chromium, live_server) as form:
        page, app_id = form.page, form.app_id
        page.fill("#contact_person", "李华")
        page.fill("#address", "武汉市东湖新技术开发区高新大道 1 号")
        page.click("[data-add-product]")
        page.fill("#products-1-name", "激光器")
        page.fill("#products-1-exports_10k_usd", "1200")

        page.context.clear_cookies()  # the session ends (as after the idle limit)
        page.click("[data-testid=save-draft]")
        assert "页面已过期" in page.locator("h1").inner_text()
        assert "恢复未保存的内容" in page.locator("main").inner_text()
        shots(page, "keep-typing-expired")
        page.click("[data-testid=go-on]")
        _log_in_again(page)
        page.wait_for_url(re.compile(rf".*/applications/{app_id}/edit$"))
        # back on the form, which still shows what was saved before, and offers the rest
        assert page.input_value("#contact_person") == "张明"
        offer = page.locator("[data-testid=keep-offer]")
        assert offer.is_visible()
        shots(page, "keep-typing-offer")
        offer.locator("text=恢复未保存的内容").click()
        assert page.locator("[data-testid=keep-restored]").is_visible()
        assert page.input_value("#contact_person") == "李华"
        assert page.input_value("#address") == "武汉市东湖新技术开发区高新大道 1 号"
        assert page.input_value("#products-1-name") == "激光器"
        assert page.input_value("#products-1-exports_10k_usd") == "1200"

        page.click("[data-testid=save-draft]")
        page.wait_for_url(re.compile(rf".*/applications/{app_id}/edit$"))
        assert "草稿已保存" in page.locator(".flash").first.inner_text()
        page.reload()  # saved on the server; nothing left to offer
        assert page.input_value("#contact_person") == "李华"
        assert page.input_value("#products-1-name") == "激光器"
        assert page.locator("[data-testid=keep-offer]").count() == 0


def test_a_reason_typed_on_the_case_page_survives_the_session_ending(
        chromium: Any, live_server: LiveServer) -> None:
    base = live_server
    world = factories.build_world(_uow(live_server))
    try:
        app_id = factories.submitted(world)
        clock.freeze(factories.at("2006-04-05"))
        page = login(chromium, base, "hubei_reviewer")
        page.goto(f"{base}/cases/{app_id}")
        page.fill("#reason-return_for_revision", "请补充近三年高新技术产品出口增速的统计口径")
        page.context.clear_cookies()
        page.click("form[data-trigger=return_for_revision] button[type=submit]")
        page.click("[data-testid=go-on]")
        page.fill("#username", "hubei_reviewer")
        page.fill("#password", factories.PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(re.compile(rf".*/cases/{app_id}$"))
        page.locator("form[data-trigger=return_for_revision]").locator(
            "xpath=preceding-sibling::*[1]").locator("text=恢复未保存的内容").click()
        assert page.input_value("#reason-return_for_revision") == \
            "请补充近三年高新技术产品出口增速的统计口径"
        page.click("form[data-trigger=return_for_revision] button[type=submit]")
        page.wait_for_url(re.compile(rf".*/cases/{app_id}$"))
        assert "已办理" in page.locator(".flash").first.inner_text()
        page.context.close()
    finally:
        clock.freeze(None)
