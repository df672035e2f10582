"""Every guard of every trigger, with the refusal a reviewer would read."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from workflow import effects, machine
from workflow.errors import GuardFailed, InvalidTrigger
from workflow.model import Case, Context
from workflow.regions import Region
from workflow.register import ExistingBase
from workflow.roles import Actor, Role
from workflow.rules import RoundRules
from workflow.states import BY_TRIGGER, TRANSITIONS, State

APPLICANT = Actor(10, Role.APPLICANT, "420000", "申报人")
HUBEI = Actor(20, Role.PROVINCIAL_REVIEWER, "420000", "湖北审核")
HUNAN = Actor(21, Role.PROVINCIAL_REVIEWER, "430000", "湖南审核")
MOFCOM = Actor(30, Role.MINISTRY_REVIEWER, None, "商务部")
SYSADMIN = Actor(40, Role.SYSTEM_ADMIN, None, "系统管理员")
WUHAN = ExistingBase(7, "武汉国家高新技术产品出口基地", "hightech", "designated", "420000")
GUANGZHOU = ExistingBase(8, "广州国家高新技术产品出口基地", "hightech", "designated", "440000")
NOW = datetime(2006, 5, 15, 2, tzinfo=UTC)

COMPLETE = {
    "applicant_name": "武汉光谷", "contact_person": "张明", "contact_phone": "027-87654321",
    "contact_email": "a@example.cn", "filled_on": date(2006, 3, 1), "address": "武汉",
    "characteristic_industry": "光电子", "enterprise_count": 10,
    "total_sales_100m_cny": Decimal(1), "total_assets_10k_cny": Decimal(1),
    "exports_100m_usd": Decimal(1), "export_growth_pct": Decimal(1),
    "profit_tax_10k_cny": Decimal(1), "hightech_exports_100m_usd": Decimal(1),
    "hightech_export_growth_pct": Decimal(1), "hightech_export_growth_pct_prev1": Decimal(1),
    "hightech_export_growth_pct_prev2": Decimal(1), "employees": 100,
}


def case(state: State = State.DRAFTED, **kw: Any) -> Case:
    base = Case(id=1, state=state, version=1, kind="new_base", authority_code="420000",
                region=Region.CENTRAL, authority_has_bases=True, round_year=2006,
                owner_id=APPLICANT.user_id, values=dict(COMPLETE),
                products=[{"name": "光纤", "exports_10k_usd": Decimal(10)}],
                attachment_kinds=frozenset({"application_form", "development_plan",
                                            "recommendation_letter"}),
                notice_published_on=date(2006, 4, 28), notice_ends_on=date(2006, 5, 10))
    return replace(base, **kw)


def ctx(actor: Actor, today: date | None = None, **kw: Any) -> Context:
    """Each reviewer within its deadline of 002 §六(三) unless a test says otherwise: the
    province recommends before 30 April, the ministry acts in May."""
    if today is None:
        today = date(2006, 4, 20) if actor.role is Role.PROVINCIAL_REVIEWER \
            else date(2006, 5, 15)
    return Context(actor=actor, now=NOW, rules=kw.pop("rules", RoundRules()), local_today=today,
                   **kw)


def refusal_codes(c: Case, trigger: str, context: Context) -> list[str]:
    return [r.code for r in machine.check(c, trigger, context)]


def test_every_trigger_checks_role_and_scope_first() -> None:
    for spec in TRANSITIONS:
        assert machine.guards_of(spec)[:2] == ("role", "scope")


def test_applicant_submits_a_complete_draft() -> None:
    c = case()
    out = machine.fire(c, "submit", ctx(APPLICANT))
    assert (out.source, out.dest) == (State.DRAFTED, State.PROVINCIALLY_REVIEWED)
    assert c.state == State.PROVINCIALLY_REVIEWED
    assert machine.MACHINE.models == []  # nothing stays attached to the shared machine


def test_submit_names_the_empty_fields_and_missing_attachments() -> None:
    c = case(values={**COMPLETE, "contact_email": None}, products=[],
             attachment_kinds=frozenset({"application_form"}))
    refusals = machine.check(c, "submit", ctx(APPLICANT))
    assert [r.code for r in refusals] == ["incomplete_form", "missing_attachment"]
    assert refusals[0].details["fields"] == ["contact_email", "products"]
    assert refusals[1].details["attachments"] == ["development_plan"]
    assert "发展方案" in refusals[1].zh


def test_recertification_does_not_need_three_years_of_growth() -> None:
    values = {k: v for k, v in COMPLETE.items() if not k.endswith(("prev1", "prev2"))}
    assert refusal_codes(case(kind="recertification", values=values, existing_base=WUHAN),
                         "submit", ctx(APPLICANT)) == []


def test_another_applicants_case_is_out_of_scope() -> None:
    other = Actor(11, Role.APPLICANT, "420000")
    assert refusal_codes(case(), "submit", ctx(other)) == ["out_of_scope"]


# --- the tree of authorities: a city's case --------------------------------------------

def wuhan_case(state: State = State.DRAFTED, **kw: Any) -> Case:
    """A case drafted by the Wuhan bureau (420100), reviewed by Hubei (420000)."""
    return case(state, authority_code="420100", parent_code="420000",
                parent_region=Region.CENTRAL, owner_id=12, **kw)


def test_a_city_bureaus_accounts_submit_its_drafts_and_not_another_citys() -> None:
    colleague = Actor(14, Role.APPLICANT, "420100")  # the Wuhan bureau's other account
    xiangyang = Actor(13, Role.APPLICANT, "420600")
    assert refusal_codes(wuhan_case(), "submit", ctx(colleague)) == []
    assert refusal_codes(wuhan_case(), "submit", ctx(xiangyang)) == ["out_of_scope"]
    assert refusal_codes(wuhan_case(), "submit", ctx(APPLICANT)) == ["out_of_scope"]


def test_the_province_reviews_its_citys_case_and_another_province_does_not() -> None:
    c = wuhan_case(State.PROVINCIALLY_REVIEWED)
    assert refusal_codes(c, "recommend", ctx(HUBEI)) == []
    assert refusal_codes(c, "recommend", ctx(HUNAN)) == ["out_of_scope"]
    city_reviewer = Actor(23, Role.PROVINCIAL_REVIEWER, "420100")
    assert refusal_codes(c, "recommend", ctx(city_reviewer)) == ["out_of_scope"]


def test_a_citys_new_base_uses_its_provinces_quota() -> None:
    c = wuhan_case(State.PROVINCIALLY_REVIEWED)
    assert refusal_codes(c, "recommend", ctx(HUBEI, quota_used=0)) == []
    refusals = machine.check(c, "recommend", ctx(HUBEI, quota_used=1))
    assert [r.code for r in refusals] == ["quota_exceeded"]
    assert refusals[0].details == {"quota": 1, "used": 1}
    rules = RoundRules(quota_overrides={"420000": 2})  # the province's override counts
    assert refusal_codes(c, "recommend", ctx(HUBEI, quota_used=1, rules=rules)) == []


def test_a_western_prefecture_in_a_central_province_keeps_the_provinces_quota() -> None:
    # 恩施州 is classed West for the thresholds; Hubei's quota stays the central one
    enshi = case(State.PROVINCIALLY_REVIEWED, authority_code="422800", region=Region.WEST,
                 parent_code="420000", parent_region=Region.CENTRAL,
                 authority_has_bases=True)
    rules = RoundRules(quota_new_with_bases={"east": 0, "central": 0, "west": 1,
                                             "northeast": 1})
    assert refusal_codes(enshi, "recommend", ctx(HUBEI, rules=rules)) == ["quota_exceeded"]


def test_a_hunan_reviewer_cannot_touch_a_hubei_case() -> None:
    c = case(State.PROVINCIALLY_REVIEWED)
    assert refusal_codes(c, "recommend", ctx(HUNAN)) == ["out_of_scope"]


@pytest.mark.parametrize("actor", [APPLICANT, MOFCOM, SYSADMIN])
def test_only_provincial_reviewers_recommend(actor: Actor) -> None:
    r = machine.check(case(State.PROVINCIALLY_REVIEWED), "recommend", ctx(actor))
    assert [x.code for x in r] == ["role_not_allowed"]
    assert "省级审核人员" in r[0].zh and "provincial_reviewer" in r[0].en


def test_the_drafter_cannot_review_their_own_application() -> None:
    # a reviewer deputising for the applicant who drafted it
    deputy = Actor(20, Role.PROVINCIAL_REVIEWER, "420000", on_behalf_of_id=APPLICANT.user_id)
    assert "separation_of_duties" in refusal_codes(
        case(State.PROVINCIALLY_REVIEWED), "recommend", ctx(deputy))
    same_person = case(State.PROVINCIALLY_REVIEWED, owner_id=HUBEI.user_id)
    assert "separation_of_duties" in refusal_codes(same_person, "decline",
                                                   ctx(HUBEI, reason="x"))


def test_the_recommender_cannot_also_approve() -> None:
    c = case(State.PUBLICLY_SHOWN, recommended_by_id=MOFCOM.user_id)
    assert refusal_codes(c, "approve", ctx(MOFCOM)) == ["separation_of_duties"]


@pytest.mark.parametrize("trigger,state,actor", [
    ("return_for_revision", State.PROVINCIALLY_REVIEWED, HUBEI),
    ("decline", State.PROVINCIALLY_REVIEWED, HUBEI),
    ("reject", State.RECOMMENDED, MOFCOM),
    ("revoke", State.APPROVED, MOFCOM),
    ("withdraw", State.DRAFTED, APPLICANT),
])
def test_returns_declines_rejections_and_revocations_need_a_reason(
        trigger: str, state: State, actor: Actor) -> None:
    assert refusal_codes(case(state), trigger, ctx(actor)) == ["reason_required"]
    assert refusal_codes(case(state), trigger, ctx(actor, reason="   ")) == ["reason_required"]
    assert refusal_codes(case(state), trigger, ctx(actor, reason="数据不实")) == []


def test_recommend_needs_the_recommendation_letter() -> None:
    c = case(State.PROVINCIALLY_REVIEWED, attachment_kinds=frozenset({"application_form",
                                                                       "development_plan"}))
    r = machine.check(c, "recommend", ctx(HUBEI))
    assert [x.code for x in r] == ["missing_attachment"] and "推荐文件" in r[0].zh


# --- quotas (002 §六(三)) -------------------------------------------------------------

def _recommend(c: Case, used: int) -> list[str]:
    return refusal_codes(c, "recommend", ctx(HUBEI, quota_used=used))


def test_an_eastern_province_with_bases_cannot_recommend_a_new_base() -> None:
    gd = Actor(22, Role.PROVINCIAL_REVIEWER, "440000")
    c = case(State.PROVINCIALLY_REVIEWED, authority_code="440000", region=Region.EAST,
             authority_has_bases=True)
    r = machine.check(c, "recommend", ctx(gd, quota_used=0))
    assert [x.code for x in r] == ["quota_exceeded"]
    assert "东部" in r[0].zh and r[0].details == {"quota": 0, "used": 0}


def test_an_eastern_province_with_bases_still_recertifies_them() -> None:
    gd = Actor(22, Role.PROVINCIAL_REVIEWER, "440000")
    c = case(State.PROVINCIALLY_REVIEWED, kind="recertification", authority_code="440000",
             region=Region.EAST, authority_has_bases=True, existing_base=GUANGZHOU)
    assert refusal_codes(c, "recommend", ctx(gd, quota_used=5)) == []


# --- re-certification names a real base (002 §五(一), §六(一)) ------------------------

GANSU = Actor(23, Role.PROVINCIAL_REVIEWER, "620000")


def gansu_case(state: State = State.PROVINCIALLY_REVIEWED, **kw: Any) -> Case:
    return case(state, authority_code="620000", region=Region.WEST, authority_has_bases=False,
                **kw)


@pytest.mark.parametrize("trigger,state,actor", [
    ("submit", State.DRAFTED, APPLICANT), ("recommend", State.PROVINCIALLY_REVIEWED, HUBEI),
    ("approve", State.PUBLICLY_SHOWN, MOFCOM)])
def test_a_re_certification_naming_no_base_is_refused_at_submit_recommend_and_approve(
        trigger: str, state: State, actor: Actor) -> None:
    r = machine.check(case(state, kind="recertification"), trigger, ctx(actor))
    assert [x.code for x in r] == ["existing_base_required"]
    assert r[0].field == "existing_base_id" and "出口基地名录" in r[0].zh
    assert "002 §五(一)" in r[0].en


def test_a_province_without_bases_cannot_slip_a_new_base_in_as_a_re_certification() -> None:
    # Gansu has no base: its second application labelled a re-certification names no
    # base of its own, so it is refused, and its one new base still counts against quota
    assert refusal_codes(gansu_case(kind="recertification"), "recommend",
                         ctx(GANSU, quota_used=1)) == ["existing_base_required"]
    assert refusal_codes(gansu_case(kind="recertification", existing_base=WUHAN),
                         "recommend", ctx(GANSU, quota_used=1)) == ["base_of_another_authority"]
    assert refusal_codes(gansu_case(), "recommend", ctx(GANSU, quota_used=1)) == [
        "quota_exceeded"]


@pytest.mark.parametrize("base,code", [
    (replace(WUHAN, status="revoked"), "base_revoked"),
    (replace(WUHAN, base_type="innovation"), "base_not_recertifiable"),
    (replace(WUHAN, authority_code="430000"), "base_of_another_authority"),
])
def test_only_an_own_national_base_still_designated_may_be_re_certified(
        base: ExistingBase, code: str) -> None:
    c = case(State.PROVINCIALLY_REVIEWED, kind="recertification", existing_base=base)
    assert refusal_codes(c, "recommend", ctx(HUBEI)) == [code]


def test_a_rectifying_national_base_may_still_be_re_certified() -> None:
    c = case(State.PROVINCIALLY_REVIEWED, kind="recertification",
             existing_base=replace(WUHAN, status="rectifying"))
    assert refusal_codes(c, "recommend", ctx(HUBEI)) == []


def test_the_type_on_the_form_must_be_the_type_in_the_register() -> None:
    c = case(State.DRAFTED, kind="recertification", existing_base=WUHAN,
             existing_base_type="software")
    r = machine.check(c, "submit", ctx(APPLICANT))
    assert [x.code for x in r] == ["base_type_mismatch"] and r[0].field == "existing_base_type"
    assert "高新技术产品出口基地" in r[0].zh


def test_a_base_another_case_has_taken_cannot_be_re_certified_twice() -> None:
    c = case(State.PROVINCIALLY_REVIEWED, kind="recertification", existing_base=WUHAN)
    r = machine.check(c, "recommend", ctx(HUBEI, base_claimed_by=41))
    assert [x.code for x in r] == ["base_already_claimed"] and r[0].details["case"] == 41


def test_a_central_province_may_recommend_one_new_base_and_not_a_second() -> None:
    c = case(State.PROVINCIALLY_REVIEWED)
    assert _recommend(c, 0) == []
    assert _recommend(c, 1) == ["quota_exceeded"]


def test_a_province_without_bases_may_recommend_one() -> None:
    c = case(State.PROVINCIALLY_REVIEWED, authority_code="420000", region=Region.EAST,
             authority_has_bases=False)
    assert _recommend(c, 0) == [] and _recommend(c, 1) == ["quota_exceeded"]


def test_quota_is_data_of_the_round() -> None:
    rules = RoundRules(quota_overrides={"420000": 2})
    c = case(State.PROVINCIALLY_REVIEWED)
    assert refusal_codes(c, "recommend", ctx(HUBEI, quota_used=1, rules=rules)) == []
    with pytest.raises(GuardFailed) as err:
        machine.fire(c, "recommend", ctx(HUBEI, quota_used=2, rules=rules))
    assert err.value.code == "quota_exceeded"


def test_a_blocking_criterion_stops_the_recommendation_only_when_the_round_says_so() -> None:
    weak = case(State.PROVINCIALLY_REVIEWED,
                values={**COMPLETE, "hightech_exports_100m_usd": Decimal("0.1")})
    assert _recommend(weak, 0) == ["criterion_failed"]  # overridable, with a reason
    rules = RoundRules(blocking_criteria=frozenset({"hightech_exports_threshold"}))
    refusals = machine.check(weak, "recommend", ctx(HUBEI, rules=rules,
                                                    override_reason="省里认为可以"))
    assert [r.code for r in refusals] == ["criterion_blocking"]
    assert "002 §六(二)(2)" in refusals[0].zh and "门槛 50 百万美元" in refusals[0].zh


# --- a failed criterion: an explicit, reasoned override (issue 16 item 4) ------------

KUNMING = Actor(23, Role.PROVINCIAL_REVIEWER, "530000", "云南审核")


def kunming(state: State = State.PROVINCIALLY_REVIEWED, **kw: Any) -> Case:
    """昆明: US$9.99M of high-tech exports against the west's US$10M (002 §六(二)(2))."""
    kw.setdefault("values", {**COMPLETE, "hightech_exports_100m_usd": Decimal("0.0999")})
    return case(state, authority_code="530000", region=Region.WEST, authority_has_bases=False,
                **kw)


