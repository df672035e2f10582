"""Uploading an attachment on the 申报书 page saves what was typed first (same POST)."""

from __future__ import annotations

import io
import re

from tests import factories
from workflow.services import worklist


def _typed(**over: str) -> dict[str, str]:
    data = {k: str(v) for k, v in factories.form_data().items() if k != "products"}
    data.update({"products-0-name": "光通信设备", "products-0-exports_10k_usd": "3000"})
    data.update(over)
    return data


def _upload(b, app_id: int, data: dict[str, str], content: bytes, name: str):
    return b.post(f"/applications/{app_id}/edit", content_type="multipart/form-data",
                  data={**data, "action": "upload", "kind_of_file": "development_plan",
                        "file": (io.BytesIO(content), name)})


def test_uploading_keeps_the_unsaved_typing_and_stores_the_file(browser, world):
    app_id = factories.draft(world)
    b = browser.login("hubei_applicant")
    r = _upload(b, app_id, _typed(version="1", address="刚输入还没保存的地址"), factories.PDF,
                "发展方案.pdf")
    assert r.status_code == 302 and r.headers["Location"].endswith("#attachments")
    page = b.text(f"/applications/{app_id}/edit")
    assert 'value="刚输入还没保存的地址"' in page
    assert "发展方案.pdf" in page and "已上传：发展方案.pdf" in page
    kinds = [a.kind for a in worklist.attachments_of(world.uow(), world.id("hubei_applicant"),
                                                      app_id)]
    assert kinds == ["development_plan"]


def test_a_refused_file_still_keeps_the_typing_and_says_why_next_to_the_field(browser, world):
    app_id = factories.draft(world)
    b = browser.login("hubei_applicant")
    r = _upload(b, app_id, _typed(version="1", address="新地址"), b"MZ\x90\x00", "plan.pdf")
    # post/redirect/get: the form again, where reloading re-posts nothing
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/applications/{app_id}/edit")
    page = b.text(r.headers["Location"])
    assert 'data-testid="upload-error">文件内容与扩展名不符' in page
    assert 'aria-describedby="up-file-error" autofocus' in page  # the file field says why
    assert re.search(r'<option value="development_plan" selected>', page)  # kind kept
    assert 'value="新地址"' in page and "草稿已保存" in page
    assert re.search(r'name="version" value="2"', page)  # the typing was saved
    assert worklist.attachments_of(world.uow(), world.id("hubei_applicant"), app_id) == []
    # shown once: the next visit is the plain form
    assert 'data-testid="upload-error"' not in b.text(f"/applications/{app_id}/edit")


def test_bad_typing_stores_neither_the_draft_nor_the_file(browser, world):
    app_id = factories.draft(world)
    b = browser.login("hubei_applicant")
    r = _upload(b, app_id, _typed(version="1", contact_email="not-an-email"), factories.PDF,
                "发展方案.pdf")
    # post/redirect/get: the form again, with what was typed and why the file waits
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/applications/{app_id}/edit")
    page = b.text(r.headers["Location"])
    assert 'data-error-for="contact_email"' in page and 'value="not-an-email"' in page
    assert "附件未上传：请先修改标红的项目" in page
    assert 'name="version" value="1"' in page
    assert worklist.attachments_of(world.uow(), world.id("hubei_applicant"), app_id) == []


def test_upload_without_a_file_says_choose_a_file_in_english(browser, world):
    app_id = factories.draft(world)
    b = browser.login("hubei_applicant", lang="en")
    r = b.post(f"/applications/{app_id}/edit", content_type="multipart/form-data",
               data={**_typed(version="1"), "action": "upload",
                     "kind_of_file": "development_plan"})
    assert r.status_code == 303
    assert 'data-testid="upload-error">choose a file to upload' in b.text(r.headers["Location"])


def test_a_file_refused_from_the_forms_upload_route_comes_back_to_the_form(browser, world):
    """The attachments route with back=edit (the form's upload without its typing): the
    refusal is shown on the form after a 303, not at the POST's URL."""
    app_id = factories.draft(world)
    b = browser.login("hubei_applicant")
    r = b.post(f"/cases/{app_id}/attachments", content_type="multipart/form-data",
               data={"kind": "development_plan", "back": "edit",
                     "file": (io.BytesIO(b"MZ\x90\x00"), "plan.pdf")})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/applications/{app_id}/edit")
    page = b.text(r.headers["Location"])
    assert 'data-testid="upload-error">文件内容与扩展名不符' in page
    assert 'aria-describedby="up-file-error" autofocus' in page
    assert 'data-testid="upload-error"' not in b.text(f"/applications/{app_id}/edit")
    assert worklist.attachments_of(world.uow(), world.id("hubei_applicant"), app_id) == []


def test_an_upload_to_a_case_one_may_not_see_is_not_found_and_keeps_nothing(browser, world):
    app_id = factories.draft(world)
    b = browser.login("guangdong_applicant")
    r = b.post(f"/cases/{app_id}/attachments", content_type="multipart/form-data",
               data={"kind": "development_plan", "back": "edit"})
    assert r.status_code == 404
    assert worklist.attachments_of(world.uow(), world.id("hubei_applicant"), app_id) == []


def test_the_upload_button_belongs_to_the_application_form(browser, world):
    app_id = factories.draft(world)
    page = browser.login("hubei_applicant").text(f"/applications/{app_id}/edit")
    assert re.search(r'<form method="post" novalidate id="application-form" '
                     r'enctype="multipart/form-data"', page)
    assert re.search(r'<input type="file" id="up-file" name="file" form="application-form"', page)
    assert re.search(r'<button type="submit" form="application-form" name="action" '
                     r'value="upload"', page)
