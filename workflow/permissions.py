"""Who may do what, on which objects: the one authorization policy (issue 19, item 3).

`ACTIONS` is data, beside the state table: each action names the roles that may take it,
the scope of objects each of them reaches, and the words (zh/en, with a stable code) a
refused caller is told. Services ask `require(user, action)`; the web's `requires(action)`
decorator reads the same table, and a test walks every route against it.

A case's own transitions are not repeated here: who may fire a trigger is the programme's
transition table (`programmes/*.toml`, `workflow.programme`), so `case.fire:<trigger>`
asks the programme given as `obj`. Likewise which reviewers keep one programme's rounds is
that programme's `owner` and authority (`Programme.owned_by`); `rounds.manage` is the
roles any programme may name.

Scopes (DOMAIN.md "Who uses it"; 002 §六(三)): an applicant reaches the cases it drafted
(a city bureau's accounts every case of their city), a provincial reviewer the submitted
cases of its province and of the cities under it, the ministry every case. Storage turns
the scope into a WHERE clause (`scope_repo.scope_filter`, `scope_repo.in_scope`); a case
outside the caller's scope is "not found" (404), never "forbidden", so nobody learns it exists. The
three admin roles (三员分立, MLPS 2.0 level 3) act on no case at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NoReturn, Protocol, TypeVar

from workflow.errors import Forbidden, refuse
from workflow.roles import Role


class Scope(StrEnum):
    """Which objects a role reaches with an action."""

    ANY = "any"  # a page or setting of the whole system (no object of anyone's)
    SELF = "self"  # the caller's own things: password, tokens, deputies, notifications
    OWN_CASE = "own_case"  # the cases it drafted; a city bureau's, its city's cases
    AUTHORITY_TREE = "authority_tree"  # its province's cases and its cities' (submitted)
    NATIONAL = "national"  # every case of every authority


@dataclass(frozen=True)
class Rule:
    """One action: the roles that may take it (each with its scope), and the refusal."""

    roles: Mapping[Role, Scope]
    code: str  # the refusal's stable code (API clients read it)
    zh: str
    en: str


A, P, M = Role.APPLICANT, Role.PROVINCIAL_REVIEWER, Role.MINISTRY_REVIEWER
SYS, SEC, AUD = Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR

CASES = {A: Scope.OWN_CASE, P: Scope.AUTHORITY_TREE, M: Scope.NATIONAL}
REVIEWERS = {P: Scope.AUTHORITY_TREE, M: Scope.NATIONAL}
MINISTRY = {M: Scope.NATIONAL}
EVERYONE = dict.fromkeys(Role, Scope.SELF)

_NO_CASES = ("admin_cannot_act_on_cases", "管理员角色不能办理申报业务",
             "admin roles cannot act on cases")


def _admin(role: Role, code: str, zh: str, en: str) -> Rule:
    return Rule({role: Scope.ANY}, code, zh, en)


ACTIONS: dict[str, Rule] = {
    # --- a person's own account (every role) -------------------------------------------
    "account.own": Rule(EVERYONE, "forbidden", "请先登录", "log in first"),
    # --- cases: the three case roles, each in its scope ---------------------------------
    "case.view": Rule(CASES, *_NO_CASES),
    "case.create": Rule({A: Scope.OWN_CASE}, "only_applicants_draft",
                        "只有申报单位可以填写申报书", "only applicants can draft an application"),
    "case.edit_draft": Rule({A: Scope.OWN_CASE}, "only_applicants_edit",
                            "只有申报单位可以修改申报书", "only the applicant can edit the form"),
    # the gate to a case's transitions; which trigger a role fires is the programme's
    # (`case.fire:<trigger>`)
    "case.fire": Rule(CASES, *_NO_CASES),
    "case.attest": Rule(REVIEWERS, "reviewers_attest", "只有审核人员可以确认评估条件",
                        "only reviewers can confirm criteria"),
    # which kinds each role adds in which state is the programme's `attachments` table
    "case.attach": Rule(CASES, *_NO_CASES),
    "case.comment": Rule(CASES, *_NO_CASES),
    # internal comments (visibility "internal") and who holds a case: reviewers only
    "case.internal": Rule(REVIEWERS, "reviewers_only", "只有审核人员可以查看",
                          "reviewers only"),
    "case.claim": Rule(REVIEWERS, "reviewers_only_claim", "只有审核人员可以认领或指派申报",
                       "only reviewers can claim or assign cases"),
    # an ad hoc report on a base (情况报告)
    "case.report": Rule(CASES, *_NO_CASES),
    "case.export": Rule(CASES, *_NO_CASES),
    # --- bases: quarterly data, annual reports, case reports, evaluations ---------------
    "reports.view": Rule(CASES, *_NO_CASES),
    # 002 §六(三): the base (its applicant) or its province reports the data
    "reports.file": Rule({A: Scope.OWN_CASE, P: Scope.AUTHORITY_TREE}, "reporters_only",
                         "数据由基地申报单位或省级商务主管部门报送",
                         "reports are filed by the base or its province"),
    "reports.reference": Rule(MINISTRY, "ministry_only", "只有商务部可以进行此操作",
                              "only the ministry may do this"),
    "reports.programme": Rule(REVIEWERS, "reviewers_only", "只有审核人员可以查看",
                              "reviewers only"),
    "dashboard.view": Rule(REVIEWERS, "reviewers_only", "只有商务部和省级审核人员可以查看统计",
                           "only ministry and provincial reviewers see the dashboard"),
    # the reference statistics' page (the ministry enters them: `reports.reference`)
    "reports.reference_view": Rule(REVIEWERS, "reviewers_only", "只有审核人员可以查看",
                                   "reviewers only"),
    # 002 §六(三): the ministry re-evaluates, decides rectification and revocation
    "assessment.run": Rule(MINISTRY, "ministry_only", "只有商务部可以进行复评",
                           "only the ministry runs and confirms re-evaluations"),
    # 002 §六(三): the provinces' periodic assessment of the bases in their scope
    "supervision.view": Rule(REVIEWERS, "reviewers_only",
                             "只有省级和商务部审核人员可以查看基地评估报告",
                             "only provincial and ministry reviewers see the bases' "
                             "assessment reports"),
    "supervision.submit": Rule({P: Scope.AUTHORITY_TREE}, "province_only",
                               "只有省级商务主管部门的审核人员可以报送本省基地的评估",
                               "only a province's reviewers report on the bases in its "
                               "scope"),
    # the catalogue: authorities, programmes and the calendar of rounds (anyone signed in)
    "catalog.view": Rule(dict.fromkeys(Role, Scope.ANY), "forbidden", "请先登录", "log in first"),
    # --- the register of bases, public notice, objections -------------------------------
    "register.view": Rule(CASES, "admin_cannot_act_on_cases", "管理员角色不办理出口基地名录",
                          "admin roles do not handle the register of bases"),
    "register.import": Rule(MINISTRY, "only_ministry_imports_bases",
                            "只有商务部审核人员可以导入出口基地名录",
                            "only ministry reviewers may import the register of bases"),
    "objections.decide": Rule(MINISTRY, "ministry_only", "只有商务部审核人员可以处理异议",
                              "only the ministry handles objections"),
    # --- reviewers' own arrangements ---------------------------------------------------
    "deputies.manage": Rule({P: Scope.SELF, M: Scope.SELF}, "reviewers_only",
                            "只有审核人员可以指定代理人", "only reviewers can name a deputy"),
    "webhooks.manage": Rule(REVIEWERS, "reviewers_only", "只有省级和商务部审核人员可以管理 Webhook",
                            "only provincial and ministry reviewers manage webhooks"),
    # a programme's `owner` (and, for a province's own programme, that province's):
    # `Programme.owned_by` says which programme, this the roles that may keep any
    "rounds.manage": Rule({P: Scope.AUTHORITY_TREE, M: Scope.NATIONAL}, "round_owner_only",
                          "只有专项的主管部门可以设立、开放和结束申报年度",
                          "only the programme's owner opens, changes and closes rounds"),
    # --- the three admins (三员分立): each its own duties, none a case -------------------
    "admin.home": Rule({SYS: Scope.ANY, SEC: Scope.ANY, AUD: Scope.ANY}, "forbidden",
                       "您的角色不能访问此页面", "your role cannot open this page"),
    "accounts.admin": _admin(SYS, "not_your_duty", "只有系统管理员可以管理账号",
                             "only the system admin may do this"),
    "accounts.list": Rule({SYS: Scope.ANY, SEC: Scope.ANY}, "not_your_duty",
                          "只有系统管理员和安全管理员可以查看账号",
                          "only the system and security admins may list accounts"),
    "authorities.admin": _admin(SYS, "not_your_duty", "只有系统管理员可以管理单位（省级单位和地级市）",
                                "only the system admin manages the authorities (provinces "
                                "and cities)"),
    "mail.admin": _admin(SYS, "system_admin_only", "只有系统管理员可以管理发信队列",
                         "only the system admin can manage the outbox"),
    "calendar.edit": _admin(SYS, "system_admin_only", "只有系统管理员可以维护节假日安排",
                            "only the system administrator maintains the holiday calendar"),
    "backups.view": _admin(SYS, "not_your_duty", "只有系统管理员可以查看备份",
                           "only the system admin sees the backups"),
    "security.admin": _admin(SEC, "not_your_duty", "只有安全管理员可以管理角色与安全设置",
                             "only the security admin may do this"),
    "audit.read": _admin(AUD, "auditor_only", "只有审计管理员可以查看审计记录",
                         "only the auditor may read the audit log"),
}

FIRE = "case.fire:"  # + a trigger of the case's programme


class HasRole(Protocol):
    """A user row, a token's owner or an `Actor`: anything with a role."""

    @property
    def role(self) -> Any: ...


