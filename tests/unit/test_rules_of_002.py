"""Every number of 商技发[2006]6号 (002) that the system applies, written out here with its
section — never read back from the product's own tables — so changing a rule fails a test
that names it. Where 002 is silent and the system chose (the northeast's quota, the notice's
length), the test says so."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from tests.unit.test_guards import GUANGZHOU, case, ctx, refusal_codes
from workflow.assessment import AssessmentRules
from workflow.calendar import WorkCalendar
from workflow.eligibility import FAIL, PASS, growth_verdict, threshold_verdict
from workflow.regions import AUTHORITIES, BY_CODE, Region
from workflow.reporting import annual_due, quarter_end, quarterly_due
from workflow.roles import Actor, Role
from workflow.rules import LocalityStat, ReferenceStats, RoundRules
from workflow.states import State

D = Decimal
RULES = RoundRules()  # the 2006 round


# --- regions: 002 §二, §六(二)(2) ----------------------------------------------------------

EAST = {"北京市", "天津市", "河北省", "上海市", "江苏省", "浙江省", "福建省", "山东省", "广东省",
        "海南省", "青岛市", "宁波市", "厦门市", "深圳市"}
CENTRAL = {"山西省", "安徽省", "江西省", "河南省", "湖北省", "湖南省"}
WEST = {"内蒙古自治区", "广西壮族自治区", "重庆市", "四川省", "贵州省", "云南省", "西藏自治区",
        "陕西省", "甘肃省", "青海省", "宁夏回族自治区", "新疆维吾尔自治区", "新疆生产建设兵团"}
NORTHEAST = {"辽宁省", "吉林省", "黑龙江省", "大连市"}


def test_the_37_submitting_authorities_and_their_regions() -> None:
    # 002 addressee: 各省、自治区、直辖市、计划单列市及新疆生产建设兵团 (31 + 5 + 1)
    assert len(AUTHORITIES) == 37
    by_region = {r: {a.name_zh for a in AUTHORITIES if a.region is r} for r in Region}
    assert by_region == {Region.EAST: EAST, Region.CENTRAL: CENTRAL, Region.WEST: WEST,
                         Region.NORTHEAST: NORTHEAST}


# --- thresholds: 002 §六(二)(2) -----------------------------------------------------------

@pytest.mark.parametrize(("region", "musd"), [
    ("east", 100),      # 东部地区在1亿美元以上
    ("central", 50),    # 中部和东北地区在5000万美元以上
    ("northeast", 50),
    ("west", 10),       # 西部地区在1000万美元以上
])
def test_the_high_tech_export_threshold_of_each_region(region: str, musd: int) -> None:
    assert RULES.threshold_for(region) == D(musd)  # 002 §六(二)(2), US$ millions


@pytest.mark.parametrize(("region", "exactly", "just_below"), [
    ("east", "1", "0.9999"),          # 1 亿美元 = US$100M; US$99.99M
    ("central", "0.5", "0.4999"),     # US$50M; US$49.99M
    ("northeast", "0.5", "0.4999"),
    ("west", "0.1", "0.0999"),        # US$10M; US$9.99M
])
def test_exports_exactly_at_the_threshold_pass_and_just_below_fail(
        region: str, exactly: str, just_below: str) -> None:
    # 002 §六(二)(2): "以上" includes the threshold itself; the form is in 亿美元
    assert threshold_verdict(region, D(exactly), RULES).outcome == PASS
    assert threshold_verdict(region, D(just_below), RULES).outcome == FAIL


def test_every_authority_gets_the_threshold_of_its_region() -> None:
    expected = {**dict.fromkeys(EAST, 100), **dict.fromkeys(CENTRAL, 50),
                **dict.fromkeys(NORTHEAST, 50), **dict.fromkeys(WEST, 10)}  # 002 §六(二)(2)
    assert {a.name_zh: RULES.threshold_for(a.region) for a in AUTHORITIES} == {
        name: D(musd) for name, musd in expected.items()}


# --- growth: 002 §六(二)(3) -------------------------------------------------------------

HUBEI = ("420000",)


def _refs(national: str, local: str) -> dict[int, ReferenceStats]:
    """2003–2005 with the same yearly national and Hubei's own growth each year."""
    return {y: ReferenceStats(y, national_hightech_growth_pct=D(national), localities={
        "420000": LocalityStat("420000", y, D(local), "湖北省统计局", "national")})
            for y in (2003, 2004, 2005)}


