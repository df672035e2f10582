"""Storage of event notifications, assignments (claims) and comments (issue 17)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from workflow.roles import Role
from workflow.storage.models import (
    AssignmentRow,
    AuditRow,
    CommentRow,
    DeputyRow,
    HistoryRow,
    TransitionNoticeRow,
    UserRow,
)


@dataclass(frozen=True)
class Recipient:
    """Someone to tell about an event, with how they want to be told."""

    id: int
    name: str
    email: str
    locale: str
    mail_digest: bool
    notify_by_mail: bool


_COLS = (UserRow.id, UserRow.display_name, UserRow.email, UserRow.locale, UserRow.mail_digest,
         UserRow.notify_by_mail)


def recipients(s: Session, where: object) -> list[Recipient]:
    q = select(*_COLS).where(where, UserRow.is_active.is_(True)).order_by(UserRow.id)  # type: ignore[arg-type]
    return [Recipient(*row) for row in s.execute(q)]


def reviewers(s: Session, role: Role, province_id: int | None) -> list[Recipient]:
    """The reviewers of `role` for a case of `province_id` (the ministry's: all of them)."""
    if role is Role.PROVINCIAL_REVIEWER:
        return recipients(s, and_(UserRow.role == role.value,
                                  UserRow.authority_id == province_id))
    return recipients(s, UserRow.role == role.value)


def deputies_of(s: Session, user_ids: Iterable[int], today: date) -> list[Recipient]:
    """Whoever covers for one of these people today (out-of-office deputies)."""
    ids = set(user_ids)
    if not ids:
        return []
    covering = select(DeputyRow.deputy_id).where(DeputyRow.principal_id.in_(ids),
                                                 DeputyRow.starts_on <= today,
                                                 DeputyRow.ends_on >= today)
    return recipients(s, UserRow.id.in_(covering))


def untold(s: Session, since: datetime, limit: int) -> list[int]:
    """Transitions since `since` whose people have not been told yet, oldest first."""
    told = select(TransitionNoticeRow.history_id).where(
        TransitionNoticeRow.history_id == HistoryRow.id)
    q = (select(HistoryRow.id).where(HistoryRow.at >= since, ~told.exists())
         .order_by(HistoryRow.id).limit(limit))
    return list(s.scalars(q))


def take(s: Session, history_id: int, now: datetime) -> TransitionNoticeRow | None:
    """Mark a transition as being told, in the caller's transaction; None if another
    worker has (or had) it: the marker's key makes each transition told once."""
    dialect = postgresql if s.get_bind().dialect.name == "postgresql" else sqlite
    stmt = (dialect.insert(TransitionNoticeRow.__table__)
            .values(history_id=history_id, notified=0, done_at=now)
            .on_conflict_do_nothing(index_elements=["history_id"])
            .returning(TransitionNoticeRow.history_id))
    if s.execute(stmt).scalar() is None:
        return None
    return s.get(TransitionNoticeRow, history_id)


# --- assignments -------------------------------------------------------------------------

def assignment(s: Session, app_id: int) -> AssignmentRow | None:
    return s.get(AssignmentRow, app_id)


def assignees(s: Session, app_ids: Iterable[int]) -> dict[int, tuple[AssignmentRow, str]]:
    """application id -> (its assignment, the assignee's display name)."""
    ids = list(set(app_ids))
    if not ids:
        return {}
    q = (select(AssignmentRow, UserRow.display_name)
         .join(UserRow, UserRow.id == AssignmentRow.assignee_id)
         .where(AssignmentRow.application_id.in_(ids)))
    return {a.application_id: (a, name) for a, name in s.execute(q)}


def assigned_to(scope: Any, user_id: int, states_by_role: dict[str, list[str]]) -> Any:
    """`scope` narrowed to the applications assigned to `user_id` that still wait on the
    role the assignment was made for."""
    from workflow.storage.models import ApplicationRow

    held = select(AssignmentRow.application_id).where(
        AssignmentRow.assignee_id == user_id,
        AssignmentRow.application_id == ApplicationRow.id,
        or_(*(and_(AssignmentRow.role == role, ApplicationRow.state.in_(states))
              for role, states in states_by_role.items()) or [False]))
    return and_(scope, held.exists())


# --- comments ----------------------------------------------------------------------------

def comments(s: Session, app_id: int, internal: bool) -> list[CommentRow]:
    q = select(CommentRow).where(CommentRow.application_id == app_id)
    if not internal:
        q = q.where(CommentRow.visibility == "applicant")
    return list(s.scalars(q.order_by(CommentRow.id)))


def users_named(s: Session, usernames: Iterable[str]) -> dict[str, UserRow]:
    names = list(set(usernames))
    if not names:
        return {}
    q = select(UserRow).where(UserRow.username.in_(names), UserRow.is_active.is_(True))
    return {u.username: u for u in s.scalars(q)}


def audit_of_case(s: Session, app_id: int, events: Iterable[str]) -> list[AuditRow]:
    """A case's records of some events (by the event index), oldest first."""
    q = (select(AuditRow).where(AuditRow.event.in_(list(events)),
                                AuditRow.object_type == "application",
                                AuditRow.object_id == str(app_id))
         .order_by(AuditRow.id))
    return list(s.scalars(q))
