"""A database connection killed under the application (pg_terminate_backend, a restart of
PostgreSQL, a cut) costs no request: the pool replaces a connection the server hung up on
before handing it out, and a request that lost its connection before writing anything is
run again. One that may have written is never run again (issue "Hardening" §6)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from tests import factories
from tests.integration.test_transition_connections import backends, gone, kill
from workflow.services import cases
from workflow.storage import db
from workflow.storage.uow import UnitOfWork


@pytest.fixture
def db_url(pg_url: str) -> str:  # PostgreSQL only: the server is what kills connections
    return pg_url


def kill_all(url: str) -> None:
    """End every server process connected to the test database, and wait until they
    have left."""
    pids = backends(url)
    for pid in pids:
        kill(url, pid)
    for pid in pids:
        gone(url, pid)


def test_pooled_connections_killed_a_moment_ago_cost_no_read(world: factories.World,
                                                             pg_url: str) -> None:
    app_id = factories.submitted(world)
    reviewer = world.id("hubei_reviewer")
    assert cases.load(world.uow(), reviewer, app_id).row.state == "provincially_reviewed"
    kill_all(pg_url)  # every connection in the pool, idle for far less than the ping age
    assert cases.load(world.uow(), reviewer, app_id).row.state == "provincially_reviewed"


def kill_all_unnoticed(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`kill_all`, landing after each connection was checked and before its first
    statement (a race the check at checkout cannot close)."""
    kill_all(url)
    monkeypatch.setattr(db, "_hung_up", lambda _conn: False)


