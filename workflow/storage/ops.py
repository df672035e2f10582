"""Queries for operations: what the metrics endpoint reports about the queues."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from workflow.storage.models import OutboxRow, WebhookDeliveryRow

UNSENT = ("pending", "sending", "failed")  # failed: waiting for its next attempt


def outbox_backlog(session: Session) -> tuple[int, datetime | None]:
    """How many messages wait to be sent, and when the oldest of them was written."""
    count, oldest = session.execute(
        select(func.count(), func.min(OutboxRow.created_at)).where(
            OutboxRow.status.in_(UNSENT))).one()
    return int(count or 0), oldest


WEBHOOK_WAITING = ("pending", "sending", "failed")  # failed: waiting for its next attempt


def webhook_backlog(session: Session) -> tuple[dict[str, int], datetime | None]:
    """Webhook deliveries by status (those not delivered or cancelled), and when the
    oldest one still waiting to go out was queued."""
    rows = session.execute(
        select(WebhookDeliveryRow.status, func.count(), func.min(WebhookDeliveryRow.created_at))
        .where(WebhookDeliveryRow.status.in_((*WEBHOOK_WAITING, "dead")))
        .group_by(WebhookDeliveryRow.status)).all()
    waiting = [first for status, _, first in rows if status in WEBHOOK_WAITING]
    return {status: int(n) for status, n, _ in rows}, min(waiting, default=None)


def ping(session: Session) -> None:
    session.execute(text("SELECT 1"))
