"""API tokens: a login token issued when the API logs in, and personal tokens
(个人访问令牌) created, listed and revoked by their owner.

Only a token's SHA-256 is stored. A token acts as its owner: the same role and the same
scope (authority, deputyships) as the owner has at the moment of each request; `read`
tokens may only read. No token works while its owner's password must be changed. The
name `login` is kept for login tokens (`sessions.LOGIN_TOKEN`), which end with the
owner's sessions.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from workflow.errors import NotFound, ValidationFailed, refuse
from workflow.services import audit
from workflow.services.clock import CHINA, local_date, real_utcnow
from workflow.services.passwords import CHANGE_PASSWORD_FIRST, PasswordChangeRequired
from workflow.services.security_policy import must_change_password
from workflow.services.sessions import LOGIN_TOKEN
from workflow.storage import api_repo, scope_repo, users_repo
from workflow.storage.models import ApiTokenRow
from workflow.storage.uow import UnitOfWork, lost_connection

_log = logging.getLogger(__name__)

SCOPES = ("read", "read_write")
MAX_DAYS = 366
MAX_ACTIVE = 20
LAST_USED_GRANULARITY = timedelta(minutes=5)


@dataclass
class Principal:
    """Who a bearer token speaks for, and what it may do."""

    user_id: int
    scope: str
    token_id: int
    role: str = ""  # the owner's role now (a role change revokes the owner's tokens)


@dataclass
class Created:
    id: int
    token: str  # shown once, never stored
    name: str
    prefix: str
    scope: str
    created_at: datetime
    expires_at: datetime | None


@dataclass
class IssuedToken:
    """A login token just issued (shown once)."""

    id: int
    token: str
    expires_at: datetime | None


def token_digest(token: str) -> str:
    """What is stored of a token, and looked up by: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(uow: UnitOfWork, user_id: int, name: str = LOGIN_TOKEN,
                ttl: timedelta | None = timedelta(hours=12)) -> IssuedToken:
    """A new API token (a login token unless named otherwise); only its SHA-256 is stored."""
    token = "eib_" + secrets.token_urlsafe(32)
    now = real_utcnow()
    with uow:
        user = users_repo.user_by_id(uow.session, user_id)
        row = ApiTokenRow(user_id=user_id, name=name[:100], token_hash=token_digest(token),
                          prefix=token[:12], created_at=now,
                          expires_at=now + ttl if ttl else None)
        uow.session.add(row)
        uow.session.flush()
        audit.append(uow.session, "token_created", who=audit.Who.of(user), object_type="api_token",
                     object_id=row.id, details={"name": row.name, "prefix": row.prefix},
                     now=now)
        uow.commit()
        return IssuedToken(row.id, token, row.expires_at)


def _check(name: str, scope: str, expires_on: date | None, today: date) -> str:
    clean = (name or "").strip()
    errors = []
    if not clean:
        errors.append(refuse("required", "名称：必填", "name: is required", field="name"))
    elif len(clean) > 100:
        errors.append(refuse("too_long", "名称：不得超过 100 字", "name: at most 100 characters",
                             field="name"))
    elif clean.casefold() == LOGIN_TOKEN:
        errors.append(refuse("reserved_name", f"名称“{LOGIN_TOKEN}”留给登录令牌，请换一个",
                             f"the name “{LOGIN_TOKEN}” is kept for login tokens; "
                             "choose another", field="name"))
    if scope not in SCOPES:
        errors.append(refuse("invalid_choice", "权限范围应为 read 或 read_write",
                             "scope must be read or read_write", field="scope",
                             details={"value": str(scope)[:40]}))
    if expires_on is not None and not today < expires_on <= today + timedelta(days=MAX_DAYS):
        errors.append(refuse("out_of_range", f"有效期应在明天至 {MAX_DAYS} 天内",
                             f"expiry must be between tomorrow and {MAX_DAYS} days from today",
                             field="expires_on", details={"value": str(expires_on)}))
    if errors:
        raise ValidationFailed(*errors)
    return clean


