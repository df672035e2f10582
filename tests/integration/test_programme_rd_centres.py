"""A programme written by following docs/programmes.md alone runs as the docs say: Guangdong's
enterprise engineering R&D centres (seed 003 二(二) 2: 着力扶持50家…工程技术研究开发中心;
tests/programmes/guangdong-2000-65.toml). The province, its owner, plans and opens a round
through `POST /api/v1/programmes/{code}/rounds`; a city's commerce bureau drafts an
enterprise's application as the file's one kind on the programme's own form, adds the papers
the file asks for and submits it from the draft's page; the province decides with the file's
criteria, and its decision is in the history. SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from openpyxl import load_workbook

from tests import factories
from tests.definitions import registered
from workflow.services import clock

CODE = "guangdong-2000-65"
CENTRE = {  # the city's bureau's answers on the programme's own form, as its page posts them
    "kind": "rd_centre", "applicant_name": "广州南方电子集团有限公司",
    "enterprise_type": "enterprise_group", "key_enterprise": "true",
    "industry": "electronic_information", "contact_person": "李工",
    "contact_phone": "020-83335678", "centre_name": "南方电子工程技术研究开发中心",
    "rd_staff": "120", "products_in_production": "数字程控交换机", "own_ip": "true",
    "exports_10k_usd": "5200", "hightech_exports_10k_usd": "3100",
}
NEW = f"/applications/new?programme={CODE}"  # the new-application page, this programme chosen
PAPERS = ("rd_centre_plan", "city_recommendation_letter")  # the file's papers to submit


@pytest.fixture
def rd_round(api: Any, world: factories.World) -> Iterator[int]:
    with registered(CODE):  # what start-up does with a file under programmes/
        clock.freeze(datetime(2001, 3, 1, 2, tzinfo=UTC))
        try:
            # the ministry does not keep the province's list; the province does
            r = api.as_("mofcom").post(f"/api/v1/programmes/{CODE}/rounds", json={"year": 2001})
            assert r.status_code == 403, r.get_json()
            province = api.as_("guangdong_reviewer")
            r = province.post(f"/api/v1/programmes/{CODE}/rounds", json={"year": 2001})
            assert r.status_code == 201, r.get_json()
            calendar = r.get_json()["calendar"]  # the dates the file's [rounds] gives a round
            assert (calendar["provincial_internal_deadline"], calendar["submission_deadline"],
                    calendar["approval_deadline"]) == (None, "2001-09-30", "2001-11-30")
            r = province.post(f"/api/v1/programmes/{CODE}/rounds/2001/open")
            assert r.status_code == 200, r.get_json()
            assert r.get_json()["programme"] == CODE
            yield 2001
        finally:
            clock.freeze(None)


def drafted(client: Any, **answers: str) -> int:
    """A draft the city's bureau saved on the programme's new-application page."""
    factories.login(client, "guangzhou_applicant")
    r = client.post(NEW, data={**CENTRE, **answers})
    assert r.status_code == 302, r.get_data(as_text=True)[:1500]
    return int(r.headers["Location"].split("/")[-2])


def on_the_draft(api: Any, client: Any, app_id: int, action: str, answers: dict[str, str],
                 **more: Any) -> Any:
    """The draft's page posted with its answers and `action` (upload, submit)."""
    version = api.as_("guangzhou_applicant").get(f"/api/v1/applications/{app_id}").get_json()[
        "version"]
    return client.post(f"/applications/{app_id}/edit", data={
        **CENTRE, **answers, "version": str(version), "action": action, **more},
        content_type="multipart/form-data")


def submitted(api: Any, client: Any, **answers: str) -> int:
    """A draft with the papers the file asks for, submitted from its page."""
    app_id = drafted(client, **answers)
    for kind in PAPERS:
        r = on_the_draft(api, client, app_id, "upload", answers, kind_of_file=kind,
                         file=(io.BytesIO(factories.PDF), f"{kind}.pdf"))
        assert r.status_code == 302, r.get_data(as_text=True)[:1500]
    r = on_the_draft(api, client, app_id, "submit", answers)
    assert r.status_code == 302, r.get_data(as_text=True)[:1500]
    assert r.headers["Location"].endswith(f"/cases/{app_id}")
    return app_id


