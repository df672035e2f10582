"""Accounts: password hashing (argon2) and checking credentials."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from workflow.errors import DomainError, refuse
from workflow.services.clock import utcnow
from workflow.storage import repo
from workflow.storage.models import ApiTokenRow, UserRow
from workflow.storage.uow import UnitOfWork

_hasher = PasswordHasher()
_DUMMY = _hasher.hash("not-a-real-password")


class LoginFailed(DomainError):
    code = "invalid_credentials"
    status = 401


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _bad_login() -> LoginFailed:
    return LoginFailed(refuse("invalid_credentials", "用户名或密码错误",
                              "wrong username or password"))


def authenticate(uow: UnitOfWork, username: str, password: str) -> int:
    """The user id for valid credentials; `LoginFailed` otherwise (same answer either way)."""
    with uow:
        user = repo.user_by_username(uow.session, username)
        if user is None or not user.is_active:
            verify_password(_DUMMY, password)  # same time whether or not the user exists
            raise _bad_login()
        if not verify_password(user.password_hash, password):
            raise _bad_login()
        return user.id


@dataclass
class IssuedToken:
    id: int
    token: str
    expires_at: datetime | None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(uow: UnitOfWork, user_id: int, name: str = "api",
                ttl: timedelta | None = timedelta(hours=12)) -> IssuedToken:
    """A new personal API token; only its SHA-256 is stored."""
    token = "eib_" + secrets.token_urlsafe(32)
    now = utcnow()
    with uow:
        row = ApiTokenRow(user_id=user_id, name=name[:100], token_hash=token_digest(token),
                          prefix=token[:12], created_at=now,
                          expires_at=now + ttl if ttl else None)
        uow.session.add(row)
        uow.session.flush()
        uow.commit()
        return IssuedToken(row.id, token, row.expires_at)


def user_for_token(uow: UnitOfWork, token: str) -> int | None:
    """The user a bearer token belongs to, if it is valid now."""
    now = utcnow()
    with uow:
        row = repo.token_by_digest(uow.session, token_digest(token))
        if row is None or row.revoked_at is not None or (
                row.expires_at is not None and row.expires_at <= now):
            return None
        user = uow.session.get(UserRow, row.user_id)
        if user is None or not user.is_active:
            return None
        return user.id
