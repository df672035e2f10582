"""A ministry official opens the 2007 round in a real browser, as docs/rounds.md tells
them: plan it, read what to check before opening, fix the date, open it — and the
Hubei applicant then starts a 2007 application."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests import factories
from tests.e2e.conftest import LiveServer
from tests.e2e.test_walkthrough import _uow, login
from workflow.services import clock

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def test_the_ministry_opens_2007_and_an_applicant_drafts_in_it(chromium: Any, live_server: LiveServer,
                                                              shots: Any) -> None:
    base = live_server
    factories.build_world(_uow(live_server))
    try:
        clock.freeze(factories.at("2007-03-01"))
        page = login(chromium, base, "mofcom")
        page.click("nav.mainnav >> text=申报年度")
        page.click("text=设立申报年度")
        page.fill("#year", "2007")
        page.fill("#submission_deadline", "2007-04-30")
        page.fill("#approval_deadline", "2007-05-01")  # a holiday in 2007: warned, not refused
        page.fill("#quota_overrides", "620000=2")
        for unticked in ("marine", "aerospace"):  # 2007's fields: five of 2006's seven
            page.uncheck(f"input[name=new_base_fields][value={unticked}]")
        page.click("main button[type=submit]")
        page.wait_for_url(re.compile(r".*/rounds/2007$"))
        warning = page.locator("[data-warning=not_a_working_day]")
        assert "核准截止日期 2007-05-01 不是工作日" in warning.inner_text()
        assert page.locator("[data-round-status]").first.inner_text() == "计划中"
        page.fill("#approval_deadline", "2007-05-31")
        page.click("text=保存")
        page.wait_for_url(re.compile(r".*/rounds/2007$"))
        assert page.locator("[data-warning]").count() == 0
        shots(page, "round-2007-planned")
        page.click("button:has-text('开放申报')")
        page.wait_for_url(re.compile(r".*/rounds/2007$"))
        assert page.locator("[data-round-status]").first.inner_text() == "开放中"
        assert page.locator("#submission_deadline").count() == 0  # frozen: no form any more
        shots(page, "round-2007-open")
        applicant = login(chromium, base, "hubei_applicant")
        applicant.click("nav.mainnav >> text=申报")
        # the form names the round it goes into, and offers that round's fields only
        assert applicant.locator("[data-round]").get_attribute("data-round") == "2007"
        fields = applicant.locator("#industry_field option").all_inner_texts()
        assert any("信息" in f for f in fields) and not any("海洋" in f for f in fields)
    finally:
        clock.freeze(None)