def test_a_programme_written_from_the_docs_runs_from_draft_to_the_provinces_decision(
        api: Any, client: Any, world: factories.World, rd_round: int) -> None:
    # the new-application page is the programme's own form, in its words
    factories.login(client, "guangzhou_applicant")
    page = client.get(NEW).get_data(as_text=True)
    assert "广东省企业工程技术研究开发中心" in page and "属省重点发展的工业大企业或企业集团" in page
    assert "企业集团" in page and "光机电一体化" in page and "高新技术产品出口额" not in page
    app_id = drafted(client)
    city = api.as_("guangzhou_applicant")
    app = city.get(f"/api/v1/applications/{app_id}").get_json()
    assert (app["programme"], app["kind"], app["state"]) == (CODE, "rd_centre", "drafted")

    # submitting from the draft's page needs the papers the file lists, named in its words
    r = on_the_draft(api, client, app_id, "submit", {})
    assert r.status_code == 303, r.get_data(as_text=True)[:1500]
    refused = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "缺少附件：研究开发中心建设方案、城市商务局推荐函" in refused
    assert city.get(f"/api/v1/applications/{app_id}").get_json()["state"] == "drafted"
    app_id = submitted(api, client)
    page = client.get(f"/cases/{app_id}").get_data(as_text=True)
    assert "已办理：报送省外经贸厅。当前状态：两厅联席会议审定中" in page

    # the province has it waiting; the joint meeting's approval is the one open criterion
    province = api.as_("guangdong_reviewer")
    waiting = province.get("/api/v1/applications?waiting_on_me=true")
    assert [c["id"] for c in waiting.get_json()["items"]] == [app_id]
    verdicts = {v["criterion"]: v for v in province.get(
        f"/api/v1/applications/{app_id}/eligibility").get_json()}
    assert {k: v["outcome"] for k, v in verdicts.items()} == {
        "key_enterprise": "pass", "field_supported": "pass", "own_ip": "pass",
        "joint_meeting": "pending"}
    assert verdicts["key_enterprise"]["source"] == "003 二(二) 2"
    case = province.get(f"/api/v1/applications/{app_id}").get_json()
    assert sorted(case["available_triggers"]) == ["decline_centre", "list_centre",
                                                  "return_for_revision"]
    r = province.put(f"/api/v1/applications/{app_id}/attestations",
                     json={"values": {"joint_meeting": True}, "version": case["version"]})
    assert r.status_code == 200, r.get_json()
    r = province.post(f"/api/v1/applications/{app_id}/transitions",
                      json={"trigger": "list_centre", "version": r.get_json()["version"]})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["state"] == "centre_listed"

    # the decision is in the history, and the case page says it in the file's words
    history = province.get(f"/api/v1/applications/{app_id}/history").get_json()
    assert [(h["trigger"], h["to_state"], h["actor_role"]) for h in history] == [
        ("submit", "under_joint_review", "applicant"),
        ("list_centre", "centre_listed", "provincial_reviewer")]
    factories.login(client, "guangdong_reviewer")
    page = client.get(f"/cases/{app_id}").get_data(as_text=True)
    assert 'data-state="centre_listed"' in page and "已列入省扶持的企业研究开发中心" in page
    assert "重新认定的现有基地" not in page  # its one kind names no base of 002's register
    assert "列入省扶持的企业研究开发中心" in page and "撤销列入" in page
    footer = page.split('data-testid="citation">')[1].split("</span>")[0]
    assert "粤府办〔2000〕65号" in footer and "商技发" not in footer


def test_its_form_refuses_a_wrong_answer_beside_the_field_and_keeps_nothing(
        api: Any, client: Any, world: factories.World, rd_round: int) -> None:
    factories.login(client, "guangzhou_applicant")
    r = client.post(NEW, data={**CENTRE, "enterprise_type": "state_owned",
                               "rd_staff": "about a hundred", "hightech_exports_10k_usd": "6000"})
    assert r.status_code == 303, r.get_data(as_text=True)[:1500]
    assert r.headers["Location"] == NEW
    page = client.get(NEW).get_data(as_text=True)
    assert 'data-error-for="enterprise_type">申请单位类别：请从列表中选择' in page
    assert 'data-error-for="rd_staff">研究开发人员：应为数字' in page
    assert 'value="about a hundred"' in page  # kept as typed
    # figures across fields, once each is well-formed: high-tech exports above all exports
    r = client.post(NEW, data={**CENTRE, "hightech_exports_10k_usd": "6000"})
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert 'data-error-for="hightech_exports_10k_usd">高技术产品出口额不能大于出口额' in page
    listed = api.as_("guangzhou_applicant").get("/api/v1/applications")
    assert listed.get_json()["items"] == []  # nothing was stored


