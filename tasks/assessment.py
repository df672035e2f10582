"""Assessment tasks (定期评估, 002 §六(三)): yearly by beat, on demand by the ministry.

Thin: take ids, call `workflow.services.assessment`. `acks_late` + the service's
idempotent writes make a redelivered task (worker killed mid-run) resume the same run.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from celery.schedules import crontab

from workflow.services import assessment
from workflow.storage.uow import UnitOfWork


def cron_schedule(expr: str) -> crontab:
    """A crontab from a five-field expression ("minute hour day month weekday"),
    e.g. ASSESSMENT_CRON="0 3 1 2 *": 03:00 on 1 February."""
    parts = expr.split()
    if len(parts) != 5:
        raise ValueError(f"ASSESSMENT_CRON={expr!r} must have five fields "
                         "(minute hour day-of-month month day-of-week)")
    minute, hour, day, month, weekday = parts
    return crontab(minute=minute, hour=hour, day_of_month=day, month_of_year=month,
                   day_of_week=weekday)


@shared_task(name="tasks.assessment.execute", acks_late=True, soft_time_limit=1800,
             time_limit=1860)
def execute(run_id: int, chunk_size: int = 0, pause_seconds: float = 0.0) -> dict[str, Any]:
    """Do or resume one recorded run (`assessment.start` created it)."""
    return assessment.execute(UnitOfWork(), run_id, chunk_size=chunk_size,
                              pause_seconds=pause_seconds).as_dict()


@shared_task(name="tasks.assessment.scheduled", acks_late=True, soft_time_limit=1800,
             time_limit=1860)
def scheduled() -> dict[str, Any]:
    """The yearly run for the last complete year (resumes an unfinished one)."""
    return assessment.scheduled(UnitOfWork()).as_dict()


def queue(run_id: int) -> None:
    """Hand a recorded run to a worker (the `assessments` queue): how the page and the API
    have a run done (`assessment.request_run`)."""
    from tasks.app import celery_app

    celery_app.send_task("tasks.assessment.execute", args=[run_id])
