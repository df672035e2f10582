"""Applicant types and the province's rank, as notice 002's programme file states them:
a region or (central and western regions only) an industry cluster with its leading
enterprises (002 §六, §六(二)(4)); criterion (2)'s two halves, the threshold and the rank
in the locality the province states (002 §六(二)(2)); who prepares the materials (§六(三))."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from tests.unit.test_guards import APPLICANT, COMPLETE, HUBEI, case, ctx
from workflow import machine
from workflow.applicants import Drafter, names_city, preparer, prepares_cluster
from workflow.eligibility import FAIL, PASS, PENDING, evaluate
from workflow.errors import DefinitionError
from workflow.form import parse_form
from workflow.programme import programme
from workflow.regions import Region
from workflow.rules import RoundRules

PROG = programme()
FORM = PROG.form
LEADER = {"name": "攀钢集团", "city": "攀枝花市", "industry": "钒钛新材料", "national_rank": 2,
          "exports_10k_usd": D(9000)}
CLUSTER = {**COMPLETE, "applicant_type": "cluster", "leading_enterprises": [LEADER]}


def fields_of(refusals: list[Any]) -> list[tuple[str, str | None]]:
    return [(r.code, r.field) for r in refusals]


# --- applicant types (002 §六) -------------------------------------------------------------

def test_a_draft_without_a_type_is_a_region() -> None:
    assert FORM.decode({}, "武汉")["applicant_type"] == "region"
    assert FORM.missing("new_base", dict(COMPLETE), [{"name": "x"}]) == []


@pytest.mark.parametrize("region", ["east", "northeast"])
def test_a_cluster_outside_the_central_and_west_is_refused_naming_the_field(region: str) -> None:
    refusals = FORM.region_checks("new_base", CLUSTER, region)
    assert fields_of(refusals) == [("not_in_this_region", "applicant_type")]
    assert "中西部" in refusals[0].zh and "central and western" in refusals[0].en


@pytest.mark.parametrize("region", ["central", "west"])
def test_a_cluster_in_the_central_and_west_is_allowed(region: str) -> None:
    assert FORM.region_checks("new_base", CLUSTER, region) == []
    assert FORM.region_checks("new_base", {**COMPLETE, "applicant_type": "region"}, "east") == []


def test_submitting_an_eastern_cluster_is_refused_by_the_form_guard() -> None:
    eastern = case(authority_code="440000", region=Region.EAST, values=dict(CLUSTER))
    refusals = machine.check(eastern, "submit", ctx(APPLICANT))
    assert fields_of(refusals) == [("not_in_this_region", "applicant_type")]
    central = case(values=dict(CLUSTER))  # Hubei
    assert machine.check(central, "submit", ctx(APPLICANT)) == []


def test_a_city_of_the_central_region_classed_west_is_judged_by_its_province() -> None:
    # 恩施州 is classed West under Hubei (central): the province's region decides, both allow
    # (its leading enterprise in Enshi itself: 002 §六(三), below)
    enshi = case(authority_code="422800", parent_code="420000", region=Region.WEST,
                 parent_region=Region.CENTRAL, authority_name_zh="恩施土家族苗族自治州",
                 parent_name_zh="湖北省", values=in_cities("恩施土家族苗族自治州"))
    assert machine.check(enshi, "submit", ctx(APPLICANT)) == []


def test_a_cluster_names_at_least_one_leading_enterprise_with_its_national_rank() -> None:
    none = {**CLUSTER, "leading_enterprises": []}
    assert ("required", "leading_enterprises") in fields_of(
        FORM.missing("new_base", none, [{"name": "x"}]))
    unranked = {**CLUSTER, "leading_enterprises": [{**LEADER, "national_rank": None}]}
    assert fields_of(FORM.missing("new_base", unranked, [{"name": "x"}])) == [
        ("required", "leading_enterprises[0].national_rank")]
    assert FORM.missing("new_base", CLUSTER, [{"name": "x"}]) == []


def test_a_region_has_no_table_of_leading_enterprises() -> None:
    region = {**COMPLETE, "applicant_type": "region", "leading_enterprises": []}
    assert FORM.missing("new_base", region, [{"name": "x"}]) == []


def test_leading_enterprises_are_cleaned_typed_and_kept_in_the_document() -> None:
    clean, errors = FORM.clean({"applicant_type": "cluster", "leading_enterprises": [
        {"name": " 攀钢集团 ", "city": "攀枝花市", "national_rank": "2", "exports_10k_usd": "9,000"},
        {"name": "", "city": "", "national_rank": ""}]})
    assert errors == []
    assert clean["leading_enterprises"] == [{"name": "攀钢集团", "city": "攀枝花市",
                                             "industry": None, "national_rank": 2,
                                             "exports_10k_usd": D("9000.0000")}]
    doc = FORM.merged({}, clean)
    assert doc["leading_enterprises"] == [{"name": "攀钢集团", "city": "攀枝花市",
                                           "national_rank": 2, "exports_10k_usd": "9000.0000"}]
    assert FORM.decode(doc)["leading_enterprises"][0]["exports_10k_usd"] == D("9000")


def test_a_bad_rank_names_its_row_and_column() -> None:
    _clean, errors = FORM.clean({"leading_enterprises": [{"name": "a", "national_rank": "第二"}]})
    assert fields_of(errors) == [("not_an_integer", "leading_enterprises[0].national_rank")] or \
        fields_of(errors) == [("not_a_number", "leading_enterprises[0].national_rank")]


def test_the_json_schema_has_both_tables_and_marks_the_provinces_fields() -> None:
    schema = FORM.json_schema("x")
    table = schema["properties"]["leading_enterprises"]
    assert table["x-only-when"] == {"applicant_type": "cluster"}
    assert "national_rank" in table["items"]["properties"]
    assert "products" in schema["properties"]
    assert schema["properties"]["locality_rank"]["x-filled-by"] == "provincial_reviewer"
    assert "locality_rank" not in schema["x-required-on-submit"]


# --- who prepares the materials (002 §六(三)) ------------------------------------------------

def test_who_prepares_follows_the_type_and_the_drafting_authority() -> None:
    assert "地级市商务主管部门" in preparer("region", True)[0]
    assert "龙头企业所在地级市" in preparer("cluster", True)[0]
    assert "省级龙头企业" in preparer("cluster", False)[0]
    assert "province" in preparer("region", False)[1]


# --- the province's fields and criterion (2)'s second half (002 §六(二)(2)) -------------------

def test_the_applicant_cannot_state_the_provinces_rank() -> None:
    clean, errors = FORM.clean({"locality_rank": "1", "applicant_name": "武汉"})
    assert fields_of(errors) == [("filled_by_another_role", "locality_rank")]
    assert "省级审核人员" in errors[0].zh
    assert "locality_rank" not in clean
    assert FORM.clean({"locality_rank": ""})[1] == []  # a blank box is left alone


def test_the_province_states_the_rank_and_cannot_write_the_applicants_fields() -> None:
    clean, errors = FORM.clean({"locality_rank": "2", "locality_peers": "13",
                                "rank_catalogue": "local"}, role="provincial_reviewer")
    assert errors == [] and clean == {"locality_rank": 2, "locality_peers": 13,
                                      "rank_catalogue": "local"}
    _c, errors = FORM.clean({"exports_100m_usd": "9"}, role="provincial_reviewer")
    assert fields_of(errors) == [("filled_by_another_role", "exports_100m_usd")]


def test_a_rank_beyond_the_number_ranked_is_refused() -> None:
    assert fields_of(FORM.cross_checks({"locality_rank": 14, "locality_peers": 13}, [])) == [
        ("inconsistent_figures", "locality_rank")]


def verdict(values: dict[str, Any], region: str = "central") -> Any:
    return next(v for v in evaluate(PROG.criteria, "new_base", region, values, {}, RoundRules(),
                                    {}) if v.criterion == "hightech_exports_threshold")


def test_criterion_two_passes_on_both_halves_and_shows_both() -> None:
    v = verdict({"hightech_exports_100m_usd": D("1.2"), "locality_rank": 2, "locality_peers": 13,
                 "rank_catalogue": "national", "rank_source": "湖北省统计局2005年统计公报"})
    assert v.outcome == PASS
    assert "120.00 百万美元 ≥ 本地区门槛 50 百万美元" in v.zh
    assert "排名第 2 位（共 13 个）" in v.zh and "国家高新技术产品出口目录" in v.zh
    assert "湖北省统计局" in v.zh and "interpretation" in v.en
    assert v.figures["locality_rank"]["stated_by"] == "provincial_reviewer"
    assert v.figures["threshold_outcome"] == PASS


def test_criterion_two_waits_for_the_provinces_rank() -> None:
    v = verdict({"hightech_exports_100m_usd": D("1.2")})
    assert v.outcome == PENDING
    assert "本地区排名待省级商务主管部门填报" in v.zh


def test_a_rank_below_the_top_fails_criterion_two_even_above_the_threshold() -> None:
    v = verdict({"hightech_exports_100m_usd": D("1.2"), "locality_rank": 5,
                 "rank_catalogue": "local"})
    assert v.outcome == FAIL and "未位居前列" in v.zh


def test_a_first_place_does_not_rescue_exports_below_the_threshold() -> None:
    v = verdict({"hightech_exports_100m_usd": D("0.3"), "locality_rank": 1}, region="central")
    assert v.outcome == FAIL and "< 本地区门槛 50" in v.zh


# --- the library: definitions checked, a role's required fields at its step -----------------

RAW: dict[str, Any] = {
    "kinds": [{"key": "k", "zh": "k", "en": "k"}],
    "sections": [{"key": "s", "zh": "s", "en": "s"}],
    "fields": [{"name": "applicant_name", "zh": "n", "en": "n", "type": "text", "section": "s"},
               {"name": "t", "zh": "t", "en": "t", "type": "choice", "section": "s",
                "options": [{"value": "a", "zh": "a", "en": "a"}, {"value": "b", "zh": "b",
                                                                     "en": "b"}]},
               {"name": "r", "zh": "排名", "en": "rank", "type": "int", "section": "s",
                "filled_by": "provincial_reviewer"}],
}


def test_a_field_another_role_fills_is_required_only_at_that_roles_step() -> None:
    form = parse_form("p.toml", RAW)
    values = {"applicant_name": "x", "t": "a"}
    assert form.missing("k", values, []) == []  # submitting: the applicant's fields
    assert fields_of(form.missing("k", values, [], roles=("provincial_reviewer",))) == [
        ("required", "r")]


def test_definition_errors_name_the_file_and_key() -> None:
    bad_region = {**RAW, "checks": [{"check": "only_in_regions", "field": "t", "value": "b",
                                     "regions": ["south"], "zh": "x", "en": "x"}]}
    with pytest.raises(DefinitionError, match=r"p\.toml: form\.checks\[0\]\.regions"):
        parse_form("p.toml", bad_region)
    bad_table = {**RAW, "tables": [{"name": "x", "zh": "x", "en": "x", "only_when": {
        "field": "nope", "value": "b"}, "fields": [{"name": "a", "zh": "a", "en": "a",
                                                     "type": "text"}]}]}
    with pytest.raises(DefinitionError, match=r"form\.tables\[0\]\.only_when\.field"):
        parse_form("p.toml", bad_table)
    bad_role = {**RAW, "fields": [*RAW["fields"], {"name": "z", "zh": "z", "en": "z",
                                                    "type": "int", "section": "s",
                                                    "filled_by": "mayor"}]}
    with pytest.raises(DefinitionError, match=r"filled_by: unknown role 'mayor'"):
        parse_form("p.toml", bad_role)


def test_the_provinces_fields_do_not_block_the_recommendation_by_the_file() -> None:
    # programmes/mofcom-2006-6.toml: the rank is weighed, not a material of §六(三)
    c = case(state="provincially_reviewed")
    assert [r.code for r in machine.check(c, "recommend", ctx(HUBEI))] == []


def test_the_province_cannot_recommend_an_eastern_cluster_either() -> None:
    # a cluster saved before its city was moved to an eastern province, say: refused again
    from workflow.roles import Actor, Role

    guangdong = Actor(22, Role.PROVINCIAL_REVIEWER, "440000", "广东审核")
    eastern = case(state="provincially_reviewed", authority_code="440000", region=Region.EAST,
                   authority_has_bases=False, values=dict(CLUSTER))
    refusals = machine.check(eastern, "recommend", ctx(guangdong))
    assert ("not_in_this_region", "applicant_type") in fields_of(refusals)


# --- a cluster is drafted where its leading enterprise is (002 §六(三)) ------------------------

WUHAN_BUREAU = Drafter("420100", "武汉市", "Wuhan", "湖北省")
HUBEI_ITSELF = Drafter("420000", "湖北省", "Hubei")


def in_cities(*cities: str | None) -> dict[str, Any]:
    return {**CLUSTER, "leading_enterprises": [
        {**LEADER, "name": f"企业{i}", "city": c} for i, c in enumerate(cities)]}


def city_case(values: dict[str, Any], **kw: Any) -> Any:
    """A case drafted by Wuhan's bureau (a city under Hubei)."""
    return case(authority_code="420100", parent_code="420000", parent_region=Region.CENTRAL,
                authority_name_zh="武汉市", authority_name_en="Wuhan", parent_name_zh="湖北省",
                values=values, **kw)


