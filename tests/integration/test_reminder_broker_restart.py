"""Redis restarted mid-run: it keeps nothing on disk, so a restart drops every queued task
and every connection. The outbox in the database still holds each reminder, so all of
them arrive once the workers reconnect and the next sweep runs — none lost, none twice."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import redis

from tests import factories
from tests.integration.test_reminder_workers import (
    SCAN_AT,
    Worker,
    broker,  # noqa: F401 - fixtures
    drafts,
    nudge,
    pg_env,
    smtp,  # noqa: F401
    statuses,
    wait_until,
    world_pg,  # noqa: F401
)
from tests.smtp_sink import SmtpServer
from workflow.services import reminders as svc

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def _restart_like(url: str) -> None:
    """What a Redis restart does to us: queued messages gone, connections cut."""
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.client_kill_filter(_type="normal", skipme=True)
    client.close()


def test_a_broker_restart_mid_delivery_loses_no_reminder(
        world_pg: factories.World, pg_url: str, broker: str,  # noqa: F811
        smtp: SmtpServer, tmp_path: Path) -> None:  # noqa: F811
    drafts(world_pg, 30)
    svc.scan(world_pg.uow(), SCAN_AT, base_url="http://eib.test")
    smtp.sink.delay = 0.1
    smtp.sink.hold_data(after=5)  # the sixth message waits mid-send until the restart
    # no lease runs out while a sender waits (the reminders are claimed once); the client
    # waits for the server's reply as long as it is held
    env = pg_env(pg_url, tmp_path, CELERY_BROKER_URL=broker, MAIL_LEASE_SECONDS="60",
                 MAIL_RETRY_BASE_SECONDS="1", **{**smtp.env(), "SMTP_TIMEOUT": "120"})
    worker = Worker(env, tmp_path / "worker.log")
    try:
        worker.start()
        wait_until(lambda: statuses(world_pg).get("sent", 0) > 0, 120,
                   "the worker to record a sent reminder", then=lambda: nudge(env))
        _restart_like(broker)  # mid-delivery: one recorded sent, the sixth not yet accepted
        assert 0 < statuses(world_pg).get("sent", 0) <= 5
        smtp.sink.release_data()
        # beat's periodic sweep, on a broker that has forgotten everything
        wait_until(lambda: statuses(world_pg).get("sent", 0) == 30, 300,
                   "every reminder to be sent", then=lambda: nudge(env))
    finally:
        worker.stop()
    assert statuses(world_pg) == {"sent": 30}, (tmp_path / "worker.log").read_text()[-3000:]
    received = Counter(smtp.sink.ids())
    assert len(received) == 30 and max(received.values()) == 1
