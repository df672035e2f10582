"""Operations figures the metrics endpoint reads (no business rules here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC

from workflow.services.clock import utcnow
from workflow.storage import ops
from workflow.storage.uow import UnitOfWork


@dataclass(frozen=True)
class Backlog:
    depth: int
    oldest_seconds: float  # 0 when nothing waits


def outbox_backlog(uow: UnitOfWork) -> Backlog:
    """Messages waiting in the outbox and the age of the oldest one."""
    with uow.read():
        depth, oldest = ops.outbox_backlog(uow.session)
    if oldest is None:
        return Backlog(depth, 0.0)
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return Backlog(depth, max(0.0, (utcnow() - oldest).total_seconds()))


@dataclass(frozen=True)
class WebhookBacklog:
    by_status: dict[str, int]  # pending, sending, failed (awaiting a retry), dead
    oldest_seconds: float  # of those still to go out (not dead); 0 when none


def webhook_backlog(uow: UnitOfWork) -> WebhookBacklog:
    """Webhook deliveries not yet delivered, by status, and the age of the oldest."""
    with uow.read():
        counts, oldest = ops.webhook_backlog(uow.session)
    by_status = {s: counts.get(s, 0) for s in (*ops.WEBHOOK_WAITING, "dead")}
    if oldest is None:
        return WebhookBacklog(by_status, 0.0)
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return WebhookBacklog(by_status, max(0.0, (utcnow() - oldest).total_seconds()))

