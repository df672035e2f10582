"""Deputies: named for a date range; the deputy's inbox has the principal's cases and the
history says "X 代 Y"."""

from __future__ import annotations

import re


def test_a_deputy_sees_and_acts_on_the_principals_cases(browser, world, frozen):
    from tests import factories

    app_id = factories.submitted(world)
    b = browser.login("hubei_reviewer")
    page = b.text("/deputies")
    deputy_id = re.search(r'<option value="(\d+)"[^>]*>hubei_reviewer2<', page).group(1)
    assert "hunan_reviewer" not in page  # only colleagues of the same authority and role
    r = b.post("/deputies", data={"deputy_id": deputy_id, "starts_on": "2006-04-21",
                                  "ends_on": "2006-04-28"})
    assert r.status_code == 302
    # hubei_reviewer2 now acts for hubei_reviewer (the province's cases are theirs anyway);
    # a Hunan colleague can't be named and dates out of order are refused
    b.login("hubei_reviewer2")
    r = b.post(f"/cases/{app_id}/fire", data={"trigger": "return_for_revision", "version": "2",
                                              "reason": "请补充发展方案"})
    assert r.status_code == 302
    assert "生效中" in b.text("/deputies")


def test_history_reads_x_on_behalf_of_y_when_a_deputy_acted(browser, world, frozen):
    from tests import factories
    from workflow.storage.models import HistoryRow

    app_id = factories.submitted(world)
    with world.uow() as u:  # a step taken by a deputy, as cases.fire records it
        row = u.session.query(HistoryRow).filter_by(application_id=app_id).one()
        row.actor_name, row.on_behalf_of_name = "李副处长", "王处长"
        u.commit()
    page = browser.login("hubei_reviewer").text(f"/cases/{app_id}")
    assert "李副处长 代 王处长" in page
    page = browser.login("hubei_reviewer", lang="en").text(f"/cases/{app_id}")
    assert "李副处长 on behalf of 王处长" in page


def test_bad_deputy_periods_are_refused_next_to_the_field(browser, world, frozen):
    b = browser.login("hubei_reviewer")
    me = world.id("hubei_reviewer")
    hunan = world.id("hunan_reviewer")
    r = b.post("/deputies", data={"deputy_id": str(me), "starts_on": "2006-04-25",
                                  "ends_on": "2006-04-22"})
    # post/redirect/get: the page again, the dates as typed, the error beside its field
    assert r.status_code == 303 and r.headers["Location"].endswith("/deputies")
    page = b.text("/deputies")
    assert 'data-error-for="ends_on">结束日期不能早于开始日期' in page
    assert 'value="2006-04-25"' in page and 'value="2006-04-22"' in page
    assert "data-error-for" not in b.text("/deputies")  # shown once
    r = b.post("/deputies", data={"deputy_id": str(hunan), "starts_on": "2006-04-01",
                                  "ends_on": "2006-04-22"})
    page = b.text(r.headers["Location"])
    assert 'data-error-for="starts_on">开始日期不能早于今天' in page
    r = b.post("/deputies", data={"deputy_id": str(hunan), "starts_on": "2006-04-24",
                                  "ends_on": "2006-04-28"})
    assert 'data-error-for="deputy_id">代理人须是同一单位、同一角色的审核人员' in \
        b.text(r.headers["Location"])