def test_recommending_a_case_below_the_threshold_asks_for_an_override_naming_the_figures(
) -> None:
    refusals = machine.check(kunming(), "recommend", ctx(KUNMING))
    assert [(r.code, r.field) for r in refusals] == [("criterion_failed", "override_reason")]
    assert "9.99 百万美元" in refusals[0].zh and "10 百万美元" in refusals[0].zh
    assert refusals[0].details["criteria"] == ["hightech_exports_threshold"]
    assert refusals[0].details["verdicts"][0]["figures"]["threshold_musd"] == "10"


@pytest.mark.parametrize(("state", "trigger", "actor"), [
    (State.PROVINCIALLY_REVIEWED, "recommend", KUNMING),
    (State.RECOMMENDED, "publish_notice", MOFCOM),
    (State.PUBLICLY_SHOWN, "approve", MOFCOM),
])
def test_every_forward_step_of_a_reviewer_on_a_failing_case_needs_its_own_reason(
        state: State, trigger: str, actor: Actor) -> None:
    c = kunming(state)
    assert "criterion_failed" in refusal_codes(c, trigger, ctx(actor))
    assert refusal_codes(c, trigger, ctx(actor, override_reason="  ")) == ["criterion_failed"]
    assert refusal_codes(c, trigger, ctx(actor, override_reason="全省唯一的软件产业集聚区")) == []


