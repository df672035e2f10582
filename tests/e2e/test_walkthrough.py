"""One application from a blank form to `approved`, through the UI, as the applicant, the
Hubei reviewer and the ministry — with a public objection during the notice; and a Hunan
reviewer who can neither see nor open the Hubei case. Screenshots in test-artifacts/e2e/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests import factories
from tests.e2e.conftest import LiveServer
from workflow.services import clock

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
VIEWPORT = {"width": 1366, "height": 768}
NAME = "武汉光谷光电子信息产业集群"


def login(chromium: Any, base: str, username: str) -> Any:
    context = chromium.new_context(viewport=VIEWPORT, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", factories.PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/inbox.*"))
    return page


def test_an_application_goes_from_a_blank_form_to_approved(chromium, live_server, shots,
                                                          tmp_path: Path):
    base = live_server
    factories.build_world(_uow(live_server))
    pdf = tmp_path / "发展方案.pdf"
    pdf.write_bytes(factories.PDF)
    try:
        # 1 — the applicant fills in the 申报书, saves, uploads, submits (2006-04-03)
        clock.freeze(factories.at("2006-04-03"))
        page = login(chromium, base, "hubei_applicant")
        page.click("nav.mainnav >> text=申报")
        values = {k: str(v) for k, v in factories.form_data().items()
                  if k not in ("products", "kind", "industry_field")}
        page.select_option("#industry_field", "information")
        for name, value in values.items():
            page.fill(f"#{name}", value)
        page.fill("#contact_email", "zhang-at-example")  # a typo first
        page.fill("#products-0-name", "光通信设备")
        page.fill("#products-0-exports_10k_usd", "3000")
        page.click("[data-add-product]")
        page.fill("#products-1-name", "激光器")
        page.fill("#products-1-exports_10k_usd", "800")
        page.click("[data-testid=save-draft]")
        assert "电子信箱格式不正确" in page.text_content("[data-error-for=contact_email]")
        assert page.input_value("#products-1-name") == "激光器"  # what was typed is kept
        shots(page, "01-applicant-form-error")
        page.fill("#contact_email", "zhang@example.gov.cn")
        page.click("[data-testid=save-draft]")
        page.wait_for_url(re.compile(r".*/applications/\d+/edit"))
        app_id = int(re.search(r"/applications/(\d+)/", page.url).group(1))
        for kind in ("application_form", "development_plan"):
            page.select_option("#up-kind", kind)
            page.set_input_files("#up-file", str(pdf))
            page.click("[data-testid=upload]")
            page.wait_for_selector(".flash-success")
        shots(page, "02-applicant-draft-with-attachments")
        page.click("[data-testid=submit]")
        page.wait_for_url(f"{base}/cases/{app_id}")
        assert "省级审核中" in page.text_content(".pagehead")
        shots(page, "03-applicant-submitted")
        page.context.close()

        # 2 — a Hunan reviewer sees nothing of it, by menu or by URL
        page = login(chromium, base, "hunan_reviewer")
        page.goto(f"{base}/inbox?tab=all")
        assert NAME not in page.content()
        response = page.goto(f"{base}/cases/{app_id}")
        assert response.status == 404
        shots(page, "04-hunan-reviewer-gets-404")
        page.context.close()

        # 3 — the Hubei reviewer confirms criteria, uploads the letter, recommends (04-20)
        clock.freeze(factories.at("2006-04-20"))
        page = login(chromium, base, "hubei_reviewer")
        assert NAME in page.text_content("table")
        shots(page, "05-province-inbox")
        page.click(f"text={NAME}")
        page.check("input[name=att-local_policy][value=yes]")
        page.check("input[name=att-leading_enterprises][value=yes]")
        page.click("form.attest button[type=submit]")
        page.wait_for_selector(".flash-success")
        page.select_option("#up-kind", "recommendation_letter")
        page.set_input_files("#up-file", str(pdf))
        page.click("#attachments button[type=submit]")
        page.wait_for_selector(".flash-success")
        page.fill("form[data-trigger=recommend] textarea", "符合条件，同意推荐")
        shots(page, "06-province-case-page")
        page.click("form[data-trigger=recommend] button[type=submit]")
        page.wait_for_selector(".flash-success")
        assert "已推荐" in page.text_content(".pagehead")
        page.context.close()

        # 4 — the ministry publishes the notice for all recommended cases at once (04-28)
        clock.freeze(factories.at("2006-04-28"))
        page = login(chromium, base, "mofcom")
        page.check(f"tr[data-case='{app_id}'] input[name=ids]")
        page.select_option("#bulk-trigger", "publish_notice")
        shots(page, "07-ministry-inbox-bulk")
        page.click("[data-testid=bulk-submit]")
        assert "成功 1 件，未办理 0 件" in page.text_content("[data-testid=bulk-summary]")
        shots(page, "08-ministry-bulk-results")
        page.context.close()

        # 5 — someone from the public objects during the notice (the public form, part 2)
        clock.freeze(factories.at("2006-05-08"))
        context = chromium.new_context(viewport=VIEWPORT, locale="zh-CN")
        page = context.new_page()
        page.goto(f"{base}/notice/{app_id}")
        page.fill("#name", "李四")
        page.fill("#contact", "13800000000")
        page.fill("#text", "该基地申报的出口额与海关统计不符。")
        page.click("[data-testid=objection-submit]")
        page.wait_for_url(re.compile(r".*/filed"))
        shots(page, "09-public-objection-filed")
        context.close()

        # 6 — the ministry dismisses it with a reason (objection desk, part 2)
        page = login(chromium, base, "mofcom")
        page.goto(f"{base}/objections")
        page.fill("textarea[name=reason]", "经核实，出口额与海关数据一致，异议不成立。")
        shots(page, "10-ministry-objection-desk")
        page.click("[data-testid^=dismiss-]")
        page.wait_for_selector("[data-testid=no-objections]")
        page.context.close()

        # 7 — after the notice (ends 2006-05-10) a second ministry reviewer approves (05-15)
        clock.freeze(factories.at("2006-05-15"))
        page = login(chromium, base, "mofcom2")
        page.goto(f"{base}/cases/{app_id}")
        page.click("form[data-trigger=approve] button[type=submit]")
        page.wait_for_selector(".flash-success")
        assert "已核准" in page.text_content(".pagehead")
        history = page.text_content("#history")
        for step in ("提交至省级商务主管部门", "推荐至商务部", "网上公示", "核准"):
            assert step in history
        shots(page, "11-ministry-approved")
        page.context.close()
    finally:
        clock.freeze(None)


def _uow(base: LiveServer) -> Any:
    """A unit-of-work factory on the live server's database."""
    from workflow.storage.db import session_factory
    from workflow.storage.uow import UnitOfWork

    factory = session_factory(base.settings.database_url)
    return lambda: UnitOfWork(factory=factory)
