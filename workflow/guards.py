"""Guards: named checks that a transition's row in `workflow.states` lists.

Each returns ``None`` when satisfied or a `Refusal` saying, in Chinese and English,
which rule said no and why.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from workflow import eligibility, register
from workflow.errors import Refusal, refuse
from workflow.model import Case, Context
from workflow.roles import Role
from workflow.states import TransitionSpec

Guard = Callable[[Case, Context, TransitionSpec], "Refusal | None"]



def role(case: Case, ctx: Context, spec: TransitionSpec) -> Refusal | None:
    if ctx.actor.role in spec.roles:
        return None
    allowed_zh = "、".join(r.zh for r in sorted(spec.roles))
    allowed_en = ", ".join(sorted(r.value for r in spec.roles))
    return refuse("role_not_allowed", f"只有{allowed_zh}可以执行“{spec.zh}”",
                  f"only {allowed_en} may {spec.en.lower()}", guard="role")


def scope(case: Case, ctx: Context, spec: TransitionSpec) -> Refusal | None:
    """The tree of authorities: an applicant works on the cases it drafted, and a city
    bureau's accounts on every case of their city; a provincial reviewer on the cases of
    its province and of the cities under it."""
    a = ctx.actor
    if a.role is Role.APPLICANT and case.owner_id not in (a.user_id, a.on_behalf_of_id) \
            and not (case.parent_code is not None and a.authority_code == case.authority_code):
        return refuse("out_of_scope", "这不是您单位的申报", "this is not your application",
                      guard="scope")
    if a.role is Role.PROVINCIAL_REVIEWER and a.authority_code != case.province_code:
        return refuse("out_of_scope", "该申报不属于您所在的省级主管部门",
                      "this application belongs to another province", guard="scope")
    return None


def not_the_drafter(case: Case, ctx: Context, spec: TransitionSpec) -> Refusal | None:
    if ctx.actor.user_id == case.owner_id or ctx.actor.on_behalf_of_id == case.owner_id:
        return refuse("separation_of_duties", "起草人不能审核自己的申报",
                      "the person who drafted the application cannot review it",
                      guard="not_the_drafter")
    return None


def not_the_recommender(case: Case, ctx: Context, spec: TransitionSpec) -> Refusal | None:
    ids = {ctx.actor.user_id, ctx.actor.on_behalf_of_id}
    if case.recommended_by_id is not None and case.recommended_by_id in ids:
        return refuse("separation_of_duties", "推荐人不能在商务部核准同一申报",
                      "the reviewer who recommended cannot also approve",
                      guard="not_the_recommender")
    return None


def complete_form(case: Case, ctx: Context, spec: TransitionSpec) -> Refusal | None:
    """The form as the step needs it: what depends on who applies first (002 §六: clusters
    only in the central and western regions; §六(三): a cluster drafted by a city where one
    of its leading enterprises is, or by the province), then what is still empty — the
    applicant's fields, and those of the roles taking this step."""
    the_form = case.programme.form
    wrong = (the_form.region_checks(case.kind, case.values, case.province_region)
             + the_form.drafter_checks(case.kind, case.values, case.drafter))
    if wrong:
        wrong[0].guard = "complete_form"
        return wrong[0]
    missing = the_form.missing(case.kind, case.values, case.products,
                               roles=tuple(r.value for r in spec.roles))
    if not missing:
        return None
    names = [m.field for m in missing]
    return refuse("incomplete_form", f"申报书尚有 {len(missing)} 项未填写",
                  f"{len(missing)} required field(s) of the form are empty",
                  guard="complete_form", details={"fields": names})


def _in_sentence(label: str) -> str:
    """A label inside an English sentence: "Recommendation letter" → "recommendation letter";
    an acronym stays ("ISO 9000 certificates")."""
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label


def required_attachments(case: Case, ctx: Context, spec: TransitionSpec) -> Refusal | None:
    """The files the programme needs for this step (`required_for` in its [[attachments]];
    002 §六(三): 申报书 and 发展方案 to submit, the province's 推荐文件 to recommend)."""
    lacking = [a for a in case.programme.required_attachments(spec.trigger)
               if a.kind not in case.attachment_kinds]
    if not lacking:
        return None
    return refuse("missing_attachment", "缺少附件：" + "、".join(a.zh for a in lacking),
                  "missing attachment(s): " + ", ".join(_in_sentence(a.en) for a in lacking),
                  guard="required_attachments",
                  details={"attachments": [a.kind for a in lacking]})


