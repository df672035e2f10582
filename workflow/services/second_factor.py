"""The second factor (双因素): TOTP enrolment and codes, and recovery codes for a lost
authenticator.

GB/T 22239-2019 level 3, 8.1.4.1 d) two factors for admins; 8.1.4.7 the secret stored
sealed.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

import pyotp

from workflow.errors import ValidationFailed, refuse
from workflow.services import audit
from workflow.services.audit import Who
from workflow.services.clock import real_utcnow
from workflow.services.lockout import check_not_locked, count_failure, locked
from workflow.services.passwords import hash_password, verify_password
from workflow.services.security_policy import read_policy
from workflow.storage import sealed, users_repo
from workflow.storage.models import UserRow
from workflow.storage.uow import DbSession, UnitOfWork

ISSUER = "科技兴贸出口创新基地"


def totp_step(secret: str, code: str, after_step: int | None, now: datetime) -> int | None:
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


# The secret is stored sealed (AES-256-GCM, key from SECRET_KEY via HKDF; ASVS 5.0 V11.1,
# GB/T 22239-2019 8.1.4.7): a copy of the database or a backup alone cannot mint codes.
# Changing SECRET_KEY makes every stored secret unreadable: the security admin resets the
# factor and the user enrols again (docs/security.md).
TOTP_COLUMN = "users.totp_secret"


def _seal_totp(user: UserRow, secret: str, secret_key: str) -> str:
    return sealed.seal(secret_key, TOTP_COLUMN, user.id, secret)


def open_totp_secret(user: UserRow, secret_key: str) -> str | None:
    """The user's TOTP secret in clear; None if it does not open with this SECRET_KEY."""
    if user.totp_secret is None:
        return None
    try:
        return sealed.unseal(secret_key, TOTP_COLUMN, user.id, user.totp_secret)
    except sealed.Unreadable:
        return None


def new_totp_secret() -> str:
    """A fresh secret for enrolment (shown once as a QR code)."""
    return pyotp.random_base32()


def totp_uri(secret: str, username: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
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
        step = totp_step(secret, code, None, now)
        if step is None:
            raise ValidationFailed(refuse("invalid_totp", "动态口令不正确",
                                          "the one-time code is wrong", field="otp"))
        user.totp_secret = _seal_totp(user, secret, secret_key)
        user.totp_last_step = step
        codes = new_recovery_codes(user)
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


def new_recovery_codes(user: UserRow) -> list[str]:
    """Ten fresh codes for `user` (any older ones stop working), grouped "xxxxx-xxxxx"."""
    plain = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
             for _ in range(RECOVERY_CODES)]
    user.totp_recovery_codes = [hash_password(p) for p in plain]
    return [f"{p[:5]}-{p[5:]}" for p in plain]


def spend_recovery_code(s: DbSession, user: UserRow, code: str, ip: str,
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
        check_not_locked(s, user.username, ip, now)
        if user.totp_secret is None:
            raise ValidationFailed(refuse("totp_not_enrolled", "尚未绑定动态口令，没有恢复码",
                                          "no one-time-code app is enrolled, so there are "
                                          "no recovery codes"))
        if not verify_password(user.password_hash, password):
            until = count_failure(s, user, user.username, ip, read_policy(s), now,
                                   "wrong_password")
            uow.commit()
            if until:
                raise locked(until, now)
            raise ValidationFailed(refuse("wrong_current_password", "当前密码不正确",
                                          "the current password is wrong", field="password"))
        codes = new_recovery_codes(user)
        audit.append(s, "recovery_codes_regenerated", who=Who.of(user), object_type="user",
                     object_id=user.id, details={"recovery_codes": len(codes)}, now=now)
        uow.commit()
        return codes