@pytest.mark.parametrize("typed", ["武汉市", "武汉", " 武汉 市 ", "湖北省武汉市", "420100", "Wuhan",
                                   "WUHAN", "wu han"])
def test_a_leading_enterprises_city_is_named_by_name_short_name_code_or_english(
        typed: str) -> None:
    assert names_city(typed, WUHAN_BUREAU)


@pytest.mark.parametrize("typed", ["襄阳市", "襄阳", "湖北省", "420600", "武汉市东湖新技术开发区",
                                   "", None, "湖北省襄阳市", "市"])
def test_another_city_a_province_or_an_address_does_not_name_the_city(
        typed: str | None) -> None:
    assert not names_city(typed, WUHAN_BUREAU)


ENSHI_BUREAU = Drafter("422800", "恩施土家族苗族自治州", "Enshi", "湖北省")


@pytest.mark.parametrize("typed", ["恩施州", "恩施", "湖北省恩施州", "恩施土家族苗族自治州", "422800",
                                   "enshi", " 恩施 州 "])
def test_an_autonomous_prefecture_is_named_by_its_place_with_or_without_zhou(
        typed: str) -> None:
    assert names_city(typed, ENSHI_BUREAU)


@pytest.mark.parametrize(("typed", "full"), [
    ("黔东南州", "黔东南苗族侗族自治州"),  # a place of three characters
    ("西双版纳州", "西双版纳傣族自治州"),
    ("伊犁州", "伊犁哈萨克自治州"),  # the nationality without 族
    ("克孜勒苏", "克孜勒苏柯尔克孜自治州"),
    ("海西州", "海西蒙古族藏族自治州"),
    ("阿里", "阿里地区"),
    ("锡林郭勒", "锡林郭勒盟"),
])
def test_any_prefecture_is_named_by_its_place_whatever_its_kind(typed: str, full: str) -> None:
    assert names_city(typed, Drafter("000100", full, "", "某省"))


