"""Accounts (身份鉴别): passwords, lockout, sessions, TOTP, tokens, and the admins' user work.

GB/T 22239-2019 level 3, 8.1.4.1 (身份鉴别) a) unique users, complex passwords changed
periodically; b) login-failure handling and session timeouts; d) two factors for admins.
8.1.4.2 (访问控制) c/d) 三员分立: the system admin manages accounts, the security admin
roles, scopes and security settings, the auditor reads the audit log; none acts on a case.
Where this departs from OWASP ASVS 5.0 is in docs/security.md.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import string
import unicodedata
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from workflow.errors import DomainError, Forbidden, NotFound, ValidationFailed, refuse
from workflow.roles import ADMIN_ROLES, CASE_ROLES, Role
from workflow.services import audit
from workflow.services.audit import Who
from workflow.services.clock import real_utcnow
from workflow.storage import authorities_repo, scope_repo, sealed, security_repo, users_repo
from workflow.storage.models import ApiTokenRow, UserRow
from workflow.storage.uow import DbSession, UnitOfWork

# argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): ~0.1 s per check
# on a small server; older hashes are upgraded at the next successful login.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY = _hasher.hash("not-a-real-password")
ISSUER = "科技兴贸出口创新基地"
PASSWORD_MIN = 10
PASSWORD_MAX = 200
HISTORY = 5  # a new password may not be any of the last five (current included)


class LoginFailed(DomainError):
    code = "invalid_credentials"
    status = 401


class AccountLocked(LoginFailed):
    code = "account_locked"
    status = 429


class SecondFactorRequired(LoginFailed):
    code = "totp_required"
    status = 401


class PasswordChangeRequired(Forbidden):
    """A temporary or expired password: nothing but changing it, and that on the web."""

    code = "password_change_required"


CHANGE_PASSWORD_FIRST = refuse(
    "password_change_required",
    "须先修改密码（临时密码或密码已超过有效期）：请在网页上登录，在“修改密码”页（/account/password）"
    "设置新密码后再使用接口",
    "the password must be changed first (it is temporary or has expired): log in on the "
    "web and set a new one on the change-password page (/account/password), then use the API")


# --- policy (security admin's settings) ----------------------------------------------------

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


def _policy(session: DbSession, defaults: Policy | None = None) -> Policy:
    base = defaults or Policy()
    stored = security_repo.settings(session, list(LIMITS))
    values = {k: int(v) for k, v in stored.items() if isinstance(v, int)}
    return replace(base, **values)


def policy(uow: UnitOfWork, defaults: Policy | None = None) -> Policy:
    """The security settings in force (stored values over `defaults`)."""
    with uow.read():
        return _policy(uow.session, defaults)


# --- passwords ----------------------------------------------------------------------------

def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


@functools.cache
def common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords, lower case (see the file's header for the source)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def is_common_password(password: str) -> bool:
    """One of the most common passwords in any letter case, or one with only digits and
    symbols added at the end ("Password2024!"), the usual way round composition rules.
    OWASP ASVS 5.0 V6.2.4 (checked against at least the top 3,000 passwords)."""
    lowered = password.lower()
    base = lowered.rstrip(string.digits + string.punctuation + " ")
    return lowered in common_passwords() or base in common_passwords()


def password_problems(password: str, username: str = "",
                      previous_hashes: list[str] | None = None) -> list[Any]:
    """Why `password` may not be used (empty: it may): no control characters, length, 3 of
    4 character classes, not a common password, not containing the user name, not one of
    the last five."""
    out = []
    if any(unicodedata.category(c) == "Cc" for c in password):  # NUL, tab, line breaks, DEL
        out.append(refuse("password_control_characters",
                          "密码不能包含控制字符（如 NUL、制表符、换行符）",
                          "the password may not contain control characters (such as NUL, "
                          "tabs or line breaks)", field="new_password"))
    if len(password) < PASSWORD_MIN or len(password) > PASSWORD_MAX:
        out.append(refuse("password_too_short", f"密码长度应为 {PASSWORD_MIN}–{PASSWORD_MAX} 位",
                          f"passwords have {PASSWORD_MIN} to {PASSWORD_MAX} characters",
                          field="new_password"))
    classes = sum((any(c.islower() for c in password), any(c.isupper() for c in password),
                   any(c.isdigit() for c in password),
                   any(not c.isalnum() for c in password)))
    if classes < 3:
        out.append(refuse("password_too_simple", "密码须包含大写字母、小写字母、数字、符号中的至少三类",
                          "use at least three of: upper case, lower case, digits, symbols",
                          field="new_password"))
    if is_common_password(password):
        out.append(refuse("password_too_common",
                          "该密码过于常见（或只是在常见密码后加了数字、符号），容易被猜中，请换一个",
                          "this password is too common (or a common one with digits or symbols "
                          "added); choose another", field="new_password"))
    if username and len(username) >= 3 and username.lower() in password.lower():
        out.append(refuse("password_contains_username", "密码不能包含用户名",
                          "the password may not contain the user name", field="new_password"))
    if any(verify_password(h, password) for h in (previous_hashes or [])[:HISTORY]):
        out.append(refuse("password_reused", f"不能使用最近 {HISTORY} 次用过的密码",
                          f"the password may not be one of the last {HISTORY}",
                          field="new_password"))
    return out


def _set_password(user: UserRow, new_password: str, now: datetime, must_change: bool) -> None:
    history = [user.password_hash, *(user.password_history or [])][:HISTORY - 1]
    user.password_history = history
    user.password_hash = hash_password(new_password)
    user.password_changed_at = now
    user.must_change_password = must_change


# A login token (POST /api/v1/auth/token) is a session: it ends with the user's web
# sessions. Personal tokens are the user's own to keep or revoke (docs/security.md).
LOGIN_TOKEN = "login"


def _end_sessions(s: DbSession, user: UserRow, now: datetime) -> int:
    """Every web session and login token of the user ends; how many tokens were revoked."""
    user.session_epoch = (user.session_epoch or 0) + 1
    return security_repo.revoke_tokens(s, user.id, now, named=LOGIN_TOKEN)


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
    return user.password_changed_at is not None and password_expired(user, _policy(s), now)


def change_password(uow: UnitOfWork, user_id: int, current: str, new: str,
                    revoke_personal_tokens: bool = False, now: datetime | None = None) -> int:
    """The user changes their own password; returns the new session epoch (the caller's
    session keeps it, every other session and every login token of the user ends; the
    personal tokens too if the user says so, and the choice is audited)."""
    now = now or real_utcnow()
    with uow:
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        if not verify_password(user.password_hash, current):
            audit.append(s, "password_change_failed", who=Who.of(user), result="refused",
                         object_type="user", object_id=user.id, now=now)
            uow.commit()
            raise ValidationFailed(refuse("wrong_current_password", "当前密码不正确",
                                          "the current password is wrong",
                                          field="current_password"))
        problems = password_problems(new, user.username,
                                     [user.password_hash, *(user.password_history or [])])
        if problems:
            raise ValidationFailed(*problems)
        _set_password(user, new, now, must_change=False)
        login_tokens = _end_sessions(s, user, now)
        personal = security_repo.revoke_tokens(s, user.id, now) if revoke_personal_tokens else 0
        audit.append(s, "password_changed", who=Who.of(user), object_type="user",
                     object_id=user.id, now=now,
                     details={"login_tokens_revoked": login_tokens,
                              "personal_tokens": "revoked" if revoke_personal_tokens
                              else "kept", "personal_tokens_revoked": personal})
        uow.commit()
        return user.session_epoch


# --- logging in ---------------------------------------------------------------------------

def _bad_login() -> LoginFailed:
    return LoginFailed(refuse("invalid_credentials", "用户名或密码错误",
                              "wrong username or password"))


def _locked(until: datetime, now: datetime) -> AccountLocked:
    minutes = max(1, int((until - now).total_seconds() + 59) // 60)
    return AccountLocked(refuse("account_locked",
                                f"登录失败次数过多，请 {minutes} 分钟后再试，或联系安全管理员解锁",
                                f"too many failed logins; try again in {minutes} minutes "
                                "or ask the security admin to unlock",
                                details={"minutes": minutes}))


def _norm(username: str) -> str:
    return (username or "").strip()[:64]


def _check_not_locked(s: DbSession, username: str, ip: str, now: datetime) -> None:
    row = security_repo.login_failure(s, username, ip)
    if row is not None and row.locked_until is not None and row.locked_until > now:
        raise _locked(row.locked_until, now)


def _count_failure(s: DbSession, user: UserRow | None, username: str, ip: str, pol: Policy,
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
        pol = _policy(s)
        try:
            _check_not_locked(s, username, ip, now)
        except AccountLocked:
            verify_password(_DUMMY, password)
            audit.append(s, "login_failed", who=Who(None, username), result="locked", ip=ip,
                         details={"reason": "locked"}, now=now)
            uow.commit()
            raise
        user = users_repo.user_by_username(s, username)
        if user is None or not user.is_active:
            verify_password(_DUMMY, password)  # same time whether or not the user exists
            until = _count_failure(s, None, username, ip, pol, now,
                                   "unknown_user" if user is None else "disabled")
            uow.commit()
            raise _locked(until, now) if until else _bad_login()
        if not verify_password(user.password_hash, password):
            until = _count_failure(s, user, username, ip, pol, now, "wrong_password")
            uow.commit()
            raise _locked(until, now) if until else _bad_login()
        if _hasher.check_needs_rehash(user.password_hash):
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


def _totp_step(secret: str, code: str, after_step: int | None, now: datetime) -> int | None:
    """The time step `code` belongs to (±1 step of drift), if it is newer than `after_step`."""
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    for drift in (-1, 0, 1):
        moment = now + timedelta(seconds=30 * drift)
        step = totp.timecode(moment)
        if hmac.compare_digest(totp.at(moment), code) and (after_step is None
                                                           or step > after_step):
            return step
    return None


def check_totp(uow: UnitOfWork, user_id: int, code: str, ip: str = "-",
               now: datetime | None = None, *, secret_key: str) -> Login:
    """Second login step: a TOTP code, each accepted once, or one of the user's recovery
    codes, which is then spent; failures count toward lockout.
    `secret_key` (Settings.secret_key) opens the sealed TOTP secret."""
    now = now or real_utcnow()
    with uow:
        s = uow.session
        pol = _policy(s)
        user = users_repo.user_by_id(s, user_id)
        _check_not_locked(s, user.username, ip, now)
        if _spend_recovery_code(s, user, code, ip, now):
            _succeed(s, user, user.username, ip, now)
            uow.commit()
            return Login(user.id, user.role, user.session_epoch, False, False,
                         password_expired(user, pol, now))
        secret = _totp_secret(user, secret_key)
        step = _totp_step(secret, code, user.totp_last_step, now) if secret else None
        if step is None:
            until = _count_failure(s, user, user.username, ip, pol, now,
                                   "wrong_totp" if secret else "totp_secret_unreadable")
            uow.commit()
            if until:
                raise _locked(until, now)
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


def logout_everywhere(uow: UnitOfWork, user_id: int, now: datetime | None = None) -> None:
    """End every session of the user (a new session epoch) and revoke their login tokens;
    personal tokens stay (they are revoked on /tokens)."""
    now = now or real_utcnow()
    with uow:
        s = uow.session
        user = s.get(UserRow, user_id)
        if user is None:
            return
        revoked = _end_sessions(s, user, now)
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
        pol = _policy(s, defaults)
        stamp = now.timestamp()
        if stamp - last_seen > pol.session_idle_minutes * 60:
            return SessionCheck(None, "idle")
        if stamp - started > pol.session_absolute_hours * 3600:
            return SessionCheck(None, "expired")
        user.authority  # noqa: B018 - load before the session closes
        return SessionCheck(user, None, password_expired(user, pol, now),
                            Role(user.role).is_admin and user.totp_secret is None)


# --- TOTP enrolment -----------------------------------------------------------------------

# The secret is stored sealed (AES-256-GCM, key from SECRET_KEY via HKDF; ASVS 5.0 V11.1,
# GB/T 22239-2019 8.1.4.7): a copy of the database or a backup alone cannot mint codes.
# Changing SECRET_KEY makes every stored secret unreadable: the security admin resets the
# factor and the user enrols again (docs/security.md).
TOTP_COLUMN = "users.totp_secret"


def _seal_totp(user: UserRow, secret: str, secret_key: str) -> str:
    return sealed.seal(secret_key, TOTP_COLUMN, user.id, secret)


def _totp_secret(user: UserRow, secret_key: str) -> str | None:
    """The user's TOTP secret in clear; None if it does not open with this SECRET_KEY."""
    if user.totp_secret is None:
        return None
    try:
        return sealed.unseal(secret_key, TOTP_COLUMN, user.id, user.totp_secret)
    except sealed.Unreadable:
        return None


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def enrol_totp(uow: UnitOfWork, user_id: int, secret: str, code: str,
               now: datetime | None = None, *, secret_key: str) -> list[str]:
    """Turn on the second factor once the user proves their app shows the right code;
    the secret is stored sealed with `secret_key` (Settings.secret_key). Returns the
    user's recovery codes in clear: shown once, stored only hashed."""
    now = now or real_utcnow()
    with uow:
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        if user.totp_secret is not None:
            raise ValidationFailed(refuse("totp_already_enrolled", "已绑定动态口令",
                                          "a one-time-code app is already enrolled"))
        try:
            pyotp.TOTP(secret).now()
        except Exception:  # noqa: BLE001 - a malformed secret from a tampered form
            raise ValidationFailed(refuse("invalid_totp", "动态口令不正确",
                                          "the one-time code is wrong", field="otp")) from None
        step = _totp_step(secret, code, None, now)
        if step is None:
            raise ValidationFailed(refuse("invalid_totp", "动态口令不正确",
                                          "the one-time code is wrong", field="otp"))
        user.totp_secret = _seal_totp(user, secret, secret_key)
        user.totp_last_step = step
        codes = _new_recovery_codes(user)
        audit.append(s, "totp_enrolled", who=Who.of(user), object_type="user",
                     object_id=user.id, details={"recovery_codes": len(codes)}, now=now)
        uow.commit()
        return codes


