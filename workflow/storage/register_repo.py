"""Queries and writes of the register of export bases (出口基地名录)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, literal_column, or_, select
from sqlalchemy.orm import Session, aliased

from workflow.register import (
    NATIONAL,
    BaseStatus,
    BaseType,
    ExistingBase,
    ImportRow,
    decision_document,
)
from workflow.states import USES_QUOTA
from workflow.storage.models import (
    ApplicationRow,
    AuthorityRow,
    DesignationDecisionRow,
    ExportBaseEventRow,
    ExportBaseRow,
    HistoryRow,
)

CLAIMING_STATES = sorted(s.value for s in USES_QUOTA)


def has_bases(province_id: Any) -> ColumnElement[bool]:
    """EXISTS a base of that province-level authority — or of one of its cities — in the
    register that is not revoked (002 §六(三): the quota is the province's).

    One level of subquery: `province_id` may be a column of the enclosing SELECT (the
    case's loader), and SQLAlchemy correlates only to the immediately enclosing one — a
    nested IN (SELECT … WHERE parent_id = pa.id) made `pa` a FROM of its own, so any city
    base anywhere counted for every province."""
    owner = aliased(AuthorityRow, name="base_owner")
    return (select(ExportBaseRow.id)
            .join(owner, owner.id == ExportBaseRow.authority_id)
            .where(or_(owner.id == province_id, owner.parent_id == province_id),
                   ExportBaseRow.status != literal_column(f"'{BaseStatus.REVOKED}'"))
            .exists())


def authority_has_bases(session: Session, authority_id: int) -> bool:
    return bool(session.scalar(select(has_bases(authority_id))))


def authorities_with_bases(session: Session) -> set[int]:
    """The authorities that have an existing base (one not revoked) in the register — a
    province also when the base is one of its cities'."""
    q = (select(ExportBaseRow.authority_id, AuthorityRow.parent_id)
         .join(AuthorityRow, AuthorityRow.id == ExportBaseRow.authority_id)
         .where(ExportBaseRow.status != BaseStatus.REVOKED.value).distinct())
    return {i for pair in session.execute(q) for i in pair if i is not None}


def existing_base(session: Session, base_id: int | None) -> ExistingBase | None:
    """The register entry `base_id` as the rules read it (None if there is none)."""
    if base_id is None:
        return None
    row = session.get(ExportBaseRow, base_id)
    return None if row is None else view(row)


def view(row: ExportBaseRow) -> ExistingBase:
    return ExistingBase(row.id, row.name, row.base_type, row.status, row.authority.code)


def claimed_by(session: Session, app_id: int, base_id: int | None) -> int | None:
    """Another case re-certifying `base_id` that is recommended or further (it has taken
    the base), or None. Only a case of a kind that names a base (`names_base`) keeps one
    (`services.cases._named_base` clears it otherwise)."""
    if base_id is None:
        return None
    return session.scalar(select(ApplicationRow.id).where(
        ApplicationRow.existing_base_id == base_id, ApplicationRow.id != app_id,
        ApplicationRow.state.in_(CLAIMING_STATES)).order_by(ApplicationRow.id).limit(1))


def entries(session: Session, *, authority_ids: set[int] | None = None,
            authority_code: str | None = None, base_type: str | None = None,
            status: str | None = None) -> list[ExportBaseRow]:
    """Register entries, filtered, by authority code, then type, then name."""
    q = select(ExportBaseRow).join(AuthorityRow, AuthorityRow.id == ExportBaseRow.authority_id)
    if authority_ids is not None:
        q = q.where(ExportBaseRow.authority_id.in_(sorted(authority_ids)))
    if authority_code:
        q = q.where(AuthorityRow.code == authority_code)
    if base_type:
        q = q.where(ExportBaseRow.base_type == base_type)
    if status:
        q = q.where(ExportBaseRow.status == status)
    return list(session.scalars(q.order_by(AuthorityRow.code, ExportBaseRow.base_type,
                                           ExportBaseRow.name, ExportBaseRow.id)).unique())


def entry(session: Session, base_id: int) -> ExportBaseRow | None:
    return session.get(ExportBaseRow, base_id)


def events_of(session: Session, base_id: int) -> list[ExportBaseEventRow]:
    """A base's status over time, oldest first."""
    return list(session.scalars(select(ExportBaseEventRow).where(
        ExportBaseEventRow.base_id == base_id).order_by(ExportBaseEventRow.effective_on,
                                                        ExportBaseEventRow.id)))


def recertifiable(session: Session, authority_id: int) -> list[ExportBaseRow]:
    """The authority's national bases that are not revoked: what a re-certification may
    name (whether another case has taken one is checked when recommending)."""
    return list(session.scalars(select(ExportBaseRow).where(
        ExportBaseRow.authority_id == authority_id,
        ExportBaseRow.base_type.in_([t.value for t in NATIONAL]),
        ExportBaseRow.status != BaseStatus.REVOKED.value).order_by(ExportBaseRow.name)))


def recertified(session: Session, base_ids: list[int]) -> dict[int, ExportBaseRow]:
    """National base id -> the export innovation base that re-certified it (the newest)."""
    if not base_ids:
        return {}
    rows = session.scalars(select(ExportBaseRow).where(
        ExportBaseRow.recertifies_id.in_(base_ids)).order_by(ExportBaseRow.id))
    return {r.recertifies_id: r for r in rows if r.recertifies_id is not None}


def named_in(session: Session, app_ids: list[int]) -> dict[int, ExportBaseRow]:
    """Application id -> the register entry it names (re-certifications)."""
    if not app_ids:
        return {}
    base = aliased(ExportBaseRow)
    rows = session.execute(select(ApplicationRow.id, base).join(
        base, base.id == ApplicationRow.existing_base_id).where(ApplicationRow.id.in_(app_ids)))
    return {app_id: row for app_id, row in rows}


def recertifications_naming_no_base(session: Session) -> list[ApplicationRow]:
    """Re-certifications drafted before the register existed (they name no base yet)."""
    return list(session.scalars(select(ApplicationRow).where(
        ApplicationRow.kind == "recertification", ApplicationRow.existing_base_id.is_(None))))


# --- writes ------------------------------------------------------------------------------

def imported_entry(session: Session, row: ImportRow, authority_id: int) -> ExportBaseRow | None:
    """The national base an import row is about: same authority, type and name."""
    return session.scalars(select(ExportBaseRow).where(
        ExportBaseRow.authority_id == authority_id, ExportBaseRow.base_type == row.base_type,
        ExportBaseRow.name == row.name, ExportBaseRow.application_id.is_(None))
        .order_by(ExportBaseRow.id).limit(1)).first()


def add_event(session: Session, base: ExportBaseRow, *, decision: str, on: date,
              now: datetime, document: str | None = None, reason: str | None = None,
              application_id: int | None = None, history_id: int | None = None,
              recorded_by_id: int | None = None) -> None:
    """Record the base's status as it is now, effective `on`, and the decision."""
    session.add(ExportBaseEventRow(
        base_id=base.id, status=base.status, effective_on=on, decision=decision,
        document=document, reason=reason, application_id=application_id,
        history_id=history_id, recorded_by_id=recorded_by_id, recorded_at=now))


def entry_of_case(session: Session, app_id: int) -> ExportBaseRow | None:
    return session.scalars(select(ExportBaseRow).where(
        ExportBaseRow.application_id == app_id)).first()


def approved_at(session: Session, app_id: int, designating: Iterable[str]) -> datetime | None:
    """When the case was approved (the first of its programme's `designating` triggers in
    its history), if it was."""
    return session.scalar(select(HistoryRow.at).where(
        HistoryRow.application_id == app_id,
        HistoryRow.trigger.in_(sorted(set(designating))))
        .order_by(HistoryRow.version).limit(1))


def decision_for(session: Session, round_id: int, issued_on: date, document: str | None,
                 now: datetime) -> DesignationDecisionRow:
    """The designation decision of the round's approvals on `issued_on` (授牌, 002 §六(三)):
    the existing one, or a new one numbered after the year's last (its 文号 the one typed
    at approval, else `register.decision_document`)."""
    found = session.scalars(select(DesignationDecisionRow).where(
        DesignationDecisionRow.round_id == round_id,
        DesignationDecisionRow.issued_on == issued_on)).first()
    if found is not None:
        return found
    year = issued_on.year
    number = (session.scalar(select(func.max(DesignationDecisionRow.number)).where(
        DesignationDecisionRow.year == year)) or 0) + 1
    row = DesignationDecisionRow(round_id=round_id, year=year, number=number,
                                 document=document or decision_document(year, number),
                                 issued_on=issued_on, created_at=now)
    session.add(row)
    session.flush()
    return row


def decision(session: Session, decision_id: int) -> DesignationDecisionRow | None:
    return session.get(DesignationDecisionRow, decision_id)


def designated_by(session: Session, decision_id: int) -> list[ExportBaseRow]:
    """The bases a designation decision designated, by authority code, then name."""
    return list(session.scalars(
        select(ExportBaseRow).join(AuthorityRow, AuthorityRow.id == ExportBaseRow.authority_id)
        .where(ExportBaseRow.decision_id == decision_id)
        .order_by(AuthorityRow.code, ExportBaseRow.name, ExportBaseRow.id)).unique())


def latest_events(session: Session, base_ids: list[int]) -> dict[int, ExportBaseEventRow]:
    """Base id -> its newest status change (the decision behind its current status)."""
    if not base_ids:
        return {}
    rows = session.scalars(select(ExportBaseEventRow).where(
        ExportBaseEventRow.base_id.in_(base_ids)).order_by(ExportBaseEventRow.effective_on,
                                                            ExportBaseEventRow.id))
    return {r.base_id: r for r in rows}


def designated_entry(*, authority_id: int, name: str, recert: bool, industry_field: str | None,
                     existing_base_id: int | None, application_id: int, designated_on: date,
                     document: str | None, now: datetime) -> ExportBaseRow:
    """A new export innovation base for an approved case (002 §六(三): 核准); `recert`: of
    a kind that re-certifies the base it names (`names_base`)."""
    return ExportBaseRow(
        authority_id=authority_id, name=name, base_type=BaseType.INNOVATION.value,
        designation_document=document, designated_on=designated_on,
        status=BaseStatus.DESIGNATED.value, status_since=designated_on,
        application_id=application_id, industry_field=None if recert else industry_field,
        recertifies_id=existing_base_id if recert else None, created_at=now, updated_at=now)