@pytest.mark.parametrize("typed", ["恩施市", "恩", "州", "恩施土州", "湖北州", "422801", "湘西州"])
def test_a_part_of_an_autonomous_prefectures_name_or_another_prefecture_does_not_name_it(
        typed: str) -> None:
    assert not names_city(typed, ENSHI_BUREAU)


def test_a_city_picked_from_the_list_is_said_by_its_name_when_refused() -> None:
    picked = in_cities("420600")  # the form's list stores Xiangyang's code
    assert FORM.cities_named(picked) == {"420600"}
    refusals = FORM.drafter_checks("new_base", picked, WUHAN_BUREAU,
                                   {"420600": ("襄阳市", "Xiangyang")})
    assert fields_of(refusals) == [("not_a_leading_enterprise_city",
                                    "leading_enterprises[0].city")]
    assert "武汉市（襄阳市）" in refusals[0].zh and "in Wuhan (Xiangyang)" in refusals[0].en
    assert refusals[0].details["cities"] == ["420600"]  # as stored, for API clients
    assert FORM.drafter_checks("new_base", in_cities("420600", "420100"), WUHAN_BUREAU) == []


def test_the_leading_enterprises_city_is_a_city_column_the_api_may_still_type() -> None:
    column = FORM.table("leading_enterprises").fields[1]  # type: ignore[union-attr]
    assert (column.name, column.kind) == ("city", "city")
    clean, errors = FORM.clean({"leading_enterprises": [{"name": "a", "city": " 恩施州 "}]})
    assert errors == [] and clean["leading_enterprises"][0]["city"] == "恩施州"
    items = FORM.json_schema()["properties"]["leading_enterprises"]["items"]
    assert items["properties"]["city"] == {
        "title": "所在地级市", "description": "City", "type": "string", "maxLength": 50,
        "x-choices": "cities_of_province"}


