"""Sessions (会话): the web session's checks, and ending every session of a user.

GB/T 22239-2019 level 3, 8.1.4.1 b) session timeouts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from workflow.roles import Role
from workflow.services import audit
from workflow.services.audit import Who
from workflow.services.clock import real_utcnow
from workflow.services.security_policy import Policy, password_expired, read_policy
from workflow.storage import security_repo
from workflow.storage.models import UserRow
from workflow.storage.uow import DbSession, UnitOfWork

# A login token (POST /api/v1/auth/token) is a session: it ends with the user's web
# sessions. Personal tokens are the user's own to keep or revoke (docs/security.md).
LOGIN_TOKEN = "login"


def end_sessions(s: DbSession, user: UserRow, now: datetime) -> int:
    """Every web session and login token of the user ends; how many tokens were revoked."""
    user.session_epoch = (user.session_epoch or 0) + 1
    return security_repo.revoke_tokens(s, user.id, now, named=LOGIN_TOKEN)


def logout_everywhere(uow: UnitOfWork, user_id: int, now: datetime | None = None) -> None:
    """End every session of the user (a new session epoch) and revoke their login tokens;
    personal tokens stay (they are revoked on /tokens)."""
    now = now or real_utcnow()
    with uow:
        s = uow.session
        user = s.get(UserRow, user_id)
        if user is None:
            return
        revoked = end_sessions(s, user, now)
        audit.append(s, "logout", who=Who.of(user), object_type="user", object_id=user.id,
                     details={"login_tokens_revoked": revoked}, now=now)
        uow.commit()


@dataclass
class SessionCheck:
    """Whether a browser session may continue, and why not."""

    user: UserRow | None
    reason: str | None  # None | gone | disabled | ended | idle | expired
    password_expired: bool = False
    must_enrol_totp: bool = False


def check_session(uow: UnitOfWork, user_id: int, epoch: int | None, started: float,
                  last_seen: float, defaults: Policy | None = None,
                  now: datetime | None = None) -> SessionCheck:
    """The session's user if the session is still valid: same epoch (not logged out or
    disabled since), not idle longer than allowed, not older than the absolute limit."""
    now = now or real_utcnow()
    with uow.read():
        s = uow.session
        user = s.get(UserRow, user_id)
        if user is None:
            return SessionCheck(None, "gone")
        if not user.is_active:
            return SessionCheck(None, "disabled")
        if epoch != user.session_epoch:
            return SessionCheck(None, "ended")
        pol = read_policy(s, defaults)
        stamp = now.timestamp()
        if stamp - last_seen > pol.session_idle_minutes * 60:
            return SessionCheck(None, "idle")
        if stamp - started > pol.session_absolute_hours * 3600:
            return SessionCheck(None, "expired")
        user.authority  # noqa: B018 - load before the session closes
        return SessionCheck(user, None, password_expired(user, pol, now),
                            Role(user.role).is_admin and user.totp_secret is None)
