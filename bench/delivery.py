"""Reminders delivered per second by a real Celery worker, beside Celery's no-op rate.

The project's own worker (`celery -A tasks worker -Q mail`, the same concurrency as the
no-op worker in `bench.celery_rate`, same Redis broker) gets one `tasks.mail.deliver`
task per outbox row, as a nudge. A task claims its own row if still due and sends it,
then claims and sends up to 20 more due rows (one `UPDATE … RETURNING` with SKIP LOCKED;
the reminders among them re-checked together, `workflow.services.reminders.reasons_gone`)
over the worker process's kept SMTP connection to a local aiosmtpd, recording each
outcome right after its own send. Most tasks therefore find their row already sent and
return after one statement: the figure is messages through the outbox per second under
per-message nudges, not SMTP sessions per task. The rate (`per_s`) is messages ÷ time
from the first publish until the SMTP server has received every one and the worker has
run every task (the queue drained, as the no-op figure counts every task run);
`received_per_s` stops at the last message received; `smtp_sessions` is how many
connections carried them. The rows become due only after a warm-up task has run, so
its batch sends none of them early. Rows are the reminder scan's own pending rows first, topped up with plain
notices (no case to re-check) when the scan wrote fewer than asked for.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import redis
from aiosmtpd.controller import Controller
from celery import Celery

from bench.data import World, psycopg_url
from bench.web_api import free_port

ROOT = Path(__file__).resolve().parents[1]


class _Inbox:
    """aiosmtpd handler: counts the messages it accepts."""

    def __init__(self) -> None:
        self.count = 0
        self.peers: set[Any] = set()  # one per SMTP session
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self._lock:
            self.count += 1
            self.peers.add(session.peer)
        return "250 OK"


def _rows(world: World, wanted: int) -> tuple[list[int], int]:
    """Outbox ids to deliver: pending reminders from the scan, topped up with notices. Not
    due yet (tomorrow): `_make_due` starts the clock, so the warm-up task's batch cannot
    send any of them early."""
    now = datetime.now(UTC) + timedelta(days=1)
    with psycopg.connect(psycopg_url(world.url)) as conn:
        ids = [i for (i,) in conn.execute(
            "SELECT id FROM outbox WHERE status = 'pending' AND application_id IS NOT NULL "
            "ORDER BY id LIMIT %s", (wanted,))]
        real = len(ids)
        conn.execute("UPDATE outbox SET next_attempt_at = %s WHERE id = ANY(%s)", (now, ids))
        for k in range(wanted - real):
            (i,) = conn.execute(
                "INSERT INTO outbox (dedupe_key, recipient_email, kind, locale, subject, body,"
                " status, attempts, next_attempt_at, created_at) VALUES (%s, %s, 'notice', "
                "'zh', %s, %s, 'pending', 0, %s, %s) RETURNING id",
                (f"bench-delivery-{time.time_ns()}-{k}", "bench@example.gov.cn", "基准测试通知",
                 "这是一封基准测试邮件。\n", now, now)).fetchone()  # type: ignore[misc]
            ids.append(i)
        conn.commit()
    return ids, real


def _make_due(world: World, ids: list[int]) -> None:
    with psycopg.connect(psycopg_url(world.url)) as conn:
        conn.execute("UPDATE outbox SET next_attempt_at = %s WHERE id = ANY(%s)",
                     (datetime.now(UTC), ids))


def _drained(client: redis.Redis, queue: str) -> bool:
    """No task left on the queue and none delivered but not yet acknowledged (kombu's
    Redis transport keeps those in `unacked`; tasks are acks_late)."""
    return not client.llen(queue) and not client.hlen("unacked")


def delivery_rate(world: World, broker: str, messages: int, concurrency: int = 2,
                  timeout: float = 300) -> dict[str, Any]:
    """Reminders delivered per second through SMTP by the project's mail worker: `per_s`
    counts until every message is received and every task has run (the worker's
    sustained rate, as the no-op figure); `received_per_s` until the last message."""
    ids, real = _rows(world, messages + 1)
    _make_due(world, ids[:1])
    inbox = _Inbox()
    port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    redis.Redis.from_url(broker).flushdb()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": world.url,
               "INSTANCE_PATH": tmp, "CELERY_BROKER_URL": broker,
               "CELERY_RESULT_BACKEND": broker, "SMTP_HOST": "127.0.0.1",
               "SMTP_PORT": str(port), "SMTP_TLS": "none", "LOG_LEVEL": "WARNING",
               "PYTHONPATH": str(ROOT)}
        worker = subprocess.Popen(
            [str(Path(sys.executable).parent / "celery"), "-A", "tasks", "worker", "-Q", "mail",
             "--concurrency", str(concurrency), "--loglevel", "WARNING", "--without-gossip",
             "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        app = Celery("bench_delivery", broker=broker)
        try:
            app.send_task("tasks.mail.deliver", args=[ids[0]], queue="mail")  # worker is up
            _wait(lambda: inbox.count >= 1, 90, "the mail worker never delivered")
            client = redis.Redis.from_url(broker)
            _wait(lambda: _drained(client, "mail"), 30, "the warm-up task did not finish")
            _make_due(world, ids[1:])
            t = time.perf_counter()
            with app.producer_or_acquire() as producer:
                for i in ids[1:]:
                    app.send_task("tasks.mail.deliver", args=[i], queue="mail",
                                  producer=producer)
            _wait(lambda: inbox.count >= len(ids), timeout, "deliveries did not finish")
            received = time.perf_counter() - t
            _wait(lambda: _drained(client, "mail"), timeout, "tasks did not finish")
            elapsed = time.perf_counter() - t
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=10)
            app.close()
            smtp.stop()
            redis.Redis.from_url(broker).flushdb()
    return {"messages": len(ids) - 1, "from_scan": min(real, len(ids) - 1),
            "per_s": (len(ids) - 1) / elapsed,
            "received_per_s": (len(ids) - 1) / received, "concurrency": concurrency,
            "smtp_sessions": len(inbox.peers)}


def _wait(done: Any, seconds: float, error: str) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError(error)
        time.sleep(0.01)
