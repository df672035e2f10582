"""Designation (授牌) and the public register of bases (issue 16 item 12; 002 §六(三))."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests import factories
from workflow.services import cases


def _approve(world: Any, app_id: int, day: int, **kw: Any) -> None:
    cases.fire(world.uow(), world.id("mofcom2"), app_id, "approve", None,
               now=datetime(2006, 5, day, 2, tzinfo=UTC), **kw)


def test_approvals_of_a_round_on_one_day_share_one_numbered_decision_the_next_day_a_new_one(
        client: Any, world: Any) -> None:
    wuhan = factories.published(world)
    changsha = factories.published(world, "hunan_applicant", "hunan_reviewer",
                                   applicant_name="长沙高新技术产业开发区")
    chengdu = factories.published(world, "sichuan_applicant", "sichuan_reviewer",
                                  applicant_name="成都软件产业集群")
    _approve(world, wuhan, 15)
    _approve(world, changsha, 15)
    _approve(world, chengdu, 16)
    r = client.get("/api/v1/public/bases?type=innovation")
    assert r.status_code == 200  # no login
    listed = {b["name"]: b for b in r.get_json()}
    assert listed["武汉光谷光电子信息产业集群"]["designation_document"] == "商技函〔2006〕1号"
    assert listed["长沙高新技术产业开发区"]["designation_document"] == "商技函〔2006〕1号"
    assert listed["成都软件产业集群"]["designation_document"] == "商技函〔2006〕2号"
    assert listed["成都软件产业集群"]["designated_on"] == "2006-05-16"

    factories.login(client, "mofcom")
    from workflow.services import bases
    entry = bases.entry(world.uow(), world.id("mofcom"), bases.entry_id_of_case(world.uow(),
                                                                                wuhan))
    page = client.get(f"/bases-register/decisions/{entry.row.decision_id}/print")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "商技函〔2006〕1号" in html
    assert "武汉光谷光电子信息产业集群" in html and "长沙高新技术产业开发区" in html
    assert "成都软件产业集群" not in html
    assert "核准下列 2 家单位" in html
    base_page = client.get(f"/bases-register/{entry.row.id}").get_data(as_text=True)
    assert 'data-testid="decision-link"' in base_page


def test_a_document_number_typed_at_approval_names_the_decision(world: Any, client: Any) -> None:
    app_id = factories.published(world)
    _approve(world, app_id, 15, document="商技函[2006]45号")
    bases_listed = client.get("/api/v1/public/bases?type=innovation").get_json()
    assert [b["designation_document"] for b in bases_listed] == ["商技函[2006]45号"]


def test_the_public_register_lists_every_base_with_its_later_status_and_no_figures(
        client: Any, world: Any) -> None:
    app_id = factories.approved(world)
    cases.fire(world.uow(), world.id("mofcom"), app_id, "revoke", None,
               now=datetime(2007, 3, 1, 2, tzinfo=UTC), reason="复评不合格",
               document="商技函〔2007〕9号")
    listed = client.get("/api/v1/public/bases").get_json()
    assert len(listed) == len(factories.REGISTER) + 1  # the national bases and the new one
    revoked = next(b for b in listed if b["base_type"] == "innovation")
    assert (revoked["status"], revoked["status_since"], revoked["status_decision"],
            revoked["status_document"]) == ("revoked", "2007-03-01", "revoke", "商技函〔2007〕9号")
    assert not {"hightech_exports_100m_usd", "exports_100m_usd", "contact_person"} & set(revoked)
    html = client.get("/register").get_data(as_text=True)
    assert "出口基地名录" in html and "武汉光谷光电子信息产业集群" in html
    assert "已撤销" in html and "商技函〔2007〕9号" in html
    assert "8.6" not in html  # the applicant's figures stay out
    only = client.get("/register?status=revoked").get_data(as_text=True)
    assert only.count("data-base=") == 1
    bad = client.get("/api/v1/public/bases?status=closed")
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "status"


def test_the_public_register_reads_in_english_too(client: Any, world: Any) -> None:
    factories.approved(world)
    client.post("/lang/en")
    html = client.get("/register").get_data(as_text=True)
    assert "Register of bases" in html and "Export innovation base" in html


def test_the_public_notice_shows_names_not_figures_unless_the_round_says_so(
        client: Any, world: Any) -> None:
    from workflow.services import clock
    from workflow.storage.models import RoundRow

    app_id = factories.published(world)
    clock.freeze(datetime(2006, 5, 8, 2, tzinfo=UTC))
    try:
        html = client.get("/notice").get_data(as_text=True)
        assert "武汉光谷光电子信息产业集群" in html and "8.6" not in html
        assert "高新技术产品出口额（亿美元）" not in html
        one = client.get(f"/api/v1/notices/{app_id}").get_json()
        assert one["applicant_name"] == "武汉光谷光电子信息产业集群"
        assert one["hightech_exports_100m_usd"] is None and one["enterprise_count"] is None
        with world.uow() as u:
            rnd = u.session.query(RoundRow).filter_by(year=2006).one()
            rnd.params = {**rnd.params, "notice_shows_figures": True}
            u.commit()
        html = client.get(f"/notice/{app_id}").get_data(as_text=True)
        assert "高新技术产品出口额（亿美元）" in html and "8.6" in html
    finally:
        clock.freeze(None)
