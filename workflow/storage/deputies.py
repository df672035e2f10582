"""Queries for deputies (代理人): who covers for whom, and who could."""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from workflow.storage.models import DeputyRow, UserRow


def of_user(session: Session, user_id: int, since: date) -> list[tuple[DeputyRow, UserRow, UserRow]]:
    """Deputy periods where the user is principal or deputy, ending on or after `since`."""
    principal, deputy = aliased(UserRow), aliased(UserRow)
    q = (select(DeputyRow, principal, deputy)
         .join(principal, principal.id == DeputyRow.principal_id)
         .join(deputy, deputy.id == DeputyRow.deputy_id)
         .where(or_(DeputyRow.principal_id == user_id, DeputyRow.deputy_id == user_id),
                DeputyRow.ends_on >= since)
         .order_by(DeputyRow.starts_on, DeputyRow.id))
    return [(d, p, dep) for d, p, dep in session.execute(q)]


def colleagues(session: Session, user: UserRow) -> list[UserRow]:
    """Active users with the same role and authority as `user`, other than `user`."""
    q = select(UserRow).where(UserRow.role == user.role, UserRow.is_active.is_(True),
                              UserRow.id != user.id)
    q = q.where(UserRow.authority_id == user.authority_id) if user.authority_id is not None \
        else q.where(UserRow.authority_id.is_(None))
    return list(session.scalars(q.order_by(UserRow.display_name)))


def overlapping(session: Session, principal_id: int, starts_on: date, ends_on: date) -> int:
    """How many of the principal's deputy periods overlap [starts_on, ends_on]."""
    q = select(DeputyRow.id).where(DeputyRow.principal_id == principal_id,
                                   DeputyRow.starts_on <= ends_on, DeputyRow.ends_on >= starts_on)
    return len(list(session.scalars(q)))


def get(session: Session, deputy_row_id: int) -> DeputyRow | None:
    return session.get(DeputyRow, deputy_row_id)
