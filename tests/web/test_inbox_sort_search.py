"""The inbox sorts by due date, applicant, state and submission date, either way, keeping
its filters and paging through every case once; its search finds a case by applicant,
city or province, case number and industry field (issue 17)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from tests import factories
from workflow.services import cases


def _submit_on(world: factories.World, day: int, applicant: str = "hubei_applicant",
               **over: Any) -> int:
    """An application submitted on `day` April 2006."""
    app_id = factories.draft(world, applicant, **over)
    factories.attach_required(world, app_id, applicant)
    cases.fire(world.uow(), world.id(applicant), app_id, "submit", None,
               now=datetime(2006, 4, day, 2, tzinfo=UTC))
    return app_id


@pytest.fixture
def hubei(world: factories.World) -> dict[str, int]:
    """Four Hubei cases: from the province, Wuhan and Xiangyang, one already recommended."""
    return {
        "guanggu": _submit_on(world, 5),  # 武汉光谷光电子信息产业集群, information
        "xiangyang": _submit_on(world, 3, "xiangyang_applicant",
                                applicant_name="襄阳汽车零部件出口基地",
                                industry_field="new_materials"),
        "donghu": _submit_on(world, 7, "wuhan_applicant", applicant_name="东湖软件出口基地",
                             industry_field="software"),
        "enshi": factories.recommended(world, "enshi_applicant", applicant_name="恩施富硒医药基地",
                                       industry_field="pharmaceuticals"),
    }


def _listed(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-case="(\d+)"', page)]


def test_search_finds_cases_by_city_province_case_number_and_field(
        browser: Any, hubei: dict[str, int], frozen: Any) -> None:
    b = browser.login("hubei_reviewer")
    assert _listed(b.text("/inbox?tab=all&q=武汉市")) == [hubei["donghu"]]
    assert _listed(b.text("/inbox?tab=all&q=Xiangyang")) == [hubei["xiangyang"]]
    assert sorted(_listed(b.text("/inbox?tab=all&q=湖北"))) == sorted(hubei.values())
    assert _listed(b.text(f"/inbox?tab=all&q={hubei['enshi']}")) == [hubei["enshi"]]
    assert _listed(b.text(f"/inbox?tab=all&q=%23{hubei['donghu']}")) == [hubei["donghu"]]
    assert _listed(b.text("/inbox?tab=all&q=新材料")) == [hubei["xiangyang"]]
    assert _listed(b.text("/inbox?tab=all&q=光谷")) == [hubei["guanggu"]]
    page = b.text("/inbox?tab=all&q=100%25")  # a wildcard is a character, not a pattern
    assert _listed(page) == [] and "没有符合条件的申报" in page


def test_a_column_header_sorts_by_it_then_the_other_way_keeping_the_filters(
        browser: Any, hubei: dict[str, int], frozen: Any) -> None:
    b = browser.login("hubei_reviewer")
    page = b.text("/inbox?tab=all&q=湖北")
    # by due date first: the recommended case is due later (the ministry's step)
    assert re.search(r'<th aria-sort="ascending"><a class="sort"[^>]*data-sort="due"', page)
    link = re.search(r'href="([^"]*)" data-sort="submitted"', page)
    assert link and "q=" in link.group(1) and "dir=asc" in link.group(1)
    by_submission = b.text(link.group(1).replace("&amp;", "&"))
    # 3 April (two cases, the earlier first), 5 April, 7 April
    assert _listed(by_submission) == [hubei["xiangyang"], hubei["enshi"], hubei["guanggu"],
                                      hubei["donghu"]]
    assert 'aria-sort="ascending"><a class="sort"' in by_submission
    back = re.search(r'href="([^"]*)" data-sort="submitted"', by_submission)
    assert back and "dir=desc" in back.group(1)
    newest_first = b.text(back.group(1).replace("&amp;", "&"))
    assert _listed(newest_first) == list(reversed(_listed(by_submission)))
    assert 'aria-sort="descending"' in newest_first
    # the filter form keeps the order when the search changes
    assert '<input type="hidden" name="sort" value="submitted">' in newest_first
    names = _listed(b.text("/inbox?tab=all&q=湖北&sort=applicant&dir=asc"))
    assert names == sorted(hubei.values(), key=lambda i: {
        hubei["guanggu"]: "武汉光谷光电子信息产业集群", hubei["xiangyang"]: "襄阳汽车零部件出口基地",
        hubei["donghu"]: "东湖软件出口基地", hubei["enshi"]: "恩施富硒医药基地"}[i])
    by_state = _listed(b.text("/inbox?tab=all&sort=state&dir=desc"))
    assert by_state[0] == hubei["enshi"]  # recommended comes after submitted in the process


@pytest.mark.parametrize("sort", ["due", "applicant", "state", "submitted"])
@pytest.mark.parametrize("descending", [False, True])
def test_paging_through_a_sorted_inbox_shows_every_case_once_in_order(
        world: factories.World, hubei: dict[str, int], frozen: Any, sort: str,
        descending: bool) -> None:
    reviewer = world.id("hubei_reviewer")
    whole = cases.list_applications(world.uow(), reviewer, sort=sort, descending=descending)
    seen: list[int] = []
    cursor = None
    while True:
        page = cases.list_applications(world.uow(), reviewer, limit=1, cursor=cursor,
                                       sort=sort, descending=descending)
        seen += [r.id for r in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [r.id for r in whole.items] and sorted(seen) == sorted(hubei.values())


def test_a_cursor_from_another_order_is_refused_and_the_first_page_shown(
        browser: Any, hubei: dict[str, int], frozen: Any) -> None:
    page = browser.login("hubei_reviewer").text(
        "/inbox?tab=all&sort=submitted&cursor=not-a-date_3")
    assert "分页参数无效" in page and len(_listed(page)) == 4
