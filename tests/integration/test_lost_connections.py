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
