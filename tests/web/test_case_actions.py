"""The case page's actions: what may be done now, and what may not yet, with why."""

from __future__ import annotations

import re

from tests import factories
from workflow.services import cases


def _refused(page: str) -> dict[str, str]:
    """trigger -> the reason shown next to its disabled button."""
    return {t: re.sub(r"<[^>]+>", "", why).strip() for t, why in re.findall(
        r'<li data-refused="(\w+)">.*?<span class="why"[^>]*>(.*?)</span>', page, re.S)}


def test_recommend_is_shown_disabled_with_the_missing_letter_as_the_reason(browser, world,
                                                                         frozen):
    app_id = factories.submitted(world)
    page = browser.login("hubei_reviewer").text(f"/cases/{app_id}")
    assert "暂不能办理的操作" in page
    assert _refused(page) == {"recommend": "缺少附件：推荐文件"}
    assert re.search(r'data-refused="recommend"><button[^>]*disabled[^>]*>推荐至商务部</button>',
                     page)
    actions = set(re.findall(r'class="action-form" data-trigger="(\w+)"', page))
    assert actions == {"return_for_revision", "decline"}


def test_the_refusal_reads_in_english_for_english_users(browser, world, frozen):
    app_id = factories.submitted(world)
    page = browser.login("hubei_reviewer", lang="en").text(f"/cases/{app_id}")
    assert "Not possible now" in page
    assert "Recommend to the ministry" in page
    assert _refused(page)["recommend"] == "missing attachment(s): recommendation letter"


def test_approval_before_the_notice_ends_is_disabled_with_the_day_it_may_be_approved(browser, world, frozen):
    app_id = factories.published(world)  # notice 2006-04-28 – 2006-05-10; today 2006-04-21
    page = browser.login("mofcom2").text(f"/cases/{app_id}")
    refused = _refused(page)
    # the first day it may be approved, not only the notice's last
    assert refused["approve"] == "公示期尚未结束（截至 2006-05-10），2006-05-11 起方可核准"
    assert refused["uphold_objection"] == "没有待处理的异议"
    assert 'class="action-form" data-trigger="reject"' in page


def test_actions_of_other_roles_are_not_listed_at_all(browser, world, frozen):
    app_id = factories.submitted(world)
    page = browser.login("hubei_applicant").text(f"/cases/{app_id}")
    assert 'class="action-form" data-trigger="withdraw"' in page
    assert "data-refused=" not in page and "推荐至商务部</button>" not in page


def test_load_returns_the_refusals_alongside_the_triggers_one_may_fire(world, frozen):
    app_id = factories.submitted(world)
    loaded = cases.load(world.uow(), world.id("hubei_reviewer"), app_id)
    assert loaded.triggers == ["return_for_revision", "decline"]
    assert {t: [r.code for r in rs] for t, rs in loaded.refused.items()} == {
        "recommend": ["missing_attachment"]}
