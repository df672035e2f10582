"""Queries behind the public notice (网上公示) and the ministry's list of objections (异议).

Only the columns the public may see leave `public_cases`: never the contact block.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from workflow.programme import known
from workflow.storage.models import (
    ApplicationRow,
    AttachmentRow,
    AuthorityRow,
    ObjectionRow,
    RoundRow,
    form_value,
)
from workflow.storage.uow import DbSession

# The province-level authority that recommends a case (002 §六(三)): a city's province,
# else the authority itself.
PROVINCE = aliased(AuthorityRow, name="province")
_TO_PROVINCE = PROVINCE.id == func.coalesce(AuthorityRow.parent_id, AuthorityRow.id)

# The 申报书 figures shown on the public notice; the contact block (联系人, phone, e-mail)
# is personal data and stays out. The authority named is the recommending province; the
# region is the one the criteria used (a city's own class, else its province's).
PUBLIC_COLUMNS = (
    ApplicationRow.id, ApplicationRow.applicant_name, ApplicationRow.kind,
    ApplicationRow.industry_field, ApplicationRow.existing_base_type,
    form_value("characteristic_industry", "text"), form_value("address", "text"),
    form_value("enterprise_count", "int"), form_value("exports_100m_usd"),
    form_value("hightech_exports_100m_usd"), form_value("hightech_export_growth_pct", "pct"),
    ApplicationRow.notice_published_on, ApplicationRow.notice_ends_on,
    PROVINCE.name_zh.label("authority_zh"), PROVINCE.name_en.label("authority_en"),
    AuthorityRow.region, RoundRow.year.label("round_year"),
    RoundRow.name_zh.label("round_zh"), RoundRow.name_en.label("round_en"),
    RoundRow.params.label("round_params"), RoundRow.programme.label("programme"),
)


def public_cases(session: DbSession, app_id: int | None = None) -> list[dict[str, Any]]:
    """Cases under public notice (a state of their programme with `public_notice`: 002's
    publicly_shown), newest round first; one if app_id."""
    shown = sorted({k for p in known() for k in p.keys_where("public_notice")})
    q = (select(*PUBLIC_COLUMNS)
         .join(AuthorityRow, AuthorityRow.id == ApplicationRow.authority_id)
         .join(PROVINCE, _TO_PROVINCE)
         .join(RoundRow, RoundRow.id == ApplicationRow.round_id)
         .where(ApplicationRow.state.in_(shown)))
    if app_id is not None:
        q = q.where(ApplicationRow.id == app_id)
    q = q.order_by(RoundRow.year.desc(), PROVINCE.code, ApplicationRow.id)
    return [dict(r._mapping) for r in session.execute(q)]


def open_objections(session: DbSession) -> list[dict[str, Any]]:
    """Open objections with their case and evidence file, oldest first."""
    q = (select(ObjectionRow.id, ObjectionRow.confirmation_no, ObjectionRow.name,
                ObjectionRow.contact, ObjectionRow.text, ObjectionRow.filed_at,
                ObjectionRow.application_id, ApplicationRow.applicant_name,
                ApplicationRow.state, ApplicationRow.version, ApplicationRow.notice_ends_on,
                PROVINCE.name_zh.label("authority_zh"),
                PROVINCE.name_en.label("authority_en"),
                AttachmentRow.id.label("attachment_id"),
                AttachmentRow.filename.label("attachment_name"))
         .join(ApplicationRow, ApplicationRow.id == ObjectionRow.application_id)
         .join(AuthorityRow, AuthorityRow.id == ApplicationRow.authority_id)
         .join(PROVINCE, _TO_PROVINCE)
         .outerjoin(AttachmentRow, AttachmentRow.id == ObjectionRow.attachment_id)
         .where(ObjectionRow.status == "open")
         .order_by(ObjectionRow.filed_at, ObjectionRow.id))
    return [dict(r._mapping) for r in session.execute(q)]


def evidence_of(session: DbSession, objection_id: int) -> AttachmentRow | None:
    """The file filed with an objection, if any."""
    q = (select(AttachmentRow).join(ObjectionRow, ObjectionRow.attachment_id == AttachmentRow.id)
         .where(ObjectionRow.id == objection_id))
    return session.scalars(q).first()


def add_evidence(session: DbSession, app_id: int, kind: str, filename: str, stored_name: str,
                 content_type: str, size: int, sha256: str, now: datetime) -> int:
    """Record an objection's evidence file (uploaded by the public: no user)."""
    row = AttachmentRow(application_id=app_id, kind=kind, filename=filename,
                        stored_name=stored_name, content_type=content_type, size_bytes=size,
                        sha256=sha256, uploaded_by_id=None, uploaded_at=now)
    session.add(row)
    session.flush()
    return row.id

