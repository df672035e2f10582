"""The fault run: real processes, real faults, outcomes a user would notice.

1. PostgreSQL's server processes for the application's connections are killed
   (pg_terminate_backend, every FAULT_KILL_EVERY seconds) while 8 clients load the API
   of the Procfile's web server (gunicorn) — reading cases and moving them back and forth.
   No read answers 5xx; no transition a client was told of is lost, and none is made
   twice.
2. Reminders flow to a real SMTP server through a Celery worker on Redis while, in turn:
   the broker is cut (through a TCP forwarder the test owns) and new reminders are
   written; the worker is SIGKILLed in the middle of a batch (between two messages of its
   claim); the SMTP server is down for a while. Every reminder arrives exactly once.

Each prints what it did and saw (`pytest -s`, or in the report of a failure). A kill in
the middle of one SMTP transaction — after the server's 250, before the database's
"sent" — may repeat that one message (at least once, same Message-ID): that window has
its own test, test_reminder_workers.py."""

from __future__ import annotations

import http.client
import json
import os
import re
import shlex
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests import factories
from tests.brokers import own_redis_db
from tests.databases import on_server
from tests.integration.test_reminder_workers import (  # noqa: F401 - fixtures
    BIN,
    ROOT,
    SCAN_AT,
    Worker,
    drafts,
    nudge,
    pg_env,
    smtp,
    statuses,
    world_pg,
)
from tests.smtp_sink import SmtpServer, free_port
from tests.tcp_proxy import TcpProxy
from workflow.services import cases, tokens
from workflow.services import reminders as svc
from workflow.storage.models import OutboxRow

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

LOAD_SECONDS = float(os.environ.get("FAULT_LOAD_SECONDS", "30"))
FAULT_KILL_EVERY = 0.5
CLIENTS = 8
PROVINCES = ("hubei", "hunan", "sichuan", "liaoning")  # two clients each
REDIS_DB = 13
READ, WRITE = "read", "write"


def report(capsys: pytest.CaptureFixture[str], lines: list[str]) -> None:
    with capsys.disabled():
        print("\n" + "\n".join(f"  fault run: {line}" for line in lines))


# --- 1. database connections killed under load -------------------------------------------

def procfile_web(env: dict[str, str]) -> list[str]:
    """The Procfile's web command, its ${VAR:-default}s filled in from `env`."""
    line = next(ln for ln in (ROOT / "Procfile").read_text().splitlines()
                if ln.startswith("web:"))
    filled = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: env.get(m[1], m[2]),
                    line.split(":", 1)[1])
    words = shlex.split(filled)
    return [str(BIN / words[0]), *words[1:]]


@dataclass
class Tally:
    """What the clients saw, by kind of request and status (or the exception's name)."""

    seen: Counter[tuple[str, str]] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, status: str) -> None:
        with self.lock:
            self.seen[kind, status] += 1

    def count(self, kind: str, test: Callable[[str], bool]) -> int:
        return sum(n for (k, s), n in self.seen.items() if k == kind and test(s))


class Api:
    """One client: a new connection per request (gunicorn's sync workers close them)."""

    def __init__(self, port: int, token: str, tally: Tally) -> None:
        self.port, self.tally = port, tally
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, kind: str, method: str, path: str, body: Any = None
             ) -> tuple[int | None, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, None if body is None else json.dumps(body),
                         self.headers)
            answer = conn.getresponse()
            status, data = answer.status, answer.read()
        except (OSError, http.client.HTTPException) as exc:
            self.tally.add(kind, type(exc).__name__)
            return None, None
        finally:
            conn.close()
        self.tally.add(kind, str(status))
        return status, json.loads(data) if data else None


NEXT = {"provincially_reviewed": ("reviewer", "return_for_revision"),
        "drafted": ("applicant", "submit")}


@dataclass
class Client:
    """Moves its own case back and forth and keeps the ledger of what it was told
    happened (and, after a 5xx, what it then found had happened)."""

    app_id: int
    as_: dict[str, Api]
    ledger: list[str] = field(default_factory=list)
    unexplained: list[str] = field(default_factory=list)

    def read(self) -> dict[str, Any] | None:
        status, case = self.as_["reviewer"].call(READ, "GET",
                                                 f"/api/v1/applications/{self.app_id}")
        return case if status == 200 else None

    def run(self, stop: threading.Event) -> None:
        turn = 0
        while not stop.is_set():
            turn += 1
            if turn % 3 == 0:  # the other reads a reviewer makes
                self.as_["reviewer"].call(READ, "GET", "/api/v1/applications?limit=20")
                self.as_["applicant"].call(
                    READ, "GET", f"/api/v1/applications/{self.app_id}/history")
            case = self.read()
            if case is None:
                continue
            who, trigger = NEXT[case["state"]]
            body = {"trigger": trigger, "version": case["version"]}
            if trigger == "return_for_revision":
                body["reason"] = "请补充材料"
            status, _ = self.as_[who].call(
                WRITE, "POST", f"/api/v1/applications/{self.app_id}/transitions", body)
            if status == 200:
                self.ledger.append(trigger)
            elif status is None or status >= 500:  # did it happen? read until we know
                after = None
                while after is None and not stop.is_set():
                    after = self.read()
                if after is not None and after["version"] == case["version"] + 1:
                    self.ledger.append(trigger)
            else:
                self.unexplained.append(f"{trigger} v{case['version']}: {status}")


