"""The outbox as the system admin sees it (/admin/mail, the API's /admin/outbox): every
message with its status, filtered and paged, and a failed one put back in the queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from workflow import permissions
from workflow.errors import NotFound, ValidationFailed, refuse
from workflow.services.clock import utcnow
from workflow.storage import reminders_repo as rr
from workflow.storage import users_repo
from workflow.storage.models import OutboxRow
from workflow.storage.uow import UnitOfWork

STATUSES = ("pending", "held", "sending", "sent", "failed", "dead", "digested", "cancelled")
RETRYABLE = ("failed", "dead", "cancelled")


@dataclass
class OutboxPage:
    rows: list[OutboxRow]
    counts: dict[str, int]
    next_before: int | None


def outbox_page(uow: UnitOfWork, user_id: int, *, status: str | None = None,
                kind: str | None = None, q: str | None = None, limit: int = 50,
                before_id: int | None = None) -> OutboxPage:
    """The outbox for the system admin: newest first, filtered by status/kind/text."""
    if status and status not in STATUSES:
        raise ValidationFailed(refuse("invalid_choice", "状态不在可选范围内",
                                      "unknown status", field="status",
                                      details={"value": status[:30]}))
    limit = max(1, min(limit, 200))
    with uow.read():
        s = uow.session
        permissions.require(users_repo.user_by_id(s, user_id), "mail.admin")
        rows = rr.outbox_rows(s, status=status or None, kind=kind or None,
                              q=(q or "").strip() or None, limit=limit + 1, before_id=before_id)
        nxt = rows[limit - 1].id if len(rows) > limit else None
        return OutboxPage(rows[:limit], rr.outbox_counts(s), nxt)


def retry(uow: UnitOfWork, user_id: int, outbox_id: int, now: datetime | None = None) -> None:
    """Put a failed, dead or cancelled message back in the queue now (attempts restart)."""
    now = now or utcnow()
    with uow:
        s = uow.session
        permissions.require(users_repo.user_by_id(s, user_id), "mail.admin")
        row = s.get(OutboxRow, outbox_id)
        if row is None:
            raise NotFound(refuse("not_found", "未找到该邮件", "message not found"))
        if row.status not in RETRYABLE:
            raise ValidationFailed(refuse("not_retryable", "只有发送失败、已放弃或已取消的邮件可以重发",
                                          "only failed, dead or cancelled messages can be retried",
                                          field="status", details={"status": row.status}))
        row.status, row.attempts, row.next_attempt_at = "pending", 0, now
        row.last_error = f"retry requested by user {user_id}; was: {row.last_error or ''}"[:2000]
        uow.record("outbox_written", count=1)
        uow.commit()