# --- recovery codes (for a lost or broken authenticator) ---------------------------------

RECOVERY_CODES = 10
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: read off paper
RECOVERY_LENGTH = 10  # 31**10, about 2**49: ten guesses per lockout cannot find one


def _recovery_plain(code: str) -> str | None:
    """A typed recovery code as stored (lower case, no spaces or dashes), if it can be one."""
    plain = "".join(ch for ch in (code or "").lower() if ch not in " -")
    if len(plain) != RECOVERY_LENGTH or any(ch not in RECOVERY_ALPHABET for ch in plain):
        return None
    return plain


def _new_recovery_codes(user: UserRow) -> list[str]:
    """Ten fresh codes for `user` (any older ones stop working), grouped "xxxxx-xxxxx"."""
    plain = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
             for _ in range(RECOVERY_CODES)]
    user.totp_recovery_codes = [hash_password(p) for p in plain]
    return [f"{p[:5]}-{p[5:]}" for p in plain]


def _spend_recovery_code(s: DbSession, user: UserRow, code: str, ip: str,
                         now: datetime) -> bool:
    """Whether `code` is one of the user's unused recovery codes; if so it is spent."""
    plain = _recovery_plain(code)
    if plain is None or user.totp_secret is None:
        return False
    hashes = list(user.totp_recovery_codes or [])
    for stored in hashes:
        if verify_password(stored, plain):
            hashes.remove(stored)
            user.totp_recovery_codes = hashes
            audit.append(s, "recovery_code_used", who=Who.of(user), object_type="user",
                         object_id=user.id, ip=ip, details={"left": len(hashes)}, now=now)
            return True
    return False


