"""A file refused on the 申报书 page (post/redirect/get, issue 17): the applicant is back
on the form's own address, the refusal is beside the file field, which has the focus, and
what they typed was saved; a reload re-posts nothing and shows the plain form."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import LiveServer
from tests.e2e.drafts import draft_form_open

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def test_a_refused_file_brings_the_applicant_back_to_the_file_field(
        chromium: Any, live_server: LiveServer, tmp_path: Path) -> None:
    with draft_form_open(chromium, live_server) as form:
        page, app_id = form.page, form.app_id
        page.fill("#address", "武汉市东湖新技术开发区高新大道 1 号")
        fake = tmp_path / "发展方案.pdf"
        fake.write_bytes(b"MZ\x90\x00 not a pdf")
        page.select_option("#up-kind", "development_plan")
        page.set_input_files("#up-file", str(fake))
        page.click("[data-testid=upload]")
        page.wait_for_url(re.compile(rf".*/applications/{app_id}/edit$"))  # no fragment
        error = page.locator("[data-testid=upload-error]")
        assert "文件内容与扩展名不符" in error.inner_text()
        assert page.evaluate("document.activeElement.id") == "up-file"
        assert page.get_attribute("#up-file", "aria-describedby") == "up-file-error"
        assert page.input_value("#address") == "武汉市东湖新技术开发区高新大道 1 号"
        assert "草稿已保存" in page.locator(".flash").first.inner_text()
        page.reload()  # a GET: nothing is posted again, and the refusal was shown once
        assert page.locator("[data-testid=upload-error]").count() == 0
        assert page.input_value("#address") == "武汉市东湖新技术开发区高新大道 1 号"


def test_a_refused_save_comes_back_to_the_form_with_the_typing_and_the_errors_once(
        chromium: Any, live_server: LiveServer) -> None:
    """Post/redirect/get for the form's own errors: the browser is on the form's address,
    every field and product row as typed, the error beside its field and the summary
    focused; a reload asks nothing, shows the saved draft and offers the typing back."""
    with draft_form_open(chromium, live_server) as form:
        page, app_id = form.page, form.app_id
        page.fill("#contact_email", "not-an-email")
        page.fill("#address", "武汉市东湖新技术开发区高新大道 1 号")
        page.click("[data-add-product]")
        page.fill("#products-1-name", "激光器")
        page.fill("#products-1-exports_10k_usd", "一千二")
        page.click("[data-testid=save-draft]")
        page.wait_for_url(re.compile(rf".*/applications/{app_id}/edit$"))
        assert page.evaluate("document.activeElement.dataset.testid") == "form-errors"
        assert "电子信箱格式不正确" in page.locator("[data-error-for=contact_email]").inner_text()
        assert page.get_attribute("#products-1-exports_10k_usd", "aria-invalid") == "true"
        assert page.input_value("#contact_email") == "not-an-email"
        assert page.input_value("#address") == "武汉市东湖新技术开发区高新大道 1 号"
        assert page.input_value("#products-1-name") == "激光器"
        assert page.input_value("#products-1-exports_10k_usd") == "一千二"
        page.reload()  # a GET: no question about sending the form again
        assert page.locator("[data-error-for]").count() == 0
        assert page.input_value("#contact_email") != "not-an-email"  # the saved draft
        offer = page.locator("[data-testid=keep-offer]")  # and the typing, offered back
        offer.locator("text=恢复未保存的内容").click()
        assert page.input_value("#contact_email") == "not-an-email"
        assert page.input_value("#products-1-exports_10k_usd") == "一千二"