def test_growth_is_compared_over_the_three_years_before_the_round() -> None:
    # 002 §六(二)(3) 近三年: the 2006 round looks at 2003, 2004 and 2005
    v = growth_verdict("central", RULES.data_year, [D(10), D(10), D(10)], _refs("5", "5"), HUBEI)
    assert v.figures["years"] == [2003, 2004, 2005]


def test_growth_equal_to_the_national_growth_is_not_higher() -> None:
    # 002 §六(二)(3) 高于: strictly higher; 10 % a year for three years on both sides
    v = growth_verdict("central", 2005, [D(10), D(10), D(10)], _refs("10", "50"), HUBEI)
    assert v.figures["own_growth_pct"] == v.figures["national_hightech_growth_pct"] == D("33.10")
    assert v.outcome == FAIL and not v.figures["beats_national"]


def test_growth_equal_to_the_local_export_growth_is_not_higher() -> None:
    v = growth_verdict("central", 2005, [D(10), D(10), D(10)], _refs("50", "10"), HUBEI)
    assert v.figures["own_growth_pct"] == v.figures["locality_export_growth_pct"] == D("33.10")
    assert v.outcome == FAIL and not v.figures["beats_locality"]  # 002 §六(二)(3)


@pytest.mark.parametrize(("national", "region"), [("10", "50"), ("50", "10")])
def test_growth_a_hundredth_of_a_point_higher_than_either_passes(national: str,
                                                                 region: str) -> None:
    # 1.1 × 1.1 × 1.1001 − 1 = 33.11 % against 33.10 %: either comparison suffices (或)
    v = growth_verdict("central", 2005, [D(10), D(10), D("10.01")], _refs(national, region), HUBEI)
    assert v.figures["own_growth_pct"] == D("33.11")
    assert v.outcome == PASS  # 002 §六(二)(3)


# --- quotas: 002 §六(三) ----------------------------------------------------------------

def _quota(code: str, has_bases: bool) -> int:
    return RULES.quota_for(code, BY_CODE[code].region, has_bases)


@pytest.mark.parametrize("code", ["440000", "110000", "440300", "370200"])
def test_an_eastern_authority_with_bases_recommends_no_new_base(code: str) -> None:
    # 002 §六(三): 已有…基地的东部地区…对现有出口基地进行重新认定，不再另行推荐
    assert _quota(code, has_bases=True) == 0


@pytest.mark.parametrize("code", ["420000", "140000", "430000"])
def test_a_central_province_with_bases_may_recommend_one_more(code: str) -> None:
    assert _quota(code, has_bases=True) == 1  # 002 §六(三): 中西部…再推荐1家


@pytest.mark.parametrize("code", ["510000", "500000", "660000"])
def test_a_western_authority_with_bases_may_recommend_one_more(code: str) -> None:
    assert _quota(code, has_bases=True) == 1  # 002 §六(三): 中西部…再推荐1家


@pytest.mark.parametrize("code", ["210000", "210200", "220000", "230000"])
def test_a_northeastern_authority_with_bases_may_recommend_one_an_interpretation(
        code: str) -> None:
    # 002 §六(三) names the east and 中西部 only. Treating the northeast like the central
    # region (its threshold in §六(二)(2) is the central one) is this system's
    # interpretation, set in the round's rules (workflow/rules.py) — not a number of 002.
    assert _quota(code, has_bases=True) == 1


@pytest.mark.parametrize("code", ["460000", "330000", "430000", "540000", "220000"])
def test_an_authority_without_bases_may_recommend_one_whatever_its_region(code: str) -> None:
    assert _quota(code, has_bases=False) == 1  # 002 §六(三): 原来没有基地的…可推荐1家


@pytest.mark.parametrize(("code", "region", "has_bases", "allowed"), [
    ("440000", Region.EAST, True, 0),
    ("420000", Region.CENTRAL, True, 1),
    ("510000", Region.WEST, True, 1),
    ("210000", Region.NORTHEAST, True, 1),  # interpretation, see above
    ("460000", Region.EAST, False, 1),
])
def test_the_recommend_guard_holds_each_quota(code: str, region: Region, has_bases: bool,
                                              allowed: int) -> None:
    # 002 §六(三): the (allowed + 1)-th new base of a province is refused
    reviewer = Actor(20, Role.PROVINCIAL_REVIEWER, code)
    c = case(State.PROVINCIALLY_REVIEWED, authority_code=code, region=region,
             authority_has_bases=has_bases)
    if allowed:
        assert refusal_codes(c, "recommend", ctx(reviewer, quota_used=allowed - 1)) == []
    assert refusal_codes(c, "recommend", ctx(reviewer, quota_used=allowed)) == [
        "quota_exceeded"]