def existing_base(case: Case, ctx: Context, spec: TransitionSpec) -> Refusal | None:
    """002 §五(一), §六(一): a case of a kind the file marks `names_base` (002's
    re-certification) names its existing national base from the register — of its own
    authority, not revoked, of the type its form says, and not re-certified by another
    case already. Other kinds name none."""
    if not case.programme.form.kind_is(case.kind, "names_base"):
        return None
    refusal = register.recertification_refusal(case.existing_base, case.authority_code,
                                                case.existing_base_type, ctx.base_claimed_by)
    if refusal is not None:
        refusal.guard = "existing_base"
    return refusal


def quota(case: Case, ctx: Context, spec: TransitionSpec) -> Refusal | None:
    """002 §六(三): how many new bases a province may recommend in a round — a city's
    recommendation counts against its province's quota, by the province's region. Only
    the kinds the file marks `uses_quota` take one (002: a new base; re-certifying a real
    base, `existing_base`, takes none)."""
    if not case.programme.form.kind_is(case.kind, "uses_quota"):
        return None
    # quotas are the province's (002 §六(三)): a city's case counts against its province
    allowed = ctx.rules.quota_for(case.province_code, case.province_region,
                                  case.authority_has_bases)
    if ctx.quota_used < allowed:
        return None
    if allowed == 0:
        zh = "东部地区已有出口基地的省市本轮只进行重新认定，不再推荐新基地（002 §六(三)）"
        en = ("an eastern authority that already has bases re-certifies them and recommends "
              "no new base this round (002 §六(三))")
    else:
        zh = f"本轮新基地推荐名额为 {allowed} 个，已用 {ctx.quota_used} 个（002 §六(三)）"
        en = f"the round allows {allowed} new-base recommendation(s); {ctx.quota_used} used (002 §六(三))"
    return refuse("quota_exceeded", zh, en, guard="quota",
                  details={"quota": allowed, "used": ctx.quota_used})


def _verdicts(case: Case, ctx: Context) -> list[eligibility.Verdict]:
    return eligibility.evaluate(case.programme.criteria, case.kind, str(case.region),
                                case.values, case.attestations, ctx.rules, ctx.references,
                                authorities=case.locality_codes)


def overridable_failures(case: Case, ctx: Context) -> list[eligibility.Verdict]:
    """The criteria of 002 §六 the case fails that the round does not make blocking: a
    reviewer may still act on it, with a reason (`failed_criteria`)."""
    return [v for v in _verdicts(case, ctx)
            if v.outcome == eligibility.FAIL and v.criterion not in ctx.rules.blocking_criteria]


def blocking_criteria(case: Case, ctx: Context, spec: TransitionSpec) -> Refusal | None:
    """A criterion the round makes blocking (`RoundRules.blocking_criteria`) that the case
    fails: no reviewer may move it on, whatever the reason (002 §六(一), §六(二))."""
    if not ctx.rules.blocking_criteria:
        return None
    failed = [v for v in _verdicts(case, ctx)
              if v.criterion in ctx.rules.blocking_criteria and v.outcome == eligibility.FAIL]
    if not failed:
        return None
    cited = "、".join(dict.fromkeys(v.source for v in failed))
    return refuse("criterion_blocking",
                  f"本轮规定该条件必须满足，不能“{spec.zh}”（{cited}）："
                  + "；".join(v.zh for v in failed),
                  f"the round makes this criterion blocking: cannot {spec.en.lower()} "
                  f"({cited}): " + "; ".join(v.en for v in failed),
                  guard="blocking_criteria",
                  details={"criteria": [v.criterion for v in failed],
                           "verdicts": [v.as_dict() for v in failed]})


def failed_criteria(case: Case, ctx: Context, spec: TransitionSpec) -> Refusal | None:
    """A reviewer who recommends, publishes or approves a case that fails a criterion of
    002 §六(一)/(二) overrides the verdict explicitly, with a reason (`override_reason`),
    recorded in the history and shown to the next reviewer; the system never lets a
    failing case pass silently, nor rejects it silently."""
    failed = overridable_failures(case, ctx)
    if not failed or (ctx.override_reason and ctx.override_reason.strip()):
        return None
    return refuse("criterion_failed",
                  f"本申报未满足条件，如仍要“{spec.zh}”，须填写理由：" + "；".join(
                      f"{v.zh}（{v.source}）" for v in failed),
                  f"the case fails a criterion: to {spec.en.lower()} anyway, give a reason: "
                  + "; ".join(f"{v.en} ({v.source})" for v in failed),
                  field="override_reason", guard="failed_criteria",
                  details={"criteria": [v.criterion for v in failed],
                           "verdicts": [v.as_dict() for v in failed]})


def missed_deadline(spec: TransitionSpec, ctx: Context) -> date | None:
    """The round's deadline that `spec` comes after today (002 §六(三): recommendations
    before 30 April, approval by the end of May), or None when it is on time."""
    if spec.late_after is None:
        return None
    deadline: date | None = getattr(ctx.rules, spec.late_after.removeprefix("round."))
    return deadline if deadline is not None and ctx.today > deadline else None


