"""Webhooks as deployed: the Procfile's worker (its own `--queues` list) on a Redis broker
against PostgreSQL picks up the scan task, queues the transition and POSTs it, signed, to
a real receiver — so a queue left out of the Procfile or a task routed nowhere shows here."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from config import for_tests
from tests import factories
from tests.brokers import own_redis_db
from tests.integration.test_webhooks import Receiver, receiver  # noqa: F401 - the fixture
from workflow.services import webhooks
from workflow.storage.db import session_factory
from workflow.storage.models import WebhookDeliveryRow
from workflow.storage.uow import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SECRET_KEY = "webhook-worker-test-key-0123456789abcdef"

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def procfile_worker_queues() -> str:
    line = next(ln for ln in (ROOT / "Procfile").read_text().splitlines()
                if ln.startswith("worker:"))
    words = shlex.split(line.split(":", 1)[1])
    return words[words.index("--queues") + 1]


@pytest.fixture
def broker(redis_url: str) -> Iterator[str]:
    """A Redis database of its own, emptied before and after."""
    with own_redis_db(redis_url, 14) as url:
        yield url


def test_the_procfile_worker_scans_and_delivers_a_signed_transition(
        pg_url: str, broker: str, receiver: Receiver, tmp_path: Path) -> None:  # noqa: F811
    # the worker must open the sealed secret (its SECRET_KEY); the receiver is on loopback
    settings = for_tests(tmp_path / "instance", database_url=pg_url, broker_url=broker,
                         secret_key=SECRET_KEY, webhook_allowed_hosts=("127.0.0.1",))
    factory = session_factory(pg_url)
    world = factories.build_world(lambda: UnitOfWork(factory=factory))
    hook = webhooks.create(world.uow(), world.id("hubei_reviewer"), receiver.url,
                           settings=settings)
    app_id = factories.submitted(world)
    env: dict[str, Any] = {
        **os.environ,
        "APP_ENV": "test", "DATABASE_URL": pg_url, "CELERY_BROKER_URL": broker,
        "SECRET_KEY": SECRET_KEY, "INSTANCE_PATH": str(tmp_path / "instance"),
        "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1", "PYTHONPATH": str(ROOT)}
    log = open(tmp_path / "worker.log", "wb")
    worker = subprocess.Popen(
        [str(BIN / "celery"), "-A", "tasks", "worker", "--queues", procfile_worker_queues(),
         "-c", "1", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        from tasks.app import make_celery

        make_celery(settings).send_task("tasks.webhooks.scan")  # what beat sends
        deadline = time.monotonic() + 30
        while not receiver.requests and time.monotonic() < deadline:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-2000:]
            time.sleep(0.1)
        assert receiver.requests, (tmp_path / "worker.log").read_text()[-2000:]
        headers, body = receiver.requests[0]
        assert webhooks.verify(hook.secret, headers["X-EIB-Timestamp"], body,
                               headers["X-EIB-Signature"])
        assert receiver.bodies()[0]["application_id"] == app_id
        assert receiver.bodies()[0]["trigger"] == "submit"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the outcome is written after the reply
            with world.uow() as u:
                status = u.session.scalar(select(WebhookDeliveryRow.status))
            if status == "delivered":
                break
            time.sleep(0.1)
        assert status == "delivered"
    finally:
        worker.terminate()
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
