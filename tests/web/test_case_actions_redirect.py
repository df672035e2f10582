"""A refused case action or attestation is answered with a redirect to the case page
(post/redirect/get, issue 17): the page shows why, keeps what was typed and puts the
keyboard on the message; a reload asks nothing again and shows the page as it is."""

from __future__ import annotations

import re
from typing import Any

from tests import factories
from workflow.services import cases


def test_a_refused_action_redirects_to_the_case_page_with_its_error_and_the_typed_reason(
        browser: Any, world: factories.World, frozen: Any) -> None:
    app_id = factories.submitted(world)
    b = browser.login("hubei_reviewer")
    r = b.post(f"/cases/{app_id}/fire", data={"trigger": "recommend", "version": "2",
                                              "reason": "产业特色鲜明，建议推荐"})
    assert r.status_code == 303
    assert r.headers["Location"].endswith(f"/cases/{app_id}")
    page = b.text(r.headers["Location"])
    # recommending waits for the province's letter: the step is refused, its words shown
    # where the keyboard lands, and the reason typed for it kept
    errors = re.search(r'<div class="errors" id="action-recommend-errors" tabindex="-1" '
                       r'autofocus><p class="field-error" role="alert">([^<]+)</p>', page)
    assert errors and "推荐文件" in errors.group(1)
    assert '<textarea id="kept-recommend" name="reason" readonly>产业特色鲜明，建议推荐</textarea>' \
        in page
    again = b.text(f"/cases/{app_id}")  # a reload: the page as it is, the refusal shown once
    assert "action-recommend-errors\" tabindex" not in again
    assert cases.load(world.uow(), world.id("hubei_reviewer"), app_id).row.state \
        == "provincially_reviewed"


def test_a_malformed_deadline_is_refused_naming_the_format_after_a_redirect(
        browser: Any, world: factories.World, frozen: Any) -> None:
    app_id = factories.submitted(world)
    b = browser.login("hubei_reviewer")
    r = b.post(f"/cases/{app_id}/fire", data={"trigger": "decline", "version": "2",
                                              "reason": "不符合条件", "deadline": "明天"})
    assert r.status_code == 303
    page = b.text(r.headers["Location"])
    assert "日期格式应为 YYYY-MM-DD" in page and "不符合条件</textarea>" in page


def test_a_long_reason_comes_back_whole_while_the_session_cookie_stays_small(
        browser: Any, world: factories.World, frozen: Any) -> None:
    app_id = factories.submitted(world)
    b = browser.login("hubei_reviewer")
    long_reason = "出口额与统计目录口径不一致" * 150  # 1,950 characters: too many for a cookie
    for trigger, extra in (("decline", {"deadline": "明天"}), ("recommend", {})):
        r = b.post(f"/cases/{app_id}/fire", data={"trigger": trigger, "version": "2",
                                                  "reason": long_reason, **extra})
        assert r.status_code == 303
        page = b.text(r.headers["Location"])
        assert long_reason in page  # kept on the server, not in the cookie
        assert f'data-keep="case:{app_id}:{trigger}"' in page
        assert long_reason not in b.text(r.headers["Location"])  # shown once
    assert len(b.client.get_cookie("session").value) < 4000


def test_a_refused_attestation_redirects_and_says_why(
        browser: Any, world: factories.World, frozen: Any) -> None:
    app_id = factories.submitted(world)
    b = browser.login("hubei_reviewer")
    r = b.post(f"/cases/{app_id}/attestations", data={"att-local_policy": "yes"})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/cases/{app_id}")
    page = b.text(r.headers["Location"])
    assert re.search(r'id="attest-error" tabindex="-1" autofocus>缺少版本号，请刷新页面<', page)
    stale = b.post(f"/cases/{app_id}/attestations", data={"version": "1",
                                                          "att-local_policy": "yes"})
    assert stale.status_code == 303
    assert "该申报已被他人处理" in b.text(stale.headers["Location"])
