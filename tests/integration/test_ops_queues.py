"""Scale-out and shutdown: workers in other processes and checkouts, no task lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis

from config import logs

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll until `check()` gives something; the timeout is a generous bound on a loaded
    machine, not a speed requirement."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@contextmanager
def worker(args: list[str], cwd: Path, env: dict[str, str],
           out: Path) -> Iterator[subprocess.Popen[bytes]]:
    with out.open("wb") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "celery", *args, "--loglevel", "INFO",
                                 "--without-gossip", "--without-mingle"],
                                cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def test_a_worker_from_another_checkout_runs_tasks_published_here_with_the_request_id(
        pg_url: str, redis_url: str, tmp_path: Path) -> None:
    clone = tmp_path / "other-host"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{ROOT}", str(clone)],
                   check=True, timeout=60)
    broker = redis_url.rsplit("/", 1)[0] + "/12"
    redis.Redis.from_url(broker).flushdb()
    env = {**os.environ, "PYTHONPATH": str(clone), "DATABASE_URL": pg_url,
           "CELERY_BROKER_URL": broker, "CELERY_RESULT_BACKEND": broker, "APP_ENV": "test",
           "INSTANCE_PATH": str(tmp_path / "instance-b"), "LOG_FORMAT": "json"}
    from config import for_tests
    from tasks.app import make_celery
    from workflow.storage.models import HeartbeatRow
    from workflow.storage.uow import UnitOfWork

    # the web tier's publisher, this checkout
    here = make_celery(for_tests(tmp_path / "instance-a", pg_url, broker_url=broker,
                                 result_backend=broker))
    log = tmp_path / "worker.log"
    # LOG_LEVEL=DEBUG keeps Celery's own INFO lines (the task received and succeeded)
    with worker(["-A", "tasks", "worker", "-Q", "celery", "-c", "1", "-n", "b@%h"], clone,
                {**env, "LOG_LEVEL": "DEBUG"}, log):
        token = logs.request_id.set("web-req-0042")
        try:
            here.send_task("tasks.health.heartbeat")
        finally:
            logs.request_id.reset(token)

        def beat() -> str | None:
            with UnitOfWork(pg_url) as u:
                row = u.session.query(HeartbeatRow).first()
                return row.name if row else None

        name = wait_for(beat, 180, "the other checkout's worker to run the heartbeat")
    pid = int(name.rsplit(":", 1)[1])
    assert not Path(f"/proc/{pid}").exists() or os.readlink(f"/proc/{pid}/cwd") == str(clone)
    lines = log.read_text(errors="replace")
    assert '"request_id": "web-req-0042"' in lines  # the web request's id, in the task's log
    assert str(clone) in lines or "b@" in lines


def _slow_env(redis_url: str) -> tuple[str, dict[str, str]]:
    broker = redis_url.rsplit("/", 1)[0] + "/11"
    redis.Redis.from_url(broker).flushdb()
    return broker, {**os.environ, "OPS_BROKER": broker, "PYTHONPATH": str(ROOT)}


def test_sigterm_mid_task_lets_it_finish_and_leaves_the_rest_for_the_next_worker(
        redis_url: str, tmp_path: Path) -> None:
    from tests.integration import ops_slow_app

    broker, env = _slow_env(redis_url)
    ops_slow_app.app.conf.broker_url = broker
    r = redis.Redis.from_url(broker)
    args = ["-A", "tests.integration.ops_slow_app", "worker", "-c", "1"]
    with worker(args, ROOT, env, tmp_path / "w1.log") as w1:
        for n in range(3):
            ops_slow_app.slow.delay("term", n, 1.5)
        wait_for(lambda: r.scard("term:started"), 120, "the first task to start")
        w1.send_signal(signal.SIGTERM)  # warm shutdown: finish what runs, take no more
        w1.wait(timeout=120)
        assert r.scard("term:done") == r.scard("term:started")  # what started, finished
    with worker(args, ROOT, env, tmp_path / "w2.log"):
        wait_for(lambda: r.scard("term:done") == 3, 120, "the second worker to run the rest")
    assert {int(x) for x in r.smembers("term:done")} == {0, 1, 2}


def test_a_worker_process_killed_mid_task_gets_the_task_redelivered(
        redis_url: str, tmp_path: Path) -> None:
    from tests.integration import ops_slow_app

    broker, env = _slow_env(redis_url)
    ops_slow_app.app.conf.broker_url = broker
    r = redis.Redis.from_url(broker)
    args = ["-A", "tests.integration.ops_slow_app", "worker", "-c", "1"]
    with worker(args, ROOT, env, tmp_path / "w.log"):
        ops_slow_app.slow.delay("kill", 7, 2.0)
        wait_for(lambda: r.get("kill:pid"), 120, "the task to start")
        os.kill(int(r.get("kill:pid") or 0), signal.SIGKILL)  # the pool process dies
        r.delete("kill:pid")
        wait_for(lambda: r.sismember("kill:done", 7), 120, "the task to run again")