def test_the_case_page_offers_the_overridable_step_and_says_what_it_asks() -> None:
    c, context = kunming(), ctx(KUNMING)
    assert "recommend" in machine.available(c, context)
    assert [r.code for r in machine.asks(c, context, "recommend")] == ["criterion_failed"]
    assert machine.asks(case(State.PROVINCIALLY_REVIEWED), ctx(HUBEI), "recommend") == []


def test_a_blocking_criterion_is_refused_even_with_a_reason_and_shown_as_unavailable() -> None:
    rules = RoundRules(blocking_criteria=frozenset({"hightech_exports_threshold"}))
    context = ctx(KUNMING, rules=rules, override_reason="理由")
    with pytest.raises(GuardFailed) as err:
        machine.fire(kunming(), "recommend", context)
    assert err.value.first.code == "criterion_blocking"
    allowed, refused = machine.options(kunming(), ctx(KUNMING, rules=rules))
    assert "recommend" not in allowed and refused["recommend"][0].code == "criterion_blocking"


def test_a_criterion_awaiting_a_reviewer_is_not_a_failure_to_override() -> None:
    pending = kunming(values=dict(COMPLETE), attestations={"local_policy": None})
    assert refusal_codes(pending, "recommend", ctx(KUNMING)) == []


def test_an_attestation_the_reviewer_denied_is_a_failure_to_override() -> None:
    denied = case(State.RECOMMENDED, attestations={"leading_enterprises": False})
    refusals = machine.check(denied, "publish_notice", ctx(MOFCOM))
    assert [r.code for r in refusals] == ["criterion_failed"]
    assert "002 §六(二)(4)" in refusals[0].zh


