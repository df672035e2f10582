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
    with uow:
        depth, oldest = ops.outbox_backlog(uow.session)
    if oldest is None:
        return Backlog(depth, 0.0)
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return Backlog(depth, max(0.0, (utcnow() - oldest).total_seconds()))