def test_a_centre_failing_a_criterion_is_listed_only_with_a_reason_the_history_keeps(
        api: Any, client: Any, world: factories.World, rd_round: int) -> None:
    app_id = submitted(api, client, own_ip="false")
    province = api.as_("guangdong_reviewer")
    case = province.get(f"/api/v1/applications/{app_id}").get_json()
    r = province.post(f"/api/v1/applications/{app_id}/transitions",
                      json={"trigger": "list_centre", "version": case["version"]})
    assert r.status_code == 422, r.get_json()
    error = r.get_json()["errors"][0]
    assert (error["code"], error["field"]) == ("criterion_failed", "override_reason")
    assert "出口产品拥有自主知识产权（否）（003 二(二) 1 其目标）" in error["message_zh"]
    reason = "联席会议认定其专利申请已受理"
    r = province.post(f"/api/v1/applications/{app_id}/transitions", json={
        "trigger": "list_centre", "version": case["version"], "override_reason": reason})
    assert r.status_code == 200, r.get_json()
    last = province.get(f"/api/v1/applications/{app_id}/history").get_json()[-1]
    assert (last["trigger"], last["to_state"]) == ("list_centre", "centre_listed")
    assert last["override"]["reason"] == reason and last["override"]["criteria"] == ["own_ip"]
    # a decision not to list needs its reason too, and the history keeps it
    other = submitted(api, client, applicant_name="佛山某陶瓷企业集团", industry="other")
    case = province.get(f"/api/v1/applications/{other}").get_json()
    r = province.post(f"/api/v1/applications/{other}/transitions",
                      json={"trigger": "decline_centre", "version": case["version"]})
    assert r.status_code == 422 and r.get_json()["errors"][0]["code"] == "reason_required"
    r = province.post(f"/api/v1/applications/{other}/transitions", json={
        "trigger": "decline_centre", "version": case["version"],
        "reason": "不属全省重点扶持的产业领域"})
    assert r.status_code == 200 and r.get_json()["state"] == "not_listed"
    last = province.get(f"/api/v1/applications/{other}/history").get_json()[-1]
    assert (last["trigger"], last["reason"]) == ("decline_centre", "不属全省重点扶持的产业领域")


def test_the_provinces_dashboard_shows_the_lists_goal_of_50_centres_and_no_share(
        api: Any, client: Any, world: factories.World, rd_round: int) -> None:
    # 003 二(二) 2: 着力扶持50家 — the file's [goals] is a count alone, with no share of exports
    app_id = submitted(api, client)
    province = api.as_("guangdong_reviewer")
    version = province.get(f"/api/v1/applications/{app_id}").get_json()["version"]
    r = province.post(f"/api/v1/applications/{app_id}/transitions",
                      json={"trigger": "list_centre", "version": version})
    assert r.status_code == 200, r.get_json()
    factories.login(client, "guangdong_reviewer")
    page = client.get(f"/dashboard?programme={CODE}").get_data(as_text=True)
    goal = page.split('data-testid="goal-bases"')[1].split("</div>")[0]
    assert "<strong>1</strong> / 50" in goal
    note = goal.split('data-testid="goal-note">')[1].split("</p>")[0]
    assert note == "目标：2002年底前 50 家（003 二(二) 2, 一）。已认定指状态为：已列入省扶持的企业研究开发中心。"
    assert 'data-testid="goal-share"' not in page and 'data-testid="goal-path"' not in page
    assert "商技发" not in page.split('class="goals"')[1].split("</section>")[0]
    sheet = client.get(f"/dashboard.xlsx?programme={CODE}")
    rows = load_workbook(io.BytesIO(sheet.data), read_only=True)["工作目标"].iter_rows(
        min_row=2, values_only=True)
    cells = {r[0]: r[1] for r in rows}
    assert (cells["已认定基地（家）"], cells["目标基地数（家）"], cells["目标年度"]) == (1, 50, 2002)
    assert "目标比重（%）" not in cells and "占全国比重（%）" not in cells
