"""Webhook tasks (queue `webhooks`): the history scan (beat, every SCAN_SECONDS)
and delivery. The webhook_deliveries table is the real queue: a task is a nudge to look
at it, so a lost or repeated task message changes nothing."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from tasks.context import settings
from workflow.services import webhooks
from workflow.storage.uow import UnitOfWork

SCAN_SECONDS = 30


@shared_task(name="tasks.webhooks.scan", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def scan() -> dict[str, Any]:
    """Queue new transitions for every webhook, then ask for delivery (which also sends
    the retries that have come due)."""
    result = webhooks.scan(UnitOfWork())
    nudge()
    return result.as_dict()


@shared_task(name="tasks.webhooks.deliver_due", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def deliver_due(limit: int = 100) -> dict[str, Any]:
    """POST the deliveries that are due (each claimed, so workers never send one twice)."""
    return webhooks.deliver_due(UnitOfWork(), limit=limit, settings=settings()).as_dict()


def nudge() -> None:
    try:
        deliver_due.apply_async(retry=False)
    except Exception:  # noqa: BLE001 - the next scan nudges again; nothing is lost
        pass
