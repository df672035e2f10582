"""Who uses the system (DOMAIN.md "Who uses it")."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    APPLICANT = "applicant"  # 地级市商务主管部门 / 龙头企业
    PROVINCIAL_REVIEWER = "provincial_reviewer"  # 省级商务主管部门
    MINISTRY_REVIEWER = "ministry_reviewer"  # 商务部科技司
    SYSTEM_ADMIN = "system_admin"  # 系统管理员
    SECURITY_ADMIN = "security_admin"  # 安全管理员
    AUDITOR = "auditor"  # 审计管理员

    @property
    def zh(self) -> str:
        return ROLE_ZH[self]

    @property
    def is_admin(self) -> bool:
        return self in ADMIN_ROLES


ROLE_ZH = {
    Role.APPLICANT: "申报单位",
    Role.PROVINCIAL_REVIEWER: "省级审核人员",
    Role.MINISTRY_REVIEWER: "商务部审核人员",
    Role.SYSTEM_ADMIN: "系统管理员",
    Role.SECURITY_ADMIN: "安全管理员",
    Role.AUDITOR: "审计管理员",
}

ADMIN_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR})
CASE_ROLES = frozenset({Role.APPLICANT, Role.PROVINCIAL_REVIEWER, Role.MINISTRY_REVIEWER})


@dataclass(frozen=True)
class Actor:
    """The person firing a trigger, and whom they act for when deputising."""

    user_id: int
    role: Role
    # the authority acted for: a province-level one, or (applicants) a city; None for the
    # ministry
    authority_code: str | None = None
    name: str = ""
    on_behalf_of_id: int | None = None
    on_behalf_of_name: str | None = None
