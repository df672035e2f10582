"""The connections transitions run on (the engine's pool, in the unit of work's
transaction): a thread that ends leaves none behind, a dead one is replaced, a forked
child never touches its parent's, and forgetting the database closes them — so a server
that restarts, a web server that runs each request in a new thread, or a worker pool that
forks never loses a transition or runs out of connections."""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from tests import factories
from tests.databases import on_server, statements_sent
from workflow.services import cases
from workflow.storage import db, reference_repo
from workflow.storage.db import session_factory
from workflow.storage.uow import UnitOfWork


@pytest.fixture
def world(pg_url: str) -> factories.World:  # PostgreSQL only: the server kills connections
    factory = session_factory(pg_url)
    return factories.build_world(lambda: UnitOfWork(factory=factory))


def backends(url: str) -> list[int]:
    """Server processes connected to `url`'s database, other than the one asking."""
    return on_server(url, "SELECT pid FROM pg_stat_activity WHERE datname = :d AND "
                          "backend_type = 'client backend' AND pid <> pg_backend_pid()",
                     {"d": url.rsplit("/", 1)[1]})


def kill(url: str, pid: int) -> None:
    """End one server process, as an administrator or a restart would."""
    on_server(url, "SELECT pg_terminate_backend(:p)", {"p": pid})


T = datetime(2006, 4, 4, 2, tzinfo=UTC)


def send_back(world: factories.World, app_id: int) -> cases.Fired:
    return cases.fire(world.uow(), world.id("hubei_reviewer"), app_id, "return_for_revision",
                      None, reason="补充材料", now=T)


def send_back_and_resubmit(world: factories.World, app_id: int) -> None:
    send_back(world, app_id)
    cases.fire(world.uow(), world.id("hubei_applicant"), app_id, "submit", None, now=T)


def steps(world: factories.World, app_id: int) -> list[str]:
    return [h.trigger for h in cases.history_of(world.uow(), world.id("hubei_reviewer"),
                                                app_id)]


def test_threads_that_fire_and_end_give_their_connection_back(
        world: factories.World, pg_url: str) -> None:
    app_id = factories.submitted(world)
    before = len(backends(pg_url))
    for _ in range(30):  # like a web server that runs each request in a thread of its own
        worker = threading.Thread(target=send_back_and_resubmit, args=(world, app_id))
        worker.start()
        worker.join(30)
    assert steps(world, app_id) == ["submit"] + ["return_for_revision", "submit"] * 30
    # 60 transitions in 30 threads: the connections were reused, not one left per thread
    assert len(backends(pg_url)) <= before + 2


def kill_all(url: str) -> list[int]:
    """End every server process connected to `url`'s database; returns their pids."""
    pids = backends(url)
    for pid in pids:
        kill(url, pid)
    return pids


def test_pooled_connections_the_server_dropped_overnight_are_replaced(
        world: factories.World, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app_id = factories.submitted(world)
    killed = kill_all(pg_url)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # as after a quiet night
    send_back_and_resubmit(world, app_id)  # no error: pinged, found dead, replaced
    assert not set(killed) & set(backends(pg_url))
    assert steps(world, app_id) == ["submit", "return_for_revision", "submit"]


def gone(url: str, pid: int) -> None:
    """Wait (bounded) until the killed server process has left: its farewell has then
    reached our end of the socket."""
    deadline = time.monotonic() + 30
    while pid in backends(url) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pid not in backends(url)


def test_pooled_connections_killed_between_transitions_cost_no_transition(
        world: factories.World, pg_url: str) -> None:
    app_id = factories.submitted(world)
    for pid in kill_all(pg_url):
        gone(pg_url, pid)
    fired = send_back(world, app_id)  # a moment later, not idle for long: no ping due
    assert fired.to_state == "drafted" and fired.version == 3
    assert steps(world, app_id) == ["submit", "return_for_revision"]


def test_a_connection_lost_before_writing_fails_that_call_only_and_says_it_may_run_again(
        world: factories.World, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app_id = factories.submitted(world)
    for pid in kill_all(pg_url):
        gone(pg_url, pid)
    # the kill lands after the connection was checked, just before its first statement
    monkeypatch.setattr(db, "_hung_up", lambda _conn: False)
    writes = db.watch_writes()
    with pytest.raises(Exception, match="(?i)terminat|closed|connection") as lost:
        send_back(world, app_id)
    assert db.lost_before_writing(lost.value, writes)  # what lets the web run it again
    fired = send_back(world, app_id)  # the next call has a new connection
    assert fired.to_state == "drafted" and fired.version == 3  # nothing half-written before
    assert steps(world, app_id) == ["submit", "return_for_revision"]


def _child(url: str, app_id: int, user_id: int, out: Any) -> None:
    db.dispose_all()  # what the Celery worker does after fork
    try:
        fired = cases.fire(UnitOfWork(factory=session_factory(url)), user_id, app_id,
                           "return_for_revision", None, reason="子进程", now=T)
        out.put((fired.to_state, backends(url)))
    except Exception as exc:  # noqa: BLE001 - report anything to the test
        out.put(f"{type(exc).__name__}: {exc}")


def test_a_forked_child_uses_a_connection_of_its_own_and_leaves_the_parents_alone(
        world: factories.World, pg_url: str) -> None:
    first, second = factories.submitted(world), factories.submitted(world)
    send_back_and_resubmit(world, second)  # the parent fired: its pool holds connections
    parents = set(backends(pg_url))
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    child = ctx.Process(target=_child, args=(pg_url, first, world.id("hubei_reviewer"), out))
    child.start()
    state, seen_by_child = out.get(timeout=30)
    assert state == "drafted" and set(seen_by_child) - parents  # it opened its own
    child.join(30)
    assert child.exitcode == 0
    # the child neither used nor closed the parent's connections: they still work here
    assert parents <= set(backends(pg_url))
    assert send_back(world, second).to_state == "drafted"
    assert steps(world, first) == ["submit", "return_for_revision"]
    assert steps(world, second) == ["submit", "return_for_revision", "submit",
                                    "return_for_revision"]


def test_forgetting_a_database_closes_its_connections_while_threads_live_on(
        world: factories.World, pg_url: str) -> None:
    app_id = factories.submitted(world)
    ready, release = threading.Event(), threading.Event()

    def keeps_one() -> None:  # a live thread that fired and lives on
        send_back_and_resubmit(world, app_id)
        ready.set()
        release.wait(30)

    worker = threading.Thread(target=keeps_one)
    worker.start()
    assert ready.wait(30)
    assert len(backends(pg_url)) >= 1
    db.forget(pg_url)
    try:
        assert backends(pg_url) == []  # the database can now be dropped
    finally:
        release.set()
        worker.join(30)


def test_a_plain_transition_is_one_read_and_one_write_even_with_the_reference_cache_cold(
        world: factories.World, pg_url: str) -> None:
    first, second = factories.submitted(world), factories.submitted(world)
    reference_repo.clear_reference_cache()  # reloaded on the transition's own connection
    assert send_back(world, first).to_state == "drafted"
    with statements_sent(pg_url) as sent:
        fired = send_back(world, second)
    assert (fired.to_state, fired.version) == ("drafted", 3)
    assert [s[:6].upper() for s in sent] == ["SELECT", "WITH M"]  # the case as read, then the move with its records
    assert steps(world, first) == steps(world, second) == ["submit", "return_for_revision"]
