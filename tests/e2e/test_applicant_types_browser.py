"""A western city's bureau switches its draft to an industry cluster (002 §六): the table of
leading enterprises appears, takes a row with its national rank (002 §六(二)(4)), is saved
and shown on the case page; switched back to a region, the table goes away."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import LiveServer
from tests.e2e.drafts import draft_form_open

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def test_the_leading_enterprises_appear_for_a_cluster_and_are_saved(
        chromium: Any, live_server: LiveServer) -> None:
    with draft_form_open(chromium, live_server, "chengdu_applicant",
                         applicant_name="成都电子信息产业集群") as form:
        page, app_id = form.page, form.app_id
        table = page.locator("[data-table=leading_enterprises]")
        assert not table.is_visible()  # a region has none
        page.select_option("#applicant_type", "cluster")
        assert table.is_visible()
        page.fill("#leading_enterprises-0-name", "英特尔产品（成都）有限公司")
        page.select_option("#leading_enterprises-0-city", label="四川省成都市")
        page.fill("#leading_enterprises-0-national_rank", "3")
        page.click("[data-testid=save-draft]")
        page.wait_for_url(re.compile(rf".*/applications/{app_id}/edit$"))
        assert page.input_value("#leading_enterprises-0-name") == "英特尔产品（成都）有限公司"
        page.select_option("#applicant_type", "region")
        assert not table.is_visible()
        page.goto(f"{live_server}/cases/{app_id}")
        assert "英特尔产品（成都）有限公司" in page.locator("#form-data").inner_text()
        assert "龙头企业所在地级市商务主管部门组织申报材料" in page.locator("main").inner_text()


def test_wuhans_bureau_is_told_beside_the_city_that_a_xiangyang_cluster_is_not_its_own(
        chromium: Any, live_server: LiveServer) -> None:
    """002 §六(三): a cluster's materials come from the city of its leading enterprise; the
    refusal is beside the row's city, the summary takes the focus, and with a Wuhan
    leading enterprise added the draft saves."""
    with draft_form_open(chromium, live_server, "wuhan_applicant",
                         applicant_name="武汉汽车产业集群") as form:
        page, app_id = form.page, form.app_id
        page.select_option("#applicant_type", "cluster")
        page.fill("#leading_enterprises-0-name", "东风汽车股份有限公司")
        page.select_option("#leading_enterprises-0-city", label="湖北省襄阳市")
        page.fill("#leading_enterprises-0-national_rank", "3")
        page.click("[data-testid=save-draft]")
        page.wait_for_url(re.compile(rf".*/applications/{app_id}/edit$"))
        assert page.evaluate("document.activeElement.dataset.testid") == "form-errors"
        beside = page.locator("[data-error-for='leading_enterprises-0-city']").inner_text()
        assert "所列龙头企业均不在武汉市（襄阳市）" in beside and "002 §六(三)" in beside
        assert page.get_attribute("#leading_enterprises-0-city", "aria-invalid") == "true"
        assert page.input_value("#leading_enterprises-0-city") == "420600"  # the pick is kept
        assert page.locator("[data-table=leading_enterprises]").is_visible()
        page.fill("#leading_enterprises-1-name", "东风汽车集团有限公司")
        page.select_option("#leading_enterprises-1-city", label="湖北省武汉市")
        page.fill("#leading_enterprises-1-national_rank", "1")
        page.click("[data-testid=save-draft]")
        page.wait_for_url(re.compile(rf".*/applications/{app_id}/edit$"))
        assert page.locator("[data-error-for]").count() == 0
        assert "草稿已保存" in page.locator(".flash").first.inner_text()
        assert page.input_value("#leading_enterprises-1-city") == "420100"


def test_a_citys_bureau_picks_its_provinces_city_and_the_case_page_names_it(
        chromium: Any, live_server: LiveServer) -> None:
    """The leading enterprise's city is a list of the bureau's province's cities, in
    Chinese; the city picked is saved and the case page says its name, not its code."""
    with draft_form_open(chromium, live_server, "wuhan_applicant",
                         applicant_name="武汉光谷光电子信息产业集群") as form:
        page, app_id = form.page, form.app_id
        page.select_option("#applicant_type", "cluster")
        city = page.locator("#leading_enterprises-0-city")
        assert city.evaluate("e => e.tagName") == "SELECT"
        labels = city.locator("option").all_inner_texts()
        assert labels == ["请选择", "湖北省武汉市", "湖北省襄阳市", "湖北省恩施土家族苗族自治州"]
        page.fill("#leading_enterprises-0-name", "烽火通信科技股份有限公司")
        city.select_option(label="湖北省武汉市")
        page.fill("#leading_enterprises-0-national_rank", "2")
        page.click("[data-testid=save-draft]")
        page.wait_for_url(re.compile(rf".*/applications/{app_id}/edit$"))
        assert "草稿已保存" in page.locator(".flash").first.inner_text()
        assert city.input_value() == "420100"
        page.goto(f"{live_server}/cases/{app_id}")
        shown = page.locator("table[data-table=leading_enterprises]").inner_text()
        assert "湖北省武汉市" in shown and "420100" not in shown
