"""The inbox pages both ways in the order it shows, and each user keeps named filters of
their own (issue 17): saving one keeps the filters, search and order; a bad name is
refused with the field named, the typed name kept and nothing saved."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

import pytest

from tests import factories
from workflow.services import cases, saved_filters


def _listed(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-case="(\d+)"', page)]


def _link(page: str, rel: str) -> str | None:
    found = re.search(rf'href="([^"]*)" rel="{rel}"', page)
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.mark.parametrize("sort", ["due", "applicant", "submitted"])
@pytest.mark.parametrize("descending", [False, True])
def test_paging_back_from_the_last_page_shows_every_page_again_in_order(
        world: factories.World, frozen: Any, sort: str, descending: bool) -> None:
    ids = [factories.submitted(world, applicant_name=f"基地{i}") for i in range(5)]
    reviewer = world.id("hubei_reviewer")
    pages, cursor = [], None
    while True:  # forwards, two cases a page
        page = cases.list_applications(world.uow(), reviewer, limit=2, cursor=cursor,
                                       sort=sort, descending=descending)
        pages.append([r.id for r in page.items])
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(sum(pages, [])) == sorted(ids) and len(pages) == 3
    first = cases.list_applications(world.uow(), reviewer, limit=2, sort=sort,
                                    descending=descending)
    assert first.prev_cursor is None  # nothing before the first page
    back = []  # from the last page (where the loop stopped) back to the first
    back.append([r.id for r in page.items])
    while page.prev_cursor:
        page = cases.list_applications(world.uow(), reviewer, limit=2, before=page.prev_cursor,
                                       sort=sort, descending=descending)
        back.append([r.id for r in page.items])
    assert back == list(reversed(pages))
    assert page.next_cursor is not None  # the first page, reached backwards, leads on again


def test_the_inbox_has_a_previous_page_link_that_keeps_filters_and_order(
        browser: Any, world: factories.World, frozen: Any) -> None:
    ids = [factories.draft(world, applicant_name=f"草稿{i:02d}") for i in range(12)]
    b = browser.login("hubei_applicant")
    first = b.text("/inbox?tab=all&sort=applicant&dir=desc&per=10&q=草稿")
    assert _listed(first) == sorted(ids, reverse=True)[:10]  # 草稿11 … 草稿02
    assert _link(first, "prev") is None and "回到第一页" not in first
    second = b.text(_link(first, "next") or "")
    assert _listed(second) == sorted(ids, reverse=True)[10:]
    back = _link(second, "prev")
    assert back and "before=" in back and "sort=applicant" in back and "per=10" in back
    again = b.text(back)
    assert _listed(again) == _listed(first)
    assert _link(again, "prev") is None and _link(again, "next")


def test_a_saved_filter_is_a_link_in_its_owners_inbox_only(
        browser: Any, world: factories.World, frozen: Any) -> None:
    factories.submitted(world)
    xiangyang = factories.submitted(world, applicant_name="襄阳汽车零部件出口基地")
    b = browser.login("hubei_reviewer")
    r = b.post("/inbox/filters", data={
        "name": "  襄阳  新基地 ", "view": "tab=all&q=襄阳&kind=new_base&sort=applicant"
                                       "&dir=desc&cursor=x_1&evil=1"})
    assert r.status_code == 303  # post/redirect/get
    inbox = b.text(r.headers["Location"])
    assert "已保存筛选：襄阳 新基地" in inbox
    link = re.search(r'<li data-saved-filter="襄阳 新基地"><a href="([^"]*)"', inbox)
    assert link
    url = unquote(link.group(1).replace("&amp;", "&"))
    assert "q=襄阳" in url and "sort=applicant" in url and "tab=all" in url
    assert "cursor" not in url and "evil" not in url  # paging and unknown keys are not kept
    assert _listed(b.text(link.group(1).replace("&amp;", "&"))) == [xiangyang]
    # another reviewer of the same province does not see it
    other = browser.login("mofcom").text("/inbox")
    assert "襄阳 新基地" not in other


@pytest.mark.parametrize(("name", "message"), [
    ("   ", "请填写筛选名称"),
    ("长" * 41, "筛选名称不能超过 40 个字"),
    ("我的省", "已有名为“我的省”的筛选"),
])
def test_a_bad_filter_name_is_refused_naming_the_field_and_keeping_what_was_typed(
        browser: Any, world: factories.World, frozen: Any, name: str, message: str) -> None:
    b = browser.login("hubei_reviewer")
    saved_filters.save(world.uow(), world.id("hubei_reviewer"), "我的省", {"q": "湖北"})
    r = b.post("/inbox/filters", data={"name": name, "view": "q=武汉"})
    assert r.status_code == 303 and "q=" in r.headers["Location"]
    page = b.text(r.headers["Location"])
    error = re.search(r'<p class="field-error" role="alert" id="sf-name-error"[^>]*>(.*?)</p>',
                      page)
    assert error and error.group(1).startswith("筛选名称") and message in error.group(1)
    assert re.search(r'id="sf-name" name="name"[^>]*value="' + re.escape(name) + '"', page)
    assert 'aria-invalid="true" autofocus' in page
    assert [f.name for f in saved_filters.list_for(world.uow(),
                                                   world.id("hubei_reviewer"))] == ["我的省"]
    assert "sf-name-error" not in b.text("/inbox")  # shown once


def test_deleting_a_saved_filter_removes_only_that_one_and_only_for_its_owner(
        browser: Any, world: factories.World, frozen: Any) -> None:
    mine = world.id("hubei_reviewer")
    kept = saved_filters.save(world.uow(), mine, "武汉", {"q": "武汉"})
    gone = saved_filters.save(world.uow(), mine, "襄阳", {"q": "襄阳"})
    stranger = browser.login("mofcom").post(f"/inbox/filters/{gone.id}/delete",
                                            data={"view": ""})
    assert stranger.status_code == 404
    b = browser.login("hubei_reviewer")
    r = b.post(f"/inbox/filters/{gone.id}/delete", data={"view": "tab=all&q=武汉"})
    assert r.status_code == 303
    page = b.text(r.headers["Location"])
    assert "已删除筛选：襄阳" in page and 'data-saved-filter="襄阳"' not in page
    assert 'data-saved-filter="武汉"' in page
    assert [f.id for f in saved_filters.list_for(world.uow(), mine)] == [kept.id]
