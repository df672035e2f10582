"""A case that fails a criterion, and steps after the round's deadlines, over the API and
the pages (issue 16 items 4 and 11; 002 §六, §六(三))."""

from __future__ import annotations

from typing import Any

from tests import factories
from workflow.services import cases
from workflow.storage.models import RoundRow

WEAK = {"hightech_exports_100m_usd": "0.4999"}  # US$49.99M < the central US$50M
APRIL_20 = factories.at("2006-04-20")


def _letter(world: Any, app_id: int, reviewer: str = "hubei_reviewer") -> None:
    from workflow.services import files
    files.attach(world.uow(), world.id(reviewer), app_id, "recommendation_letter",
                 "letter.pdf", factories.PDF, world.upload_dir, 10 * 1024 * 1024,
                 now=factories.T0)


def _fire(api: Any, user: str, app_id: int, trigger: str, **body: Any) -> Any:
    version = api.as_(user).get(f"/api/v1/applications/{app_id}").get_json()["version"]
    return api.as_(user).post(f"/api/v1/applications/{app_id}/transitions",
                              json={"trigger": trigger, "version": version, **body})


def test_recommending_a_case_below_the_threshold_needs_an_override_reason_naming_the_figures(
        api: Any, world: Any, pinned_clock: Any) -> None:
    app_id = factories.submitted(world, **WEAK)
    _letter(world, app_id)
    pinned_clock(APRIL_20)
    r = _fire(api, "hubei_reviewer", app_id, "recommend")
    assert r.status_code == 422
    error = r.get_json()["errors"][0]
    assert (error["code"], error["field"]) == ("criterion_failed", "override_reason")
    assert "49.99 百万美元" in error["message_zh"] and "门槛 50 百万美元" in error["message_zh"]
    assert error["details"]["criteria"] == ["hightech_exports_threshold"]
    case = api.as_("hubei_reviewer").get(f"/api/v1/applications/{app_id}").get_json()
    assert case["state"] == "provincially_reviewed"  # nothing changed
    assert "recommend" in case["available_triggers"]  # offered, asking for the reason

    r = _fire(api, "hubei_reviewer", app_id, "recommend",
              override_reason="全省唯一的光电子产业集聚区，出口额与门槛仅差一万美元")
    assert r.status_code == 200 and r.get_json()["state"] == "recommended"
    listed = api.as_("mofcom").get("/api/v1/applications?waiting_on_me=true").get_json()
    mine = next(i for i in listed["items"] if i["id"] == app_id)
    assert mine["overridden_criteria"] == ["hightech_exports_threshold"]
    history = api.as_("mofcom").get(f"/api/v1/applications/{app_id}/history").get_json()
    override = history[-1]["override"]
    assert override["reason"].startswith("全省唯一的光电子产业集聚区")
    assert override["verdicts"][0]["figures"]["hightech_exports_musd"] == "49.99"


def test_the_ministry_overrides_again_to_publish_and_to_approve(api: Any, world: Any,
                                                                 pinned_clock: Any) -> None:
    app_id = factories.submitted(world, **WEAK)
    _letter(world, app_id)
    cases.fire(world.uow(), world.id("hubei_reviewer"), app_id, "recommend", None,
               now=APRIL_20, override_reason="省里的理由")
    pinned_clock(factories.at("2006-04-28"))
    assert _fire(api, "mofcom", app_id, "publish_notice").get_json()["errors"][0]["code"] \
        == "criterion_failed"
    assert _fire(api, "mofcom", app_id, "publish_notice",
                 override_reason="公示听取意见").status_code == 200
    pinned_clock(factories.at("2006-05-15"))
    assert _fire(api, "mofcom2", app_id, "approve").get_json()["errors"][0]["code"] \
        == "criterion_failed"
    assert _fire(api, "mofcom2", app_id, "approve",
                 override_reason="公示无异议").get_json()["state"] == "approved"
    history = api.as_("mofcom2").get(f"/api/v1/applications/{app_id}/history").get_json()
    assert [(h["trigger"], (h["override"] or {}).get("reason")) for h in history][1:] == [
        ("recommend", "省里的理由"), ("publish_notice", "公示听取意见"), ("approve", "公示无异议")]