U = TypeVar("U", bound="HasRole | None")


def rule(action: str) -> Rule:
    """The table's row for `action`; a `case.fire:<trigger>` reads the programme instead."""
    try:
        return ACTIONS[action]
    except KeyError:
        raise KeyError(f"no such action in workflow.policy.ACTIONS: {action!r}") from None


def role_of(user: HasRole | None) -> Role | None:
    """The user's role, or None for nobody (not logged in, or a role no longer known)."""
    if user is None:
        return None
    try:
        return Role(user.role)
    except ValueError:
        return None


def roles_for(action: str, obj: Any = None) -> frozenset[Role]:
    """The roles that may take `action` (for `case.fire:<trigger>`, on `obj`'s programme)."""
    if action.startswith(FIRE):
        programme = getattr(obj, "programme", obj)
        if programme is None:
            raise ValueError(f"{action!r} needs the case or its programme as obj")
        defined = programme.by_trigger.get(action[len(FIRE):])
        return frozenset(defined.roles) if defined is not None else frozenset()
    return frozenset(rule(action).roles)


def allowed(user: HasRole | None, action: str, obj: Any = None) -> bool:
    """May `user` take `action` (on `obj`, where the action depends on one)?"""
    role = role_of(user)
    return role is not None and role in roles_for(action, obj)