def create(uow: UnitOfWork, user_id: int, name: str, scope: str = "read_write",
           expires_on: date | None = None, now: datetime | None = None) -> Created:
    """A new personal token for `user_id`; the plain token is returned once."""
    now = now or real_utcnow()
    clean = _check(name, scope, expires_on, local_date(now))
    token = "eib_" + secrets.token_urlsafe(32)
    with uow:
        s = uow.session
        users_repo.user_by_id(s, user_id)
        if api_repo.active_token_count(s, user_id, now) >= MAX_ACTIVE:
            raise ValidationFailed(refuse("too_many_tokens", f"有效令牌最多 {MAX_ACTIVE} 个，请先吊销不用的令牌",
                                          f"at most {MAX_ACTIVE} active tokens; revoke one first",
                                          field="name"))
        # expires at the end of that day, China time (stored in UTC)
        expires_at = (datetime.combine(expires_on, time(23, 59, 59), tzinfo=CHINA)
                      .astimezone(UTC) if expires_on else None)
        row = ApiTokenRow(user_id=user_id, name=clean, token_hash=token_digest(token),
                          prefix=token[:12], scope=scope, created_at=now, expires_at=expires_at)
        s.add(row)
        s.flush()
        audit.append(s, "token_created", who=audit.Who.of(users_repo.user_by_id(s, user_id)),
                     object_type="api_token", object_id=row.id,
                     details={"name": clean, "scope": scope, "prefix": row.prefix}, now=now)
        uow.record("api_token_created", user_id=user_id, token_id=row.id, scope=scope)
        uow.commit()
        return Created(row.id, token, clean, row.prefix, scope, now, expires_at)


def list_own(uow: UnitOfWork, user_id: int) -> list[ApiTokenRow]:
    """The user's tokens, newest first (hashes are never shown)."""
    with uow.read():
        users_repo.user_by_id(uow.session, user_id)
        return api_repo.tokens_of(uow.session, user_id)


def revoke(uow: UnitOfWork, user_id: int, token_id: int, now: datetime | None = None) -> None:
    """Revoke one of the user's own tokens (someone else's is `not_found`)."""
    now = now or real_utcnow()
    with uow:
        row = uow.session.get(ApiTokenRow, token_id)
        if row is None or row.user_id != user_id:
            raise scope_repo.not_found("token")
        if row.revoked_at is None:
            row.revoked_at = now
            audit.append(uow.session, "token_revoked",
                         who=audit.Who.of(users_repo.user_by_id(uow.session, user_id)),
                         object_type="api_token", object_id=row.id, now=now)
            uow.record("api_token_revoked", user_id=user_id, token_id=token_id)
        uow.commit()


def authenticate(uow: UnitOfWork, token: str, now: datetime | None = None) -> Principal | None:
    """Who the bearer token speaks for now; None if unknown, expired, revoked or the
    owner is deactivated. `PasswordChangeRequired` while the owner's password is
    temporary or expired: the token may do nothing until it is changed."""
    now = now or real_utcnow()
    if not token.startswith("eib_") or len(token) > 200:
        return None
    with uow.read():
        s = uow.session
        row = users_repo.token_by_digest(s, token_digest(token))
        if row is None or row.revoked_at is not None or (
                row.expires_at is not None and row.expires_at <= now):
            return None
        try:
            user = users_repo.user_by_id(s, row.user_id)
        except NotFound:  # a deactivated owner's tokens stop working
            return None
        if must_change_password(s, user, now):
            raise PasswordChangeRequired(CHANGE_PASSWORD_FIRST)
        principal = Principal(user.id, row.scope or "read_write", row.id, user.role)
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_GRANULARITY:
        _note_use(uow, row.id, now)
    return principal


def _note_use(uow: UnitOfWork, token_id: int, now: datetime) -> None:
    """Write down the token's last use, in a short transaction of its own that the
    request may repeat. It is bookkeeping: a connection lost meanwhile is logged and the
    request goes on (the token's next use writes it) — no read fails for it."""
    try:
        with uow.repeatable():
            api_repo.note_token_use(uow.session, token_id, now)
            uow.commit()
    except Exception as exc:
        if not lost_connection(exc):
            raise
        _log.warning("API token %s: its last use was not written (database connection "
                     "lost); its next use writes it", token_id)
