"""The periodic reminder scan (beat: every REMINDER_SCAN_SECONDS, queue `scans`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from celery import shared_task

from tasks.mail import nudge
from workflow.services import reminders
from workflow.storage.uow import UnitOfWork


@shared_task(name="tasks.reminders.scan", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def scan(at: str | None = None) -> dict[str, Any]:
    """Write the reminders due now (or at `at`, ISO 8601 with offset) to the outbox."""
    moment = datetime.fromisoformat(at) if at else None
    result = reminders.scan(UnitOfWork(), moment)
    if result.written:
        nudge()
    return result.as_dict()
