"""The admins' work on accounts (三员分立): the system admin opens, disables and resets
accounts; the security admin assigns roles and scopes, unlocks, resets second factors and
keeps the security settings.

GB/T 22239-2019 level 3, 8.1.4.2 (访问控制) c/d): the system admin manages accounts, the
security admin roles, scopes and security settings, the auditor reads the audit log; none
acts on a case or on their own account.
"""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import datetime
from typing import Any

from workflow import permissions
from workflow.errors import Forbidden, NotFound, ValidationFailed, refuse
from workflow.roles import ADMIN_ROLES, CASE_ROLES, Role
from workflow.services import audit
from workflow.services.audit import Who
from workflow.services.clock import real_utcnow
from workflow.services.passwords import hash_password, password_problems, set_password
from workflow.services.security_policy import LIMITS, POLICY_ZH, Policy, read_policy
from workflow.services.sessions import end_sessions
from workflow.storage import authorities_repo, scope_repo, security_repo, users_repo
from workflow.storage.models import UserRow
from workflow.storage.uow import DbSession, UnitOfWork

# --- the three admins' work (三员分立) -------------------------------------------------------

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
        permissions.require(users_repo.user_by_id(s, admin_id), "accounts.list")
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
        admin = permissions.require(users_repo.user_by_id(s, admin_id), "accounts.admin")
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
        admin = permissions.require(users_repo.user_by_id(s, admin_id), "accounts.admin")
        user = _target(s, admin, user_id)
        user.is_active = active
        revoked = 0
        if not active:
            revoked = end_sessions(s, user, now) + security_repo.revoke_tokens(s, user.id, now)
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
        admin = permissions.require(users_repo.user_by_id(s, admin_id), "accounts.admin")
        user = _target(s, admin, user_id)
        problems = password_problems(temporary, user.username)
        if problems:
            raise ValidationFailed(*[replace(r, field="password") for r in problems])
        set_password(user, temporary, now, must_change=True)
        revoked = end_sessions(s, user, now) + security_repo.revoke_tokens(s, user.id, now)
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
        admin = permissions.require(users_repo.user_by_id(s, admin_id), "security.admin")
        user = _target(s, admin, user_id)
        new_role = _role(role, CASE_ROLES | ADMIN_ROLES)
        authority_id = _authority_id(s, new_role, authority)
        before = {"role": user.role, "authority": user.authority.code if user.authority else None}
        user.role = new_role.value
        user.authority_id = authority_id
        end_sessions(s, user, now)
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
        admin = permissions.require(users_repo.user_by_id(s, admin_id), "security.admin")
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
        admin = permissions.require(users_repo.user_by_id(s, admin_id), "security.admin")
        user = _target(s, admin, user_id)
        user.totp_secret = None
        user.totp_last_step = None
        user.totp_recovery_codes = []
        revoked = end_sessions(s, user, now)
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
        admin = permissions.require(users_repo.user_by_id(s, admin_id), "security.admin")
        before = read_policy(s)
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
        permissions.require(users_repo.user_by_id(s, admin_id), "security.admin")
        user = s.get(UserRow, user_id)
        if user is None:
            raise NotFound(refuse("not_found", "未找到该记录", "not found"))
        return [(r.ip, r.locked_until) for r in security_repo.locks_of(s, user.username, now)
                if r.locked_until is not None]
