"""A state's meaning in one place: a programme that adds a state — a base can be suspended
(暂停), then reinstated or revoked — in its definition file alone
(tests/programmes/test-suspension.toml) runs on the same engine with no code change: a
case is walked into and out of the new state through the API, its page shows the state,
its actions and the diagram, and the reminder scan takes it in its stride. SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from tests import factories
from tests.definitions import registered
from tests.factories import at
from workflow.services import clock, rounds
from workflow.services import reminders as scan


@pytest.fixture
def suspension_round(world: factories.World) -> Iterator[int]:
    with registered("test-suspension"):
        clock.freeze(datetime(2007, 3, 1, 1, tzinfo=UTC))
        try:
            rounds.plan(world.uow(), world.id("mofcom"), {
                "year": 2007, "programme": "test-suspension",
                "submission_deadline": "2007-04-30", "approval_deadline": "2007-05-31"})
            opened = rounds.open_round(world.uow(), world.id("mofcom"), 2007,
                                       code="test-suspension")
            assert opened.row.programme == "test-suspension" and opened.row.programme_hash
            yield 2007
        finally:
            clock.freeze(None)


def test_a_state_added_in_the_definition_alone_is_walked_through_api_page_scan_and_diagram(
        api: Any, client: Any, world: factories.World, suspension_round: int) -> None:
    app_id = factories.designated_in_2007(world, "test-suspension")
    ministry = api.as_("mofcom")
    case = ministry.get(f"/api/v1/applications/{app_id}").get_json()
    assert case["state"] == "approved" and "suspend" in case["available_triggers"]
    r = ministry.post(f"/api/v1/applications/{app_id}/transitions", json={
        "trigger": "suspend", "version": case["version"], "reason": "年度报告存在重大失实"})
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["from_state"], r.get_json()["state"]) == ("approved", "suspended")
    # the case page: the state's label and tone, its actions, the diagram with the new node
    factories.login(client, "mofcom")
    page = client.get(f"/cases/{app_id}").get_data(as_text=True)
    assert 'data-state="suspended"' in page and "暂停资格" in page and "tone-warning" in page
    assert "恢复基地资格" in page and "撤销暂停中的基地资格" in page
    diagram = page[page.index("<svg"):page.index("</svg>")]
    assert 'class="node current" data-state="suspended" aria-current="step"' in diagram
    # it waits on the ministry: their worklist has it; the reminder scan runs over it
    waiting = ministry.get("/api/v1/applications?waiting_on_me=true").get_json()["items"]
    assert app_id in [a["id"] for a in waiting]
    assert scan.scan(world.uow(), at(date(2007, 6, 4)), base_url="http://eib.test").skipped is None
    # and out of it again, by the file's own transition
    case = ministry.get(f"/api/v1/applications/{app_id}").get_json()
    assert sorted(case["available_triggers"]) == ["reinstate", "revoke_suspended"]
    r = ministry.post(f"/api/v1/applications/{app_id}/transitions", json={
        "trigger": "reinstate", "version": case["version"], "reason": "已核实更正"})
    assert r.status_code == 200 and r.get_json()["state"] == "approved"
    history = ministry.get(f"/api/v1/applications/{app_id}/history").get_json()
    assert [h["trigger"] for h in history][-2:] == ["suspend", "reinstate"]


def test_notice_002s_own_cases_know_no_such_state(api: Any, world: factories.World,
                                                  suspension_round: int) -> None:
    base = factories.approved(world)  # a 2006 base: notice 002's programme
    ministry = api.as_("mofcom")
    case = ministry.get(f"/api/v1/applications/{base}").get_json()
    assert "suspend" not in case["available_triggers"]
    r = ministry.post(f"/api/v1/applications/{base}/transitions", json={
        "trigger": "suspend", "version": case["version"], "reason": "试一试"})
    assert r.status_code == 422 and r.get_json()["errors"][0]["code"] == "unknown_trigger"