def recovery_codes_left(uow: UnitOfWork, user_id: int) -> int:
    """How many of the user's recovery codes are still unused."""
    with uow:
        return len(users_repo.user_by_id(uow.session, user_id).totp_recovery_codes or [])


def regenerate_recovery_codes(uow: UnitOfWork, user_id: int, password: str, ip: str = "-",
                              now: datetime | None = None) -> list[str]:
    """New recovery codes, in clear, once; every older code stops working. The user
    confirms with their password (a session left open is not enough); a wrong one counts
    toward the lockout like a failed login."""
    now = now or real_utcnow()
    with uow:
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        _check_not_locked(s, user.username, ip, now)
        if user.totp_secret is None:
            raise ValidationFailed(refuse("totp_not_enrolled", "尚未绑定动态口令，没有恢复码",
                                          "no one-time-code app is enrolled, so there are "
                                          "no recovery codes"))
        if not verify_password(user.password_hash, password):
            until = _count_failure(s, user, user.username, ip, _policy(s), now,
                                   "wrong_password")
            uow.commit()
            if until:
                raise _locked(until, now)
            raise ValidationFailed(refuse("wrong_current_password", "当前密码不正确",
                                          "the current password is wrong", field="password"))
        codes = _new_recovery_codes(user)
        audit.append(s, "recovery_codes_regenerated", who=Who.of(user), object_type="user",
                     object_id=user.id, details={"recovery_codes": len(codes)}, now=now)
        uow.commit()
        return codes