def test_a_form_with_an_unknown_field_type_is_refused_naming_the_city_type() -> None:
    bad = {**RAW, "fields": [*RAW["fields"], {"name": "c", "zh": "c", "en": "c",
                                              "type": "town", "section": "s"}]}
    with pytest.raises(DefinitionError, match=r"\(c\)\.type: unknown type 'town' .*city"):
        parse_form("p.toml", bad)
    city_table = {**LE_TABLE, "fields": [{**f, "type": "city"} if f["name"] == "city" else f
                                         for f in LE_TABLE["fields"]]}
    form = parse_form("p.toml", {**RAW, "tables": [city_table],
                                 "checks": [listed_city_check()]})
    assert form.checks[0].column == "city" and form.tables[0].fields[1].kind == "city"


def test_a_citys_bureau_prepares_a_cluster_only_with_a_leading_enterprise_in_its_city() -> None:
    assert prepares_cluster(WUHAN_BUREAU, ["襄阳市", "武汉市"])
    assert not prepares_cluster(WUHAN_BUREAU, ["襄阳市", "宜昌市"])
    # a row whose city is still blank may be Wuhan's: a draft is not wrong for it yet
    assert prepares_cluster(WUHAN_BUREAU, ["襄阳市", None])
    assert prepares_cluster(WUHAN_BUREAU, [])


