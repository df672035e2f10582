"""Queries of the provinces' supervision: ad hoc reports on bases, provincial assessments."""

from __future__ import annotations

from sqlalchemy import func, select

from workflow.programme import DEFAULT_CODE
from workflow.states import DESIGNATED
from workflow.storage.models import (
    ApplicationRow,
    AuthorityRow,
    CaseReportRow,
    ProvincialAssessmentRow,
    RoundRow,
)
from workflow.storage.scope_repo import tree_ids
from workflow.storage.uow import DbSession


def reports_of(s: DbSession, app_id: int) -> list[CaseReportRow]:
    return list(s.scalars(select(CaseReportRow).where(CaseReportRow.application_id == app_id)
                          .order_by(CaseReportRow.id.desc())))


def bases_of_province(s: DbSession, province_id: int) -> list[tuple[int, str, str]]:
    """The designated bases of notice 002's programme in a province and its cities:
    (application id, name, authority name)."""
    q = (select(ApplicationRow.id, ApplicationRow.applicant_name, AuthorityRow.name_zh)
         .join(AuthorityRow, AuthorityRow.id == ApplicationRow.authority_id)
         .join(RoundRow, RoundRow.id == ApplicationRow.round_id)
         .where(ApplicationRow.authority_id.in_(tree_ids(province_id)),
                ApplicationRow.state.in_([d.value for d in DESIGNATED]),
                RoundRow.programme == DEFAULT_CODE)
         .order_by(ApplicationRow.id))
    return [(int(i), n or f"#{i}", a) for i, n, a in s.execute(q)]


def next_revision(s: DbSession, period: int, authority_id: int) -> int:
    current = s.scalar(select(func.max(ProvincialAssessmentRow.revision)).where(
        ProvincialAssessmentRow.period == period,
        ProvincialAssessmentRow.authority_id == authority_id))
    return int(current or 0) + 1


def latest_assessments(s: DbSession, period: int, authority_id: int | None = None
                       ) -> list[tuple[ProvincialAssessmentRow, str]]:
    """Each province's newest report for `period` (one province's if given), with its
    name."""
    newest = (select(ProvincialAssessmentRow.authority_id,
                     func.max(ProvincialAssessmentRow.revision).label("rev"))
              .where(ProvincialAssessmentRow.period == period)
              .group_by(ProvincialAssessmentRow.authority_id).subquery())
    q = (select(ProvincialAssessmentRow, AuthorityRow.name_zh)
         .join(newest, (newest.c.authority_id == ProvincialAssessmentRow.authority_id)
               & (newest.c.rev == ProvincialAssessmentRow.revision))
         .join(AuthorityRow, AuthorityRow.id == ProvincialAssessmentRow.authority_id)
         .where(ProvincialAssessmentRow.period == period)
         .order_by(AuthorityRow.code))
    if authority_id is not None:
        q = q.where(ProvincialAssessmentRow.authority_id == authority_id)
    return [(row, name) for row, name in s.execute(q)]
