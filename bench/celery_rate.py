"""Celery's own ceiling: no-op tasks per second through one worker on the same broker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import redis
from celery import Celery

ROOT = Path(__file__).resolve().parents[1]
QUEUE = "bench"
COUNTER = "bench:noop"

app = Celery("bench_noop")
app.conf.update(broker_url=os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/13"),
                task_acks_late=True, worker_prefetch_multiplier=1, task_ignore_result=True,
                task_default_queue=QUEUE, worker_hijack_root_logger=False)


@app.task(name="bench.noop")
def noop() -> None:
    redis.Redis.from_url(app.conf.broker_url).incr(COUNTER)


def noop_rate(broker: str, tasks: int, concurrency: int = 2, timeout: float = 300) -> float:
    """Tasks/s from the first publish until a prefork worker has run all `tasks`
    (acks_late, prefetch 1 — the project's settings)."""
    r = redis.Redis.from_url(broker)
    r.flushdb()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "bench.celery_rate", "worker", "-Q", QUEUE,
         "--concurrency", str(concurrency), "--loglevel", "WARNING", "--without-gossip",
         "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env={**os.environ, "BENCH_BROKER": broker},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        app.conf.broker_url = broker
        noop.delay()  # wait for the worker to be up
        deadline = time.monotonic() + 60
        while int(r.get(COUNTER) or 0) < 1:
            if time.monotonic() > deadline:
                raise RuntimeError("the no-op worker never answered")
            time.sleep(0.05)
        r.set(COUNTER, 0)
        t = time.perf_counter()
        with app.producer_or_acquire() as producer:
            for _ in range(tasks):
                noop.apply_async(producer=producer)
        deadline = time.monotonic() + timeout
        while int(r.get(COUNTER) or 0) < tasks:
            if time.monotonic() > deadline:
                raise RuntimeError("no-op tasks did not finish in time")
            time.sleep(0.01)
        return tasks / (time.perf_counter() - t)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        r.flushdb()
