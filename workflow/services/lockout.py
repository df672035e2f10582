"""Login-failure handling (登录失败处理): consecutive failures per (user name, address)
lock that address out of that account for a while.

GB/T 22239-2019 level 3, 8.1.4.1 b); OWASP ASVS 5.0 V6.3.1.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from workflow.errors import DomainError, refuse
from workflow.services import audit
from workflow.services.audit import Who
from workflow.services.security_policy import Policy
from workflow.storage import security_repo
from workflow.storage.models import UserRow
from workflow.storage.uow import DbSession


class LoginFailed(DomainError):
    """A login refused: wrong user name, password or code (401)."""

    code = "invalid_credentials"
    status = 401


class AccountLocked(LoginFailed):
    """Too many consecutive failures from this address: locked for a while (429)."""

    code = "account_locked"
    status = 429


def bad_login() -> LoginFailed:
    """The one refusal for a wrong user name or password (it says not which)."""
    return LoginFailed(refuse("invalid_credentials", "用户名或密码错误",
                              "wrong username or password"))


def locked(until: datetime, now: datetime) -> AccountLocked:
    """The refusal while locked, saying for how many more minutes."""
    minutes = max(1, int((until - now).total_seconds() + 59) // 60)
    return AccountLocked(refuse("account_locked",
                                f"登录失败次数过多，请 {minutes} 分钟后再试，或联系安全管理员解锁",
                                f"too many failed logins; try again in {minutes} minutes "
                                "or ask the security admin to unlock",
                                details={"minutes": minutes}))


def check_not_locked(s: DbSession, username: str, ip: str, now: datetime) -> None:
    """Refused (`AccountLocked`) while (username, ip) is locked out."""
    row = security_repo.login_failure(s, username, ip)
    if row is not None and row.locked_until is not None and row.locked_until > now:
        raise locked(row.locked_until, now)


def count_failure(s: DbSession, user: UserRow | None, username: str, ip: str, pol: Policy,
                   now: datetime, reason: str) -> datetime | None:
    """One more consecutive failure for (username, ip); the lock's end if this one locks.
    The lock is per client address, so an attacker elsewhere cannot keep the real user
    out (ASVS 5.0 V6.3.1 asks for exactly that balance)."""
    row = security_repo.login_failure(s, username, ip) or \
        security_repo.add_login_failure(s, username, ip, now)
    row.failures += 1
    row.last_failed_at = now
    if user is not None:
        user.failed_logins = (user.failed_logins or 0) + 1
    who = Who.of(user) if user else Who(None, username)
    audit.append(s, "login_failed", who=who, result="refused", object_type="user",
                 object_id=user.id if user else None, ip=ip,
                 details={"reason": reason, "consecutive": row.failures}, now=now)
    if row.failures >= pol.lockout_threshold:
        row.failures = 0
        row.locked_until = now + timedelta(minutes=pol.lockout_minutes)
        if user is not None:
            user.locked_until = row.locked_until
        audit.append(s, "account_locked", who=who, result="locked", object_type="user",
                     object_id=user.id if user else None, ip=ip,
                     details={"until": row.locked_until.isoformat(),
                              "minutes": pol.lockout_minutes}, now=now)
        return row.locked_until
    return None