def test_the_override_marks_the_case_with_the_criteria_and_keeps_the_reason_for_history(
) -> None:
    c = kunming()
    context = ctx(KUNMING, override_reason="省政府专项支持")
    spec = BY_TRIGGER["recommend"]
    assert effects.apply(c, context, spec)["overridden_criteria"] == [
        "hightech_exports_threshold"]
    notes = effects.history_notes(c, context, spec)
    assert notes["override"]["reason"] == "省政府专项支持"
    assert notes["override"]["criteria"] == ["hightech_exports_threshold"]
    assert "late" not in notes


# --- deadlines that matter (002 §六(三), issue 16 item 11) ---------------------------

def test_a_recommendation_after_30_april_needs_a_reason_for_the_delay() -> None:
    c = case(State.PROVINCIALLY_REVIEWED)
    assert refusal_codes(c, "recommend", ctx(HUBEI, today=date(2006, 4, 30))) == []
    refusals = machine.check(c, "recommend", ctx(HUBEI, today=date(2006, 5, 1)))
    assert [(r.code, r.field) for r in refusals] == [("late_reason_required", "late_reason")]
    assert "2006-04-30" in refusals[0].zh and "002 §六(三)" in refusals[0].zh
    assert refusal_codes(c, "recommend", ctx(HUBEI, today=date(2006, 5, 1),
                                             late_reason="省内评审会延期")) == []


