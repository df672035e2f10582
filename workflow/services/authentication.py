"""Logging in (身份鉴别): the password step, the second-factor step, and both at once for
the API.

GB/T 22239-2019 level 3, 8.1.4.1 a) unique users; b) login-failure handling; d) two
factors for admins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from workflow.errors import refuse
from workflow.roles import Role
from workflow.services import audit
from workflow.services.audit import Who
from workflow.services.clock import real_utcnow
from workflow.services.lockout import (
    AccountLocked,
    LoginFailed,
    bad_login,
    check_not_locked,
    count_failure,
    locked,
)
from workflow.services.passwords import (
    CHANGE_PASSWORD_FIRST,
    PasswordChangeRequired,
    hash_password,
    needs_rehash,
    verify_nothing,
    verify_password,
)
from workflow.services.second_factor import open_totp_secret, spend_recovery_code, totp_step
from workflow.services.security_policy import password_expired, read_policy
from workflow.storage import security_repo, users_repo
from workflow.storage.models import UserRow
from workflow.storage.uow import DbSession, UnitOfWork


class SecondFactorRequired(LoginFailed):
    """The password checked out but a one-time code is missing (401)."""

    code = "totp_required"
    status = 401


def _norm(username: str) -> str:
    return (username or "").strip()[:64]


@dataclass
class Login:
    """A password that checked out; what must still happen before the user may work."""

    user_id: int
    role: str
    session_epoch: int
    needs_totp: bool  # enrolled: the second step asks for a code
    must_enrol_totp: bool  # an admin without a second factor: enrol first
    must_change_password: bool


def check_password(uow: UnitOfWork, username: str, password: str, ip: str = "-",
                   now: datetime | None = None) -> Login:
    """First login step: the password, with lockout per (user name, address)."""
    now = now or real_utcnow()
    username = _norm(username)
    with uow:
        s = uow.session
        pol = read_policy(s)
        try:
            check_not_locked(s, username, ip, now)
        except AccountLocked:
            verify_nothing(password)
            audit.append(s, "login_failed", who=Who(None, username), result="locked", ip=ip,
                         details={"reason": "locked"}, now=now)
            uow.commit()
            raise
        user = users_repo.user_by_username(s, username)
        if user is None or not user.is_active:
            verify_nothing(password)  # same time whether or not the user exists
            until = count_failure(s, None, username, ip, pol, now,
                                   "unknown_user" if user is None else "disabled")
            uow.commit()
            raise locked(until, now) if until else bad_login()
        if not verify_password(user.password_hash, password):
            until = count_failure(s, user, username, ip, pol, now, "wrong_password")
            uow.commit()
            raise locked(until, now) if until else bad_login()
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        needs_totp = user.totp_secret is not None
        if not needs_totp:
            _succeed(s, user, username, ip, now)
        uow.commit()
        return Login(user.id, user.role, user.session_epoch, needs_totp,
                     Role(user.role).is_admin and not needs_totp,
                     password_expired(user, pol, now))


def _succeed(s: DbSession, user: UserRow, username: str, ip: str, now: datetime) -> None:
    security_repo.clear_login_failures(s, username, ip)
    user.failed_logins = 0
    user.locked_until = None
    audit.append(s, "login_succeeded", who=Who.of(user), object_type="user",
                 object_id=user.id, ip=ip, now=now)


def check_totp(uow: UnitOfWork, user_id: int, code: str, ip: str = "-",
               now: datetime | None = None, *, secret_key: str) -> Login:
    """Second login step: a TOTP code, each accepted once, or one of the user's recovery
    codes, which is then spent; failures count toward lockout.
    `secret_key` (Settings.secret_key) opens the sealed TOTP secret."""
    now = now or real_utcnow()
    with uow:
        s = uow.session
        pol = read_policy(s)
        user = users_repo.user_by_id(s, user_id)
        check_not_locked(s, user.username, ip, now)
        if spend_recovery_code(s, user, code, ip, now):
            _succeed(s, user, user.username, ip, now)
            uow.commit()
            return Login(user.id, user.role, user.session_epoch, False, False,
                         password_expired(user, pol, now))
        secret = open_totp_secret(user, secret_key)
        step = totp_step(secret, code, user.totp_last_step, now) if secret else None
        if step is None:
            until = count_failure(s, user, user.username, ip, pol, now,
                                   "wrong_totp" if secret else "totp_secret_unreadable")
            uow.commit()
            if until:
                raise locked(until, now)
            raise LoginFailed(refuse("invalid_totp", "动态口令或恢复码不正确或已使用",
                                     "the one-time code or recovery code is wrong or "
                                     "already used", field="otp"))
        user.totp_last_step = step
        _succeed(s, user, user.username, ip, now)
        uow.commit()
        return Login(user.id, user.role, user.session_epoch, False, False,
                     password_expired(user, pol, now))


def authenticate(uow: UnitOfWork, username: str, password: str, ip: str = "-",
                 otp: str | None = None, now: datetime | None = None, *,
                 secret_key: str) -> int:
    """Both steps at once (the API): the user id, or `LoginFailed`. An enrolled user must
    send `otp`; an admin who has not enrolled a second factor is refused, and so is a
    temporary or expired password (`PasswordChangeRequired`: it is changed on the web)."""
    login = check_password(uow, username, password, ip, now)
    if login.needs_totp:
        if not otp:
            raise SecondFactorRequired(refuse("totp_required", "请提供动态口令",
                                              "a one-time code (otp) is required",
                                              field="otp"))
        login = check_totp(uow, login.user_id, otp, ip, now, secret_key=secret_key)
    elif login.must_enrol_totp:
        raise SecondFactorRequired(refuse(
            "totp_enrolment_required", "管理员须先在网页上绑定动态口令",
            "admins must first enrol a one-time-code app on the web", field="otp"))
    if login.must_change_password:
        audit.log(uow, "token_refused", who=Who(login.user_id, _norm(username), login.role),
                  result="refused", object_type="user", object_id=login.user_id, ip=ip,
                  details={"reason": CHANGE_PASSWORD_FIRST.code}, now=now)
        raise PasswordChangeRequired(CHANGE_PASSWORD_FIRST)
    return login.user_id
