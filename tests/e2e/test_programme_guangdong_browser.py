"""Guangdong's own programme in a real browser: the provincial department plans and opens
its round on /rounds; a city's commerce bureau chooses the programme, fills the
enterprise's form (its own sections, a yes/no and a choice, "31%" taken as 31) and submits;
the province reads the programme's criteria with their figures and designates the
enterprise with the programme's own button — no ministry step."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests import factories
from tests.e2e.conftest import LiveServer
from tests.e2e.test_walkthrough import _uow, login
from workflow.services import clock

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def test_a_province_runs_its_own_programme_in_the_browser(chromium: Any, live_server: LiveServer,
                                                          shots: Any, tmp_path: Path) -> None:
    base = live_server
    pdf = tmp_path / "营业执照.pdf"
    pdf.write_bytes(factories.PDF)
    factories.build_world(_uow(live_server))
    try:
        clock.freeze(factories.at("2007-03-01"))
        province = login(chromium, base, "guangdong_reviewer")
        province.goto(f"{base}/rounds")
        province.click("text=设立申报年度 · 广东省机电产品出口基地企业")
        assert province.locator("[data-programme]").get_attribute(
            "data-programme") == "guangdong-2006-59"
        province.fill("#year", "2007")
        province.fill("#submission_deadline", "2007-04-30")
        province.fill("#approval_deadline", "2007-06-29")
        province.click("main button[type=submit]")
        province.wait_for_url(re.compile(r".*/rounds/2007\?programme=guangdong-2006-59$"))
        province.click("button:has-text('开放申报')")
        province.wait_for_url(re.compile(r".*/rounds/2007\?programme=guangdong-2006-59$"))
        assert province.locator("[data-round-status]").first.inner_text() == "开放中"

        city = login(chromium, base, "guangzhou_applicant")
        city.goto(f"{base}/applications/new")
        # two rounds are open to a Guangdong city: notice 002's and the province's own
        city.click("[data-testid=programme-choice] >> text=广东省机电产品出口基地企业")
        assert city.locator("h1").get_attribute("data-programme") == "guangdong-2006-59"
        assert city.locator("legend", has_text="品牌、认证与研发").count() == 1
        assert city.locator("#hightech_exports_100m_usd").count() == 0  # 002's, not here
        for name, value in (("applicant_name", "广州珠江机电出口有限公司"),
                            ("credit_code", "91440100MA59XXXX1"),
                            ("contact_person", "陈经理"), ("contact_phone", "020-83331234"),
                            ("main_products", "家用电器"), ("exports_10k_usd", "8600"),
                            ("me_exports_10k_usd", "7200"),
                            ("own_brand_exports_10k_usd", "2300"),
                            ("own_brand_share_pct", "31%")):
            city.fill(f"#{name}", value)
        for name, value in (("iso9000", "true"), ("iso14000", "true"),
                            ("export_credit_grade", "AA"), ("rd_centre", "false")):
            city.select_option(f"#{name}", value)
        city.click("[data-testid=save-draft]")
        city.wait_for_url(re.compile(r".*/applications/\d+/edit.*"))
        assert city.locator("#own_brand_share_pct").input_value() == "31"
        assert city.locator("#export_credit_grade").input_value() == "AA"
        # the programme's own papers: what its file needs to submit, said on the page
        assert "提交前须上传：企业营业执照、城市商务局推荐函。" in city.locator(
            "#attachments").inner_text()
        assert city.locator("#up-kind option[value=development_plan]").count() == 0
        for kind in ("business_licence", "city_recommendation_letter"):
            city.select_option("#up-kind", kind)
            city.set_input_files("#up-file", str(pdf))
            city.click("[data-testid=upload]")
            city.wait_for_selector(".flash-success")
        shots(city, "guangdong-enterprise-form")
        city.click("[data-testid=submit]")
        city.wait_for_url(re.compile(r".*/cases/\d+$"))
        case_url = city.url

        province.goto(case_url)
        verdicts = province.locator("[data-criterion]")
        assert province.locator("[data-criterion=rd_centre]").get_attribute(
            "data-outcome") == "fail"
        assert province.locator("[data-criterion=own_brand_share]").get_attribute(
            "data-outcome") == "pass"
        assert verdicts.count() == 7
        assert province.locator("[data-trigger=recommend]").count() == 0
        shots(province, "guangdong-enterprise-case")
        province.click("[data-trigger=designate_enterprise] button[type=submit]")
        province.wait_for_url(re.compile(r".*/cases/\d+$"))
        assert "已认定为出口基地企业" in province.locator("main").inner_text()
    finally:
        clock.freeze(None)