def test_recertifying_existing_bases_takes_no_quota() -> None:
    # 002 §五(一), §六(三): re-certification is apart from the new-base recommendation
    reviewer = Actor(22, Role.PROVINCIAL_REVIEWER, "440000")
    c = case(State.PROVINCIALLY_REVIEWED, kind="recertification", authority_code="440000",
             region=Region.EAST, authority_has_bases=True, existing_base=GUANGZHOU)
    assert refusal_codes(c, "recommend", ctx(reviewer, quota_used=3)) == []


def test_re_certification_is_only_for_an_existing_base_of_the_register() -> None:
    # 002 §五(一), §六(一): 以国家高新技术产品出口基地、国家医药出口基地和国家软件出口基地为基础
    # …重新评估 — without its base, a "re-certification" is refused, whatever the quota
    reviewer = Actor(22, Role.PROVINCIAL_REVIEWER, "440000")
    c = case(State.PROVINCIALLY_REVIEWED, kind="recertification", authority_code="440000",
             region=Region.EAST, authority_has_bases=True)
    assert refusal_codes(c, "recommend", ctx(reviewer, quota_used=0)) == [
        "existing_base_required"]


# --- the programme: 002 §一, §五 --------------------------------------------------------

def test_about_fifteen_new_bases_nationwide_in_2006() -> None:
    assert RULES.national_new_target == 15  # 002 §五(二): 再认定十五个左右新的出口创新基地


def test_the_seven_fields_of_new_bases_in_2006() -> None:
    # 002 §五(二): 信息、医药、软件、新材料、精细化工、海洋产业、空天
    assert RULES.new_base_fields == ("information", "pharmaceuticals", "software",
                                     "new_materials", "fine_chemicals", "marine", "aerospace")


def test_bases_account_for_seventy_percent_of_national_high_tech_exports_as_the_goal() -> None:
    assert AssessmentRules().programme_share_goal_pct == D(70)  # 002 §一: 70%左右


# --- the calendar: 002 §六(三), §四(四) -------------------------------------------------

def test_provinces_submit_to_the_ministry_by_30_april_2006() -> None:
    assert RULES.submission_deadline == date(2006, 4, 30)  # 002 §六(三): 4月30日前


def test_the_ministry_approves_by_the_end_of_may_2006() -> None:
    assert RULES.approval_deadline == date(2006, 5, 31)  # 002 §六(三): 5月底前


def test_the_2006_form_asks_for_the_figures_of_2005() -> None:
    assert RULES.year == 2006 and RULES.data_year == 2005  # 002 annex: 2005 年度


def test_the_public_notice_lasts_five_working_days_by_default_a_choice_002_leaves_open() -> None:
    # 002 §六(三) 网上公示 fixes no length; five working days is the system's default
    assert RULES.notice_working_days == 5
    # published Friday 28 April 2006: 29–30 April were worked, 1–7 May off → Wednesday 10 May
    end = WorkCalendar().add_working_days(date(2006, 4, 28), RULES.notice_working_days)
    assert end == date(2006, 5, 10)


def test_the_annual_work_report_is_due_by_31_december() -> None:
    assert annual_due(2006, RULES) == date(2006, 12, 31)  # 002 §四(四): 每年12月底前
    assert annual_due(2007, replace(RULES, year=2007)) == date(2007, 12, 31)


def test_later_rounds_keep_the_2006_calendar_on_their_own_year() -> None:
    later = RoundRules.for_year(2007)
    assert (later.submission_deadline, later.approval_deadline) == (date(2007, 4, 30),
                                                                    date(2007, 5, 31))
    assert later.data_year == 2006 and later.notice_working_days == 5


def test_data_on_the_bases_are_due_every_quarter() -> None:
    # 002 §四(四): 每季度上报出口创新基地及其重点企业的数据 — four reports a year, each
    # due after its quarter has ended (how many working days after is the round's choice)
    ends = [quarter_end(2006, q) for q in (1, 2, 3, 4)]
    assert ends == [date(2006, 3, 31), date(2006, 6, 30), date(2006, 9, 30), date(2006, 12, 31)]
    assert all(end < quarterly_due(2006, q, RULES, WorkCalendar())
               for q, end in zip((1, 2, 3, 4), ends, strict=True))
