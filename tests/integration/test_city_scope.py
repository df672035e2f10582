"""Scope follows the tree of authorities (through the API, on SQLite and PostgreSQL): a city
bureau's accounts see their city's cases only, the province sees and decides its cities'
cases, a city's new base counts against its province's quota while the thresholds follow
the city's own region, and the province's reviewers get the reminders and webhooks of
their cities' cases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from config import Settings
from tests import factories
from tests.integration.test_reminder_scan import BASE, at
from tests.integration.test_webhooks import Receiver, loopback_app, register, run, serving
from workflow.services import reminders
from workflow.storage.models import OutboxRow


def listed(api: Any, user: str, query: str = "") -> set[str]:
    r = api.as_(user).get(f"/api/v1/applications?limit=200{query}")
    assert r.status_code == 200, r.get_data(as_text=True)
    return {a["applicant_name"] for a in r.get_json()["items"]}


def test_a_city_applicant_of_hubei_cannot_see_another_hubei_citys_drafts(
        api: Any, world: factories.World) -> None:
    wuhan = factories.draft(world, "wuhan_applicant", applicant_name="武汉光谷草稿")
    xiangyang = factories.draft(world, "xiangyang_applicant", applicant_name="襄阳汽车草稿")
    factories.draft(world, "hubei_applicant", applicant_name="湖北省级龙头企业草稿")
    assert listed(api, "wuhan_applicant") == {"武汉光谷草稿"}
    assert listed(api, "xiangyang_applicant") == {"襄阳汽车草稿"}
    assert listed(api, "hubei_applicant") == {"湖北省级龙头企业草稿"}
    me = api.as_("wuhan_applicant")
    for url in (f"/api/v1/applications/{xiangyang}", f"/api/v1/applications/{xiangyang}/history",
                f"/api/v1/applications/{xiangyang}/attachments"):
        assert me.get(url).status_code == 404, url
    changed = me.patch(f"/api/v1/applications/{xiangyang}",
                       json={"version": 1, "applicant_name": "改名"})
    assert changed.status_code == 404
    detail = me.get(f"/api/v1/applications/{wuhan}").get_json()
    assert (detail["authority"], detail["province"]) == ("420100", "420000")
    # nor does the province see a draft before it is submitted to it
    assert listed(api, "hubei_reviewer") == set()


def test_a_city_bureaus_second_account_sees_and_submits_the_citys_draft(
        api: Any, world: factories.World) -> None:
    app_id = factories.draft(world, "wuhan_applicant", applicant_name="武汉光谷")
    factories.attach_required(world, app_id, "wuhan_applicant")
    colleague = api.as_("wuhan_applicant2")
    assert listed(api, "wuhan_applicant2") == {"武汉光谷"}
    r = colleague.post(f"/api/v1/applications/{app_id}/transitions",
                       json={"trigger": "submit", "version": 1})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json()["state"] == "provincially_reviewed"


def test_the_province_sees_and_decides_its_cities_cases_and_filters_by_city(
        api: Any, world: factories.World) -> None:
    factories.submitted(world, "wuhan_applicant", applicant_name="武汉光谷")
    factories.submitted(world, "hubei_applicant", applicant_name="湖北省级龙头企业")
    factories.submitted(world, "guangzhou_applicant", applicant_name="广州基地")
    assert listed(api, "hubei_reviewer") == {"武汉光谷", "湖北省级龙头企业"}
    assert listed(api, "hubei_reviewer", "&authority=420100") == {"武汉光谷"}
    assert listed(api, "mofcom", "&authority=420000") == {"武汉光谷", "湖北省级龙头企业"}
    assert listed(api, "hunan_reviewer") == set()
    assert listed(api, "guangdong_reviewer") == {"广州基地"}


def test_a_citys_new_base_counts_against_its_provinces_quota(
        api: Any, world: factories.World) -> None:
    factories.recommended(world, "wuhan_applicant", applicant_name="武汉光谷")
    second = factories.submitted(world, "xiangyang_applicant", applicant_name="襄阳汽车")
    factories.files.attach(world.uow(), world.id("hubei_reviewer"), second,
                           "recommendation_letter", "letter.pdf", factories.PDF,
                           world.upload_dir, 10 << 20, now=factories.T0)
    r = api.as_("hubei_reviewer").post(f"/api/v1/applications/{second}/transitions",
                                       json={"trigger": "recommend", "version": 2})
    body = r.get_json()
    assert (r.status_code, body["code"]) == (422, "quota_exceeded"), body
    assert body["errors"][0]["details"] == {"quota": 1, "used": 1}  # Hubei: central, 1


def test_a_western_prefecture_meets_the_western_threshold_its_province_would_not(
        api: Any, world: factories.World) -> None:
    figures = {"hightech_exports_100m_usd": "0.12"}  # US$12M
    enshi = factories.submitted(world, "enshi_applicant", applicant_name="恩施富硒", **figures)
    xiangyang = factories.submitted(world, "xiangyang_applicant", applicant_name="襄阳",
                                    **figures)

    def threshold(app_id: int) -> dict[str, Any]:
        verdicts = api.as_("hubei_reviewer").get(
            f"/api/v1/applications/{app_id}/eligibility").get_json()
        return next(v for v in verdicts if v["criterion"] == "hightech_exports_threshold")

    west, central = threshold(enshi), threshold(xiangyang)
    # the threshold half of 002 §六(二)(2); the rank half waits on the province's statement
    assert (west["figures"]["threshold_outcome"], west["figures"]["region"],
            west["figures"]["threshold_musd"]) == ("pass", "west", "10")
    assert west["outcome"] == "pending"
    assert (central["outcome"], central["figures"]["threshold_musd"]) == ("fail", "50")


def test_reminders_of_a_citys_case_reach_its_provinces_reviewers(
        world: factories.World) -> None:
    factories.submitted(world, "wuhan_applicant", applicant_name="武汉光谷")
    reminders.scan(world.uow(), at(date(2006, 4, 18)), base_url=BASE)  # 10 working days left
    with world.uow() as u:
        sent = list(u.session.scalars(select(OutboxRow)))
    who = {v: k for k, v in world.ids.items()}
    assert {(who[r.recipient_id], r.kind) for r in sent} == {
        ("hubei_reviewer", "provincial_review"), ("hubei_reviewer2", "provincial_review")}
    inbox = reminders.notifications(world.uow(), world.id("hubei_reviewer"))
    assert inbox.unread == 1 and "武汉光谷" in inbox.items[0].title


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving() as rec:
        yield rec


def test_the_provinces_webhook_hears_of_its_cities_cases(
        settings: Settings, world: factories.World, receiver: Receiver) -> None:
    app = loopback_app(settings)  # the receiver listens on loopback: allowed here
    runs_with: Settings = app.config["SETTINGS"]
    register(factories.ApiClient(app.test_client()), "hubei_reviewer", receiver.url)
    wuhan = factories.submitted(world, "wuhan_applicant")
    factories.submitted(world, "guangzhou_applicant")  # another province's city
    assert run(world, runs_with).delivered == 1
    [sent] = receiver.bodies()
    assert (sent["application_id"], sent["authority_code"], sent["province_code"]) == (
        wuhan, "420100", "420000")


def test_the_public_notice_names_the_recommending_province_of_a_citys_base(
        client: Any, world: factories.World) -> None:
    app_id = factories.published(world, "enshi_applicant", applicant_name="恩施富硒基地")
    r = client.get(f"/api/v1/notices/{app_id}")  # the public: no token
    assert r.status_code == 200, r.get_data(as_text=True)
    shown = r.get_json()
    # 002 §六(三): the province recommends; the region is the one its criteria used
    assert (shown["authority_zh"], shown["authority_en"], shown["region"]) == (
        "湖北省", "Hubei", "west")


def has_bases_read(world: factories.World, applicant: str) -> bool:
    """Whether the case loader finds the register holding a base of the province of a new
    draft of `applicant` (what the quota guard reads, 002 §六(三))."""
    from workflow.services import cases

    app_id = factories.draft(world, applicant)
    return cases.load(world.uow(), world.id(applicant), app_id).case.authority_has_bases


def test_a_citys_national_base_counts_for_its_province_and_the_province_reads_it(
        world: factories.World) -> None:
    """Hunan has no base of its own; once the register holds one under a Hunan city, the
    province 'has bases' (002 §六(三)) and its reviewers read that entry in the register."""
    from workflow.services import bases
    from workflow.storage import register_repo
    from workflow.storage.models import AuthorityRow, ExportBaseRow

    with world.uow() as u:
        s = u.session
        hunan = s.query(AuthorityRow).filter_by(code="430000").one()
        assert not register_repo.authority_has_bases(s, hunan.id)
        city = AuthorityRow(code="430200", name_zh="株洲市", name_en="Zhuzhou", region="central",
                            kind="prefecture_city", parent_id=hunan.id)
        s.add(city)
        s.flush()
        s.add(ExportBaseRow(authority_id=city.id, name="株洲国家高新技术产品出口基地",
                            base_type="hightech", designation_document="外经贸技发[2002]1号",
                            designated_on=date(2002, 7, 1), status="designated",
                            status_since=date(2002, 7, 1)))
        u.commit()
        hunan_id = hunan.id
    with world.uow() as u:
        assert register_repo.authority_has_bases(u.session, hunan_id)
        assert hunan_id in register_repo.authorities_with_bases(u.session)
    read = [e.row.name for e in bases.listing(world.uow(), world.id("hunan_reviewer"))]
    assert read == ["株洲国家高新技术产品出口基地"]
    # the case's loader says the same of each case's province: Hunan's case now counts
    # against a province with bases, Yunnan's (no base, none in its cities) still does not
    assert has_bases_read(world, "hunan_applicant") is True
    assert has_bases_read(world, "yunnan_applicant") is False
    assert bases.listing(world.uow(), world.id("hubei_reviewer"), authority="430200") == []
