"""Queries behind the reviewers' pages: attachments, filter choices, names in scope."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from workflow.storage.models import (
    ApplicationRow,
    AttachmentRow,
    AuthorityRow,
    FormReturnRow,
    RoundRow,
    SavedFilterRow,
    UserRow,
)


def attachments_of(session: Session, app_id: int) -> list[AttachmentRow]:
    """Current (not superseded) attachments of an application, oldest first."""
    q = (select(AttachmentRow)
         .where(AttachmentRow.application_id == app_id, AttachmentRow.superseded.is_(False))
         .order_by(AttachmentRow.uploaded_at, AttachmentRow.id))
    return list(session.scalars(q))


def every_attachment_of(session: Session, app_id: int
                        ) -> list[tuple[AttachmentRow, str | None]]:
    """Every file of an application, superseded versions included, oldest first, each
    with its uploader's display name."""
    q = (select(AttachmentRow, UserRow.display_name)
         .outerjoin(UserRow, UserRow.id == AttachmentRow.uploaded_by_id)
         .where(AttachmentRow.application_id == app_id)
         .order_by(AttachmentRow.uploaded_at, AttachmentRow.id))
    return [(a, name) for a, name in session.execute(q).all()]


def attachment(session: Session, attachment_id: int) -> AttachmentRow | None:
    return session.get(AttachmentRow, attachment_id)


def authorities(session: Session) -> list[AuthorityRow]:
    return list(session.scalars(select(AuthorityRow).order_by(AuthorityRow.code)))


def cities_of(session: Session, authority_id: int | None) -> list[AuthorityRow]:
    """The cities (prefecture level) under a province-level authority, by code."""
    return list(session.scalars(select(AuthorityRow).where(
        AuthorityRow.parent_id == authority_id).order_by(AuthorityRow.code)))


def round_years(session: Session) -> list[int]:
    return list(session.scalars(select(RoundRow.year).distinct()
                                .order_by(RoundRow.year.desc())))


def names_in_scope(session: Session, scope: Any, ids: list[int]) -> dict[int, str | None]:
    """Applicant names of the given applications, only those within `scope`."""
    q = select(ApplicationRow.id, ApplicationRow.applicant_name).where(
        scope, ApplicationRow.id.in_(ids))
    return {i: n for i, n in session.execute(q)}


def saved_filters_of(session: Session, user_id: int) -> list[SavedFilterRow]:
    """A user's saved inbox filters, oldest first."""
    q = (select(SavedFilterRow).where(SavedFilterRow.user_id == user_id)
         .order_by(SavedFilterRow.id))
    return list(session.scalars(q))


def form_return_of(session: Session, user_id: int, session_id: str,
                   form: str) -> FormReturnRow | None:
    """The refused form kept for this user's session and form, if any."""
    q = select(FormReturnRow).where(FormReturnRow.user_id == user_id,
                                    FormReturnRow.session_id == session_id,
                                    FormReturnRow.form == form)
    return session.scalars(q).first()


def delete_form_return(session: Session, row_id: int) -> bool:
    """Delete one kept refused form; whether it was still there."""
    result = session.execute(delete(FormReturnRow).where(FormReturnRow.id == row_id))
    return int(cast(CursorResult[Any], result).rowcount or 0) == 1


def delete_form_returns_before(session: Session, cutoff: datetime) -> None:
    """Forget refused forms kept since before `cutoff`, whoever's they were (never shown)."""
    session.execute(delete(FormReturnRow).where(FormReturnRow.created_at < cutoff))
