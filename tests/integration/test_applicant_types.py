"""Applicant types (002 §六): a cluster is refused outside the central and western regions
on save and at submission, naming the field, and changes nothing; a cluster's leading
enterprises (002 §六(二)(4)) round-trip through the service and the API; the province
states the applicant's rank in its locality (002 §六(二)(2)) and the verdict shows both
halves; the applicant cannot state it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tests import factories
from tests.integration.test_api_errors import problem_of
from workflow.errors import GuardFailed, ValidationFailed
from workflow.services import cases, clock
from workflow.storage.models import ApplicationRow

LEADERS = [{"name": "攀钢集团有限公司", "city": "攀枝花市", "industry": "钒钛新材料",
            "national_rank": "2", "exports_10k_usd": "9000"},
           {"name": "四川长虹电器股份有限公司", "city": "绵阳市", "national_rank": "5"}]
CLUSTER = {"applicant_type": "cluster", "applicant_name": "攀西钒钛新材料产业集群",
           "industry_field": "new_materials", "leading_enterprises": LEADERS}


@pytest.fixture
def in_2006() -> Any:
    clock.freeze(datetime(2006, 4, 10, 2, tzinfo=UTC))
    yield
    clock.freeze(None)


def test_an_eastern_cluster_is_refused_on_save_naming_the_field(world: factories.World) -> None:
    with pytest.raises(ValidationFailed) as err:
        factories.draft(world, "guangdong_applicant", **CLUSTER)
    assert [(r.code, r.field) for r in err.value.refusals] == [
        ("not_in_this_region", "applicant_type")]
    assert "中西部" in err.value.refusals[0].zh
    page = cases.list_applications(world.uow(), world.id("guangdong_applicant"))
    assert page.total == 0  # nothing was saved


def test_an_eastern_region_keeps_saving_and_a_cluster_edit_of_it_changes_nothing(
        world: factories.World) -> None:
    app_id = factories.draft(world, "guangdong_applicant", applicant_name="广州市")
    with pytest.raises(ValidationFailed):
        cases.update_draft(world.uow(), world.id("guangdong_applicant"), app_id,
                           {"applicant_type": "cluster", "applicant_name": "珠三角集群"}, 1)
    loaded = cases.load(world.uow(), world.id("guangdong_applicant"), app_id)
    assert loaded.row.version == 1
    assert loaded.case.values["applicant_type"] == "region"
    assert loaded.case.values["applicant_name"] == "广州市"


def test_a_western_cluster_keeps_its_leading_enterprises_in_order_typed(
        world: factories.World) -> None:
    app_id = factories.draft(world, "sichuan_applicant", **CLUSTER)
    case = cases.load(world.uow(), world.id("sichuan_applicant"), app_id).case
    assert case.values["applicant_type"] == "cluster"
    assert [(e["name"], e["city"], e["national_rank"]) for e in
            case.values["leading_enterprises"]] == [("攀钢集团有限公司", "攀枝花市", 2),
                                                    ("四川长虹电器股份有限公司", "绵阳市", 5)]
    assert case.values["leading_enterprises"][0]["exports_10k_usd"] == Decimal("9000")
    assert [p["name"] for p in case.products] == ["光通信设备"]  # the products stay in theirs


def test_a_cluster_without_a_ranked_leading_enterprise_is_not_submitted(
        world: factories.World) -> None:
    app_id = factories.draft(world, "sichuan_applicant",
                             **{**CLUSTER, "leading_enterprises": [
                                 {"name": "攀钢集团有限公司", "city": "攀枝花市"}]})
    factories.attach_required(world, app_id, "sichuan_applicant")
    with pytest.raises(GuardFailed) as err:
        cases.fire(world.uow(), world.id("sichuan_applicant"), app_id, "submit", None)
    assert err.value.refusals[0].code == "incomplete_form"
    assert err.value.refusals[0].details["fields"] == ["leading_enterprises[0].national_rank"]


def test_the_api_round_trips_the_leading_enterprises_and_refuses_an_eastern_cluster(
        api: Any, world: factories.World) -> None:
    body = factories.form_data(**CLUSTER)
    made = api.as_("sichuan_applicant").post("/api/v1/applications", json=body)
    assert made.status_code == 201, made.get_json()
    got = made.get_json()
    assert got["applicant_type"] == "cluster"
    assert got["leading_enterprises"][0] == {"name": "攀钢集团有限公司", "city": "攀枝花市",
                                             "industry": "钒钛新材料", "national_rank": 2,
                                             "exports_10k_usd": "9000.0000"}
    bad = problem_of(api.as_("guangdong_applicant").post("/api/v1/applications", json=body),
                     422, "validation_error")
    assert [e["field"] for e in bad["errors"]] == ["applicant_type"]
    schema = api.as_("sichuan_applicant").get("/api/v1/programmes/mofcom-2006-6").get_json()
    table = schema["form"]["properties"]["leading_enterprises"]
    assert table["x-only-when"] == {"applicant_type": "cluster"}


def test_the_province_states_the_rank_and_the_verdict_shows_both_halves(
        api: Any, world: factories.World, in_2006: Any) -> None:
    app_id = factories.submitted(world)  # Hubei, 8.6 亿美元: above the central US$50M
    before = _threshold(api, app_id)
    assert before["outcome"] == "pending"
    assert before["figures"]["threshold_outcome"] == "pass"
    version = cases.load(world.uow(), world.id("hubei_reviewer"), app_id).row.version
    put = api.as_("hubei_reviewer").put(f"/api/v1/applications/{app_id}/review-fields", json={
        "values": {"locality_rank": 1, "locality_peers": 13, "rank_catalogue": "national",
                   "rank_source": "湖北省商务厅据武汉海关2005年统计"}, "version": version})
    assert put.status_code == 200, put.get_json()
    after = _threshold(api, app_id)
    assert after["outcome"] == "pass"
    assert "860.00 百万美元 ≥ 本地区门槛 50 百万美元" in after["zh"]
    assert "排名第 1 位（共 13 个）" in after["zh"] and "武汉海关" in after["zh"]
    assert after["figures"]["locality_rank"]["catalogue"] == "national"


def test_a_bad_rank_names_the_field_and_changes_nothing(
        api: Any, world: factories.World, in_2006: Any) -> None:
    app_id = factories.submitted(world)
    version = cases.load(world.uow(), world.id("hubei_reviewer"), app_id).row.version
    bad = problem_of(api.as_("hubei_reviewer").put(
        f"/api/v1/applications/{app_id}/review-fields",
        json={"values": {"locality_rank": 14, "locality_peers": 13}, "version": version}),
        422, "validation_error")
    assert [e["field"] for e in bad["errors"]] == ["locality_rank"]
    assert _threshold(api, app_id)["figures"]["locality_rank"]["rank"] is None


def test_only_the_province_states_the_rank_and_only_while_it_reviews(
        api: Any, world: factories.World, in_2006: Any) -> None:
    app_id = factories.draft(world)
    bad = problem_of(api.as_("hubei_applicant").patch(
        f"/api/v1/applications/{app_id}", json={"locality_rank": 1, "version": 1}),
        422, "validation_error")
    assert [e["field"] for e in bad["errors"]] == ["locality_rank"]
    assert _threshold(api, app_id, "hubei_applicant")["figures"]["locality_rank"]["rank"] is None
    gone = factories.recommended(world, applicant="hubei_applicant2")  # waits on the ministry
    version = cases.load(world.uow(), world.id("hubei_reviewer"), gone).row.version
    refused = problem_of(api.as_("hubei_reviewer").put(
        f"/api/v1/applications/{gone}/review-fields",
        json={"values": {"locality_rank": 1}, "version": version}), 422, "guard_failed")
    assert refused["errors"][0]["code"] == "not_your_turn"


def _threshold(api: Any, app_id: int, who: str = "hubei_reviewer") -> dict[str, Any]:
    verdicts = api.as_(who).get(f"/api/v1/applications/{app_id}/eligibility").get_json()
    return next(v for v in verdicts if v["source"] == "002 §六(二)(2)")


# --- a cluster is drafted by its leading enterprise's city, or the province (002 §六(三)) ----

XIANGYANG = [{"name": "东风汽车股份有限公司", "city": "襄阳市", "industry": "汽车",
              "national_rank": "3"},
             {"name": "襄阳汽车轴承股份有限公司", "city": "襄阳", "national_rank": "8"}]
WUHAN = {"name": "烽火通信科技股份有限公司", "city": "武汉市", "industry": "光通信设备",
         "national_rank": "2"}
WUHAN_CLUSTER = {"applicant_type": "cluster", "applicant_name": "武汉光谷光电子信息产业集群"}


def test_wuhans_bureau_cannot_draft_a_cluster_of_xiangyang_and_nothing_is_saved(
        api: Any, world: factories.World) -> None:
    me = api.as_("wuhan_applicant")
    body = factories.form_data(**WUHAN_CLUSTER, leading_enterprises=XIANGYANG)
    bad = problem_of(me.post("/api/v1/applications", json=body), 422, "validation_error")
    assert [(e["code"], e["field"]) for e in bad["errors"]] == [
        ("not_a_leading_enterprise_city", "leading_enterprises[0].city")]
    assert "均不在武汉市（襄阳市、襄阳）" in bad["errors"][0]["message_zh"]
    assert "002 §六(三)" in bad["errors"][0]["message_zh"]
    assert "none of the leading enterprises listed is in Wuhan" in bad["errors"][0]["message_en"]
    assert me.get("/api/v1/applications").get_json()["items"] == []  # nothing was saved


def test_wuhans_bureau_drafts_and_submits_a_cluster_with_a_wuhan_leading_enterprise(
        api: Any, world: factories.World, in_2006: Any) -> None:
    me = api.as_("wuhan_applicant")
    body = factories.form_data(**WUHAN_CLUSTER, leading_enterprises=[*XIANGYANG, WUHAN])
    made = me.post("/api/v1/applications", json=body)
    assert made.status_code == 201, made.get_json()
    app_id = made.get_json()["id"]
    # dropping the Wuhan enterprise later is refused too, and leaves the draft as it was
    bad = problem_of(me.patch(f"/api/v1/applications/{app_id}",
                              json={"leading_enterprises": XIANGYANG, "version": 1}),
                     422, "validation_error")
    assert [(e["code"], e["field"]) for e in bad["errors"]] == [
        ("not_a_leading_enterprise_city", "leading_enterprises[0].city")]
    got = me.get(f"/api/v1/applications/{app_id}").get_json()
    assert got["version"] == 1 and len(got["leading_enterprises"]) == 3
    factories.attach_required(world, app_id, "wuhan_applicant")
    sent = me.post(f"/api/v1/applications/{app_id}/transitions",
                   json={"trigger": "submit", "version": 1})
    assert sent.status_code == 200, sent.get_json()
    assert sent.get_json()["state"] == "provincially_reviewed"


def test_a_draft_that_names_no_wuhan_enterprise_is_refused_at_submission(
        api: Any, world: factories.World, in_2006: Any) -> None:
    """A draft saved before the rule (its document says Xiangyang only) is not submitted."""
    app_id = factories.draft(world, "wuhan_applicant", **WUHAN_CLUSTER,
                             leading_enterprises=[WUHAN])
    factories.attach_required(world, app_id, "wuhan_applicant")
    with world.uow() as u:
        row = u.session.get(ApplicationRow, app_id)
        row.form = {**row.form, "leading_enterprises": [
            {"name": e["name"], "city": e["city"], "national_rank": int(e["national_rank"])}
            for e in XIANGYANG]}
        u.commit()
    me = api.as_("wuhan_applicant")
    version = me.get(f"/api/v1/applications/{app_id}").get_json()["version"]
    refused = problem_of(me.post(f"/api/v1/applications/{app_id}/transitions",
                                 json={"trigger": "submit", "version": version}),
                         422, "guard_failed")
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [
        ("not_a_leading_enterprise_city", "leading_enterprises[0].city")]
    after = me.get(f"/api/v1/applications/{app_id}").get_json()
    assert (after["state"], after["version"]) == ("drafted", version)


def test_the_province_itself_drafts_a_provincial_leading_enterprises_cluster(
        api: Any, world: factories.World) -> None:
    # 002 §六(三): 省级龙头企业由省商务主管部门组织申报材料 — Hubei, whatever the city
    body = factories.form_data(**WUHAN_CLUSTER, leading_enterprises=XIANGYANG)
    made = api.as_("hubei_applicant").post("/api/v1/applications", json=body)
    assert made.status_code == 201, made.get_json()


def test_a_city_picked_by_its_code_is_accepted_and_another_provinces_is_refused_by_name(
        api: Any, world: factories.World) -> None:
    """The form's list stores a city's code (GB/T 2260): Wuhan's own is accepted; Chengdu's
    (Sichuan) is refused naming the row's city, said by its name, and nothing is saved."""
    me = api.as_("wuhan_applicant")
    picked = [{**WUHAN, "city": "420100"}]
    made = me.post("/api/v1/applications",
                   json=factories.form_data(**WUHAN_CLUSTER, leading_enterprises=picked))
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["leading_enterprises"][0]["city"] == "420100"
    chengdu = [{**WUHAN, "name": "成都某企业", "city": "510100"}]
    bad = problem_of(me.post("/api/v1/applications", json=factories.form_data(
        **WUHAN_CLUSTER, leading_enterprises=chengdu)), 422, "validation_error")
    assert [(e["code"], e["field"]) for e in bad["errors"]] == [
        ("not_a_leading_enterprise_city", "leading_enterprises[0].city")]
    assert "均不在武汉市（成都市）" in bad["errors"][0]["message_zh"]
    assert "is in Wuhan (Chengdu)" in bad["errors"][0]["message_en"]
    assert bad["errors"][0]["details"]["cities"] == ["510100"]  # as it was sent
    assert len(me.get("/api/v1/applications").get_json()["items"]) == 1  # only the first


def test_an_autonomous_prefectures_bureau_names_its_city_by_the_short_form_in_use(
        api: Any, world: factories.World) -> None:
    enshi = [{**WUHAN, "name": "湖北恩施硒茶股份有限公司", "city": "恩施州"}]
    made = api.as_("enshi_applicant").post("/api/v1/applications", json=factories.form_data(
        **WUHAN_CLUSTER, leading_enterprises=enshi))
    assert made.status_code == 201, made.get_json()
    schema = api.as_("enshi_applicant").get("/api/v1/programmes/mofcom-2006-6").get_json()
    city = schema["form"]["properties"]["leading_enterprises"]["items"]["properties"]["city"]
    assert city["x-choices"] == "cities_of_province"
