"""A real Celery worker killed in the middle of an assessment: the task is redelivered to a
restarted worker, which resumes the same run and writes each base's evaluation once.

PostgreSQL + RabbitMQ (an AMQP broker requeues an unacknowledged task as soon as the
killed worker's connection drops; acks_late)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from sqlalchemy import func, select

from tests import factories
from tests.conftest import missing
from workflow.services import assessment, reports
from workflow.storage.db import session_factory
from workflow.storage.models import EvaluationRow, EvaluationRunRow
from workflow.storage.uow import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
BROKER = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
NOW = datetime(2007, 2, 1, 2, tzinfo=UTC)
BASES = (("hubei_applicant", "hubei_reviewer"), ("hunan_applicant", "hunan_reviewer"),
         ("sichuan_applicant", "sichuan_reviewer"), ("yunnan_applicant", "yunnan_reviewer"))


def _rabbit() -> None:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=2).close()
    except OSError as exc:
        missing("RabbitMQ", type(exc).__name__)


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def worker(pg_url: str, tmp_path: Path) -> Iterator[Callable[[str], subprocess.Popen[Any]]]:
    """Start `celery worker` processes on a private queue; kill any left at the end."""
    _rabbit()
    started: list[subprocess.Popen[Any]] = []
    env = {**os.environ, "DATABASE_URL": pg_url, "CELERY_BROKER_URL": BROKER,
           "CELERY_RESULT_BACKEND": "cache+memory://", "APP_ENV": "test",
           "INSTANCE_PATH": str(tmp_path / "instance"), "APP_NOW": "2007-02-01T10:00+08:00"}

    def start(queue: str) -> subprocess.Popen[Any]:
        with open(tmp_path / f"worker{len(started)}.log", "w") as log:  # the worker has a copy
            proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "tasks", "worker", "-Q", queue, "-P",
                 "solo", "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def test_a_worker_killed_mid_assessment_is_restarted_and_finishes_the_run_once(
        pg_url: str, worker: Callable[[str], subprocess.Popen[Any]]) -> None:
    factory = session_factory(pg_url)
    world = factories.build_world(lambda: UnitOfWork(factory=factory))
    for applicant, reviewer in BASES:
        app_id = factories.approved(world, applicant, reviewer)
        reports.submit_quarter(world.uow(), world.id(applicant), app_id,
                               {"year": 2006, "quarter": 1, "exports_10k_usd": "9000",
                                "hightech_exports_10k_usd": "6000"}, now=NOW)
    run_id = assessment.start(world.uow(), world.id("mofcom"), 2006, now=NOW)

    def written() -> int:
        with UnitOfWork(factory=factory) as u:
            return int(u.session.scalar(select(func.count()).select_from(EvaluationRow)) or 0)

    queue = f"assess-test-{uuid.uuid4().hex[:8]}"
    sender = Celery("test-sender", broker=BROKER)
    sender.send_task("tasks.assessment.execute", args=(run_id,),
                     kwargs={"chunk_size": 1, "pause_seconds": 1.0}, queue=queue)
    sender.close()
    first = worker(queue)
    wait_for(lambda: written() >= 1, 60, "the first evaluation")
    os.killpg(first.pid, signal.SIGKILL)  # the worker dies between two chunks
    first.wait(10)
    at_kill = written()
    assert 1 <= at_kill < len(BASES)

    worker(queue)  # a restarted worker gets the unacknowledged task again

    def finished() -> bool:
        with UnitOfWork(factory=factory) as u:
            run = u.session.get(EvaluationRunRow, run_id)
            return run is not None and run.status == "finished"

    wait_for(finished, 90, "the resumed run to finish")
    with UnitOfWork(factory=factory) as u:
        rows = list(u.session.execute(select(EvaluationRow.application_id, EvaluationRow.period,
                                             EvaluationRow.run_id)))
        run = u.session.get(EvaluationRunRow, run_id)
        assert run is not None
        summary = dict(run.summary)
    assert len(rows) == len(BASES) == len({(a, p) for a, p, _ in rows})
    assert {r for _, _, r in rows} == {run_id}
    # the restarted worker wrote only what was left, not everything again
    assert summary["written"] == len(BASES) - at_kill
    assert summary["rectify"] == len(BASES)  # three quarters of 2006 missing for every base