def test_an_approval_after_the_end_of_may_needs_a_reason_and_is_marked_late_approval() -> None:
    c = case(State.PUBLICLY_SHOWN)
    assert refusal_codes(c, "approve", ctx(MOFCOM, today=date(2006, 5, 31))) == []
    late = ctx(MOFCOM, today=date(2006, 6, 1), late_reason="异议核查")
    assert refusal_codes(c, "approve", ctx(MOFCOM, today=date(2006, 6, 1))) == [
        "late_reason_required"]
    spec = BY_TRIGGER["approve"]
    assert effects.apply(c, late, spec)["late_steps"] == ["approve"]
    assert effects.history_notes(c, late, spec)["late"] == {
        "deadline": "2006-05-31", "badge_zh": "逾期核准", "badge_en": "Late approval",
        "reason": "异议核查"}


def test_the_deadline_is_the_rounds_own() -> None:
    rules = RoundRules(submission_deadline=date(2006, 5, 20))
    c = case(State.PROVINCIALLY_REVIEWED)
    assert refusal_codes(c, "recommend", ctx(HUBEI, today=date(2006, 5, 15), rules=rules)) == []


def test_publishing_the_notice_has_no_deadline_of_its_own() -> None:
    assert refusal_codes(case(State.RECOMMENDED), "publish_notice",
                         ctx(MOFCOM, today=date(2006, 6, 20))) == []