def kill_backends(url: str) -> int:
    """End every server process connected to `url`'s database; how many there were."""
    return len(on_server(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :d AND backend_type = 'client backend' "
                              "AND pid <> pg_backend_pid()", {"d": url.rsplit("/", 1)[1]}))


@pytest.fixture
def web_server(pg_url: str, tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """The Procfile's gunicorn on the test database; (its port, its log)."""
    port = free_port()
    env = pg_env(pg_url, tmp_path, PORT=str(port), HOST="127.0.0.1", WEB_CONCURRENCY="2",
                 CELERY_BROKER_URL="memory://", CELERY_RESULT_BACKEND="cache+memory://",
                 APP_NOW="2006-04-05T09:00+08:00")
    log = tmp_path / "web.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(procfile_web(env), cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                conn.request("GET", "/login")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            finally:  # a slow start times out after connecting: the socket is closed anyway
                conn.close()
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        yield port, log
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(10)


def test_database_connections_killed_under_load_fail_no_read_and_lose_no_transition(
        world_pg: factories.World, pg_url: str, web_server: tuple[int, Path],  # noqa: F811
        capsys: pytest.CaptureFixture[str]) -> None:
    port, log = web_server
    tally = Tally()
    clients = []
    for i in range(CLIENTS):
        province, second = PROVINCES[i % len(PROVINCES)], "2" if i >= len(PROVINCES) else ""
        applicant, reviewer = f"{province}_applicant{second}", f"{province}_reviewer{second}"
        app_id = factories.submitted(world_pg, applicant, applicant_name=f"负载{i}")
        clients.append(Client(app_id, {
            role: Api(port, tokens.create(world_pg.uow(), world_pg.id(user), "load").token,
                      tally)
            for role, user in (("applicant", applicant), ("reviewer", reviewer))}))
    stop = threading.Event()
    threads = [threading.Thread(target=c.run, args=(stop,)) for c in clients]
    for t in threads:
        t.start()
    kills, killed = 0, 0
    started = time.monotonic()
    try:
        while time.monotonic() - started < LOAD_SECONDS:
            time.sleep(FAULT_KILL_EVERY)
            ended = kill_backends(pg_url)
            kills += ended > 0
            killed += ended
    finally:
        stop.set()
        for t in threads:
            t.join(120)
    assert not any(t.is_alive() for t in threads)
    reads, writes = tally.count(READ, lambda s: True), tally.count(WRITE, lambda s: True)
    failed_reads = {s: n for (k, s), n in tally.seen.items()
                    if k == READ and not s.startswith(("2", "4"))}
    failed_writes = {s: n for (k, s), n in tally.seen.items()
                     if k == WRITE and not s.startswith(("2", "4"))}
    run_again = log.read_text(errors="replace").count("running it again")
    lost, doubled = [], []
    for c in clients:
        history = [h.trigger for h in cases.history_of(
            world_pg.uow(), world_pg.id("mofcom"), c.app_id)][1:]  # after the first submit
        if history[:len(c.ledger)] != c.ledger or len(history) < len(c.ledger):
            lost.append((c.app_id, c.ledger[-3:], history[-3:]))
        if len(history) > len(c.ledger):
            doubled.append((c.app_id, len(history) - len(c.ledger)))
    transitions = sum(len(c.ledger) for c in clients)
    report(capsys, [
        f"{CLIENTS} clients, {time.monotonic() - started:.0f} s: {reads} reads, {writes} "
        f"transitions sent, {transitions} made",
        f"{kills} kill rounds ended {killed} server processes; {run_again} requests ran "
        "again after losing their connection before writing",
        f"reads not answered 2xx/4xx: {failed_reads or 0}; transitions not answered "
        f"2xx/4xx: {failed_writes or 0}; lost transitions: {len(lost)}; made twice or "
        f"unasked: {len(doubled)}"])
    assert failed_reads == {}, failed_reads
    assert lost == [] and doubled == [], (lost, doubled)
    assert [u for c in clients for u in c.unexplained] == []
    # the run did what it says: it killed connections in use and moved every case
    assert kills >= 5 and killed >= 10
    assert all(len(c.ledger) >= 2 for c in clients)


# --- 2. broker cut, worker killed, SMTP down: reminders still arrive once ------------------

@pytest.fixture
def proxied_broker(redis_url: str) -> Iterator[tuple[str, TcpProxy]]:
    """A Redis database of the test's own, reached through a `TcpProxy`: (URL, proxy)."""
    with own_redis_db(redis_url, REDIS_DB) as url:
        parts = urlsplit(url)
        proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 6379))
        proxy.start()
        try:
            yield f"redis://127.0.0.1:{proxy.port}/{REDIS_DB}", proxy
        finally:
            proxy.stop()


