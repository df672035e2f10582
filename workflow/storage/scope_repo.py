"""Who may see and act on which case: actors, deputies and the scope of each role (the
tree of authorities, workflow.authorities)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from workflow.errors import NotFound, refuse
from workflow.roles import Actor, Role
from workflow.storage.models import ApplicationRow, AuthorityRow, DeputyRow, HistoryRow, UserRow


def not_found(what: str = "application") -> NotFound:
    return NotFound(refuse("not_found", "未找到该记录，或您无权查看",
                           f"{what} not found (or not yours to see)"))


class Someone(Protocol):
    """A user as scope checks read them: a `UserRow`, or `cases_repo.Person`."""

    @property
    def id(self) -> int: ...
    @property
    def role(self) -> str: ...
    @property
    def authority_id(self) -> int | None: ...
    @property
    def authority_code(self) -> str | None: ...
    @property
    def display_name(self) -> str: ...


class Placed(Protocol):
    """A case as scope checks read it: an `ApplicationRow`, or `cases_repo.StoredCase`."""

    @property
    def id(self) -> int: ...
    @property
    def owner_id(self) -> int: ...
    @property
    def authority_id(self) -> int: ...
    @property
    def province_id(self) -> int: ...
    @property
    def submitted_at(self) -> datetime | None: ...
    @property
    def parent_code(self) -> str | None: ...


def actor_of(user: Someone, on_behalf_of: Someone | None = None) -> Actor:
    """The domain's view of a user; acting for `on_behalf_of` takes that person's scope."""
    who = on_behalf_of or user
    return Actor(
        user_id=user.id, role=Role(who.role),
        authority_code=who.authority_code,
        name=user.display_name,
        on_behalf_of_id=on_behalf_of.id if on_behalf_of else None,
        on_behalf_of_name=on_behalf_of.display_name if on_behalf_of else None,
    )


def principals_of(session: Session, user_id: int, today: date) -> list[UserRow]:
    """The people this user deputises for today (out-of-office cover)."""
    q = (select(UserRow).join(DeputyRow, DeputyRow.principal_id == UserRow.id)
         .where(DeputyRow.deputy_id == user_id, DeputyRow.starts_on <= today,
                DeputyRow.ends_on >= today, UserRow.is_active.is_(True)))
    return list(session.scalars(q).unique())


def in_scope(user: Someone, app: Placed) -> bool:
    """The tree of authorities (workflow.authorities): an applicant sees what it drafted,
    and a city bureau's accounts every case of their city; a province what was submitted
    to it by itself or its cities (including cases it returned).

    Applicant accounts at a province-level authority keep to their own drafts: before the
    tree, every city bureau's account was attached to its province, and they must not see
    each other's until the system administrator moves them to their cities."""
    role = Role(user.role)
    if role is Role.MINISTRY_REVIEWER:
        return True
    if role is Role.PROVINCIAL_REVIEWER:
        return user.authority_id == app.province_id and app.submitted_at is not None
    if role is Role.APPLICANT:
        return app.owner_id == user.id or (app.parent_code is not None
                                           and user.authority_id == app.authority_id)
    return False


def actor_for_case(session: Session, user: Someone, app: Placed, today: date, *,
                   deputising: bool = True) -> Actor | None:
    """The actor `user` may be on `app`: themself, or a deputy for someone; None if neither.

    A deputy acts "on behalf of" the person they cover for the cases that person holds
    (drafted, or last handled at that level), so history reads "X 代 Y" even when the two
    share a scope; other cases in their own scope they handle in their own name.
    `deputising=False`: the caller already knows `user` covers for nobody today (the
    deputies are then not looked up).
    """
    if not deputising:
        return own_actor(user, app)
    principals = principals_of(session, user.id, today)
    if principals:
        holders = case_holders(session, app)
        for principal in principals:
            if principal.id in holders and in_scope(principal, app):
                return actor_of(user, principal)
    if in_scope(user, app):
        return actor_of(user)
    for principal in principals:
        if in_scope(principal, app):
            return actor_of(user, principal)
    return None


def own_actor(user: Someone, app: Placed) -> Actor | None:
    """`user` acting in their own name on `app` — None if it is out of their scope (for a
    user who covers for nobody today: `actor_for_case` without the deputies' look-up)."""
    return actor_of(user) if in_scope(user, app) else None


def case_holders(session: Session, app: Placed) -> set[int]:
    """Who holds a case: its drafter, and the last person to act on it at each role."""
    holders = {app.owner_id}
    last: dict[str, int | None] = {}
    q = (select(HistoryRow.actor_role, HistoryRow.actor_id, HistoryRow.on_behalf_of_id)
         .where(HistoryRow.application_id == app.id).order_by(HistoryRow.version))
    for role, actor_id, behalf_id in session.execute(q):
        last[role] = behalf_id or actor_id
    return holders | {i for i in last.values() if i is not None}


def scope_filter(user: UserRow, principals: list[UserRow]) -> Any:
    """A WHERE clause limiting applications to what `user` (and whom they cover) may see."""
    clauses = []
    for u in [user, *principals]:
        role = Role(u.role)
        if role is Role.MINISTRY_REVIEWER:
            return True
        if role is Role.PROVINCIAL_REVIEWER and u.authority_id is not None:
            clauses.append(and_(ApplicationRow.authority_id.in_(tree_ids(u.authority_id)),
                                ApplicationRow.submitted_at.is_not(None)))
        elif role is Role.APPLICANT:
            clauses.append(ApplicationRow.owner_id == u.id)
            if u.authority is not None and u.authority.is_city:  # the bureau's cases
                clauses.append(ApplicationRow.authority_id == u.authority_id)
    return or_(*clauses) if clauses else False


def tree_ids(province_id: int) -> Any:
    """SELECT the ids of a province-level authority and of the cities under it."""
    return select(AuthorityRow.id).where(or_(AuthorityRow.id == province_id,
                                             AuthorityRow.parent_id == province_id))
