"""Two `celery beat` processes running at once (a second host started by mistake): both
send the reminder scan, the scans serialise on a lock and the outbox's unique key, and
every reminder is delivered exactly once."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import pytest

from tests import factories
from tests.integration.test_reminder_workers import (
    BIN,
    ROOT,
    broker,  # noqa: F401 - fixtures
    drafts,
    pg_env,
    smtp,  # noqa: F401
    statuses,
    wait_until,
    world_pg,  # noqa: F401
)
from tests.smtp_sink import SmtpServer

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_two_beats_at_once_send_every_reminder_exactly_once(
        world_pg: factories.World, pg_url: str, broker: str,  # noqa: F811
        smtp: SmtpServer, tmp_path: Path) -> None:  # noqa: F811
    drafts(world_pg, 20)
    env = pg_env(pg_url, tmp_path, CELERY_BROKER_URL=broker, REMINDER_SCAN_SECONDS="10",
                 MAIL_FLUSH_SECONDS="5", APP_NOW="2006-04-07T09:00+08:00", **smtp.env())

    def start(args: list[str], log: Path, **more: str) -> subprocess.Popen[bytes]:
        with open(log, "ab") as out:
            return subprocess.Popen([str(BIN / "celery"), "-A", "tasks", *args], cwd=ROOT,
                                    env={**env, **more}, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)

    logs, worker_log = [tmp_path / f"beat{i}.log" for i in (1, 2)], tmp_path / "worker.log"
    procs = [start(["worker", "-Q", "scans,mail", "-c", "2", "--without-gossip",
                    "--without-mingle", "--loglevel", "WARNING"], worker_log)]
    # LOG_LEVEL=DEBUG keeps Celery's INFO lines, among them each "Sending due task"
    procs += [start(["beat", "--loglevel", "INFO", "--schedule",
                     str(tmp_path / f"beat{i}-schedule")], log, LOG_LEVEL="DEBUG")
              for i, log in enumerate(logs)]

    def scans_sent(log: Path) -> int:
        return log.read_text().count("Sending due task reminders-scan")

    def scans_run() -> int:
        return worker_log.read_text().count("reminder scan finished")

    try:
        wait_until(lambda: all(scans_sent(log) for log in logs)
                   and statuses(world_pg).get("sent", 0) >= 20, 240,
                   "a scan from each beat and every reminder sent")
        # then one more scan from each beat, and every scan sent so far run by the worker:
        # nothing new may be written or sent
        counts = [scans_sent(log) for log in logs]
        wait_until(lambda: all(scans_sent(log) > n for log, n in zip(logs, counts, strict=True)),
                   120, "one more scan from each beat")
        sent_so_far = sum(scans_sent(log) for log in logs)
        wait_until(lambda: scans_run() >= sent_so_far, 120,
                   f"the worker to finish the {sent_so_far} scans sent")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
    for log in logs:
        assert "Sending due task reminders-scan" in log.read_text(), "a beat never sent a scan"
    assert statuses(world_pg) == {"sent": 20}, worker_log.read_text()[-2000:]
    received = Counter(smtp.sink.ids())
    assert len(received) == 20 and max(received.values()) == 1
