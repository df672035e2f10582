"""The ministry's objection desk: objections from the public notice are upheld or dismissed
with a reason; the objector's contact is for ministry eyes only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from tests import factories
from tests.factories import login
from workflow.services import clock, objections
from workflow.storage.models import ApplicationRow, HistoryRow, ObjectionRow

DURING_NOTICE = datetime(2006, 5, 8, 2, tzinfo=UTC)


@pytest.fixture
def objected(world: factories.World) -> tuple[int, str]:
    app_id = factories.published(world)
    number = objections.file_objection(world.uow(), app_id, "李华", "lihua@example.com",
                                       "出口额与海关数据不符", now=DURING_NOTICE)
    return app_id, number


def objection_id(world: factories.World) -> int:
    with world.uow() as u:
        return u.session.scalars(select(ObjectionRow.id)).one()


def test_ministry_sees_open_objections_with_the_objectors_contact(
        client: Any, world: factories.World, objected: tuple[int, str]) -> None:
    login(client, "mofcom")
    html = client.get("/objections").get_data(as_text=True)
    assert objected[1] in html and "出口额与海关数据不符" in html
    assert "lihua@example.com" in html and "武汉光谷光电子信息产业集群" in html


@pytest.mark.parametrize("username", ["hubei_reviewer", "hubei_applicant", "sysadmin"])
def test_nobody_but_the_ministry_sees_the_objection_desk(
        client: Any, world: factories.World, objected: tuple[int, str], username: str) -> None:
    login(client, username)
    r = client.get("/objections")
    assert r.status_code in (403, 302)  # admins are first sent to set up their second factor
    assert "lihua@example.com" not in r.get_data(as_text=True)


def test_the_public_notice_never_shows_the_objectors_contact(
        client: Any, world: factories.World, objected: tuple[int, str]) -> None:
    clock.freeze(DURING_NOTICE)
    try:
        html = client.get(f"/notice/{objected[0]}").get_data(as_text=True)
    finally:
        clock.freeze(None)
    assert "lihua@example.com" not in html and "李华" not in html


def test_upholding_an_objection_moves_the_case_to_objection_upheld_with_history(
        client: Any, world: factories.World, objected: tuple[int, str]) -> None:
    login(client, "mofcom")
    oid = objection_id(world)
    with world.uow() as u:
        version = u.session.get(ApplicationRow, objected[0]).version
    r = client.post(f"/objections/{oid}/uphold",
                    data={"reason": "经核实，出口数据有误", "version": version})
    assert r.status_code == 302
    with world.uow() as u:
        app = u.session.get(ApplicationRow, objected[0])
        assert app.state == "objection_upheld"
        last = u.session.scalars(select(HistoryRow).where(
            HistoryRow.application_id == objected[0]).order_by(HistoryRow.version.desc())).first()
        assert last.trigger == "uphold_objection" and last.reason == "经核实，出口数据有误"
        assert last.data["objection_id"] == oid
        assert u.session.get(ObjectionRow, oid).status == "upheld"
    page = client.get("/objections").get_data(as_text=True)
    assert "没有待处理的异议" in page


def test_a_decision_without_a_reason_is_refused_next_to_the_reason_field(
        client: Any, world: factories.World, objected: tuple[int, str]) -> None:
    login(client, "mofcom")
    oid = objection_id(world)
    for decision in ("uphold", "dismiss"):
        r = client.post(f"/objections/{oid}/{decision}", data={"reason": "  "})
        # post/redirect/get: the desk again, the refusal beside the reason field, once
        assert r.status_code == 303 and r.headers["Location"].endswith("/objections"), decision
        assert 'data-testid="error-reason"' in client.get("/objections").get_data(as_text=True)
        assert 'data-testid="error-reason"' not in client.get("/objections").get_data(
            as_text=True)
    with world.uow() as u:
        assert u.session.get(ObjectionRow, oid).status == "open"
        assert u.session.get(ApplicationRow, objected[0]).state == "publicly_shown"


def test_dismissing_keeps_the_case_under_notice(
        client: Any, world: factories.World, objected: tuple[int, str]) -> None:
    login(client, "mofcom")
    oid = objection_id(world)
    r = client.post(f"/objections/{oid}/dismiss", data={"reason": "异议缺乏依据"})
    assert r.status_code == 302
    with world.uow() as u:
        obj = u.session.get(ObjectionRow, oid)
        assert obj.status == "dismissed" and obj.resolution_reason == "异议缺乏依据"
        assert u.session.get(ApplicationRow, objected[0]).state == "publicly_shown"


def test_a_stale_version_says_the_case_changed_and_keeps_the_reason(
        client: Any, world: factories.World, objected: tuple[int, str]) -> None:
    login(client, "mofcom")
    oid = objection_id(world)
    r = client.post(f"/objections/{oid}/uphold", data={"reason": "我写的理由", "version": 1})
    assert r.status_code == 303
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "我写的理由" in html and "已被他人更新" in html


def test_a_dismissed_objection_stays_in_the_case_history_with_its_reason(
        client: Any, world: factories.World, objected: tuple[int, str]) -> None:
    app_id, number = objected
    oid = objection_id(world)
    objections.dismiss(world.uow(), world.id("mofcom"), oid, "异议缺乏依据，所述数据与海关一致",
                       now=datetime(2006, 5, 9, 2, tzinfo=UTC))
    for who in ("mofcom", "hubei_reviewer"):  # the ministry, and the province that recommended
        login(client, who)
        page = client.get(f"/cases/{app_id}").get_data(as_text=True)
        history = page.split('id="history"')[1].split("</section>")[0]
        assert f'data-objection="{number}" data-event="objection_filed"' in history
        assert f'data-objection="{number}" data-event="objection_dismissed"' in history
        assert "异议缺乏依据，所述数据与海关一致" in history
        assert "lihua@example.com" not in history and "李华" not in history
        # newest first: the decision above the objection, both above the notice
        assert history.index("objection_dismissed") < history.index("objection_filed") < \
            history.index('data-trigger="publish_notice"')
        client.post("/logout")


def test_whoever_filed_an_objection_looks_its_decision_up_by_number(
        client: Any, world: factories.World, objected: tuple[int, str]) -> None:
    app_id, number = objected
    page = client.get(f"/notice/objection-status?number={number}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-status="open"' in text and "正在核查" in text and "武汉光谷" in text
    objections.uphold(world.uow(), world.id("mofcom"), objection_id(world),
                      "经核查，异议所述出口数据重复计算属实", None,
                      now=datetime(2006, 5, 9, 2, tzinfo=UTC))
    text = client.get(f"/notice/objection-status?number={number.lower()}").get_data(as_text=True)
    assert 'data-status="upheld"' in text and "经核查，异议所述出口数据重复计算属实" in text
    assert "lihua@example.com" not in text and "李华" not in text
    assert client.get("/notice/objection-status?number=YY20060508999999").status_code == 404
    bad = client.get("/notice/objection-status?number=12345")
    assert bad.status_code == 422 and 'data-error-for="number"' in bad.get_data(as_text=True)
    assert 'value="12345"' in bad.get_data(as_text=True)  # what was typed, kept