# --- tokens -------------------------------------------------------------------------------

@dataclass
class IssuedToken:
    id: int
    token: str
    expires_at: datetime | None


def token_digest(token: str) -> str:
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
        audit.append(uow.session, "token_created", who=Who.of(user), object_type="api_token",
                     object_id=row.id, details={"name": row.name, "prefix": row.prefix},
                     now=now)
        uow.commit()
        return IssuedToken(row.id, token, row.expires_at)


# --- the three admins' work (三员分立) -------------------------------------------------------

def _admin(s: DbSession, admin_id: int, role: Role, action: str) -> UserRow:
    """The acting admin, if their role is the one for `action`; else refused and audited."""
    return users_repo.user_in_role(s, admin_id, role, refuse(
        "not_your_duty", f"只有{role.zh}可以{action}",
        f"only the {role.value.replace('_', ' ')} may do this",
        details={"required_role": role.value}))


def _target(s: DbSession, admin: UserRow, user_id: int) -> UserRow:
    target = s.get(UserRow, user_id)
    if target is None:
        raise scope_repo.not_found("user")
    if target.id == admin.id:
        raise Forbidden(refuse("not_on_yourself", "不能对自己的账号执行此操作",
                               "admins may not do this to their own account"))
    return target


def _authority_id(s: DbSession, role: Role, code: str | None) -> int | None:
    """The authority an account works for: an applicant's is a province-level authority
    (the province preparing its own materials, 002 §六(三)) or a city's bureau; a
    provincial reviewer's is province-level (the provinces review and recommend). An
    inactive city takes no new account."""
    if role not in (Role.APPLICANT, Role.PROVINCIAL_REVIEWER):
        return None
    authority = authorities_repo.authority_by_code(s, code or "")
    if authority is None:
        raise ValidationFailed(refuse("authority_required", "申报单位和省级审核人员须选择所属单位",
                                      "applicants and provincial reviewers need an authority",
                                      field="authority"))
    if role is Role.PROVINCIAL_REVIEWER and authority.is_city:
        raise ValidationFailed(refuse(
            "reviewer_needs_province", "省级审核人员须属于省级单位，不能属于地级市",
            "a provincial reviewer belongs to a province-level authority, not to a city",
            field="authority", details={"value": authority.code}))
    if not authority.is_active:
        raise ValidationFailed(refuse(
            "authority_inactive", f"{authority.name_zh}已停用，不能开设账号",
            f"{authority.name_en or authority.name_zh} is deactivated: it gets no new account",
            field="authority", details={"value": authority.code}))
    return authority.id


