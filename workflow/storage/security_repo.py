"""Queries for accounts and security: lockout counters, settings, users, tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from workflow.storage.models import ApiTokenRow, LoginFailureRow, SettingRow, UserRow


def login_failure(session: Session, username: str, ip: str) -> LoginFailureRow | None:
    q = select(LoginFailureRow).where(LoginFailureRow.username == username,
                                      LoginFailureRow.ip == ip)
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update()
    return session.scalars(q).first()


def add_login_failure(session: Session, username: str, ip: str, now: datetime
                      ) -> LoginFailureRow:
    row = LoginFailureRow(username=username, ip=ip, failures=0, last_failed_at=now)
    session.add(row)
    session.flush()
    return row


def clear_login_failures(session: Session, username: str, ip: str | None = None) -> int:
    q = delete(LoginFailureRow).where(LoginFailureRow.username == username)
    if ip is not None:
        q = q.where(LoginFailureRow.ip == ip)
    return int(session.execute(q).rowcount or 0)  # type: ignore[attr-defined]


def locks_of(session: Session, username: str, now: datetime) -> list[LoginFailureRow]:
    q = select(LoginFailureRow).where(LoginFailureRow.username == username,
                                      LoginFailureRow.locked_until > now)
    return list(session.scalars(q))


def locked_usernames(session: Session, now: datetime) -> set[str]:
    q = select(LoginFailureRow.username).where(LoginFailureRow.locked_until > now)
    return set(session.scalars(q))


def settings(session: Session, keys: list[str]) -> dict[str, Any]:
    rows = session.scalars(select(SettingRow).where(SettingRow.key.in_(keys)))
    return {r.key: (r.value or {}).get("value") for r in rows}


def put_setting(session: Session, key: str, value: Any, now: datetime) -> None:
    row = session.get(SettingRow, key)
    if row is None:
        session.add(SettingRow(key=key, value={"value": value}, updated_at=now))
    else:
        row.value = {"value": value}
        row.updated_at = now


def all_users(session: Session) -> list[UserRow]:
    return list(session.scalars(select(UserRow).order_by(UserRow.role, UserRow.username))
                .unique())


def tokens_of(session: Session, user_id: int) -> list[ApiTokenRow]:
    q = select(ApiTokenRow).where(ApiTokenRow.user_id == user_id).order_by(ApiTokenRow.id.desc())
    return list(session.scalars(q))


def revoke_tokens(session: Session, user_id: int, now: datetime,
                  named: str | None = None) -> int:
    """Revoke the user's live tokens (only those called `named`, if given); how many."""
    q = (update(ApiTokenRow).where(ApiTokenRow.user_id == user_id,
                                   ApiTokenRow.revoked_at.is_(None)).values(revoked_at=now))
    if named is not None:
        q = q.where(ApiTokenRow.name == named)
    return int(session.execute(q).rowcount or 0)  # type: ignore[attr-defined]
