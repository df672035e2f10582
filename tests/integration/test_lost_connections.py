"""A database connection killed under the application (pg_terminate_backend, a restart of
PostgreSQL, a cut) costs no request: the pool replaces a connection the server hung up on
before handing it out, and a request that lost its connection before writing anything is
run again. One that may have written is never run again (issue "Hardening" §6)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from tests import factories
from tests.integration.test_kept_connection import backends, gone, kill
from workflow.services import cases
from workflow.storage import db, repo


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
    kill_all_unnoticed(pg_url, monkeypatch)  # the web worker's kept connection and the pool's, between requests
    r = reviewer.post(f"/api/v1/applications/{app_id}/transitions", json={
        "trigger": "return_for_revision", "version": version, "reason": "补充材料"})
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert r.get_json()["version"] == version + 1
    history = reviewer.get(f"/api/v1/applications/{app_id}/history").get_json()
    assert [h["trigger"] for h in history] == ["submit", "return_for_revision"]


def test_a_transition_whose_answer_was_lost_is_not_made_again(
        api: Any, world: factories.World, monkeypatch: pytest.MonkeyPatch) -> None:
    app_id = factories.submitted(world)
    reviewer = api.as_("hubei_reviewer")
    version = reviewer.get(f"/api/v1/applications/{app_id}").get_json()["version"]
    written = repo.write_transition

    def answer_lost(*args: Any, **kw: Any) -> int:  # written, then the connection died
        written(*args, **kw)
        raise OperationalError("write", {}, Exception("server closed the connection"),
                               connection_invalidated=True)

    monkeypatch.setattr(repo, "write_transition", answer_lost)
    r = reviewer.post(f"/api/v1/applications/{app_id}/transitions", json={
        "trigger": "return_for_revision", "version": version, "reason": "补充材料"})
    monkeypatch.undo()
    # not run again: a second run would have met its own write as a version conflict
    assert r.status_code == 500 and r.get_json()["code"] == "internal_error"
    history = reviewer.get(f"/api/v1/applications/{app_id}/history").get_json()
    assert [h["trigger"] for h in history] == ["submit", "return_for_revision"]


def lose_the_write(monkeypatch: pytest.MonkeyPatch, lands: bool) -> list[int]:
    """The next transition write loses its connection — after it `lands`, or before —
    and reports it as a lost connection; returns the list the written ids go to."""
    run, landed = repo._run, []

    def losing(target: Any, statement: Any, params: dict[str, Any]) -> Any:
        if "new_version" not in params or landed or not isinstance(target, repo.Direct):
            return run(target, statement, params)
        landed.append(run(target, statement, params).fetchone()[0] if lands else 0)
        target.invalidate(Exception("server closed the connection"))
        raise OperationalError("write", {}, Exception("server closed the connection"),
                               connection_invalidated=True)

    monkeypatch.setattr(repo, "_run", losing)
    return landed


@pytest.mark.parametrize("lands", [True, False], ids=["after it landed", "before"])
def test_a_transition_that_lost_its_connection_mid_write_is_answered_and_made_once(
        api: Any, world: factories.World, monkeypatch: pytest.MonkeyPatch,
        lands: bool) -> None:
    app_id = factories.submitted(world)
    reviewer = api.as_("hubei_reviewer")
    version = reviewer.get(f"/api/v1/applications/{app_id}").get_json()["version"]
    lose_the_write(monkeypatch, lands)
    r = reviewer.post(f"/api/v1/applications/{app_id}/transitions", json={
        "trigger": "return_for_revision", "version": version, "reason": "补充材料"})
    monkeypatch.undo()
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert r.get_json()["version"] == version + 1
    history = reviewer.get(f"/api/v1/applications/{app_id}/history").get_json()
    assert [h["trigger"] for h in history] == ["submit", "return_for_revision"]


def test_a_lost_write_whose_version_another_transition_took_is_a_conflict(
        api: Any, world: factories.World, monkeypatch: pytest.MonkeyPatch) -> None:
    app_id = factories.submitted(world)
    version = cases.load(world.uow(), world.id("hubei_reviewer"), app_id).row.version
    run, lost = repo._run, []

    def colleague_first(target: Any, statement: Any, params: dict[str, Any]) -> Any:
        if "new_version" not in params or lost or not isinstance(target, repo.Direct):
            return run(target, statement, params)
        lost.append(True)  # ours never landed; a colleague's declined the case meanwhile
        target.invalidate(Exception("server closed the connection"))
        monkeypatch.setattr(repo, "_run", run)
        cases.fire(world.uow(), world.id("hubei_reviewer2"), app_id, "decline", version,
                   reason="不符合条件")
        raise OperationalError("write", {}, Exception("server closed the connection"),
                               connection_invalidated=True)

    monkeypatch.setattr(repo, "_run", colleague_first)
    r = api.as_("hubei_reviewer").post(f"/api/v1/applications/{app_id}/transitions", json={
        "trigger": "return_for_revision", "version": version, "reason": "补充材料"})
    assert r.status_code == 409 and r.get_json()["code"] == "version_conflict"
    assert [h.trigger for h in cases.history_of(world.uow(), world.id("mofcom"), app_id)] \
        == ["submit", "decline"]
