"""A case below the threshold in a real browser (issue 16 item 4; 002 §六(二)(2)): the
province sees the warning beside 推荐, gives its override reason and recommends; the
ministry sees the case flagged in its inbox and the province's reason on the case page, and
is asked for its own. Screenshots in test-artifacts/e2e/ (override-*)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests import factories
from tests.e2e.conftest import LiveServer
from tests.e2e.test_walkthrough import _uow, login
from workflow.services import clock

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def test_the_province_overrides_a_failed_threshold_and_the_ministry_sees_why(
        chromium: Any, live_server: LiveServer, shots: Any) -> None:
    base = live_server
    world = factories.build_world(_uow(base))
    app_id = factories.submitted(world, applicant_name="咸宁光电子产业园",
                                 hightech_exports_100m_usd="0.4999")
    factories.files.attach(world.uow(), world.id("hubei_reviewer"), app_id,
                           "recommendation_letter", "l.pdf", factories.PDF, world.upload_dir,
                           10**7)
    try:
        clock.freeze(factories.at("2006-04-20"))
        page = login(chromium, base, "hubei_reviewer")
        page.goto(f"{base}/cases/{app_id}")
        warning = page.text_content("[data-testid=override-warning-recommend]")
        assert "49.99 百万美元" in warning and "002 §六(二)(2)" in warning
        form = page.locator("form[data-trigger=recommend]")
        form.locator("button[type=submit]").click()  # the reason is required: nothing sent
        assert page.locator("[data-state=provincially_reviewed]").count() >= 1
        form.locator("textarea[name=override_reason]").fill("全省唯一的光电子产业园，差额仅一万美元")
        shots(page, "override-recommend-zh")
        form.locator("button[type=submit]").click()
        page.wait_for_url(re.compile(rf".*/cases/{app_id}$"))
        assert "已推荐" in page.text_content(".flash-success")
        page.context.close()

        clock.freeze(factories.at("2006-04-28"))
        page = login(chromium, base, "mofcom")
        row = page.locator("tbody tr", has_text="咸宁光电子产业园")
        assert row.locator("[data-mark=override]").count() == 1
        row.locator("a").first.click()
        page.wait_for_url(re.compile(rf".*/cases/{app_id}$"))
        told = page.text_content("[data-testid=overrides]")
        assert "全省唯一的光电子产业园，差额仅一万美元" in told and "49.99" in told
        assert page.is_visible("[data-testid=override-warning-publish_notice]")
        shots(page, "override-ministry-zh")
    finally:
        clock.freeze(None)
