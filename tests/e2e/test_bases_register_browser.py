"""出口基地名录 in a real browser: the ministry imports national bases (a bad row named and
nothing taken, then the file put right) and filters the register; an applicant drafts a
re-certification by picking its base from the register — its type follows — and submits
it. Screenshots in test-artifacts/e2e/ (register-*)."""

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
HEAD = "省级商务主管部门,基地名称,基地类型,认定文号,认定日期,状态,状态日期\n"


def test_the_ministry_imports_the_register_and_an_applicant_re_certifies_a_base_from_it(
        chromium: Any, live_server: LiveServer, shots: Any, tmp_path: Path) -> None:
    base = live_server
    factories.build_world(_uow(base))
    bad, good = tmp_path / "名录-有误.csv", tmp_path / "名录.csv"
    bad.write_text(HEAD + "湖北省,武汉国家软件出口基地,软件出口基地,商科技发[2003]256号,2003-11-18,,\n"
                   "湖北省,宜昌国家医药出口基地,医药基地,商科技发[2004]112号,2004-06-08,,\n",
                   encoding="utf-8")
    good.write_text(HEAD + "湖北省,武汉国家软件出口基地,软件出口基地,商科技发[2003]256号,2003-11-18,,\n"
                    "湖北省,宜昌国家医药出口基地,医药出口基地,商科技发[2004]112号,2004-06-08,"
                    "已撤销,2005-12-20\n", encoding="utf-8")
    pdf = tmp_path / "发展方案.pdf"
    pdf.write_bytes(factories.PDF)
    try:
        clock.freeze(factories.at("2006-03-20"))
        # 1 — the ministry imports the national bases: a bad row is named, nothing is taken
        page = login(chromium, base, "mofcom")
        page.click("nav.mainnav >> text=出口基地名录")
        page.wait_for_url(re.compile(r".*/bases-register/$"))
        assert page.locator("[data-testid=register] tbody tr").count() == len(factories.REGISTER)
        page.set_input_files("#import-file", str(bad))
        page.click("[data-testid=import]")
        errors = page.text_content("[data-testid=import-errors]")
        assert "第 3 行“基地类型”" in errors
        assert "武汉国家软件出口基地" not in page.text_content("[data-testid=register]")
        shots(page, "register-import-error-zh")
        page.set_input_files("#import-file", str(good))
        page.click("[data-testid=import]")
        assert "新增 2 个基地" in page.text_content(".flash-success")
        page.select_option("#f-authority", "420000")
        page.select_option("#f-status", "designated")
        page.click("[data-testid=filters] button[type=submit]")
        names = page.locator("[data-testid=register] tbody tr td:first-child a").all_text_contents()
        assert sorted(names) == sorted(["武汉国家高新技术产品出口基地", "武汉国家软件出口基地"])
        shots(page, "register-filtered-zh")
        page.context.close()

        # 2 — the Hubei applicant re-certifies its software base, picked from the register
        page = login(chromium, base, "hubei_applicant")
        page.click("nav.mainnav >> text=申报")
        page.check("input[name=kind][value=recertification]")
        assert page.is_hidden("#industry_field") and page.is_visible("#existing_base_id")
        options = page.locator("#existing_base_id option").all_text_contents()
        assert any("武汉国家软件出口基地" in o for o in options)
        assert not any("宜昌" in o for o in options)  # revoked: not offered
        page.select_option("#existing_base_id", label=next(
            o for o in options if "武汉国家软件出口基地" in o))
        assert page.input_value("#existing_base_type") == "software"  # follows the base
        values = {k: str(v) for k, v in factories.form_data(
            applicant_name="武汉国家软件出口基地").items()
            if k not in ("products", "kind", "industry_field")}
        for name, value in values.items():
            if not name.startswith("hightech_export_growth_pct_prev"):
                page.fill(f"#{name}", value)
        page.fill("#products-0-name", "软件外包服务")
        page.fill("#products-0-exports_10k_usd", "3000")
        shots(page, "register-recertification-form-zh")
        page.click("[data-testid=save-draft]")
        page.wait_for_url(re.compile(r".*/applications/\d+/edit"))
        app_id = int(re.search(r"/applications/(\d+)/", page.url).group(1))
        for kind in ("application_form", "development_plan"):
            page.select_option("#up-kind", kind)
            page.set_input_files("#up-file", str(pdf))
            page.click("[data-testid=upload]")
            page.wait_for_selector(".flash-success")
        page.click("[data-testid=submit]")
        page.wait_for_url(f"{base}/cases/{app_id}")
        named = page.text_content("[data-testid=named-base]")
        assert "武汉国家软件出口基地" in named and "软件出口基地" in named
        page.click("[data-testid=named-base] a")
        page.wait_for_url(re.compile(r".*/bases-register/\d+$"))
        assert page.text_content("[data-testid=base-name]") == "武汉国家软件出口基地"
        shots(page, "register-base-zh")
        page.context.close()
    finally:
        clock.freeze(None)
