"""Event notification tasks (queue `mail`): the sweep that tells people about transitions.
The transition history is the real queue (see workflow.services.events): the task is a
nudge to look at it, so a lost or repeated task message changes nothing."""

from __future__ import annotations

from celery import shared_task

from tasks.context import settings
from tasks.mail import nudge
from workflow.services import events
from workflow.storage.uow import UnitOfWork

SCAN_SECONDS = 10


@shared_task(name="tasks.events.sweep", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def sweep() -> int:
    """Tell the people of every transition not told yet, then ask for the mail to go."""
    told = events.sweep(UnitOfWork(), base_url=settings().base_url)
    if told:
        nudge()
    return told