def test_the_province_itself_prepares_a_provincial_leading_enterprises_cluster() -> None:
    # 002 §六(三): 省级龙头企业由省商务主管部门组织申报材料
    assert prepares_cluster(HUBEI_ITSELF, ["襄阳市"])


def test_a_cluster_of_xiangyang_drafted_by_wuhan_is_refused_naming_the_city_column() -> None:
    refusals = FORM.drafter_checks("new_base", in_cities("襄阳市", "襄阳"), WUHAN_BUREAU)
    assert fields_of(refusals) == [("not_a_leading_enterprise_city",
                                    "leading_enterprises[0].city")]
    zh, en = refusals[0].zh, refusals[0].en
    assert zh.startswith("龙头企业所在地级市：") and "武汉市（襄阳市、襄阳）" in zh
    assert "002 §六(三)" in zh and "notice 002, §6(3)" in en and "in Wuhan (襄阳市, 襄阳)" in en
    assert refusals[0].details == {"authority": "420100", "authority_name": "武汉市",
                                   "cities": ["襄阳市", "襄阳"]}


def test_a_region_or_a_recertification_of_wuhan_is_not_asked_about_leading_enterprises() -> None:
    region = {**in_cities("襄阳市"), "applicant_type": "region"}
    assert FORM.drafter_checks("new_base", region, WUHAN_BUREAU) == []
    assert FORM.drafter_checks("recertification", in_cities("襄阳市"), WUHAN_BUREAU) == []
    assert FORM.drafter_checks("new_base", in_cities("武汉市"), WUHAN_BUREAU) == []


def test_submitting_or_recommending_a_cluster_drafted_by_the_wrong_city_is_refused() -> None:
    wrong = city_case(in_cities("襄阳市"))
    assert fields_of(machine.check(wrong, "submit", ctx(APPLICANT))) == [
        ("not_a_leading_enterprise_city", "leading_enterprises[0].city")]
    reviewed = city_case(in_cities("襄阳市"), state="provincially_reviewed")
    assert ("not_a_leading_enterprise_city", "leading_enterprises[0].city") in fields_of(
        machine.check(reviewed, "recommend", ctx(HUBEI)))
    assert machine.check(city_case(in_cities("襄阳市", "武汉市")), "submit", ctx(APPLICANT)) == []
    # the province's own draft (case() is Hubei's): a provincial leading enterprise
    assert machine.check(case(values=in_cities("襄阳市")), "submit", ctx(APPLICANT)) == []


def test_guangdongs_programme_has_no_clusters_and_no_such_check() -> None:
    gd = programme("guangdong-2006-59").form
    assert all(c.check != "prepared_in_listed_city" for c in gd.checks)
    assert gd.drafter_checks("enterprise", {"applicant_type": "cluster"}, WUHAN_BUREAU) == []


def listed_city_check(**over: Any) -> dict[str, Any]:
    return {"check": "prepared_in_listed_city", "field": "t", "value": "b", "table": "le",
            "column": "city", "zh": "不在{authority}（{cities}）", "en": "not in {authority}",
            **over}


LE_TABLE = {"name": "le", "zh": "龙头企业", "en": "leaders", "fields": [
    {"name": "name", "zh": "名称", "en": "name", "type": "text"},
    {"name": "city", "zh": "城市", "en": "city", "type": "text"},
    {"name": "rank", "zh": "排名", "en": "rank", "type": "int"}]}


@pytest.mark.parametrize(("over", "where"), [
    ({"table": "nope"}, r"checks\[0\]\.table: names a table"),
    ({"column": "rank"}, r"checks\[0\]\.column: names a text or city column of 'le'"),
    ({"value": "c"}, r"checks\[0\]\.value: 'c' is not an option"),
    ({"field": "r"}, r"checks\[0\]\.field: names a choice field"),
    ({"zh": "不在{city}"}, r"checks\[0\]\.zh: may name only \{authority\} and \{cities\}"),
])
def test_a_listed_city_check_that_names_no_table_column_or_known_words_is_refused(
        over: dict[str, Any], where: str) -> None:
    raw = {**RAW, "tables": [LE_TABLE], "checks": [listed_city_check(**over)]}
    with pytest.raises(DefinitionError, match=rf"p\.toml: form\.{where}"):
        parse_form("p.toml", raw)
    assert parse_form("p.toml", {**RAW, "tables": [LE_TABLE],
                                 "checks": [listed_city_check()]}).checks[0].column == "city"
