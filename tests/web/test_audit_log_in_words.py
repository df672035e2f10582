"""The auditor's audit log names each event and each detail in words, Chinese by default
and English when chosen; the codes and the record's JSON stay only in a folded
"原始数据" block (issue 17: no raw codes in the UI)."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pyotp

from tests import factories
from workflow.services import second_factor


def _auditor(app: Any, world: factories.World, frozen: Any, lang: str | None = None) -> Any:
    """The auditor's browser: TOTP enrolled, logged in with a code (admins need one)."""
    secret = second_factor.new_totp_secret()
    second_factor.enrol_totp(world.uow(), world.id("auditor"), secret,
                        pyotp.TOTP(secret).at(frozen.utcnow()),
                        secret_key=app.config["SETTINGS"].secret_key)
    frozen.freeze(frozen.utcnow() + timedelta(minutes=1))
    client = app.test_client()
    client.post("/login", data={"username": "auditor", "password": factories.PASSWORD})
    assert client.post("/login/otp", data={"otp": pyotp.TOTP(secret).at(frozen.utcnow())}
                       ).status_code == 302
    if lang:
        client.post(f"/lang/{lang}")
    return client


def _row(page: str, event: str) -> str:
    found = re.search(rf'<tr data-event="{event}">(.*?)</tr>', page, re.S)
    assert found, event
    return found.group(1)


def _visible(cells: str) -> str:
    """A row's text as the auditor reads it: tags and the folded raw block left out."""
    shown = re.sub(r"<details class=\"raw\">.*?</details>", "", cells, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", shown))


def test_events_and_details_are_labelled_and_the_raw_record_is_folded(
        app: Any, world: factories.World, frozen: Any) -> None:
    factories.submitted(world)  # a draft, two uploads and the submission
    page = _auditor(app, world, frozen).get("/admin/audit").get_data(as_text=True)
    action = _row(page, "case_action")
    shown = _visible(action)
    assert "办理申报" in shown
    assert re.search(r"<dt>操作</dt><dd>提交[^<]*</dd>", action)  # the step's own label
    assert re.search(r"<dt>原状态</dt><dd>草稿[^<]*</dd>", action)
    assert re.search(r"<dt>新状态</dt><dd>[^<a-z]+</dd>", action)
    for code in ("case_action", "submit", "drafted", "provincially_reviewed", "trigger"):
        assert code not in shown, code
    raw = re.search(r'<details class="raw"><summary>原始数据</summary><code>(.*?)</code>', action,
                    re.S)
    assert raw and "provincially_reviewed" in html.unescape(raw.group(1))
    upload = _row(page, "attachment_uploaded")
    assert "上传附件" in _visible(upload) and "<dt>文件名</dt>" in upload
    assert re.search(r"<dt>类型</dt><dd>(申报书|发展方案)</dd>", upload)  # not the kind's code
    login = _visible(_row(page, "login_succeeded"))
    assert "登录成功" in login and "成功" in login and "审计管理员" in login
    # the event filter offers the events by name
    assert re.search(r'<option value="login_succeeded"[^>]*>登录成功</option>', page)
    assert "时间（UTC）" not in page and "时间（北京时间）" in page


def test_the_audit_log_reads_in_english_when_english_is_chosen(
        app: Any, world: factories.World, frozen: Any) -> None:
    factories.submitted(world)
    page = _auditor(app, world, frozen, "en").get("/admin/audit").get_data(as_text=True)
    action = _row(page, "case_action")
    assert "Case action" in _visible(action) and "<dt>From</dt>" in action
    assert "Logged in" in _visible(_row(page, "login_succeeded"))
    assert "Raw data" in action
