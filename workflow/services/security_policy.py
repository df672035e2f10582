"""The security settings the security admin keeps (安全管理员): lockout, password age and
session timeouts, and what they mean for a user's password.

GB/T 22239-2019 level 3, 8.1.4.1 a) passwords changed periodically; b) login-failure
handling and session timeouts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from workflow.storage import security_repo
from workflow.storage.models import UserRow
from workflow.storage.uow import DbSession, UnitOfWork


@dataclass(frozen=True)
class Policy:
    """Security settings; stored in the `settings` table, defaults below."""

    lockout_threshold: int = 5  # consecutive failures from one address …
    lockout_minutes: int = 15  # … lock that address out of that account for this long
    password_max_age_days: int = 90  # 0: passwords never expire
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12


LIMITS = {"lockout_threshold": (3, 20), "lockout_minutes": (1, 1440),
          "password_max_age_days": (0, 365), "session_idle_minutes": (1, 240),
          "session_absolute_hours": (1, 24)}
POLICY_ZH = {"lockout_threshold": "连续登录失败锁定次数", "lockout_minutes": "锁定时长（分钟）",
             "password_max_age_days": "密码有效期（天，0 为不过期）",
             "session_idle_minutes": "会话空闲超时（分钟）",
             "session_absolute_hours": "会话绝对超时（小时）"}


def read_policy(session: DbSession, defaults: Policy | None = None) -> Policy:
    """The settings in force, read in an open session (stored values over `defaults`)."""
    base = defaults or Policy()
    stored = security_repo.settings(session, list(LIMITS))
    values = {k: int(v) for k, v in stored.items() if isinstance(v, int)}
    return replace(base, **values)


def policy(uow: UnitOfWork, defaults: Policy | None = None) -> Policy:
    """The security settings in force (stored values over `defaults`)."""
    with uow.read():
        return read_policy(uow.session, defaults)


def password_expired(user: UserRow, pol: Policy, now: datetime) -> bool:
    """Must this user choose a new password before doing anything else?"""
    if user.must_change_password:
        return True
    if pol.password_max_age_days and user.password_changed_at is not None:
        return now - user.password_changed_at > timedelta(days=pol.password_max_age_days)
    return False


def must_change_password(s: DbSession, user: UserRow, now: datetime) -> bool:
    """`password_expired`, reading the policy only when the password's age matters."""
    if user.must_change_password:
        return True
    return user.password_changed_at is not None and password_expired(user, read_policy(s), now)