# --- the public notice ---------------------------------------------------------------

def test_approval_waits_for_the_last_working_day_of_the_notice() -> None:
    c = case(State.PUBLICLY_SHOWN)
    assert refusal_codes(c, "approve", ctx(MOFCOM, today=date(2006, 5, 10))) == [
        "notice_not_elapsed"]
    assert refusal_codes(c, "approve", ctx(MOFCOM, today=date(2006, 5, 11))) == []


def test_approval_waits_for_every_objection_to_be_resolved() -> None:
    c = case(State.PUBLICLY_SHOWN, open_objections=2)
    r = machine.check(c, "approve", ctx(MOFCOM))
    assert [x.code for x in r] == ["open_objection"] and "2" in r[0].zh


def test_an_objection_can_only_be_upheld_when_one_is_open() -> None:
    assert refusal_codes(case(State.PUBLICLY_SHOWN), "uphold_objection",
                         ctx(MOFCOM, reason="属实")) == ["no_objection"]
    assert refusal_codes(case(State.PUBLICLY_SHOWN, open_objections=1), "uphold_objection",
                         ctx(MOFCOM, reason="属实")) == []


def test_nothing_reaches_approved_without_the_notice() -> None:
    for state in State:
        if state == State.PUBLICLY_SHOWN:
            continue
        with pytest.raises(InvalidTrigger) as err:
            machine.fire(case(state), "approve", ctx(MOFCOM))
        assert err.value.first.code == "trigger_not_allowed_in_state"


def test_rectification_needs_a_deadline_after_today() -> None:
    c = case(State.APPROVED)
    assert refusal_codes(c, "order_rectification", ctx(MOFCOM, reason="缺报")) == [
        "deadline_required"]
    assert refusal_codes(c, "order_rectification",
                         ctx(MOFCOM, reason="缺报", rectification_deadline=date(2006, 5, 15))
                         ) == ["deadline_required"]
    assert refusal_codes(c, "order_rectification",
                         ctx(MOFCOM, reason="缺报", rectification_deadline=date(2006, 9, 30))
                         ) == []


def test_an_unknown_trigger_is_named() -> None:
    with pytest.raises(InvalidTrigger) as err:
        machine.fire(case(), "teleport", ctx(APPLICANT))
    assert err.value.first.code == "unknown_trigger" and "teleport" in err.value.first.en


def test_available_triggers_are_what_the_actor_may_fire_now() -> None:
    c = case(State.PROVINCIALLY_REVIEWED)
    assert machine.available(c, ctx(HUBEI)) == ["return_for_revision", "decline", "recommend"]
    assert machine.available(c, ctx(HUNAN)) == []
    assert machine.available(c, ctx(APPLICANT)) == ["withdraw"]


def test_a_refused_trigger_leaves_the_case_as_it_was() -> None:
    c = case(State.PUBLICLY_SHOWN, open_objections=1)
    with pytest.raises(GuardFailed):
        machine.fire(c, "approve", ctx(MOFCOM))
    assert c.state == State.PUBLICLY_SHOWN
    assert machine.MACHINE.models == []


def test_every_transition_row_names_its_words_in_both_languages() -> None:
    for spec in TRANSITIONS:
        assert spec.zh and spec.en, spec.trigger
    assert set(BY_TRIGGER) >= {"submit", "return_for_revision", "recommend", "publish_notice",
                               "uphold_objection", "approve", "order_rectification", "revoke"}