def _role(value: str, allowed: frozenset[Role]) -> Role:
    try:
        role = Role(value)
    except ValueError:
        role = None
    if role is None or role not in allowed:
        raise ValidationFailed(refuse("invalid_choice", "角色无效", "invalid role", field="role",
                                      details={"value": str(value)[:30]}))
    return role


def list_users(uow: UnitOfWork, admin_id: int, now: datetime | None = None
               ) -> tuple[list[UserRow], set[str]]:
    """Every account, and the user names locked out right now (system and security admin)."""
    now = now or real_utcnow()
    with uow.read():
        s = uow.session
        admin = users_repo.user_by_id(s, admin_id)
        if Role(admin.role) not in (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN):
            raise Forbidden(refuse("not_your_duty", "只有系统管理员和安全管理员可以查看账号",
                                   "only the system and security admins may list accounts"))
        return security_repo.all_users(s), security_repo.locked_usernames(s, now)


def create_user(uow: UnitOfWork, admin_id: int, data: dict[str, Any],
                now: datetime | None = None) -> int:
    """系统管理员 opens an account for a case role with a temporary password that must be
    changed at first login. Admin roles are granted only by the security admin."""
    now = now or real_utcnow()
    username = str(data.get("username") or "").strip()
    errors = []
    if not username or len(username) > 64 or not all(c.isalnum() or c in "._-" for c in username):
        errors.append(refuse("invalid_username", "用户名应为 1–64 位字母、数字或 . _ -",
                             "user names have 1–64 letters, digits or . _ -", field="username"))
    name = str(data.get("display_name") or "").strip()
    if not name or len(name) > 100:
        errors.append(refuse("required", "姓名：必填（不超过 100 字）",
                             "name: required (at most 100 characters)", field="display_name"))
    email = str(data.get("email") or "").strip()
    if "@" not in email or len(email) > 200:
        errors.append(refuse("invalid_email", "电子邮箱格式不正确", "invalid e-mail address",
                             field="email"))
    temp = str(data.get("password") or "")
    errors += [replace(r, field="password") for r in password_problems(temp, username)]
    if errors:
        raise ValidationFailed(*errors)
    with uow:
        s = uow.session
        admin = _admin(s, admin_id, Role.SYSTEM_ADMIN, "开设账号")
        role = _role(str(data.get("role") or ""), CASE_ROLES)
        authority_id = _authority_id(s, role, data.get("authority"))
        if users_repo.user_by_username(s, username) is not None:
            raise ValidationFailed(refuse("username_taken", "用户名已被使用",
                                          "that user name is taken", field="username"))
        user = UserRow(username=username, display_name=name, email=email, role=role.value,
                       authority_id=authority_id,
                       organisation=(str(data.get("organisation") or "").strip()[:200] or None),
                       password_hash=hash_password(temp), password_history=[],
                       password_changed_at=now, must_change_password=True, created_at=now)
        s.add(user)
        s.flush()
        audit.append(s, "user_created", who=Who.of(admin), object_type="user",
                     object_id=user.id, details={"username": username, "role": role.value},
                     now=now)
        uow.commit()
        return user.id


