"""The public notice (网上公示) and the ministry's view of the objections (异议) it draws.

The public sees only cases under notice: their names, authority, kind and field, and their
key figures only where the round says so; the contact block of the 申报书 is personal data
and never leaves this module. 002 §六(三): the ministry
publishes the names of all recommended cases online before it approves them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from workflow import permissions
from workflow.calendar import WorkCalendar
from workflow.programme import NoticeText, known, programme
from workflow.services.clock import today as china_today
from workflow.storage import notices, reference_repo, scope_repo, users_repo
from workflow.storage.uow import UnitOfWork


@dataclass(frozen=True)
class PublicCase:
    """What the public may read about a case under notice (no personal data)."""

    id: int
    applicant_name: str | None
    authority_zh: str
    authority_en: str
    region: str
    kind: str
    industry_field: str | None
    existing_base_type: str | None
    characteristic_industry: str | None
    address: str | None
    enterprise_count: int | None
    exports_100m_usd: Decimal | None
    hightech_exports_100m_usd: Decimal | None
    hightech_export_growth_pct: Decimal | None
    round_year: int
    notice_published_on: date | None
    notice_ends_on: date | None
    working_days_left: int | None  # 0 on the last day of the notice, < 0 once it ended
    open_for_objections: bool  # objections are taken up to and including the last day


@dataclass
class RoundNotice:
    """One round's notice: what its programme's notice says (`[notice]` in the definition
    file), the cases under notice and when the notice ends."""

    year: int
    name_zh: str
    name_en: str
    published_on: date | None
    ends_on: date | None
    working_days_left: int | None
    wording: NoticeText | None = None  # None: the programme says nothing above the list
    cases: list[PublicCase] = field(default_factory=list)


# the applicants' figures: on the public notice only when the round says so (002 §六(三)
# publishes the recommended names; `RoundRules.notice_shows_figures`)
FIGURES = ("enterprise_count", "exports_100m_usd", "hightech_exports_100m_usd",
           "hightech_export_growth_pct")


def _public(row: dict[str, Any], calendar: WorkCalendar, today: date) -> PublicCase:
    keep = {k: row[k] for k in PublicCase.__dataclass_fields__ if k in row}
    if not (row.get("round_params") or {}).get("notice_shows_figures"):
        keep.update(dict.fromkeys(FIGURES))
    ends = row["notice_ends_on"]
    left = calendar.working_days_left(today, ends) if ends else None
    return PublicCase(**keep, working_days_left=left,
                      open_for_objections=ends is None or today <= ends)


def current_notices(uow: UnitOfWork, today: date | None = None) -> list[RoundNotice]:
    """Per round (newest first) the cases under public notice, with working days left."""
    today = today or china_today()
    with uow.read():
        s = uow.session
        rows = notices.public_cases(s)
        calendar = reference_repo.load_calendar(s)
    out: dict[tuple[str, int], RoundNotice] = {}
    for row in rows:
        case = _public(row, calendar, today)
        # a programme's rounds of one year are one notice; the wording is its file's now
        notice = out.setdefault((row["programme"], case.round_year), RoundNotice(
            case.round_year, row["round_zh"], row["round_en"], None, None, None,
            programme(row["programme"]).notice))
        notice.cases.append(case)
        published, ends = case.notice_published_on, case.notice_ends_on
        if published and (notice.published_on is None or published < notice.published_on):
            notice.published_on = published
        if ends and (notice.ends_on is None or ends > notice.ends_on):
            notice.ends_on, notice.working_days_left = ends, case.working_days_left
    return list(out.values())


def wordings(notices: list[RoundNotice]) -> list[NoticeText]:
    """What the notice page says above its lists: the programmes' of the notices running,
    or, with none running, of every programme that has a public notice (each once)."""
    found = [n.wording for n in notices if n.wording is not None] or \
        [p.notice for p in known() if p.notice is not None]
    return list(dict.fromkeys(found))


def public_case(uow: UnitOfWork, app_id: int, today: date | None = None) -> PublicCase:
    """One case under notice; `NotFound` for anything else (drafts are never public)."""
    today = today or china_today()
    with uow.read():
        s = uow.session
        rows = notices.public_cases(s, app_id)
        if not rows:
            raise scope_repo.not_found("notice")
        calendar = reference_repo.load_calendar(s)
    return _public(rows[0], calendar, today)


@dataclass(frozen=True)
class OpenObjection:
    """An objection waiting on the ministry, with the filer's contact (ministry eyes only)."""

    id: int
    confirmation_no: str
    name: str
    contact: str
    text: str
    filed_at: datetime
    application_id: int
    applicant_name: str | None
    authority_zh: str
    authority_en: str
    state: str
    version: int
    notice_ends_on: date | None
    attachment_id: int | None
    attachment_name: str | None


def open_objections(uow: UnitOfWork, user_id: int) -> list[OpenObjection]:
    """Objections not yet upheld or dismissed, oldest first (ministry reviewers only)."""
    with uow.read():
        permissions.require(users_repo.user_by_id(uow.session, user_id), "objections.decide")
        return [OpenObjection(**row) for row in notices.open_objections(uow.session)]


@dataclass(frozen=True)
class Evidence:
    filename: str
    content_type: str
    stored_name: str


def evidence_of(uow: UnitOfWork, user_id: int, objection_id: int) -> Evidence:
    """The file filed with an objection (ministry reviewers only)."""
    with uow.read():
        permissions.require(users_repo.user_by_id(uow.session, user_id), "objections.decide")
        row = notices.evidence_of(uow.session, objection_id)
        if row is None:
            raise scope_repo.not_found("attachment")
        return Evidence(row.filename, row.content_type, row.stored_name)
