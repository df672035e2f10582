"""A province runs its own designation programme on the same engine: Guangdong's export
base enterprises for mechanical and electrical products (seed 004 (七);
programmes/guangdong-2006-59.toml). Its owner — the provincial department, not the
ministry — plans and opens its round through the API; a city's commerce bureau applies for
an enterprise with the programme's own form (stored as one document, published as JSON
Schema in the OpenAPI document); the province decides with the programme's own criteria;
the ministry has no step in it. SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from tests import factories
from tests.smtp_sink import SmtpServer
from workflow.calendar import WorkCalendar
from workflow.errors import DomainError
from workflow.services import cases, clock, mail, reminders
from workflow.storage.models import ApplicationRow, RoundRow, UserRow

GD = "guangdong-2006-59"
ENTERPRISE = {
    "programme": GD, "round_year": 2007, "kind": "enterprise",
    "applicant_name": "广州珠江机电出口有限公司", "credit_code": "91440100MA59XXXX1",
    "contact_person": "陈经理", "contact_phone": "020-83331234",
    "main_products": "家用电器、电机", "exports_10k_usd": "8600", "me_exports_10k_usd": "7200",
    "own_brand_exports_10k_usd": "2100", "own_brand_share_pct": "29.17%", "iso9000": True,
    "iso14000": "true", "export_credit_grade": "AA", "rd_centre": True,
}


@pytest.fixture
def gd_round(api: Any, world: factories.World) -> Iterator[int]:
    clock.freeze(datetime(2007, 3, 1, 2, tzinfo=UTC))
    try:
        body = {"year": 2007, "submission_deadline": "2007-04-30",
                "approval_deadline": "2007-06-29"}
        # the ministry does not keep a province's programme, nor does another province
        for outsider in ("mofcom", "hubei_reviewer"):
            r = api.as_(outsider).post(f"/api/v1/programmes/{GD}/rounds", json=body)
            assert r.status_code == 403, r.get_json()
            assert r.get_json()["errors"][0]["code"] == "round_owner_only"
        r = api.as_("guangdong_reviewer").post(f"/api/v1/programmes/{GD}/rounds", json=body)
        assert r.status_code == 201, r.get_json()
        assert r.get_json()["programme"] == GD and r.get_json()["status"] == "planned"
        r = api.as_("guangdong_reviewer").post(f"/api/v1/programmes/{GD}/rounds/2007/open")
        assert r.status_code == 200, r.get_json()
        assert len(r.get_json()["programme_hash"]) == 64
        # notice 002's 2007 round is another round of the same year
        r = api.as_("mofcom").post("/api/v1/rounds", json=body)
        assert r.status_code == 201, r.get_json()
        yield 2007
    finally:
        clock.freeze(None)


def test_an_enterprise_is_submitted_only_with_the_papers_its_programme_asks_for(
        api: Any, client: Any, world: factories.World, gd_round: int) -> None:
    city = api.as_("guangzhou_applicant")
    app = city.post("/api/v1/applications", json=ENTERPRISE).get_json()
    app_id = app["id"]
    # the programme's kinds, not notice 002's
    r = factories.upload(city, app_id, "development_plan")
    assert r.status_code == 422, r.get_json()
    assert r.get_json()["errors"][0]["code"] == "invalid_choice"
    assert r.get_json()["errors"][0]["field"] == "kind"
    assert factories.upload(city, app_id, "business_licence", "营业执照.pdf").status_code == 201

    r = city.post(f"/api/v1/applications/{app_id}/transitions",
                  json={"trigger": "submit", "version": app["version"]})
    assert r.status_code == 422, r.get_json()
    error = r.get_json()["errors"][0]
    assert error["code"] == "missing_attachment"
    assert error["details"]["attachments"] == ["city_recommendation_letter"]
    assert "城市商务局推荐函" in error["message_zh"] and "营业执照" not in error["message_zh"]
    assert city.get(f"/api/v1/applications/{app_id}").get_json()["state"] == "drafted"

    # the draft's page offers the programme's kinds, in its words
    factories.login(client, "guangzhou_applicant")
    page = client.get(f"/applications/{app_id}/edit").get_data(as_text=True)
    assert "城市商务局推荐函" in page and "ISO9000／ISO14000认证证书" in page
    assert "发展方案" not in page

    assert factories.upload(city, app_id, "city_recommendation_letter", "推荐函.pdf").status_code == 201
    r = city.post(f"/api/v1/applications/{app_id}/transitions",
                  json={"trigger": "submit", "version": app["version"]})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["state"] == "provincially_reviewed"
    # the definition is published with its papers
    detail = api.as_("guangdong_reviewer").get(f"/api/v1/programmes/{GD}").get_json()
    assert {a["kind"]: a["required_for"] for a in detail["attachments"]}[
        "business_licence"] == ["submit"]


def test_the_provinces_own_programme_runs_from_draft_to_designation(
        api: Any, client: Any, world: factories.World, gd_round: int) -> None:
    city = api.as_("guangzhou_applicant")
    r = city.post("/api/v1/applications", json=ENTERPRISE)
    assert r.status_code == 201, r.get_json()
    app = r.get_json()
    app_id = app["id"]
    assert app["programme"] == GD and app["kind"] == "enterprise"
    # its own form's values, typed: "29.17%" taken as 29.17, "true" as yes
    assert app["own_brand_share_pct"] == "29.17" and app["iso14000"] is True
    assert app["export_credit_grade"] == "AA"

    # the programme's own papers, then its own state names and actions; the ministry has no
    # step in it
    for kind in ("business_licence", "city_recommendation_letter"):
        factories.upload(city, app_id, kind)
    app = city.get(f"/api/v1/applications/{app_id}").get_json()
    r = city.post(f"/api/v1/applications/{app_id}/transitions",
                  json={"trigger": "submit", "version": app["version"]})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["state"] == "provincially_reviewed"
    ministry = api.as_("mofcom").get("/api/v1/applications?waiting_on_me=true&programme=" + GD)
    assert ministry.get_json()["items"] == []
    mine = api.as_("guangdong_reviewer").get(
        "/api/v1/applications?waiting_on_me=true&programme=" + GD).get_json()["items"]
    assert [c["id"] for c in mine] == [app_id]
    detail = api.as_("guangdong_reviewer").get(f"/api/v1/applications/{app_id}").get_json()
    assert "designate_enterprise" in detail["available_triggers"]
    assert "recommend" not in detail["available_triggers"]

    # the programme's criteria, with the figures behind them
    verdicts = {v["criterion"]: v for v in api.as_("guangdong_reviewer").get(
        f"/api/v1/applications/{app_id}/eligibility").get_json()}
    assert verdicts["me_exports_minimum"]["outcome"] == "pass"
    assert verdicts["export_credit"]["outcome"] == "pass"
    assert verdicts["city_recommendation"]["outcome"] == "pending"
    assert verdicts["own_brand_share"]["source"].startswith("004")

    # the city's recommendation, confirmed on the case page: the programme's attestation
    factories.login(client, "guangdong_reviewer")
    r = client.post(f"/cases/{app_id}/attestations",
                    data={"version": detail["version"], "att-city_recommendation": "yes"})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    verdicts = {v["criterion"]: v["outcome"] for v in api.as_("guangdong_reviewer").get(
        f"/api/v1/applications/{app_id}/eligibility").get_json()}
    assert verdicts["city_recommendation"] == "pass"
    detail = api.as_("guangdong_reviewer").get(f"/api/v1/applications/{app_id}").get_json()

    r = api.as_("guangdong_reviewer").post(
        f"/api/v1/applications/{app_id}/transitions",
        json={"trigger": "designate_enterprise", "version": detail["version"]})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["state"] == "enterprise_designated"

    # the case page speaks the programme's words
    factories.login(client, "guangdong_reviewer")
    page = client.get(f"/cases/{app_id}").get_data(as_text=True)
    assert "已认定为出口基地企业" in page and "自主品牌出口占比" in page
    assert "撤销认定" in page  # the one action left, from the file
    # and its footer cites the province's document, not notice 002
    footer = page.split('data-testid="citation">')[1].split("</span>")[0]
    assert "粤府办〔2006〕59号" in footer and "商技发" not in footer
    # its 申报书 prints from its own form, and cites its own document, none of 002's
    r = client.get(f"/applications/{app_id}/print")
    assert r.status_code == 200
    printed = r.get_data(as_text=True)
    assert "广东省机电产品出口基地企业" in printed and "粤府办〔2006〕59号" in printed
    assert "自主品牌出口占比（%）" in printed and "AA" in printed and "品牌、认证与研发" in printed
    assert 'data-testid="papers-rule"' not in printed and "城市商务局推荐函" in printed
    main = printed.split("<main")[1].split("</main>")[0]
    assert "商技发" not in main and "出口创新基地申报书" not in main

    # the dashboard counts the programme chosen: notice 002's by default, Guangdong's own
    # with its own states and designations, and no goal of 002's
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="dashboard-programme"' in page and 'data-testid="goal-bases"' in page
    page = client.get(f"/dashboard?programme={GD}").get_data(as_text=True)
    assert 'data-testid="goal-bases"' not in page and 'data-testid="goal-share"' not in page
    counted = page.split('data-testid="designated-count"')[1].split("</div>")[0]
    assert "<strong>1</strong>" in counted and "已认定为出口基地企业" in counted
    sheet = client.get(f"/dashboard.xlsx?programme={GD}")
    goals_sheet = load_workbook(io.BytesIO(sheet.data), read_only=True)["工作目标"]
    cells = {r[0]: r[1] for r in goals_sheet.iter_rows(values_only=True) if len(r) > 1}
    assert cells["专项"] == "广东省机电产品出口基地企业" and cells["已认定基地（家）"] == 1
    # another province's reviewer is not shown Guangdong's programme: 002's instead
    factories.login(client, "hubei_reviewer")
    page = client.get(f"/dashboard?programme={GD}").get_data(as_text=True)
    assert 'data-testid="goal-bases"' in page and f'value="{GD}"' not in page
    factories.login(client, "guangdong_reviewer")

    # the pages that count cases take the province's own programme in their stride: the
    # programme report stays notice 002's; the inbox filters by its states
    for url in ("/dashboard", "/reports/programme", "/inbox?tab=all&state=enterprise_designated",
                f"/inbox?tab=all&programme={GD}", "/rounds"):
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code)
    listed = client.get("/inbox?tab=all&state=enterprise_designated").get_data(as_text=True)
    assert "广州珠江机电出口有限公司" in listed
    factories.login(client, "mofcom")
    for url in ("/dashboard", "/reports/programme", "/inbox"):
        assert client.get(url).status_code == 200, url
    factories.login(client, "guangdong_reviewer")

    # its Excel list has the programme's own columns
    sheet = client.get(f"/exports/applications.xlsx?tab=all&programme={GD}")
    assert sheet.status_code == 200
    ws = load_workbook(io.BytesIO(sheet.data), read_only=True).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    header = rows[0]
    assert "自主品牌出口占比（%）" in header and "高新技术产品出口额（亿美元）" not in header
    assert [r[header.index("企业名称")] for r in rows[1:]] == ["广州珠江机电出口有限公司"]
    assert rows[1][header.index("出口信用等级")] == "AA"


def test_the_programmes_form_refuses_bad_figures_in_one_round(
        api: Any, world: factories.World, gd_round: int) -> None:
    bad = {**ENTERPRISE, "me_exports_10k_usd": "9000", "export_credit_grade": "AAAA",
           "iso9000": "maybe"}
    r = api.as_("guangzhou_applicant").post("/api/v1/applications", json=bad)
    assert r.status_code == 422
    fields = {e.get("field"): e["code"] for e in r.get_json()["errors"]}
    assert fields == {"export_credit_grade": "not_a_choice", "iso9000": "not_yes_no"}
    # figures across fields once each is well-formed: M&E exports above all exports
    r = api.as_("guangzhou_applicant").post("/api/v1/applications",
                                            json={**ENTERPRISE, "me_exports_10k_usd": "9000"})
    assert r.status_code == 422
    assert [(e["field"], e["code"]) for e in r.get_json()["errors"]] == [
        ("me_exports_10k_usd", "inconsistent_figures")]
    listed = api.as_("guangzhou_applicant").get("/api/v1/applications").get_json()
    assert listed["items"] == []  # nothing was stored


def test_only_the_provinces_cities_apply_and_the_api_publishes_the_form(
        api: Any, world: factories.World, gd_round: int) -> None:
    r = api.as_("wuhan_applicant").post("/api/v1/applications", json=ENTERPRISE)
    assert r.status_code == 403
    assert r.get_json()["errors"][0]["code"] == "programme_not_open_to_you"
    listed = {p["code"]: p for p in api.as_("mofcom").get("/api/v1/programmes").get_json()}
    assert set(listed) >= {"mofcom-2006-6", GD}
    assert listed[GD]["owner"] == "provincial_reviewer" and listed[GD]["authority"] == "440000"
    one = api.as_("wuhan_applicant").get(f"/api/v1/programmes/{GD}").get_json()
    assert "enterprise_designated" in {s["key"] for s in one["states"]}
    assert "designate_enterprise" in one["diagram_mermaid"] or "认定为出口基地企业" in \
        one["diagram_mermaid"]
    spec = api.client.get("/api/v1/openapi.json").get_json()
    form = spec["components"]["schemas"][f"Form.{GD}"]
    assert form["properties"]["export_credit_grade"]["enum"] == ["AAA", "AA", "A", "B", "none"]
    assert form["properties"]["iso9000"]["type"] == "boolean"
    assert "hightech_exports_100m_usd" in \
        spec["components"]["schemas"]["Form.mofcom-2006-6"]["properties"]
    assert api.as_("mofcom").get("/api/v1/programmes/no-such").status_code == 404


def test_a_guangdong_case_is_reminded_in_the_provinces_words_not_notice_002s(
        api: Any, world: factories.World, gd_round: int, smtp: SmtpServer,
        tmp_path: Path) -> None:
    city = api.as_("guangzhou_applicant")
    city.post("/api/v1/applications", json=ENTERPRISE)  # a draft with the city's bureau
    sent = city.post("/api/v1/applications",
                     json={**ENTERPRISE, "applicant_name": "广州南沙电机出口有限公司"}).get_json()
    for kind in ("business_licence", "city_recommendation_letter"):
        factories.upload(city, sent["id"], kind)
    r = city.post(f"/api/v1/applications/{sent['id']}/transitions",
                  json={"trigger": "submit", "version": sent["version"]})
    assert r.status_code == 200, r.get_json()
    with world.uow() as u:  # the province's second reviewer reads English
        u.session.execute(update(UserRow).where(UserRow.username == "guangdong_reviewer2")
                          .values(locale="en"))
        u.commit()
    # five working days before the round's submission deadline, then before its approval one
    settings = smtp.settings(tmp_path, base_url="https://eib.example.gov.cn")
    cal = WorkCalendar()
    for deadline in (date(2007, 4, 30), date(2007, 6, 29)):
        day = cal.working_days_before(deadline, 5)
        reminders.scan(world.uow(), datetime.combine(day, time(9), clock.CHINA),
                       base_url=settings.base_url)
    # the draft reminded to the city in April and, overdue in June, escalated to the
    # province (it has no head: its reviewers); the case with the province reminded to them
    assert mail.send_due(world.uow(), settings=settings).sent == 5
    mails = sorted((str(m["To"]).split("@")[0], str(m["Subject"]), m.get_content())
                    for m in smtp.sink.messages)
    assert [to for to, _s, _b in mails] == ["guangdong_reviewer", "guangdong_reviewer",
                                            "guangdong_reviewer2", "guangdong_reviewer2",
                                            "guangzhou_applicant"]
    (draft,) = [m for m in mails if m[0] == "guangzhou_applicant"]
    assert "【提醒】广州珠江机电出口有限公司：企业申请尚未报送省商务厅" in draft[1]
    assert "请在截止日期前将企业申请及推荐函报送省商务厅。" in draft[2]
    assert "截止日期：2007年4月30日" in draft[2]
    review, escalated = sorted((m for m in mails if m[0] == "guangdong_reviewer"),
                               key=lambda m: "督办" in m[1])
    assert "企业申请待省商务厅认定" in review[1] and "截止日期：2007年6月29日" in review[2]
    assert "作出是否认定为出口基地企业的决定" in review[2]
    assert escalated[1].startswith("【督办】广州珠江机电出口有限公司：企业申请尚未报送省商务厅")
    english = " ".join(f"{m[1]} {m[2]}" for m in mails if m[0] == "guangdong_reviewer2")
    assert "enterprise's application awaiting the province's decision" in english
    assert "decide whether to designate the enterprise" in english
    assert "enterprise's application not yet sent to the provincial department" in english
    # none of notice 002's wording: no ministry step, no recommendation to the ministry
    for _to, subject, body in mails:
        text = f"{subject}\n{body}"
        assert "商务部" not in text and "申报书尚未提交" not in text
        assert "申报待省级审核推荐" not in text and "recommendation" not in text
        assert "https://eib.example.gov.cn/cases/" in text


def test_reminders_are_replanned_and_read_per_programme(
        api: Any, client: Any, world: factories.World, gd_round: int) -> None:
    city = api.as_("guangzhou_applicant")
    gd_case = city.post("/api/v1/applications", json=ENTERPRISE).get_json()["id"]
    hubei = cases.create_draft(world.uow(), world.id("hubei_applicant"),  # notice 002's
                               factories.form_data(), now=datetime(2006, 3, 1, 2, tzinfo=UTC))
    with world.uow() as u:  # both planned far ahead
        u.session.execute(update(ApplicationRow).values(next_reminder_on=date(2007, 12, 1)))
        u.commit()
    # Guangdong's round of 2007, not notice 002's of the same year
    assert reminders.replan(world.uow(), 2007, code=GD) == 1
    with world.uow() as u:
        planned = dict(u.session.execute(select(ApplicationRow.id,
                                                ApplicationRow.next_reminder_on)).all())
    assert planned[gd_case] == date(2007, 3, 1) and planned[hubei] == date(2007, 12, 1)
    with pytest.raises(DomainError) as err:
        reminders.replan(world.uow(), code="no-such-programme")
    assert err.value.first.code == "unknown_programme"
    # the province reads its notifications about one programme or all
    reminders.scan(world.uow(), datetime(2007, 4, 23, 1, tzinfo=UTC), base_url="http://x")
    factories.login(client, "guangzhou_applicant")
    whole = client.get("/notifications").get_data(as_text=True)
    assert "企业申请尚未报送省商务厅" in whole
    mine = client.get(f"/notifications?programme={GD}").get_data(as_text=True)
    assert 'data-testid="notifications-programme"' in mine and "企业申请尚未报送省商务厅" in mine
    other = client.get("/notifications?programme=mofcom-2006-6").get_data(as_text=True)
    assert "企业申请尚未报送省商务厅" not in other and "没有通知" in other


def test_a_round_the_province_plans_starts_from_its_own_file_not_notice_002s(
        api: Any, client: Any, world: factories.World) -> None:
    clock.freeze(datetime(2008, 3, 3, 2, tzinfo=UTC))
    try:
        # the province names only the year: its file's [rounds] gives the rest
        r = api.as_("guangdong_reviewer").post(f"/api/v1/programmes/{GD}/rounds",
                                               json={"year": 2008})
        assert r.status_code == 201, r.get_json()
        calendar = r.get_json()["calendar"]
        assert calendar["submission_deadline"] == "2008-06-30"
        assert calendar["approval_deadline"] == "2008-07-31"
        assert calendar["provincial_internal_deadline"] is None
        # notice 002's round of the same year keeps 002's dates (§六(三))
        r = api.as_("mofcom").post("/api/v1/rounds", json={"year": 2008})
        assert r.status_code == 201, r.get_json()
        assert r.get_json()["calendar"]["submission_deadline"] == "2008-04-30"
        # the province's planning page offers no industry fields of 002, and its change
        # of the notice period is kept without choosing any
        factories.login(client, "guangdong_reviewer")
        page = client.get("/rounds/new").get_data(as_text=True)
        assert 'name="new_base_fields"' not in page and f'value="{GD}"' in page
        r = client.post(f"/rounds/2008?programme={GD}",
                        data={"submission_deadline": "2008-06-20",
                              "approval_deadline": "2008-07-31", "notice_working_days": "5"})
        assert r.status_code == 303, r.get_data(as_text=True)[:500]
        with world.uow() as u:
            params = u.session.scalars(select(RoundRow.params).where(
                RoundRow.programme == GD, RoundRow.year == 2008)).one()
        assert params["submission_deadline"] == "2008-06-20" and params["new_base_fields"] == []
        # the ministry's form still asks for 002's fields
        client.post("/logout")
        factories.login(client, "mofcom")
        assert 'name="new_base_fields"' in client.get("/rounds/new").get_data(as_text=True)
    finally:
        clock.freeze(None)
