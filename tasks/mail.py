"""Mail delivery tasks. The outbox table is the queue; a task is only a nudge to look at
it, so a lost, duplicated or redelivered task message changes nothing."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from workflow.services import mail
from workflow.storage.uow import UnitOfWork


@shared_task(name="tasks.mail.send_due", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def send_due(limit: int = 200) -> dict[str, Any]:
    """Send what is due in the outbox (beat runs this every MAIL_FLUSH_SECONDS)."""
    done = mail.send_due(UnitOfWork(), limit=limit)
    return {"sent": done.sent, "failed": done.failed, "dead": done.dead,
            "cancelled": done.cancelled}


@shared_task(name="tasks.mail.deliver", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def deliver(outbox_id: int) -> str:
    """Send one message now if it is still due (idempotent: a sent row is not claimable)."""
    done = mail.send_due(UnitOfWork(), only_id=int(outbox_id), limit=1)
    return "sent" if done.sent else "skipped"


def nudge() -> None:
    """Ask a worker to send what is due; if the broker is down, beat's sweep will."""
    try:
        send_due.apply_async(retry=False)
    except Exception:  # noqa: BLE001 - the outbox keeps the message; nothing is lost
        pass
