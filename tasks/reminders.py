"""The periodic reminder scan (beat: every REMINDER_SCAN_SECONDS, queue `scans`)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from celery import shared_task

from tasks.context import settings
from tasks.mail import nudge
from workflow.services import reminders
from workflow.storage.uow import UnitOfWork

log = logging.getLogger(__name__)
# a scan stops (softly: the batches done stay done, the lease is given back) well before
# its lease (LOCK_TTL) could run out under it; the next scan goes on from there
SCAN_SOFT_SECONDS = int(reminders.LOCK_TTL.total_seconds()) - 60


@shared_task(name="tasks.reminders.scan", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True, soft_time_limit=SCAN_SOFT_SECONDS,
             time_limit=SCAN_SOFT_SECONDS + 30)
def scan(at: str | None = None) -> dict[str, Any]:
    """Write the reminders due now (or at `at`, ISO 8601 with offset) to the outbox."""
    moment = datetime.fromisoformat(at) if at else None
    result = reminders.scan(UnitOfWork(), moment, base_url=settings().base_url)
    if result.written:
        nudge()
    # one line per scan (every REMINDER_SCAN_SECONDS): the proof that scans finish
    log.info("reminder scan finished", extra={"scan": result.as_dict()})
    return result.as_dict()
