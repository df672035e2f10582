"""Queries for operations: what the metrics endpoint reports about the queues."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.storage.models import OutboxRow

UNSENT = ("pending", "sending", "failed")  # failed: waiting for its next attempt


def outbox_backlog(session: Session) -> tuple[int, datetime | None]:
    """How many messages wait to be sent, and when the oldest of them was written."""
    count, oldest = session.execute(
        select(func.count(), func.min(OutboxRow.created_at)).where(
            OutboxRow.status.in_(UNSENT))).one()
    return int(count or 0), oldest
