"""Workers' logs and metrics: JSON logs, the request id carried from web to task,
task outcomes and durations, transitions fired by tasks (see web/metrics.py for the
metric names)."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery.signals import (
    before_task_publish,
    setup_logging,
    task_failure,
    task_postrun,
    task_prerun,
    task_retry,
    task_success,
)

from config import logs
from web.metrics import ASSESSMENT_SECONDS, SCAN_SECONDS, TASK_SECONDS, TASKS, count_call
from workflow.services import observe

HEADER = "request_id"
log = logging.getLogger("tasks")
_started: dict[str, tuple[float, Any]] = {}


def install() -> None:
    """Count what the worker's services do, as the web app does (`make_celery` calls it)."""
    observe.add_observer(count_call)


@setup_logging.connect
def _json_logs(**_: Any) -> None:
    logs.configure("worker")


@before_task_publish.connect
def _carry_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """A task enqueued while handling a request (or another task) carries its id."""
    rid = logs.request_id.get()
    if rid and headers is not None:
        headers.setdefault(HEADER, rid)


@task_prerun.connect
def _enter(task_id: str = "", task: Any = None, **_: Any) -> None:
    rid = getattr(task.request, HEADER, None) if task is not None else None
    token = logs.request_id.set(rid or f"task-{task_id}")
    _started[task_id] = (time.perf_counter(), token)
    log.debug("task %s started", getattr(task, "name", "?"), extra={"task_id": task_id})


@task_postrun.connect
def _leave(task_id: str = "", task: Any = None, **_: Any) -> None:
    started, token = _started.pop(task_id, (None, None))
    if token is not None:
        logs.request_id.reset(token)
    if started is None or task is None:
        return
    elapsed = time.perf_counter() - started
    TASK_SECONDS.labels(task.name).observe(elapsed)
    if task.name == "tasks.reminders.scan":
        SCAN_SECONDS.observe(elapsed)
    elif task.name.startswith("tasks.assessment."):
        ASSESSMENT_SECONDS.observe(elapsed)


@task_success.connect
def _success(sender: Any = None, **_: Any) -> None:
    TASKS.labels(getattr(sender, "name", "?"), "success").inc()


@task_failure.connect
def _failure(sender: Any = None, **_: Any) -> None:
    TASKS.labels(getattr(sender, "name", "?"), "failure").inc()


@task_retry.connect
def _retry(sender: Any = None, **_: Any) -> None:
    TASKS.labels(getattr(sender, "name", "?"), "retry").inc()
