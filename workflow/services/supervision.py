"""Supervision by the provinces (002 §六(三): 地方政府…对基地进行动态跟踪、定期评估和报告;
§四(四): 重要信息及时报送).

- Ad hoc reports (重要信息报送): a base (its applicant), its province or the ministry file
  an important development or a problem on a base; it stays with the case, and reaches
  the ministry's reviewers, the province's reviewers and the base (not the author) in the
  app and by mail.
- Provincial assessments: a province assesses the bases in its scope for a period — the
  system's own proposal for each, from the quarterly data, is beside it — and reports to
  the ministry its findings and a suggestion per base (keep, rectify, revoke) with a
  summary. The ministry decides (its confirmation of the re-evaluation): the province's
  suggestion is shown beside each proposal. A new report for the same period is a new
  revision; the newest counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workflow import permissions
from workflow.assessment import PROPOSALS
from workflow.errors import GuardFailed, Refusal, ValidationFailed, refuse
from workflow.permissions import Scope
from workflow.roles import Role
from workflow.services import assessment, audit, cases, events
from workflow.services.clock import utcnow
from workflow.services.language import translate
from workflow.services.reminders import case_link
from workflow.storage import audit_repo, rounds_repo, users_repo
from workflow.storage import events_repo as er
from workflow.storage import supervision_repo as sr
from workflow.storage.models import (
    ApplicationRow,
    CaseReportRow,
    ProvincialAssessmentRow,
    UserRow,
)
from workflow.storage.uow import DbSession, UnitOfWork

KINDS = {"development": ("重要进展", "Important development"),
         "problem": ("重要问题", "Problem")}
SUGGESTION_ZH = {"keep": "建议保留", "rectify": "建议限期整改", "revoke": "建议撤销"}
SUGGESTION_EN = {"keep": "keep", "rectify": "rectify by a deadline", "revoke": "revoke"}
MAX_TITLE, MAX_BODY, MAX_FINDINGS = 100, 4000, 2000


# --- ad hoc reports ---------------------------------------------------------------------------

def _case(s: DbSession, user_id: int, app_id: int) -> tuple[UserRow, ApplicationRow]:
    user = users_repo.user_by_id(s, user_id)
    row, _actor = cases.case_for(s, user, app_id, "case.report")
    return user, row


def _is_base(row: ApplicationRow) -> bool:
    return rounds_repo.programme_of_round(row.round).state(row.state).designated


def may_report(uow: UnitOfWork, user_id: int, app_id: int) -> bool:
    """Whether the user may file an ad hoc report on this case now (it is a base)."""
    with uow.read():
        try:
            _user, row = _case(uow.session, user_id, app_id)
        except Exception:  # noqa: BLE001 — not theirs to see: no form
            return False
        return _is_base(row)


def file_report(uow: UnitOfWork, user_id: int, app_id: int, kind: str, title: str,
                body: str, *, base_url: str, now: datetime | None = None) -> CaseReportRow:
    """File an ad hoc report on a base; every error at once, each naming its field. The
    people told get a link under `base_url` (the settings' BASE_URL, from the caller)."""
    now = now or utcnow()
    title, body = (title or "").strip(), (body or "").strip()
    errors = []
    if kind not in KINDS:
        errors.append(refuse("invalid_choice", "请选择报送类别（重要进展或重要问题）",
                             "choose the kind: development or problem", field="kind",
                             details={"value": str(kind)[:20]}))
    if not title:
        errors.append(refuse("required", "标题：必填", "title: is required", field="title"))
    elif len(title) > MAX_TITLE:
        errors.append(refuse("too_long", f"标题不得超过 {MAX_TITLE} 个字符",
                             f"the title has at most {MAX_TITLE} characters", field="title"))
    if not body:
        errors.append(refuse("required", "内容：必填", "text: is required", field="body"))
    elif len(body) > MAX_BODY:
        errors.append(refuse("too_long", f"内容不得超过 {MAX_BODY} 个字符",
                             f"the text has at most {MAX_BODY} characters", field="body"))
    with uow:
        s = uow.session
        user, row = _case(s, user_id, app_id)
        if not _is_base(row):
            raise GuardFailed(refuse("not_a_base", "只有已认定的基地可以报送重要信息",
                                     "ad hoc reports are filed on designated bases only",
                                     guard="designated"))
        if errors:
            raise ValidationFailed(*errors)
        report = CaseReportRow(application_id=row.id, author_id=user.id,
                               author_name=user.display_name, author_role=user.role,
                               kind=kind, title=title, body=body, created_at=now)
        s.add(report)
        s.flush()
        people = {p.id: p for p in er.reviewers(s, Role.MINISTRY_REVIEWER, None)}
        people.update((p.id, p) for p in er.reviewers(s, Role.PROVINCIAL_REVIEWER,
                                                          row.province_id))
        people.update((p.id, p) for p in er.recipients(s, UserRow.id == row.owner_id))
        people.pop(user.id, None)
        written = events.write(s, [_message(p, report, row, base_url)
                                   for _i, p in sorted(people.items())], now)
        audit.append(s, "case_report_filed", who=audit.Who.of(user),
                     object_type="application", object_id=row.id,
                     chain=audit_repo.SYSTEM_CHAIN, now=now,
                     details={"report": report.id, "kind": kind})
        if written:
            uow.record("outbox_written", count=written)
        uow.commit()
        return report


def _message(person: er.Recipient, report: CaseReportRow, row: ApplicationRow,
             base_url: str) -> events.Message:
    loc = person.locale if person.locale in events.LOCALES else "zh"
    name = events.case_name(row, loc)
    what = KINDS[report.kind][1 if loc == "en" else 0]
    link = case_link(base_url, row.id) + "#case-reports"
    subject = translate("【重要信息报送】%(case)s：%(title)s", loc, case=name,
                        title=report.title)
    lines = [translate("%(name)s，您好：", loc, name=person.name), "",
             translate("申报单位：%(case)s", loc, case=name),
             f"{what}：{report.title}" if loc != "en" else f"{what}: {report.title}",
             translate("报送人：%(who)s", loc, who=report.author_name), "", report.body, "",
             translate("办理链接：%(link)s", loc, link=link), "",
             translate("本邮件由系统自动发送，请勿直接回复。", loc)]
    return events.Message(person, f"case_report|{report.id}|{person.id}", "case_report",
                          row.id, subject, "\n".join(lines), link)


def reports_of(uow: UnitOfWork, user_id: int, app_id: int) -> list[CaseReportRow]:
    """A base's ad hoc reports, newest first, for whoever may see the case."""
    with uow.read():
        s = uow.session
        _case(s, user_id, app_id)
        return sr.reports_of(s, app_id)


# --- provincial assessments -------------------------------------------------------------------

@dataclass(frozen=True)
class BaseUnderReview:
    application_id: int
    name: str
    authority: str
    proposal: str | None  # the system's proposal from the quarterly data (None: not a base
    explanation_zh: str  # it assesses, e.g. no data yet)
    explanation_en: str


def _province(s: DbSession, user_id: int) -> UserRow:
    user = users_repo.user_by_id(s, user_id)
    # a province-level authority's reviewers (002 §六(三)), not a city's
    if user.authority is None or user.authority.parent_id is not None:
        permissions.forbid("supervision.submit")
    return permissions.require(user, "supervision.submit")


def bases_for_review(uow: UnitOfWork, user_id: int, period: int,
                     now: datetime | None = None) -> list[BaseUnderReview]:
    """The bases in the province's scope, each with the system's proposal for `period`."""
    now = now or utcnow()
    with uow.read():
        s = uow.session
        user = _province(s, user_id)
        bases = sr.bases_of_province(s, user.authority_id or 0)
    proposals = assessment.proposals_for(uow, period, now, {i for i, _n, _a in bases})
    out = []
    for app_id, name, authority in bases:
        found = proposals.get(app_id)
        out.append(BaseUnderReview(app_id, name, authority,
                                   found.proposal if found else None,
                                   found.explanation("zh") if found else "",
                                   found.explanation("en") if found else ""))
    return out


def submit_assessment(uow: UnitOfWork, user_id: int, period: int, summary: str,
                      items: dict[int, dict[str, str]], *, base_url: str,
                      now: datetime | None = None) -> ProvincialAssessmentRow:
    """The province's report for `period`: a summary and, for each base in its scope, a
    suggestion (keep, rectify, revoke) with its findings. Every error at once, each naming
    its field (`items[<id>].suggestion`, …); nothing is stored on an error. The ministry
    is told with a link under `base_url` (the settings' BASE_URL, from the caller)."""
    now = now or utcnow()
    summary = (summary or "").strip()
    with uow:
        s = uow.session
        user = _province(s, user_id)
        bases = {i: n for i, n, _a in sr.bases_of_province(s, user.authority_id or 0)}
        out, errors = _checked_report(summary, bases, items)
        if errors:
            raise ValidationFailed(*errors)
        row, written = _store_report(s, user, period, summary, out, base_url, now)
        if written:
            uow.record("outbox_written", count=written)
        uow.commit()
        return row


def _checked_report(summary: str, bases: dict[int, str], items: dict[int, dict[str, str]]
                    ) -> tuple[list[dict[str, Any]], list[Refusal]]:
    """A province's report as stored (one item per base in its scope), and every error:
    the summary's, then each base's, then bases listed that are not in its scope."""
    errors = []
    if not summary:
        errors.append(refuse("required", "评估报告摘要：必填", "summary: is required",
                             field="summary"))
    elif len(summary) > MAX_BODY:
        errors.append(refuse("too_long", f"摘要不得超过 {MAX_BODY} 个字符",
                             f"the summary has at most {MAX_BODY} characters",
                             field="summary"))
    if not bases:
        errors.append(refuse("no_bases", "本省（区、市）没有已认定的基地",
                             "there is no designated base in your scope", field="items"))
    out: list[dict[str, Any]] = []
    for app_id, name in bases.items():
        item, item_errors = _checked_item(app_id, name, items.get(app_id, {}))
        out.append(item)
        errors += item_errors
    unknown = sorted(set(items) - set(bases))
    if unknown:
        errors.append(refuse("out_of_scope", "所列基地不在本省（区、市）范围内",
                             "a base listed is not in your scope", field="items",
                             details={"ids": unknown[:20]}))
    return out, errors


def _checked_item(app_id: int, name: str, item: dict[str, str]
                  ) -> tuple[dict[str, Any], list[Refusal]]:
    """One base's suggestion and findings, and what is wrong with them."""
    suggestion = (item.get("suggestion") or "").strip()
    findings = (item.get("findings") or "").strip()
    errors = []
    if suggestion not in PROPOSALS:
        errors.append(refuse("invalid_choice", f"{name}：请选择评估意见",
                             f"{name}: choose keep, rectify or revoke",
                             field=f"items[{app_id}].suggestion"))
    if suggestion in ("rectify", "revoke") and not findings:
        errors.append(refuse("required", f"{name}：建议整改或撤销时须写明评估发现",
                             f"{name}: say what was found when suggesting "
                             f"{suggestion}", field=f"items[{app_id}].findings"))
    if len(findings) > MAX_FINDINGS:
        errors.append(refuse("too_long", f"{name}：评估发现不得超过 {MAX_FINDINGS} 个字符",
                             f"{name}: findings have at most {MAX_FINDINGS} characters",
                             field=f"items[{app_id}].findings"))
    return ({"application_id": app_id, "name": name, "suggestion": suggestion,
             "findings": findings}, errors)


def _store_report(s: DbSession, user: UserRow, period: int, summary: str,
                  out: list[dict[str, Any]], base_url: str, now: datetime
                  ) -> tuple[ProvincialAssessmentRow, int]:
    """Store the report as the period's next revision, tell the ministry's reviewers and
    audit it; (the row, messages written)."""
    authority_id = user.authority_id or 0
    row = ProvincialAssessmentRow(
        period=period, authority_id=authority_id,
        revision=sr.next_revision(s, period, authority_id), submitted_by_id=user.id,
        submitted_by_name=user.display_name, submitted_at=now, summary=summary,
        items=out)
    s.add(row)
    s.flush()
    ministry = er.reviewers(s, Role.MINISTRY_REVIEWER, None)
    province = user.authority.name_zh if user.authority else ""
    written = events.write(s, [_report_message(p, row, province, base_url)
                               for p in ministry], now)
    audit.append(s, "provincial_assessment_submitted", who=audit.Who.of(user),
                 object_type="provincial_assessment", object_id=row.id,
                 chain=audit_repo.SYSTEM_CHAIN, now=now,
                 details={"period": period, "revision": row.revision,
                          "suggestions": {str(i["application_id"]): i["suggestion"]
                                          for i in out}})
    return row, written


def _report_message(person: er.Recipient, row: ProvincialAssessmentRow, province: str,
                    base_url: str) -> events.Message:
    loc = person.locale if person.locale in events.LOCALES else "zh"
    link = f"{base_url.rstrip('/')}/supervision?period={row.period}"
    subject = translate("【省级评估报告】%(province)s %(period)s 年度基地评估", loc,
                        province=province, period=row.period)
    counts = {k: sum(1 for i in row.items if i["suggestion"] == k) for k in PROPOSALS}
    lines = [translate("%(name)s，您好：", loc, name=person.name), "",
             subject, ", ".join(f"{SUGGESTION_EN[k] if loc == 'en' else SUGGESTION_ZH[k]}: "
                                f"{n}" for k, n in counts.items()), "", row.summary, "",
             translate("办理链接：%(link)s", loc, link=link), "",
             translate("本邮件由系统自动发送，请勿直接回复。", loc)]
    return events.Message(person, f"provincial_assessment|{row.id}|{person.id}",
                          "provincial_assessment", None, subject, "\n".join(lines), link)


def assessments(uow: UnitOfWork, user_id: int, period: int
                ) -> list[tuple[ProvincialAssessmentRow, str]]:
    """The provinces' newest reports for `period`: all of them for the ministry, its own
    for a province."""
    with uow.read():
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        if permissions.scope_of(user, "supervision.view") is Scope.NATIONAL:
            return sr.latest_assessments(s, period)
        user = _province(s, user_id)
        return sr.latest_assessments(s, period, user.authority_id)


def suggestions(uow: UnitOfWork, user_id: int, period: int) -> dict[int, dict[str, Any]]:
    """Per base: its province's suggestion and findings for `period` (the ministry's view
    of the re-evaluation proposals)."""
    out: dict[int, dict[str, Any]] = {}
    for row, province in assessments(uow, user_id, period):
        for item in row.items:
            out[int(item["application_id"])] = {**item, "province": province,
                                                "submitted_at": row.submitted_at}
    return out
