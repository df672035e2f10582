"""Queries the JSON API needs beyond the case and scope repositories: tokens, authorities,
rounds, attachments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from workflow.programme import DEFAULT_CODE
from workflow.storage.models import (
    ApiTokenRow,
    AttachmentRow,
    AuthorityRow,
    ObjectionRow,
    RoundRow,
)


def active_token_count(session: Session, user_id: int, now: datetime) -> int:
    q = select(func.count()).select_from(ApiTokenRow).where(
        ApiTokenRow.user_id == user_id, ApiTokenRow.revoked_at.is_(None),
        or_(ApiTokenRow.expires_at.is_(None), ApiTokenRow.expires_at > now))
    return int(session.scalar(q) or 0)


def note_token_use(session: Session, token_id: int, now: datetime) -> None:
    """The token's last use is `now` (one UPDATE; no row is loaded)."""
    session.execute(update(ApiTokenRow).where(ApiTokenRow.id == token_id)
                    .values(last_used_at=now))


def tokens_of(session: Session, user_id: int) -> list[ApiTokenRow]:
    q = select(ApiTokenRow).where(ApiTokenRow.user_id == user_id).order_by(
        ApiTokenRow.created_at.desc(), ApiTokenRow.id.desc())
    return list(session.scalars(q))


def authorities(session: Session) -> list[AuthorityRow]:
    return list(session.scalars(select(AuthorityRow).order_by(AuthorityRow.code)))


def rounds(session: Session) -> list[RoundRow]:
    return list(session.scalars(select(RoundRow).order_by(RoundRow.year.desc())))


def round_by_year(session: Session, year: int, code: str = DEFAULT_CODE) -> RoundRow | None:
    return session.scalars(select(RoundRow).where(RoundRow.year == year,
                                                  RoundRow.programme == code)).first()


def attachments_of(session: Session, app_id: int) -> list[AttachmentRow]:
    q = select(AttachmentRow).where(AttachmentRow.application_id == app_id).order_by(
        AttachmentRow.uploaded_at, AttachmentRow.id)
    return list(session.scalars(q))


def objections(session: Session, status: str | None, app_id: int | None) -> list[ObjectionRow]:
    q = select(ObjectionRow)
    if status:
        q = q.where(ObjectionRow.status == status)
    if app_id is not None:
        q = q.where(ObjectionRow.application_id == app_id)
    return list(session.scalars(q.order_by(ObjectionRow.filed_at, ObjectionRow.id).limit(500)))
