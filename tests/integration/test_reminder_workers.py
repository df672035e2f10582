"""Real processes: Celery workers on a Redis broker against PostgreSQL, SIGKILLed while
they send; two scanners at once. Nothing lost, nothing sent twice outside the window.

Bounded: 20 SIGKILLs — 18 of the pool process that sends (the worker forks a new one at
once; `task_reject_on_worker_lost` requeues the task) and 2 of the whole worker, which
restarts; the SMTP server lets one message through per kill, so every kill lands while
the worker is sending however fast or slow the machine is; once with beat-like sweeps
(`send_due`), once with a `deliver` nudge per unsent message (each may send a claimed
batch of others). Waits are generous bounds on outcomes, not speed requirements."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.brokers import own_redis_db
from tests.smtp_sink import SmtpServer
from workflow.services import reminders as svc
from workflow.storage.db import session_factory
from workflow.storage.models import ApplicationRow, OutboxRow, RoundRow, UserRow
from workflow.storage.uow import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SCAN_AT = datetime(2006, 4, 7, 1, tzinfo=UTC)  # 09:00 Beijing, 5 working days before 14 April
KILLS = 20

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def pg_env(pg_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "MAIL_"))}
    env.update(APP_ENV="test", DATABASE_URL=pg_url, INSTANCE_PATH=str(tmp_path / "instance"),
               PYTHONPATH=str(ROOT), **extra)
    return env


@pytest.fixture
def world_pg(pg_url: str) -> factories.World:
    factory = session_factory(pg_url)
    return factories.build_world(lambda: UnitOfWork(factory=factory))


@pytest.fixture
def broker(redis_url: str) -> Iterator[str]:
    """A Redis database of its own, emptied before and after."""
    with own_redis_db(redis_url, 9) as url:
        yield url


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def drafts(world: factories.World, n: int) -> None:
    """n unsubmitted drafts, spread over the applicants, each due a reminder on 7 April."""
    applicants = [u for u in factories.USERS if u.endswith(("_applicant", "_applicant2"))]
    for i in range(n):
        factories.draft(world, applicants[i % len(applicants)], applicant_name=f"基地{i:03d}")


class Worker:
    """`celery -A tasks worker` in its own process group, so SIGKILL takes all of it."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:  # the worker writes to its own copy
            self.proc = subprocess.Popen(
                [str(BIN / "celery"), "-A", "tasks", "worker", "-Q", "mail", "-c", "2",
                 "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)

    def children(self) -> list[int]:
        """The pool processes (the ones that actually send)."""
        if self.proc is None:
            return []
        try:
            text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(x) for x in text.split()]

    def kill_children(self) -> int:
        """SIGKILL the pool processes; returns how many died (each may have been mid-send)."""
        kids = self.children()
        for pid in kids:
            os.kill(pid, signal.SIGKILL)
        return len(kids)

    def kill(self) -> int:
        """SIGKILL the whole worker (main process and pool); returns the senders killed."""
        senders = len(self.children())
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None
        return senders

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None


def nudge(env: dict[str, str], ids: list[int] | None = None) -> None:
    """What beat does every MAIL_FLUSH_SECONDS: ask a worker to sweep the outbox — or,
    with `ids`, one `deliver` nudge per message (each may send a batch of others)."""
    from celery import Celery

    app = Celery("nudge", broker=env["CELERY_BROKER_URL"])
    if ids is None:
        app.send_task("tasks.mail.send_due", queue="mail")
    else:
        with app.producer_or_acquire() as producer:
            for i in ids:
                app.send_task("tasks.mail.deliver", args=[i], queue="mail", producer=producer)
    app.close()


def wait_until(check: Callable[[], bool], seconds: float, what: str,
               then: Callable[[], None] | None = None, every: float = 0.5) -> None:
    """Poll until `check()` holds, calling `then` between polls (a nudge, as beat would);
    fail naming `what` after `seconds` — a generous bound, not a speed requirement."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"waited {seconds:.0f} s for {what}"
        if then is not None:
            then()
        time.sleep(every)


def unsent(world: factories.World) -> list[int]:
    with world.uow() as u:
        return list(u.session.scalars(select(OutboxRow.id).where(OutboxRow.status != "sent")))


def statuses(world: factories.World) -> Counter[str]:
    with world.uow() as u:
        return Counter(dict(u.session.execute(
            select(OutboxRow.status, func.count()).group_by(OutboxRow.status)).all()))


@pytest.mark.parametrize("tasks", ["sweeps", "per-message nudges"])
def test_workers_killed_mid_delivery_lose_nothing_and_repeat_only_in_the_crash_window(
        world_pg: factories.World, pg_url: str, broker: str, smtp: SmtpServer,
        tmp_path: Path, tasks: str) -> None:
    drafts(world_pg, 40)
    svc.scan(world_pg.uow(), SCAN_AT, base_url="http://eib.test")
    assert statuses(world_pg) == {"pending": 40}
    smtp.sink.delay = 0.12  # each message takes a moment: kills land mid-send
    smtp.sink.hold_data(after=0)  # one message through per kill (below): 20 kills, 40 reminders
    env = pg_env(pg_url, tmp_path, CELERY_BROKER_URL=broker, MAIL_LEASE_SECONDS="2",
                 MAIL_RETRY_BASE_SECONDS="1", **{**smtp.env(), "SMTP_TIMEOUT": "60"})
    worker = Worker(env, tmp_path / "worker.log")

    def nudge_unsent() -> None:
        nudge(env, unsent(world_pg) if tasks != "sweeps" else None)

    try:
        worker.start()
        kills, senders_killed, stop_by = 0, 0, time.monotonic() + 600
        while kills < KILLS:
            assert time.monotonic() < stop_by, f"only {kills} kills in 600 s"
            if worker.proc is None or worker.proc.poll() is not None:
                worker.start()  # the worker gave up (a pool process killed at its start)
            before = len(smtp.sink.messages)
            smtp.sink.hold_data(after=1)
            cycle_ends, next_nudge = time.monotonic() + 10, 0.0
            while len(smtp.sink.messages) == before and time.monotonic() < cycle_ends:
                if time.monotonic() >= next_nudge:  # as beat would, only more often
                    nudge_unsent()
                    next_nudge = time.monotonic() + 0.5
                time.sleep(0.01)
            if len(smtp.sink.messages) == before:
                continue  # not sending yet (a worker starting): no kill "mid-delivery"
            time.sleep(random.uniform(0, 0.1))  # recording it, or the next one under way
            if kills % 10 == 9:  # twice, the whole worker rather than its pool processes
                senders_killed += worker.kill()
                worker.start()
                kills += 1
            else:
                killed = worker.kill_children()
                senders_killed += killed
                kills += killed > 0
        smtp.sink.release_data()
        wait_until(lambda: statuses(world_pg).get("sent", 0) >= 40, 300,
                   "every reminder to be sent", then=nudge_unsent, every=1.0)
    finally:
        worker.stop()
    assert statuses(world_pg) == {"sent": 40}, (tmp_path / "worker.log").read_text()[-3000:]
    received = Counter(smtp.sink.ids())
    with world_pg.uow() as u:
        attempts = dict(u.session.execute(select(OutboxRow.id, OutboxRow.attempts)).all())
    assert set(received) == {str(i) for i in attempts}, "a reminder was lost"
    repeated = {i: n for i, n in received.items() if n > 1}
    # a copy only where a kill fell between the server's 250 and the database's "sent":
    # a pool process sends one message at a time, so at most one per process killed
    assert sum(n - 1 for n in repeated.values()) <= senders_killed
    assert all(attempts[int(i)] >= 2 for i in repeated)


def test_two_scanners_at_once_write_every_reminder_exactly_once(
        world_pg: factories.World, pg_url: str, tmp_path: Path) -> None:
    n = 3000
    with world_pg.uow() as u:  # many due cases, inserted in bulk so the scans overlap
        s = u.session
        rnd = s.scalars(select(RoundRow)).one()
        owner = s.scalars(select(UserRow).where(UserRow.username == "hubei_applicant")).one()
        s.execute(ApplicationRow.__table__.insert(), [
            {"round_id": rnd.id, "authority_id": owner.authority_id, "owner_id": owner.id,
             "kind": "new_base", "state": "drafted", "version": 1, "attestations": {},
             "applicant_name": f"基地{i}", "next_reminder_on": date(2006, 4, 7),
             "created_at": SCAN_AT, "updated_at": SCAN_AT, "state_changed_at": SCAN_AT}
            for i in range(n)])
        u.commit()
    env = pg_env(pg_url, tmp_path, CELERY_BROKER_URL="memory://")
    cmd = [str(BIN / "flask"), "--app", "web", "reminders", "scan", "--at",
           "2006-04-07T09:00+08:00", "--no-send"]
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1].decode()[-2000:] for o in outs]
    import json

    results: list[dict[str, Any]] = [json.loads(o[0].decode().splitlines()[0]) for o in outs]
    with world_pg.uow() as u:
        total = u.session.scalar(select(func.count()).select_from(OutboxRow))
        keys = u.session.scalar(select(func.count(func.distinct(OutboxRow.dedupe_key))))
    assert total == keys == n
    assert sum(r["written"] for r in results) == n
