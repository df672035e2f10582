"""Two Hubei reviewers in a real browser: one claims a case and asks the other about it in
a comment with an @-mention; the other finds the mention in their notifications and, on
the case page, sees who has the case."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests import factories
from tests.e2e.conftest import LiveServer
from tests.e2e.test_walkthrough import _uow, login
from workflow.services import clock

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def test_a_reviewer_claims_a_case_and_mentions_a_colleague(chromium: Any, live_server: LiveServer,
                                                          shots: Any) -> None:
    base = live_server
    world = factories.build_world(_uow(live_server))
    try:
        app_id = factories.submitted(world)
        clock.freeze(factories.at("2006-04-05"))
        first = login(chromium, base, "hubei_reviewer")
        first.goto(f"{base}/cases/{app_id}")
        first.click("[data-testid=claim]")
        first.wait_for_url(re.compile(rf".*/cases/{app_id}#assignment$"))
        assert "hubei_reviewer" in first.locator("[data-testid=holder]").inner_text()
        first.goto(f"{base}/inbox?mine=1")
        assert first.locator("[data-testid=assignee]").first.inner_text() == "hubei_reviewer"
        first.goto(f"{base}/cases/{app_id}")
        first.fill("#comment-body", "@nobody 请看")  # a typo: refused, the text kept
        first.click("[data-testid=comment-form] button[type=submit]")
        assert "没有用户名为 @nobody 的用户" in first.locator(
            "[data-error-for=body]").inner_text()
        assert first.input_value("#comment-body") == "@nobody 请看"
        first.fill("#comment-body", "@hubei_reviewer2 请复核高新技术产品出口增速的口径")
        first.click("[data-testid=comment-form] button[type=submit]")
        first.wait_for_url(re.compile(rf".*/cases/{app_id}#comments$"))
        assert "请复核高新技术产品出口增速的口径" in first.locator(
            "[data-testid=comments] .reason").first.inner_text()
        shots(first, "case-claimed-commented")

        second = login(chromium, base, "hubei_reviewer2")
        second.goto(f"{base}/notifications")
        mention = second.locator("ul.notifications li").first
        assert "hubei_reviewer 在“武汉光谷光电子信息产业集群”的评论中提到了您" in \
            mention.inner_text()
        mention.locator("text=查看申报").click()
        second.wait_for_url(re.compile(rf".*/cases/{app_id}$"))
        assert "此申报由 hubei_reviewer 认领办理中" in second.locator(
            "[data-testid=claimed-by-other]").inner_text()
        second.click("[data-testid=claim]")  # take it over, explicitly
        second.wait_for_url(re.compile(rf".*/cases/{app_id}#assignment$"))
        assert "hubei_reviewer2" in second.locator("[data-testid=holder]").inner_text()
        shots(second, "case-taken-over")
    finally:
        clock.freeze(None)


def _looks(page: Any, selector: str) -> tuple[str, str]:
    """A button's background and text colour as the browser draws them."""
    return page.eval_on_selector(
        selector, "b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color]")


def test_the_login_claim_and_comment_buttons_are_the_products_not_the_browsers(
        chromium: Any, live_server: LiveServer) -> None:
    # buttons with no class of their own were drawn in the browser's grey (登录, 认领, 发表评论)
    base = live_server
    world = factories.build_world(_uow(live_server))
    try:
        app_id = factories.submitted(world)
        clock.freeze(factories.at("2006-04-05"))
        page = login(chromium, base, "hubei_reviewer")
        page.goto(f"{base}/cases/{app_id}")
        product = _looks(page, "form button.btn:not(.btn-secondary):not(.btn-danger)")
        assert product[0] not in ("rgba(0, 0, 0, 0)", "rgb(239, 239, 239)"), product
        assert _looks(page, "[data-testid=claim]") == product
        assert _looks(page, "[data-testid=comment-form] button[type=submit]") == product
        page.context.clear_cookies()  # signed out
        page.goto(f"{base}/login")
        assert page.url.endswith("/login")
        assert _looks(page, "main button[type=submit]") == product
    finally:
        clock.freeze(None)
