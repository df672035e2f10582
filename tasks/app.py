"""The Celery application, configured from `config.Settings`."""

from __future__ import annotations

from datetime import timedelta

from celery import Celery
from celery.signals import worker_process_init
from kombu import Queue

from config import Settings, load_settings
from tasks.events import SCAN_SECONDS as EVENT_SCAN_SECONDS
from tasks.webhooks import SCAN_SECONDS as WEBHOOK_SCAN_SECONDS

QUEUES = ("celery", "mail", "scans", "assessments", "webhooks")


def make_celery(settings: Settings | None = None) -> Celery:
    settings = settings or load_settings()
    app = Celery("eib", include=["tasks.health", "tasks.mail", "tasks.reminders",
                                 "tasks.assessment", "tasks.webhooks",
                                 "tasks.events"])
    app.conf.update(
        broker_url=settings.broker_url,
        result_backend=settings.result_backend,
        result_expires=3600,
        timezone=settings.timezone,
        enable_utc=True,
        task_acks_late=True,  # a task killed mid-run is delivered again…
        task_reject_on_worker_lost=True,  # …also when the worker process dies
        worker_prefetch_multiplier=1,
        # every task stops: softly (SoftTimeLimitExceeded, its finally blocks run) and then
        # for good; tasks that need other limits set their own (tasks/*.py)
        task_soft_time_limit=600,
        task_time_limit=660,
        task_default_queue="celery",
        task_queues=[Queue(q) for q in QUEUES],
        task_routes={
            "tasks.mail.*": {"queue": "mail"},
            "tasks.events.*": {"queue": "mail"},
            "tasks.reminders.*": {"queue": "scans"},
            "tasks.assessment.*": {"queue": "assessments"},
            "tasks.webhooks.*": {"queue": "webhooks"},
        },
        broker_connection_retry_on_startup=True,
        # kombu's SQLAlchemy transport hands its options to create_engine(): give it none
        broker_transport_options=({} if settings.broker_url.startswith("sqla+") else
                                  {"visibility_timeout": 3600, "polling_interval": 0.2}),
        worker_hijack_root_logger=False,
        beat_schedule={
            "heartbeat": {"task": "tasks.health.heartbeat", "schedule": timedelta(seconds=60)},
            "reminders-scan": {"task": "tasks.reminders.scan",
                               "schedule": timedelta(seconds=settings.reminder_scan_seconds)},
            "mail-send-due": {"task": "tasks.mail.send_due",
                              "schedule": timedelta(seconds=settings.mail_flush_seconds)},
            "events-sweep": {"task": "tasks.events.sweep",
                             "schedule": timedelta(seconds=EVENT_SCAN_SECONDS)},
            "webhooks-scan": {"task": "tasks.webhooks.scan",
                              "schedule": timedelta(seconds=WEBHOOK_SCAN_SECONDS)},
            # 定期评估 (002 §六(三)): yearly, after the annual reports are due
            "assessment-yearly": {"task": "tasks.assessment.scheduled",
                                  "schedule": _assessment_schedule(settings.assessment_cron)},
        },
    )
    app.conf.eib_settings = settings
    return app


def _assessment_schedule(expr: str) -> object:
    from tasks.assessment import cron_schedule

    return cron_schedule(expr)


@worker_process_init.connect
def _fresh_connections(**_: object) -> None:
    """A forked worker must not share the parent's database connections."""
    from workflow.storage.db import dispose_all

    dispose_all()


celery_app = make_celery()

import tasks.observe  # noqa: E402,F401 - JSON logs, request ids and metrics in workers
