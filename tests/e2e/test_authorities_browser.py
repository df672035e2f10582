"""The tree of authorities in a real browser: the system administrator adds a city under
Hubei (a wrong code refused on the page) and opens an account for its commerce bureau; a
city applicant of Hubei sees only its own city's drafts, and the new city's bureau, once
its password is its own, sees none of its neighbours'. Screenshots in test-artifacts/e2e/."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pyotp
import pytest

from tests import factories
from tests.e2e.conftest import LiveServer
from tests.e2e.test_walkthrough import VIEWPORT, _uow, login
from workflow.services import clock, second_factor

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
T = datetime(2006, 4, 3, 10, tzinfo=clock.CHINA)


def admin_login(chromium: Any, base: LiveServer, world: factories.World) -> Any:
    """The system admin, with a second factor enrolled, through the login and code pages."""
    secret = second_factor.new_totp_secret()
    second_factor.enrol_totp(world.uow(), world.id("sysadmin"), secret,
                        pyotp.TOTP(secret).at(clock.utcnow()),
                        secret_key=base.settings.secret_key)  # the live server's
    clock.freeze(T + timedelta(seconds=30))  # a code of its own for the login
    page = chromium.new_context(viewport=VIEWPORT, locale="zh-CN").new_page()
    page.goto(f"{base}/login")
    page.fill("#username", "sysadmin")
    page.fill("#password", factories.PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("#otp")
    page.fill("#otp", pyotp.TOTP(secret).at(clock.utcnow()))
    page.click("main button[type=submit]")
    page.wait_for_selector("[data-testid=whoami]")
    page.goto(f"{base}/admin/")  # each admin's own page
    page.wait_for_url(re.compile(r".*/admin/accounts"))
    return page


def test_the_admin_adds_a_city_and_a_city_applicant_sees_only_its_citys_drafts(
        chromium: Any, live_server: LiveServer, shots: Any) -> None:
    base = live_server
    world = factories.build_world(_uow(base))
    factories.draft(world, "wuhan_applicant", applicant_name="武汉光谷光电子草稿")
    xiangyang = factories.draft(world, "xiangyang_applicant", applicant_name="襄阳汽车零部件草稿")
    clock.freeze(T)
    try:
        # 1 — the system admin adds 宜昌市 under 湖北省; a code outside Hubei is refused
        page = admin_login(chromium, base, world)
        page.click("nav.mainnav >> text=单位管理")
        page.wait_for_url(f"{base}/admin/authorities")
        page.select_option("#city-parent", "420000")
        page.fill("#city-code", "430500")
        page.fill("#city-name", "宜昌市")
        page.click("[data-testid=add-city-submit]")
        error = page.text_content("ul.error [data-field=code]")
        assert "430500 不在湖北省（42）的代码范围内" in error
        assert page.input_value("#city-name") == "宜昌市"  # what was typed is kept
        page.fill("#city-code", "420500")
        page.fill("#city-name-en", "Yichang")
        page.click("[data-testid=add-city-submit]")
        page.wait_for_selector("[data-done=city_added]")
        row = page.locator("tr[data-authority='420500']")
        assert row.get_attribute("data-parent") == "420000"
        assert "宜昌市" in row.text_content() and "中部" in row.text_content()
        shots(page, "authorities-01-admin-added-a-city")
        # … and opens an account for the city's commerce bureau
        page.click("text=账号管理")
        page.fill("input[name=username]", "yichang_applicant")
        page.fill("input[name=display_name]", "宜昌市商务局")
        page.fill("input[name=email]", "yichang@example.gov.cn")
        page.select_option("select[name=role]", "applicant")
        page.select_option("select[name=authority]", "420500")
        page.fill("form[action$='/admin/accounts'] input[name=password]", "Yichang-temp-2006")
        page.click("form[action$='/admin/accounts'] button[type=submit]")
        page.wait_for_selector("tr[data-user=yichang_applicant]")
        page.context.close()

        # 2 — a Hubei city's applicant sees its own city's draft, not another city's
        page = login(chromium, base, "wuhan_applicant")
        page.click("[data-testid=tab-all]")
        listed = page.locator("tbody tr[data-case]")
        assert listed.count() == 1
        assert "武汉光谷光电子草稿" in listed.text_content()
        assert "湖北省武汉市" in page.text_content("[data-testid=whoami]")
        assert "襄阳汽车零部件草稿" not in page.content()
        shots(page, "authorities-02-wuhan-sees-its-drafts")
        page.goto(f"{base}/cases/{xiangyang}")
        assert "未找到该记录，或您无权查看" in page.text_content("main")
        page.context.close()

        # 3 — the new city's bureau sets its own password and sees neither city's drafts
        page = chromium.new_context(viewport=VIEWPORT, locale="zh-CN").new_page()
        page.goto(f"{base}/login")
        page.fill("#username", "yichang_applicant")
        page.fill("#password", "Yichang-temp-2006")
        page.click("main button[type=submit]")
        page.wait_for_url(re.compile(r".*/account/password.*"))
        page.fill("#current_password", "Yichang-temp-2006")
        page.fill("#new_password", "Yichang-own-Pass-2006")
        page.fill("#confirm", "Yichang-own-Pass-2006")
        page.click("main button[type=submit]")
        page.goto(f"{base}/inbox?tab=all")
        assert "湖北省宜昌市" in page.text_content("[data-testid=whoami]")
        assert page.locator("tbody tr[data-case]").count() == 0
        content = page.content()
        assert "武汉光谷光电子草稿" not in content and "襄阳汽车零部件草稿" not in content
        shots(page, "authorities-03-yichang-sees-nothing-of-its-neighbours")
        page.context.close()
    finally:
        clock.freeze(None)