def set_active(uow: UnitOfWork, admin_id: int, user_id: int, active: bool,
               now: datetime | None = None) -> None:
    """系统管理员 disables (or re-enables) an account; disabling ends its sessions and
    revokes its API tokens at once."""
    now = now or real_utcnow()
    with uow:
        s = uow.session
        admin = _admin(s, admin_id, Role.SYSTEM_ADMIN, "停用账号")
        user = _target(s, admin, user_id)
        user.is_active = active
        revoked = 0
        if not active:
            revoked = _end_sessions(s, user, now) + security_repo.revoke_tokens(s, user.id, now)
        audit.append(s, "user_enabled" if active else "user_disabled", who=Who.of(admin),
                     object_type="user", object_id=user.id,
                     details={"username": user.username, "tokens_revoked": revoked}, now=now)
        uow.commit()


def reset_password(uow: UnitOfWork, admin_id: int, user_id: int, temporary: str,
                   now: datetime | None = None) -> None:
    """系统管理员 sets a temporary password; the user must change it at next login. Every
    session and every token of the user ends: whoever knew the old password is out."""
    now = now or real_utcnow()
    with uow:
        s = uow.session
        admin = _admin(s, admin_id, Role.SYSTEM_ADMIN, "重置密码")
        user = _target(s, admin, user_id)
        problems = password_problems(temporary, user.username)
        if problems:
            raise ValidationFailed(*[replace(r, field="password") for r in problems])
        _set_password(user, temporary, now, must_change=True)
        revoked = _end_sessions(s, user, now) + security_repo.revoke_tokens(s, user.id, now)
        audit.append(s, "password_reset", who=Who.of(admin), object_type="user",
                     object_id=user.id,
                     details={"username": user.username, "tokens_revoked": revoked}, now=now)
        uow.commit()


