"""Passwords (口令): hashing, the rules a new one must meet, and a user changing their own.

GB/T 22239-2019 level 3, 8.1.4.1 a) complex passwords changed periodically. Where this
departs from OWASP ASVS 5.0 is in docs/security.md.
"""

from __future__ import annotations

import functools
import string
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from workflow.errors import Forbidden, ValidationFailed, refuse
from workflow.services import audit
from workflow.services.audit import Who
from workflow.services.clock import real_utcnow
from workflow.services.sessions import end_sessions
from workflow.storage import security_repo, users_repo
from workflow.storage.models import UserRow
from workflow.storage.uow import UnitOfWork

# argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): ~0.1 s per check
# on a small server; older hashes are upgraded at the next successful login.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY = _hasher.hash("not-a-real-password")
PASSWORD_MIN = 10
PASSWORD_MAX = 200
HISTORY = 5  # a new password may not be any of the last five (current included)


class PasswordChangeRequired(Forbidden):
    """A temporary or expired password: nothing but changing it, and that on the web."""

    code = "password_change_required"


CHANGE_PASSWORD_FIRST = refuse(
    "password_change_required",
    "须先修改密码（临时密码或密码已超过有效期）：请在网页上登录，在“修改密码”页（/account/password）"
    "设置新密码后再使用接口",
    "the password must be changed first (it is temporary or has expired): log in on the "
    "web and set a new one on the change-password page (/account/password), then use the API")


def hash_password(password: str) -> str:
    """The argon2id hash stored for `password`."""
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    """Whether `password` is the one `stored` was hashed from."""
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Was `stored` hashed with weaker parameters than today's (upgraded at the next login)?"""
    return _hasher.check_needs_rehash(stored)


def verify_nothing(password: str) -> None:
    """Spend the time of one check, so a login takes as long whether or not the user exists."""
    verify_password(_DUMMY, password)


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


def set_password(user: UserRow, new_password: str, now: datetime, must_change: bool) -> None:
    """`new_password` becomes the user's; the old one joins the history."""
    history = [user.password_hash, *(user.password_history or [])][:HISTORY - 1]
    user.password_history = history
    user.password_hash = hash_password(new_password)
    user.password_changed_at = now
    user.must_change_password = must_change


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
        set_password(user, new, now, must_change=False)
        login_tokens = end_sessions(s, user, now)
        personal = security_repo.revoke_tokens(s, user.id, now) if revoke_personal_tokens else 0
        audit.append(s, "password_changed", who=Who.of(user), object_type="user",
                     object_id=user.id, now=now,
                     details={"login_tokens_revoked": login_tokens,
                              "personal_tokens": "revoked" if revoke_personal_tokens
                              else "kept", "personal_tokens_revoked": personal})
        uow.commit()
        return user.session_epoch