def test_a_criterion_the_round_makes_blocking_is_refused_even_with_a_reason(
        api: Any, world: Any, pinned_clock: Any) -> None:
    with world.uow() as u:
        rnd = u.session.query(RoundRow).filter_by(year=2006).one()
        rnd.params = {**rnd.params, "blocking_criteria": ["hightech_exports_threshold"]}
        u.commit()
    app_id = factories.submitted(world, **WEAK)
    _letter(world, app_id)
    pinned_clock(APRIL_20)
    r = _fire(api, "hubei_reviewer", app_id, "recommend", override_reason="理由")
    assert r.status_code == 422
    error = r.get_json()["errors"][0]
    assert error["code"] == "criterion_blocking" and "002 §六(二)(2)" in error["message_zh"]
    case = api.as_("hubei_reviewer").get(f"/api/v1/applications/{app_id}").get_json()
    assert case["state"] == "provincially_reviewed"
    assert "recommend" not in case["available_triggers"]


def test_a_recommendation_after_30_april_needs_a_reason_and_is_marked_late(
        api: Any, world: Any, pinned_clock: Any) -> None:
    app_id = factories.submitted(world)
    _letter(world, app_id)
    pinned_clock(factories.at("2006-05-08"))
    r = _fire(api, "hubei_reviewer", app_id, "recommend")
    assert r.status_code == 422
    error = r.get_json()["errors"][0]
    assert (error["code"], error["field"]) == ("late_reason_required", "late_reason")
    assert error["details"]["deadline"] == "2006-04-30"
    r = _fire(api, "hubei_reviewer", app_id, "recommend", late_reason="省内专家评审延期")
    assert r.status_code == 200
    case = api.as_("mofcom").get("/api/v1/applications?state=recommended").get_json()
    assert case["items"][0]["late_steps"] == ["recommend"]
    history = api.as_("mofcom").get(f"/api/v1/applications/{app_id}/history").get_json()
    assert history[-1]["late"]["reason"] == "省内专家评审延期"


def test_late_steps_and_overrides_show_on_the_case_the_inbox_the_dashboard_and_the_report(
        client: Any, world: Any, pinned_clock: Any) -> None:
    late = factories.submitted(world)
    _letter(world, late)
    cases.fire(world.uow(), world.id("hubei_reviewer"), late, "recommend", None,
               now=factories.at("2006-05-08"), late_reason="省内专家评审延期")
    weak = factories.submitted(world, "hunan_applicant", applicant_name="长沙高新区", **WEAK)
    _letter(world, weak, "hunan_reviewer")
    cases.fire(world.uow(), world.id("hunan_reviewer"), weak, "recommend", None,
               now=APRIL_20, override_reason="差额很小")
    pinned_clock(factories.at("2006-05-09"))
    factories.login(client, "mofcom")
    page = client.get(f"/cases/{late}").get_data(as_text=True)
    assert 'data-mark="late-recommend"' in page and "逾期推荐" in page
    assert "省内专家评审延期" in page
    page = client.get(f"/cases/{weak}").get_data(as_text=True)
    assert 'data-mark="override"' in page and "差额很小" in page
    assert 'data-testid="override-warning-publish_notice"' in page  # asked again
    assert 'name="override_reason"' in page
    inbox = client.get("/inbox").get_data(as_text=True)
    assert inbox.count('data-mark="late-recommend"') == 1
    assert inbox.count('data-mark="override"') == 1
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "逾期与越过条件" in dashboard
    report = client.get("/reports/programme").get_data(as_text=True)
    assert '<td class="num" data-mark="recommend">1</td>' in report
    assert '<td class="num" data-mark="overridden">1</td>' in report


def test_the_case_page_form_refuses_without_the_override_reason_and_keeps_the_rest(
        client: Any, world: Any, pinned_clock: Any) -> None:
    app_id = factories.submitted(world, **WEAK)
    _letter(world, app_id)
    pinned_clock(APRIL_20)
    factories.login(client, "hubei_reviewer")
    page = client.get(f"/cases/{app_id}").get_data(as_text=True)
    assert 'data-testid="override-warning-recommend"' in page and "49.99 百万美元" in page
    version = cases.load(world.uow(), world.id("hubei_reviewer"), app_id).row.version
    r = client.post(f"/cases/{app_id}/fire", data={"trigger": "recommend", "version": version,
                                                   "reason": "推荐", "override_reason": ""})
    assert r.status_code == 303  # the refusal is shown on the case page it redirects to
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "须填写理由" in page and ">推荐</textarea>" in page
    r = client.post(f"/cases/{app_id}/fire", data={"trigger": "recommend", "version": version,
                                                   "override_reason": "差额很小"})
    assert r.status_code == 302
    assert cases.load(world.uow(), world.id("hubei_reviewer"), app_id).row.state \
        == "recommended"
