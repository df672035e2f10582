"""The one table of who may do what (`workflow.permissions`), read without a database."""

from __future__ import annotations

import pytest

from workflow import permissions
from workflow.errors import Forbidden
from workflow.permissions import ACTIONS, FIRE, Scope
from workflow.programme import known, programme
from workflow.roles import ADMIN_ROLES, CASE_ROLES, Actor, Role

# what the three admins (三员分立) are for; none of it is a case role's
ADMIN_DUTIES = {"accounts.admin", "accounts.list", "authorities.admin", "mail.admin",
                "calendar.edit", "backups.view", "security.admin", "audit.read", "admin.home"}


def as_(role: Role) -> Actor:
    return Actor(user_id=1, role=role)


def test_every_action_names_known_roles_each_with_a_scope_and_words_to_refuse_with() -> None:
    for action, rule in ACTIONS.items():
        assert rule.roles, action
        assert all(isinstance(r, Role) and isinstance(s, Scope) for r, s in rule.roles.items())
        assert rule.code and rule.zh and rule.en, action


def test_no_admin_role_may_touch_a_case_a_base_or_the_register() -> None:
    for action, rule in ACTIONS.items():
        if action in ADMIN_DUTIES or action in ("account.own", "catalog.view"):
            continue
        assert not ADMIN_ROLES & set(rule.roles), f"{action} is open to an admin role"


def test_admin_duties_belong_to_the_admins_only_and_each_admin_has_its_own() -> None:
    for action in ADMIN_DUTIES:
        assert not CASE_ROLES & set(ACTIONS[action].roles), action
    assert set(ACTIONS["audit.read"].roles) == {Role.AUDITOR}
    assert set(ACTIONS["security.admin"].roles) == {Role.SECURITY_ADMIN}
    for action in ("accounts.admin", "authorities.admin", "mail.admin", "calendar.edit"):
        assert set(ACTIONS[action].roles) == {Role.SYSTEM_ADMIN}, action


def test_a_case_is_the_applicants_own_its_provinces_and_the_ministrys() -> None:
    assert dict(ACTIONS["case.view"].roles) == {
        Role.APPLICANT: Scope.OWN_CASE, Role.PROVINCIAL_REVIEWER: Scope.AUTHORITY_TREE,
        Role.MINISTRY_REVIEWER: Scope.NATIONAL}
    assert permissions.allowed(as_(Role.APPLICANT), "case.edit_draft")
    assert not permissions.allowed(as_(Role.APPLICANT), "case.attest")
    assert not permissions.allowed(as_(Role.MINISTRY_REVIEWER), "reports.file")  # 002 §六(三)
    assert permissions.allowed(as_(Role.MINISTRY_REVIEWER), "assessment.run")
    assert not permissions.allowed(as_(Role.PROVINCIAL_REVIEWER), "assessment.run")


def test_who_fires_a_trigger_is_read_from_each_programmes_transitions() -> None:
    for prog in (programme(p.code) for p in known()):
        for t in prog.transitions:
            for role in Role:
                assert permissions.allowed(as_(role), FIRE + t.trigger, prog) \
                    == (role in t.roles), (prog.code, t.trigger, role)
    assert not permissions.allowed(as_(Role.MINISTRY_REVIEWER), FIRE + "no_such", programme())


def test_every_programmes_owner_is_a_role_that_may_keep_rounds() -> None:
    for prog in known():
        assert prog.owner in ACTIONS["rounds.manage"].roles, prog.code


def test_a_refusal_carries_the_tables_code_words_and_action() -> None:
    with pytest.raises(Forbidden) as err:
        permissions.require(as_(Role.SYSTEM_ADMIN), "audit.read")
    assert err.value.first.code == "auditor_only"
    assert err.value.first.zh == "只有审计管理员可以查看审计记录"
    assert err.value.first.details == {"action": "audit.read", "allowed_roles": ["auditor"]}
    assert permissions.require(as_(Role.AUDITOR), "audit.read").role is Role.AUDITOR


def test_nobody_and_an_unknown_role_may_do_nothing() -> None:
    assert not permissions.allowed(None, "account.own")
    assert permissions.scope_of(None, "case.view") is None


def test_an_action_missing_from_the_table_is_an_error_not_a_refusal() -> None:
    with pytest.raises(KeyError, match="case.veiw"):
        permissions.allowed(as_(Role.MINISTRY_REVIEWER), "case.veiw")