def set_role(uow: UnitOfWork, admin_id: int, user_id: int, role: str,
             authority: str | None = None, now: datetime | None = None) -> None:
    """安全管理员 changes a user's role and scope (never their own); the user's sessions and
    tokens end, so the new rights apply at once."""
    now = now or real_utcnow()
    with uow:
        s = uow.session
        admin = _admin(s, admin_id, Role.SECURITY_ADMIN, "分配角色")
        user = _target(s, admin, user_id)
        new_role = _role(role, CASE_ROLES | ADMIN_ROLES)
        authority_id = _authority_id(s, new_role, authority)
        before = {"role": user.role, "authority": user.authority.code if user.authority else None}
        user.role = new_role.value
        user.authority_id = authority_id
        _end_sessions(s, user, now)
        security_repo.revoke_tokens(s, user.id, now)
        audit.append(s, "role_changed", who=Who.of(admin), object_type="user",
                     object_id=user.id,
                     details={"username": user.username, "before": before,
                              "after": {"role": new_role.value,
                                        "authority": authority if authority_id else None}},
                     now=now)
        uow.commit()


def unlock(uow: UnitOfWork, admin_id: int, user_id: int, now: datetime | None = None) -> int:
    """安全管理员 lifts every lockout of a user; returns how many addresses were locked."""
    now = now or real_utcnow()
    with uow:
        s = uow.session
        admin = _admin(s, admin_id, Role.SECURITY_ADMIN, "解锁账号")
        user = s.get(UserRow, user_id)
        if user is None:
            raise scope_repo.not_found("user")
        cleared = security_repo.clear_login_failures(s, user.username)
        user.failed_logins = 0
        user.locked_until = None
        audit.append(s, "account_unlocked", who=Who.of(admin), object_type="user",
                     object_id=user.id, details={"username": user.username}, now=now)
        uow.commit()
        return cleared


def reset_totp(uow: UnitOfWork, admin_id: int, user_id: int, now: datetime | None = None
               ) -> None:
    """安全管理员 removes a lost second factor; the user enrols again at next login (their
    sessions and login tokens end)."""
    now = now or real_utcnow()
    with uow:
        s = uow.session
        admin = _admin(s, admin_id, Role.SECURITY_ADMIN, "重置动态口令")
        user = _target(s, admin, user_id)
        user.totp_secret = None
        user.totp_last_step = None
        user.totp_recovery_codes = []
        revoked = _end_sessions(s, user, now)
        audit.append(s, "totp_reset", who=Who.of(admin), object_type="user",
                     object_id=user.id,
                     details={"username": user.username, "tokens_revoked": revoked}, now=now)
        uow.commit()


def update_policy(uow: UnitOfWork, admin_id: int, changes: dict[str, Any],
                  now: datetime | None = None) -> Policy:
    """安全管理员 changes security settings; each value is checked against its range."""
    now = now or real_utcnow()
    clean: dict[str, int] = {}
    errors = []
    for name, (lo, hi) in LIMITS.items():
        if name not in changes or changes[name] in (None, ""):
            continue
        try:
            value = int(str(changes[name]).strip())
        except ValueError:
            value = None
        if value is None or not lo <= value <= hi:
            errors.append(refuse("out_of_range", f"{POLICY_ZH[name]}应在 {lo}–{hi} 之间",
                                 f"{name} must be between {lo} and {hi}", field=name,
                                 details={"value": str(changes[name])[:20]}))
        else:
            clean[name] = value
    if errors:
        raise ValidationFailed(*errors)
    with uow:
        s = uow.session
        admin = _admin(s, admin_id, Role.SECURITY_ADMIN, "修改安全设置")
        before = _policy(s)
        for name, value in clean.items():
            security_repo.put_setting(s, name, value, now)
        after = replace(before, **clean)
        changed = {f.name: [getattr(before, f.name), getattr(after, f.name)]
                   for f in fields(Policy) if getattr(before, f.name) != getattr(after, f.name)}
        audit.append(s, "settings_changed", who=Who.of(admin), object_type="settings",
                     details={"changed": changed}, now=now)
        uow.commit()
        return after


def lockouts(uow: UnitOfWork, admin_id: int, user_id: int, now: datetime | None = None
             ) -> list[tuple[str, datetime]]:
    """(address, locked until) of a user's current lockouts (security admin)."""
    now = now or real_utcnow()
    with uow.read():
        s = uow.session
        _admin(s, admin_id, Role.SECURITY_ADMIN, "查看锁定")
        user = s.get(UserRow, user_id)
        if user is None:
            raise NotFound(refuse("not_found", "未找到该记录", "not found"))
        return [(r.ip, r.locked_until) for r in security_repo.locks_of(s, user.username, now)
                if r.locked_until is not None]