def late_reason(case: Case, ctx: Context, spec: TransitionSpec) -> Refusal | None:
    """002 §六(三): a recommendation after the submission deadline, or an approval after
    the approval deadline, states why it is late (the case is marked `late_zh`)."""
    deadline = missed_deadline(spec, ctx)
    if deadline is None or (ctx.late_reason and ctx.late_reason.strip()):
        return None
    return refuse("late_reason_required",
                  f"本轮截止日期 {deadline.isoformat()} 已过，“{spec.zh}”须说明逾期理由"
                  "（002 §六(三)）",
                  f"the round's deadline {deadline.isoformat()} has passed: "
                  f"{spec.en.lower()} needs a reason for the delay (002 §六(三))",
                  field="late_reason", guard="late_reason",
                  details={"deadline": deadline.isoformat(), "badge_zh": spec.late_zh,
                           "badge_en": spec.late_en})


def calendar_known(case: Case, ctx: Context, spec: TransitionSpec) -> Refusal | None:
    end = ctx.calendar.add_working_days(ctx.today, ctx.rules.notice_working_days + 10)
    missing = ctx.calendar.missing_years(ctx.today, end)
    if not missing:
        return None
    years = ", ".join(str(y) for y in missing)
    return refuse("calendar_missing", f"{years} 年的法定节假日安排尚未录入，无法计算公示期",
                  f"no official holiday calendar for {years}: the notice period cannot be "
                  "counted; an admin must enter it", guard="calendar_known",
                  details={"years": missing})


def notice_elapsed(case: Case, ctx: Context, spec: TransitionSpec) -> Refusal | None:
    """The public notice (公示) must have run its full N working days: approval from the
    day after its last day, which the refusal names."""
    end = case.notice_ends_on
    if end is not None and ctx.today > end:
        return None
    first = end + timedelta(days=1) if end is not None else None
    return refuse("notice_not_elapsed",
                  f"公示期尚未结束（截至 {end}），{first} 起方可核准",
                  f"the public notice runs until {end}; approval is possible from {first}",
                  guard="notice_elapsed",
                  details={"notice_ends_on": str(end), "approvable_from": str(first)})


def no_open_objection(case: Case, ctx: Context, spec: TransitionSpec) -> Refusal | None:
    if case.open_objections == 0:
        return None
    return refuse("open_objection", f"尚有 {case.open_objections} 件异议未处理",
                  f"{case.open_objections} objection(s) are still unresolved",
                  guard="no_open_objection", details={"open": case.open_objections})


def has_open_objection(case: Case, ctx: Context, spec: TransitionSpec) -> Refusal | None:
    if case.open_objections > 0:
        return None
    return refuse("no_objection", "没有待处理的异议", "there is no open objection to uphold",
                  guard="has_open_objection")


def rectification_deadline(case: Case, ctx: Context, spec: TransitionSpec) -> Refusal | None:
    d = ctx.rectification_deadline
    if d is not None and d > ctx.today:
        return None
    return refuse("deadline_required", "限期整改须指定今天之后的整改期限",
                  "rectification needs a deadline after today", guard="rectification_deadline",
                  field="deadline")


def reason(case: Case, ctx: Context, spec: TransitionSpec) -> Refusal | None:
    if not spec.reason_required or (ctx.reason and ctx.reason.strip()):
        return None
    return refuse("reason_required", f"“{spec.zh}”必须填写理由", f"{spec.en} needs a reason",
                  guard="reason", field="reason")


GUARDS: dict[str, Guard] = {
    "role": role, "scope": scope, "not_the_drafter": not_the_drafter,
    "not_the_recommender": not_the_recommender, "complete_form": complete_form,
    "required_attachments": required_attachments,
    # its old name: rounds opened before the attachments were in the file still name it
    "recommendation_letter": required_attachments, "existing_base": existing_base,
    "quota": quota,
    "blocking_criteria": blocking_criteria, "failed_criteria": failed_criteria,
    "late_reason": late_reason, "calendar_known": calendar_known,
    "notice_elapsed": notice_elapsed, "no_open_objection": no_open_objection,
    "has_open_objection": has_open_objection, "rectification_deadline": rectification_deadline,
    "reason": reason,
}


# guards that ask for something when firing (a reason, a deadline, an override): the case
# page offers the action and asks; they refuse only if it is not given
ASKED_WHEN_FIRING = ("reason", "rectification_deadline", "failed_criteria", "late_reason")


def guards_of(spec: TransitionSpec) -> tuple[str, ...]:
    """Every guard a trigger runs, in order: role and reason first, then its own list."""
    return ("role", *spec.guards, "reason")
