"""The inbox, bulk actions and the case page, through the Flask test client."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tests import factories
from workflow.services import cases


def test_inbox_lists_cases_waiting_on_the_province_with_working_days_left(browser, world,
                                                                          frozen):
    app_id = factories.submitted(world)
    page = browser.login("hubei_reviewer").text("/inbox")
    assert "武汉光谷光电子信息产业集群" in page
    assert f'data-case="{app_id}"' in page
    # due 2006-04-30 (002 §六(三)); from Friday 21 April: 24–28 April plus the weekend of
    # 29–30 April, worked in 2006 in exchange for the May Day holiday (调休) = 7
    assert "剩 7 个工作日" in page
    assert "2006年4月30日" in page


def test_overdue_cases_are_marked_red(browser, world, frozen):
    factories.submitted(world)
    frozen.freeze(datetime(2006, 5, 10, 10, tzinfo=frozen.CHINA))
    page = browser.login("hubei_reviewer").text("/inbox")
    assert re.search(r'class="days days-overdue"[^>]*>逾期 \d+ 个工作日', page)


def test_inbox_filters_and_search_narrow_the_list(browser, world, frozen):
    factories.submitted(world)
    factories.submitted(world, applicant_name="襄阳汽车零部件出口基地")
    b = browser.login("hubei_reviewer")
    page = b.text("/inbox?q=襄阳")
    assert "襄阳汽车零部件出口基地" in page and "武汉光谷" not in page
    assert "武汉光谷" not in b.text("/inbox?state=recommended")
    assert "武汉光谷" in b.text("/inbox?tab=all&round=2006&kind=new_base")
    # by place: the ministry's filters (a province's cases are in one place)
    ministry = browser.login("mofcom")
    assert "武汉光谷" not in ministry.text("/inbox?tab=all&region=west")
    assert "武汉光谷" in ministry.text("/inbox?tab=all&authority=420000&round=2006&kind=new_base")


def test_next_page_follows_the_keyset_cursor(browser, world, frozen, monkeypatch):
    from web import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    ids = [factories.submitted(world, applicant_name=f"基地{i}") for i in range(3)]
    b = browser.login("hubei_reviewer")
    first = b.text("/inbox")
    assert f'data-case="{ids[0]}"' in first and f'data-case="{ids[2]}"' not in first
    nxt = re.search(r'href="([^"]*cursor=[^"]*)" rel="next"', first).group(1)
    second = b.text(nxt.replace("&amp;", "&"))
    assert f'data-case="{ids[2]}"' in second and f'data-case="{ids[0]}"' not in second
    assert "共 3 件" in second


def test_bulk_publish_reports_each_case_and_why_one_was_refused(browser, world):
    ok_id = factories.recommended(world)
    shown = factories.published(world, applicant="hunan_applicant", reviewer="hunan_reviewer")
    b = browser.login("mofcom")
    r = b.post("/inbox/bulk", data={"trigger": "publish_notice", "ids": [ok_id, shown]})
    # post/redirect/get: the results are a page of their own; reloading it acts no more
    assert r.status_code == 303 and r.headers["Location"].endswith("/inbox/bulk/results")
    page = b.text("/inbox/bulk/results")
    assert "成功 1 件，未办理 1 件" in page
    assert re.search(rf'data-case="{ok_id}" class="ok".*?公示中', page, re.S)
    assert re.search(rf'data-case="{shown}" class="refused"', page)
    again = b.get("/inbox/bulk/results")
    assert again.status_code == 302 and again.headers["Location"].endswith("/inbox")


def test_bulk_with_nothing_selected_says_so(browser, world):
    factories.recommended(world)
    b = browser.login("mofcom")
    r = b.post("/inbox/bulk", data={"trigger": "publish_notice"},
               headers={"Referer": "http://localhost/inbox"})
    assert r.status_code == 302
    assert "请先勾选要办理的申报" in b.text("/inbox")


def test_case_page_shows_units_eligibility_history_and_only_allowed_actions(browser, world,
                                                                           frozen):
    app_id = factories.submitted(world)
    page = browser.login("hubei_reviewer").text(f"/cases/{app_id}")
    assert "亿美元" in page and "万美元" in page  # units next to the figures
    assert "002 §六(二)(2)" in page and "门槛 50 百万美元" in page
    assert 'data-trigger="submit"' in page and "提交至省级商务主管部门" in page  # history
    actions = set(re.findall(r'class="action-form" data-trigger="(\w+)"', page))
    assert actions == {"return_for_revision", "decline"}  # no letter yet: no recommend
    assert not re.search(r'data-trigger="(approve|publish_notice|submit)"[^>]*class', page)
    assert 'aria-current="step"' in page and 'data-state="provincially_reviewed"' in page


def test_a_hunan_case_is_not_found_for_a_hubei_reviewer(browser, world):
    hunan = factories.submitted(world, applicant="hunan_applicant")
    b = browser.login("hubei_reviewer")
    assert b.get(f"/cases/{hunan}").status_code == 404
    assert b.get("/cases/999999").status_code == 404
    assert b.post(f"/cases/{hunan}/fire", data={"trigger": "decline", "version": 2,
                                                "reason": "x"}).status_code == 404
    assert f'data-case="{hunan}"' not in b.text("/inbox?tab=all")


def test_a_stale_action_says_someone_else_moved_the_case_and_keeps_the_reason(browser, world):
    app_id = factories.submitted(world)
    cases.fire(world.uow(), world.id("hubei_reviewer2"), app_id, "return_for_revision", None,
               reason="请补充材料", now=datetime(2006, 4, 5, 2, tzinfo=UTC))
    b = browser.login("hubei_reviewer")
    r = b.post(f"/cases/{app_id}/fire", data={
        "trigger": "decline", "version": "2", "reason": "出口额不足，不予推荐"})
    # post/redirect/get: the case page says so, and a reload does not post again
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/cases/{app_id}")
    page = b.text(r.headers["Location"])
    assert "该申报已被他人处理" in page and "当前状态：草稿" in page
    assert "出口额不足，不予推荐" in page
    assert 'id="conflict" tabindex="-1" autofocus' in page


def test_a_refused_action_is_explained_in_english_for_english_users(browser, world):
    app_id = factories.submitted(world)
    b = browser.login("hubei_reviewer", lang="en")
    r = b.post(f"/cases/{app_id}/fire", data={"trigger": "recommend", "version": "2"})
    assert r.status_code == 303
    page = b.text(r.headers["Location"])
    assert "recommendation letter" in page.lower() and "推荐文件" not in page
    assert "What you can do now" in page


def test_attachments_download_as_files_only_within_scope(browser, world):
    app_id = factories.submitted(world)
    b = browser.login("hubei_reviewer")
    page = b.text(f"/cases/{app_id}")
    href = re.search(rf'href="(/cases/{app_id}/attachments/\d+)"', page).group(1)
    r = b.get(href)
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    assert r.headers["Content-Disposition"].startswith("attachment")
    assert browser.login("hunan_reviewer").get(href).status_code == 404


def test_an_upload_of_the_wrong_type_is_refused_next_to_the_field(browser, world, tmp_path):
    import io

    app_id = factories.submitted(world)
    b = browser.login("hubei_reviewer")
    r = b.post(
        f"/cases/{app_id}/attachments", content_type="multipart/form-data",
        data={"kind": "recommendation_letter", "file": (io.BytesIO(b"MZ\x90\x00"), "letter.pdf")})
    assert r.status_code == 303  # post/redirect/get: the case page shows it, once
    page = b.text(r.headers["Location"])
    assert 'data-testid="upload-error">文件内容与扩展名不符' in page
    assert 'aria-describedby="up-file-error" autofocus' in page
    assert 'data-testid="upload-error"' not in b.text(f"/cases/{app_id}")


def test_the_language_choice_is_remembered_for_the_next_login(browser, world):
    b = browser.login("hubei_reviewer", lang="en")
    assert "Waiting on me" in b.text("/inbox")
    b.client.post("/logout")
    with b.client.session_transaction() as s:
        s.clear()
    b.login("hubei_reviewer")
    page = b.text("/inbox")
    assert "Waiting on me" in page and "待我办理" not in page
