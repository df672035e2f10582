"""Claim, assign and unassign a case (认领/指派, issue 17 item 3), so two reviewers do not
work the same case unknowingly.

- A reviewer claims a case in their worklist: one whose current state waits on their
  role (the programme's `waiting`), in their scope.
- Any reviewer of that role and authority assigns it to a colleague of the same role and
  authority (a team lead is a reviewer too), or releases it.
- An assignment holds while the case waits on the role it was made for; when the case
  moves on to another role it is free again (nothing to clear on the transition path).
- A claim does not lock the case: another reviewer who opens it sees who has it and may
  still act, or take it over explicitly (`take_over=True`); claiming over someone else
  without saying so is refused with the holder's name.
- Each claim, assignment and release is in the audit log with the case as its object
  (on the system chain, like refused actions: a case's own chain is its transitions'),
  and the case page lists them as the case's assignment history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from workflow import permissions
from workflow.errors import GuardFailed, ValidationFailed, refuse
from workflow.roles import Role
from workflow.services import audit, cases
from workflow.services.clock import utcnow
from workflow.storage import audit_repo, cases_repo, rounds_repo, scope_repo, users_repo
from workflow.storage import deputies as colleagues_repo
from workflow.storage import events_repo as er
from workflow.storage.models import ApplicationRow, AssignmentRow, AuditRow, UserRow
from workflow.storage.uow import DbSession, UnitOfWork

EVENTS = ("case_claimed", "case_assigned", "case_unassigned")


@dataclass(frozen=True)
class Holder:
    """Who works a case now."""

    user_id: int
    name: str
    role: str
    since: datetime


def _reviewer_on(s: DbSession, user_id: int, app_id: int
                 ) -> tuple[UserRow, ApplicationRow]:
    """The reviewer and the case, if the case is in their scope and waits on their role."""
    user = users_repo.user_by_id(s, user_id)
    row, _actor = cases.case_for(s, user, app_id, "case.claim", deputies=False)
    if not waits_on(row, user.role):
        raise GuardFailed(refuse("not_your_turn", "此申报当前不在您的待办中，不能认领或指派",
                                 "this case is not waiting on your role: it cannot be "
                                 "claimed or assigned now", guard="waiting"))
    return user, row


def waits_on(row: ApplicationRow, role: str) -> bool:
    """Does the case, in its current state, wait on `role`?"""
    prog = rounds_repo.programme_of_round(row.round)
    state = prog.states.get(row.state)
    return state is not None and Role(role) in state.waiting


def holder_of(s: DbSession, row: ApplicationRow) -> Holder | None:
    """The case's current holder (an assignment for a role the case no longer waits on
    holds nothing)."""
    found = er.assignees(s, [row.id]).get(row.id)
    if found is None or not waits_on(row, found[0].role):
        return None
    a, name = found
    return Holder(a.assignee_id, name, a.role, a.assigned_at)


def holder(uow: UnitOfWork, user_id: int, app_id: int) -> Holder | None:
    """Who works the case now, for someone who may see it."""
    with uow.read():
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        row, _actor = cases.case_for(s, user, app_id, None, deputies=False)
        if not permissions.allowed(user, "case.internal"):
            return None  # the applicant is not told who reviews
        return holder_of(s, row)




def assign(uow: UnitOfWork, user_id: int, app_id: int, assignee_id: int | None = None, *,
           take_over: bool = False, now: datetime | None = None) -> Holder:
    """Give the case to `assignee_id` (default: the user, a claim). Claiming a case
    someone else holds needs `take_over`; assigning is an explicit choice already."""
    now = now or utcnow()
    with uow:
        s = uow.session
        user, row = _reviewer_on(s, user_id, app_id)
        target_id = user.id if assignee_id is None else assignee_id
        target = s.get(UserRow, target_id)
        if target is None or not target.is_active or target.role != user.role or \
                target.authority_id != user.authority_id:
            raise ValidationFailed(refuse(
                "not_a_colleague", "只能指派给本单位同一角色的审核人员",
                "a case can be assigned only to a reviewer of your own authority and role",
                field="assignee", details={"value": str(assignee_id)[:20]}))
        current = holder_of(s, row)
        if current is not None and current.user_id == target.id:
            return current
        if current is not None and current.user_id != user.id and assignee_id is None \
                and not take_over:
            raise GuardFailed(refuse(
                "claimed_by_other", f"此申报已由{current.name}认领办理；如需接手，请选择“接手办理”",
                f"{current.name} has claimed this case; take it over explicitly if you "
                "mean to", guard="claim", details={"holder": current.name}))
        found = s.get(AssignmentRow, row.id)
        if found is None:
            found = AssignmentRow(application_id=row.id)
            s.add(found)
        found.assignee_id, found.role = target.id, user.role
        found.assigned_by_id, found.assigned_at = user.id, now
        event = "case_claimed" if target.id == user.id else "case_assigned"
        audit.append(s, event, who=audit.Who.of(user), object_type="application",
                     object_id=row.id, chain=audit_repo.SYSTEM_CHAIN, now=now,
                     details={"assignee": target.username, "assignee_name": target.display_name,
                              "from": current.name if current else None})
        uow.commit()
        return Holder(target.id, target.display_name, user.role, now)


def unassign(uow: UnitOfWork, user_id: int, app_id: int, now: datetime | None = None) -> None:
    """Release the case: nobody holds it (the holder, or a colleague of theirs)."""
    now = now or utcnow()
    with uow:
        s = uow.session
        user, row = _reviewer_on(s, user_id, app_id)
        current = holder_of(s, row)
        found = s.get(AssignmentRow, row.id)
        if found is not None:
            s.delete(found)
        if current is None:
            uow.commit()
            return
        audit.append(s, "case_unassigned", who=audit.Who.of(user), object_type="application",
                     object_id=row.id, chain=audit_repo.SYSTEM_CHAIN, now=now,
                     details={"from": current.name})
        uow.commit()




def holders(uow: UnitOfWork, rows: list[ApplicationRow]) -> dict[int, str]:
    """Case id -> the name of whoever holds it now (the inbox's "assigned to" column)."""
    with uow.read():
        found = er.assignees(uow.session, [r.id for r in rows])
    return {r.id: found[r.id][1] for r in rows
            if r.id in found and waits_on(r, found[r.id][0].role)}




@dataclass
class Panel:
    """What the case page's assignment section shows a user, read at once."""

    holder: Holder | None
    assign_to: list[UserRow]  # empty: the user may not claim or assign this case now
    history: list[AuditRow]


def panel(uow: UnitOfWork, user_id: int, app_id: int) -> Panel:
    """The case's holder, whom the user may assign it to, and its claim history."""
    with uow.read():
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        row = cases_repo.get_application(s, app_id)
        if not permissions.allowed(user, "case.claim") or not scope_repo.in_scope(user, row):
            return Panel(None, [], [])
        mine = waits_on(row, user.role)
        return Panel(holder_of(s, row),
                     [user, *colleagues_repo.colleagues(s, user)] if mine else [],
                     er.audit_of_case(s, app_id, EVENTS))
