"""Mail delivery tasks. The outbox table is the queue; a task is only a nudge to look at
it, so a lost, duplicated or redelivered task message changes nothing.

A worker process runs with its Celery app's settings and keeps one SMTP connection (`mail.SmtpLink`)
across tasks: the connection is closed after `IDLE_SECONDS` without mail and when the
process shuts down."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from celery.signals import worker_process_shutdown

from tasks.context import settings as _settings
from workflow.services import mail
from workflow.storage.db import session_factory
from workflow.storage.uow import UnitOfWork

IDLE_SECONDS = 30.0
DELIVER_BATCH = mail.CLAIM_BATCH  # other due messages one `deliver` may send after its own

link = mail.SmtpLink(idle_seconds=IDLE_SECONDS)


def _uow() -> UnitOfWork:
    return UnitOfWork(factory=session_factory(_settings().database_url))


@shared_task(name="tasks.mail.send_due", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def send_due(limit: int = 200) -> dict[str, Any]:
    """Send what is due in the outbox (beat runs this every MAIL_FLUSH_SECONDS)."""
    done = mail.send_due(_uow(), limit=limit, settings=_settings(), link=link)
    return {"sent": done.sent, "failed": done.failed, "dead": done.dead,
            "cancelled": done.cancelled}


@shared_task(name="tasks.mail.deliver", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def deliver(outbox_id: int) -> str:
    """A nudge for one message: send it now if it is still due (idempotent: a sent or
    claimed row is not claimable, so this returns at once), then up to DELIVER_BATCH
    other due messages over the same connection."""
    done = mail.send_due(_uow(), only_id=int(outbox_id), limit=1 + DELIVER_BATCH,
                         settings=_settings(), link=link)
    return "sent" if done.sent else "skipped"


@worker_process_shutdown.connect
def _close_smtp(**_: object) -> None:
    link.close()


def nudge() -> None:
    """Ask a worker to send what is due; if the broker is down, beat's sweep will."""
    try:
        send_due.apply_async(retry=False)
    except Exception:  # noqa: BLE001 - the outbox keeps the message; nothing is lost
        pass