def require(user: U, action: str, obj: Any = None) -> U:
    """`user`, if `allowed(user, action, obj)`; else `Forbidden` with the action's words."""
    if allowed(user, action, obj):
        return user
    forbid(action, obj)


def forbid(action: str, obj: Any = None) -> NoReturn:
    """Raise `Forbidden` with the words of `action` (whoever asks)."""
    if action.startswith(FIRE):
        roles = roles_for(action, obj)
        raise Forbidden(refuse("role_not_allowed",
                               f"只有{'、'.join(r.zh for r in sorted(roles))}可以执行此操作",
                               f"only {', '.join(sorted(roles))} may do this",
                               details={"action": action}))
    r = rule(action)
    raise Forbidden(refuse(r.code, r.zh, r.en, details={
        "action": action, "allowed_roles": sorted(x.value for x in r.roles)}))


def scope_of(user: HasRole | None, action: str) -> Scope | None:
    """The scope of objects `user` reaches with `action`; None if they may not take it."""
    role = role_of(user)
    return None if role is None else rule(action).roles.get(role)


def spans_places(user: HasRole | None) -> bool:
    """Whether the cases `user` sees lie in more than one place, so that a list of them
    is worth filtering by region or province: the ministry's, national. An applicant sees
    its own cases, a province its own tree (its cities have no filter of their own)."""
    return scope_of(user, "case.view") is Scope.NATIONAL


def spans_cities(user: HasRole | None) -> bool:
    """Whether the cases `user` sees are a province's tree — its own and its cities' — so
    that a list of them is worth filtering by city (a province's reviewers)."""
    return scope_of(user, "case.view") is Scope.AUTHORITY_TREE


def actions_of(role: Role) -> list[str]:
    """Every action of the table a role may take (for pages that list what one can do)."""
    return [a for a, r in ACTIONS.items() if role in r.roles]