def sent_ids(world: factories.World) -> set[str]:
    with world.uow() as u:
        return {str(i) for i in u.session.scalars(
            select(OutboxRow.id).where(OutboxRow.status == "sent"))}


def until(what: str, done: Callable[[], bool], env: dict[str, str], seconds: float,
          every: float = 0.5) -> int:
    """Nudge the workers as beat would (more often) until `done()`; the nudges the broker
    refused. Fails naming `what` after `seconds`."""
    refused, deadline, next_nudge = 0, time.monotonic() + seconds, 0.0
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        if time.monotonic() >= next_nudge:
            try:
                nudge(env)
            except Exception:  # noqa: BLE001 - the broker is cut: beat's publish fails too
                refused += 1
            next_nudge = time.monotonic() + every
        time.sleep(0.05)
    return refused


def test_broker_cut_worker_killed_mid_batch_and_smtp_down_lose_and_repeat_no_reminder(
        world_pg: factories.World, pg_url: str,  # noqa: F811
        proxied_broker: tuple[str, TcpProxy], smtp: SmtpServer,  # noqa: F811
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broker, proxy = proxied_broker
    drafts(world_pg, 16)
    svc.scan(world_pg.uow(), SCAN_AT, base_url="http://eib.test")
    first_wave = sum(statuses(world_pg).values())
    smtp.sink.delay = 0.05
    env = pg_env(pg_url, tmp_path, CELERY_BROKER_URL=broker, MAIL_LEASE_SECONDS="2",
                 MAIL_RETRY_BASE_SECONDS="1", **smtp.env())
    worker = Worker(env, tmp_path / "worker.log")
    lines, started = [], time.monotonic()
    try:
        worker.start()
        until("the first reminders are sent",
              lambda: len(sent_ids(world_pg)) == first_wave, env, 90)

        proxy.cut()  # the broker goes away: connections dropped, new ones refused
        cut_at, links = time.monotonic(), proxy.connections
        drafts(world_pg, 30)  # and reminders keep coming
        svc.scan(world_pg.uow(), SCAN_AT, base_url="http://eib.test")
        total = sum(statuses(world_pg).values())
        refused = until("the broker has been away for 3 s",
                        lambda: time.monotonic() - cut_at >= 3, env, 60)
        assert statuses(world_pg) == {"sent": first_wave, "pending": total - first_wave}

        smtp.stop()  # and, as the broker comes back, the SMTP server goes away
        proxy.restore()
        until("the worker, reconnected, tries to send",
              lambda: statuses(world_pg).get("failed", 0) >= 1, env, 90)
        down_at = time.monotonic()
        until("the SMTP server has been down for 3 s more",
              lambda: time.monotonic() - down_at >= 3, env, 60)
        failed = statuses(world_pg).get("failed", 0)  # put off (backoff), not lost
        smtp.start()
        lines.append(f"broker cut for {down_at - cut_at:.0f} s once {first_wave} reminders "
                     f"were sent; {total - first_wave} new ones written meanwhile, none "
                     f"sent; {refused} nudges refused; the worker reconnected "
                     f"({proxy.connections - links} new broker connections)")
        lines.append(f"SMTP server down from then on for {time.monotonic() - down_at:.0f} s "
                     f"more: {failed} deliveries failed and were put off")

        smtp.sink.hold_rcpt = True  # the worker stops between two messages of its claim
        until("a sender is held between two messages, none half-sent",
              lambda: smtp.sink.held >= 1 and smtp.sink.receiving() == 0
              and set(smtp.sink.ids()) <= sent_ids(world_pg), env, 60)
        claimed = statuses(world_pg).get("sending", 0)
        at_kill = len(sent_ids(world_pg))
        senders = worker.kill()
        smtp.sink.hold_rcpt = False
        worker.start()
        lines.append(f"worker SIGKILLed ({senders} pool processes) with {claimed} messages "
                     f"claimed and unsent, at {at_kill} sent; restarted")
        until("every reminder is sent", lambda: len(sent_ids(world_pg)) == total, env, 120,
              every=1.0)
    finally:
        worker.stop()
    received = Counter(smtp.sink.ids())
    with world_pg.uow() as u:
        attempts = dict(u.session.execute(select(OutboxRow.id, OutboxRow.attempts)).all())
    lost = {str(i) for i in attempts} - set(received)
    repeated = {i: n for i, n in received.items() if n > 1}
    lines.append(f"{total} reminders, {len(received)} received, {len(lost)} lost, "
                 f"{len(repeated)} received twice; {sum(attempts.values())} attempts "
                 f"in {time.monotonic() - started:.0f} s")
    report(capsys, lines)
    assert statuses(world_pg) == {"sent": total}, (tmp_path / "worker.log").read_text()[-3000:]
    assert lost == set() and repeated == {}
    # the faults did bite: reminders written while the broker was away, deliveries put
    # off while SMTP was down, a claim cut short by the kill
    assert total > first_wave and failed >= 1 and claimed >= 1
