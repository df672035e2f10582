"""Users and API tokens, looked up."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.storage.models import ApiTokenRow, UserRow
from workflow.storage.scope_repo import not_found


def user_by_id(session: Session, user_id: int) -> UserRow:
    user = session.get(UserRow, user_id)
    if user is None or not user.is_active:
        raise not_found("user")
    return user


def user_by_username(session: Session, username: str) -> UserRow | None:
    return session.scalars(select(UserRow).where(UserRow.username == username)).first()


def token_by_digest(session: Session, digest: str) -> ApiTokenRow | None:
    return session.scalars(select(ApiTokenRow).where(ApiTokenRow.token_hash == digest)).first()


def user_ids(session: Session) -> dict[str, int]:
    return {u.username: u.id for u in session.scalars(select(UserRow))}