def test_a_read_that_lost_its_connection_is_answered_all_the_same(
        api: Any, world: factories.World, pg_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    app_id = factories.submitted(world)
    reviewer = api.as_("hubei_reviewer")
    assert reviewer.get(f"/api/v1/applications/{app_id}").status_code == 200
    kill_all_unnoticed(pg_url, monkeypatch)
    r = reviewer.get(f"/api/v1/applications/{app_id}")
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert r.get_json()["state"] == "provincially_reviewed"
    kill_all(pg_url)
    r = reviewer.get("/api/v1/applications")
    assert r.status_code == 200 and [a["id"] for a in r.get_json()["items"]] == [app_id]


def test_a_transition_that_lost_its_connection_before_writing_is_made_once(
        api: Any, world: factories.World, pg_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    app_id = factories.submitted(world)
    reviewer = api.as_("hubei_reviewer")
    version = reviewer.get(f"/api/v1/applications/{app_id}").get_json()["version"]
    kill_all_unnoticed(pg_url, monkeypatch)  # every pooled connection, between requests
    r = reviewer.post(f"/api/v1/applications/{app_id}/transitions", json={
        "trigger": "return_for_revision", "version": version, "reason": "补充材料"})
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert r.get_json()["version"] == version + 1
    history = reviewer.get(f"/api/v1/applications/{app_id}/history").get_json()
    assert [h["trigger"] for h in history] == ["submit", "return_for_revision"]


@contextmanager
def killed_at(url: str, moment: str, then: Callable[[], Any] = lambda: None) -> Iterator[None]:
    """The server process of the connection that writes the next transition is killed
    `moment` = "after the write" (its UPDATE and history row sent; committed only if the
    write commits by itself) or "at commit" (just before its COMMIT is sent — for a write
    that commits by itself, `cases._fire`'s statements, just before that write is sent);
    `then` runs once it has gone (e.g. a colleague's transition)."""
    engine = db.get_engine(url)
    done: list[bool] = []

    def end(dbapi_conn: Any) -> None:
        done.append(True)
        pid = dbapi_conn.info.backend_pid
        kill(url, pid)
        gone(url, pid)
        then()

    def after_write(_conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if not done and "INSERT INTO transition_history" in statement:
            end(cursor.connection)

    def at_commit(conn: Any) -> None:
        if not done and conn.in_transaction() and wrote:
            end(conn.connection.driver_connection)

    wrote: list[bool] = []

    def note_write(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "INSERT INTO transition_history" in statement:
            wrote.append(True)

    def before_own_commit(_conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if (not done and cursor.connection.autocommit
                and "INSERT INTO transition_history" in statement):
            end(cursor.connection)

    hooks = ([("after_cursor_execute", after_write)] if moment == "after the write" else
             [("after_cursor_execute", note_write), ("commit", at_commit),
              ("before_cursor_execute", before_own_commit)])
    for name, fn in hooks:
        event.listen(engine, name, fn)
    try:
        yield
    finally:
        for name, fn in hooks:
            event.remove(engine, name, fn)
    assert done, "the transition's connection was never killed"


@pytest.mark.parametrize("moment", ["after the write", "at commit"])
def test_a_transition_that_lost_its_connection_before_it_committed_is_answered_and_made_once(
        api: Any, world: factories.World, pg_url: str, moment: str) -> None:
    app_id = factories.submitted(world)
    reviewer = api.as_("hubei_reviewer")
    version = reviewer.get(f"/api/v1/applications/{app_id}").get_json()["version"]
    with killed_at(pg_url, moment):
        r = reviewer.post(f"/api/v1/applications/{app_id}/transitions", json={
            "trigger": "return_for_revision", "version": version, "reason": "补充材料"})
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert r.get_json()["version"] == version + 1
    history = reviewer.get(f"/api/v1/applications/{app_id}/history").get_json()
    assert [h["trigger"] for h in history] == ["submit", "return_for_revision"]


def test_a_transition_whose_commit_stood_but_its_answer_was_lost_is_not_made_again(
        api: Any, world: factories.World, monkeypatch: pytest.MonkeyPatch) -> None:
    app_id = factories.submitted(world)
    reviewer = api.as_("hubei_reviewer")
    version = reviewer.get(f"/api/v1/applications/{app_id}").get_json()["version"]
    committed = UnitOfWork.commit

    def answer_lost(self: UnitOfWork) -> None:  # committed, then the connection died
        committed(self)
        raise OperationalError("COMMIT", {}, Exception("server closed the connection"),
                               connection_invalidated=True)

    monkeypatch.setattr(UnitOfWork, "commit", answer_lost)
    r = reviewer.post(f"/api/v1/applications/{app_id}/transitions", json={
        "trigger": "return_for_revision", "version": version, "reason": "补充材料"})
    monkeypatch.undo()
    # answered from the history row it wrote: not run again, not a conflict with itself
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert r.get_json()["version"] == version + 1
    history = reviewer.get(f"/api/v1/applications/{app_id}/history").get_json()
    assert [h["trigger"] for h in history] == ["submit", "return_for_revision"]


def test_a_lost_transition_whose_version_another_transition_took_is_a_conflict(
        api: Any, world: factories.World, pg_url: str) -> None:
    app_id = factories.submitted(world)
    version = cases.load(world.uow(), world.id("hubei_reviewer"), app_id).row.version

    def colleague_declines() -> None:  # ours never landed; a colleague's did meanwhile
        cases.fire(world.uow(), world.id("hubei_reviewer2"), app_id, "decline", version,
                   reason="不符合条件")

    with killed_at(pg_url, "at commit", then=colleague_declines):
        r = api.as_("hubei_reviewer").post(
            f"/api/v1/applications/{app_id}/transitions", json={
                "trigger": "return_for_revision", "version": version, "reason": "补充材料"})
    assert r.status_code == 409 and r.get_json()["code"] == "version_conflict"
    assert [h.trigger for h in cases.history_of(world.uow(), world.id("mofcom"), app_id)] \
        == ["submit", "decline"]


@contextmanager
def killed_around_token_use(url: str, moment: str) -> Iterator[None]:
    """The server process under a bearer token's first use is killed `moment` = "at its
    last use" (the token's last-used UPDATE sent, not committed) or "after its last use"
    (that committed; just before the request's read of the application)."""
    engine = db.get_engine(url)
    noted: list[bool] = []
    done: list[bool] = []

    def end(dbapi_conn: Any) -> None:
        done.append(True)
        pid = dbapi_conn.info.backend_pid
        kill(url, pid)
        gone(url, pid)

    def at_use(_conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if "UPDATE api_tokens" in statement:
            noted.append(True)
            if moment == "at its last use" and not done:
                end(cursor.connection)

    def after_use(_conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if noted and not done and "FROM applications" in statement:
            end(cursor.connection)

    event.listen(engine, "after_cursor_execute", at_use)
    event.listen(engine, "before_cursor_execute", after_use)
    try:
        yield
    finally:
        event.remove(engine, "after_cursor_execute", at_use)
        event.remove(engine, "before_cursor_execute", after_use)
    assert done, "the connection was never killed"


@pytest.mark.parametrize("moment", ["at its last use", "after its last use"])
def test_a_read_whose_token_bookkeeping_lost_its_connection_is_answered(
        api: Any, world: factories.World, pg_url: str, moment: str) -> None:
    app_id = factories.submitted(world)
    reviewer = api.as_("hubei_reviewer")  # a new token: its first use writes its last use
    with killed_around_token_use(pg_url, moment):
        r = reviewer.get(f"/api/v1/applications/{app_id}")
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert r.get_json()["state"] == "provincially_reviewed"
