"""Deputies (代理人): a reviewer names a colleague to act for them over a date range.

While the period runs the deputy sees the principal's cases in their inbox and may act
on them; history records "X 代 Y" (scope_repo.actor_for_case, scope_repo.principals_of).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from workflow import permissions
from workflow.errors import GuardFailed, ValidationFailed, refuse
from workflow.services import audit
from workflow.services.clock import local_date, utcnow
from workflow.storage import deputies as store
from workflow.storage import scope_repo, users_repo
from workflow.storage.models import DeputyRow, UserRow
from workflow.storage.uow import DbSession, UnitOfWork

MAX_DAYS = 366


@dataclass
class Period:
    """One deputy period as the page shows it."""

    id: int
    principal_id: int
    principal_name: str
    deputy_id: int
    deputy_name: str
    starts_on: date
    ends_on: date
    active: bool


def name_deputy(uow: UnitOfWork, user_id: int, deputy_id: int | None, starts_on: date | None,
                ends_on: date | None, now: datetime | None = None) -> int:
    """Name `deputy_id` to act for `user_id` from `starts_on` to `ends_on` (inclusive)."""
    _check_period(deputy_id, starts_on, ends_on, local_date(now or utcnow()))
    assert deputy_id is not None and starts_on is not None and ends_on is not None
    with uow:
        s = uow.session
        user = permissions.require(users_repo.user_by_id(s, user_id), "deputies.manage")
        deputy = _colleague(s, user, deputy_id)
        if store.overlapping(s, user.id, starts_on, ends_on):
            raise GuardFailed(refuse("overlapping_period", "该时间段已有代理人",
                                     "you already have a deputy for part of these dates",
                                     field="starts_on", guard="deputy"))
        row = DeputyRow(principal_id=user.id, deputy_id=deputy.id, starts_on=starts_on,
                        ends_on=ends_on, created_at=now or utcnow())
        s.add(row)
        s.flush()
        audit.append(s, "deputy_named", who=audit.Who.of(user), object_type="deputy",
                     object_id=row.id, details={"deputy_id": deputy.id,
                                                "deputy": deputy.username,
                                                "starts_on": starts_on.isoformat(),
                                                "ends_on": ends_on.isoformat()})
        uow.record("deputy_named", principal_id=user.id, deputy_id=deputy.id,
                   starts_on=starts_on.isoformat(), ends_on=ends_on.isoformat())
        uow.commit()
        return row.id


def _check_period(deputy_id: int | None, starts_on: date | None, ends_on: date | None,
                  today: date) -> None:
    """Refuse, naming every field at once, a deputy or dates missing or out of order."""
    errors = []
    if deputy_id is None:
        errors.append(refuse("required", "代理人：必填", "Deputy: is required", field="deputy_id"))
    if starts_on is None:
        errors.append(refuse("required", "开始日期：必填", "Start date: is required",
                             field="starts_on"))
    if ends_on is None:
        errors.append(refuse("required", "结束日期：必填", "End date: is required", field="ends_on"))
    if starts_on is not None and starts_on < today:
        errors.append(refuse("in_the_past", "开始日期不能早于今天", "the start date is in the past",
                             field="starts_on"))
    if starts_on is not None and ends_on is not None:
        if ends_on < starts_on:
            errors.append(refuse("dates_out_of_order", "结束日期不能早于开始日期",
                                 "the end date is before the start date", field="ends_on"))
        elif (ends_on - starts_on).days >= MAX_DAYS:
            errors.append(refuse("too_long", "代理期限不得超过一年",
                                 "a deputy period is at most one year", field="ends_on"))
    if errors:
        raise ValidationFailed(*errors)


def _colleague(s: DbSession, user: UserRow, deputy_id: int) -> UserRow:
    """The deputy: an active colleague of `user`'s role at `user`'s authority, not `user`."""
    if deputy_id == user.id:
        raise ValidationFailed(refuse("self_deputy", "不能指定自己为代理人",
                                      "you cannot be your own deputy", field="deputy_id"))
    deputy = s.get(UserRow, deputy_id)
    if deputy is None or not deputy.is_active or deputy.role != user.role \
            or deputy.authority_id != user.authority_id:
        # same role and the same authority: a deputy never gains a scope of their own
        raise ValidationFailed(refuse("deputy_not_colleague",
                                      "代理人须是同一单位、同一角色的审核人员",
                                      "the deputy must have your role at your authority",
                                      field="deputy_id"))
    return deputy


def end_period(uow: UnitOfWork, user_id: int, period_id: int,
               now: datetime | None = None) -> None:
    """The principal withdraws a deputy period (a running one ends yesterday)."""
    today = local_date(now or utcnow())
    with uow:
        s = uow.session
        user = permissions.require(users_repo.user_by_id(s, user_id), "deputies.manage")
        row = store.get(s, period_id)
        if row is None or row.principal_id != user.id:
            raise scope_repo.not_found("deputy period")
        details = {"deputy_id": row.deputy_id, "starts_on": row.starts_on.isoformat(),
                   "ends_on": row.ends_on.isoformat()}
        if row.starts_on >= today:
            s.delete(row)
            details["removed"] = True
        else:
            row.ends_on = min(row.ends_on, today - timedelta(days=1))
            details["now_ends_on"] = row.ends_on.isoformat()
        audit.append(s, "deputy_period_ended", who=audit.Who.of(user), object_type="deputy",
                     object_id=period_id, details=details)
        uow.commit()


def periods_of(uow: UnitOfWork, user_id: int, now: datetime | None = None) -> list[Period]:
    """Current and future periods where the user is principal or deputy."""
    today = local_date(now or utcnow())
    with uow.read():
        s = uow.session
        permissions.require(users_repo.user_by_id(s, user_id), "deputies.manage")
        return [Period(d.id, p.id, p.display_name, dep.id, dep.display_name, d.starts_on,
                       d.ends_on, d.starts_on <= today <= d.ends_on)
                for d, p, dep in store.of_user(s, user_id, today)]


def candidates(uow: UnitOfWork, user_id: int) -> list[UserRow]:
    """Colleagues who may be named: same role, same authority."""
    with uow.read():
        s = uow.session
        return store.colleagues(s, permissions.require(users_repo.user_by_id(s, user_id), "deputies.manage"))
