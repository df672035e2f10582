"""A Celery app with one slow task, for the graceful-shutdown tests (same settings as
tasks/app.py: acks_late, reject_on_worker_lost, prefetch 1)."""

from __future__ import annotations

import os
import time

import redis
from celery import Celery

app = Celery("ops_slow")
app.conf.update(broker_url=os.environ.get("OPS_BROKER", "redis://127.0.0.1:6379/11"),
                task_acks_late=True, task_reject_on_worker_lost=True,
                worker_prefetch_multiplier=1, task_ignore_result=True,
                broker_transport_options={"visibility_timeout": 3600},
                worker_hijack_root_logger=False)


@app.task(name="ops.slow")
def slow(key: str, n: int, seconds: float) -> None:
    r = redis.Redis.from_url(app.conf.broker_url)
    r.sadd(f"{key}:started", n)
    r.set(f"{key}:pid", os.getpid())
    time.sleep(seconds)
    r.sadd(f"{key}:done", n)
