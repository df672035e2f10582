"""Domain events reach a listener only after the transaction that recorded them has
committed (README, Architecture): never for a refused or rolled-back use case."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories
from workflow.errors import DomainError
from workflow.services import cases
from workflow.storage.models import ApplicationRow
from workflow.storage.uow import on_event


def test_a_listener_hears_of_a_transition_once_it_is_committed_and_not_of_a_refusal(
        world: factories.World) -> None:
    heard: list[tuple[str, str, str]] = []

    def listener(name: str, payload: dict[str, Any]) -> None:
        if name != "case_transitioned":
            return
        with world.uow().read() as other:  # another session sees the committed state
            row = other.session.get(ApplicationRow, payload["application_id"])
            assert row is not None
            heard.append((payload["trigger"], payload["to_state"], row.state))

    stop = on_event(listener)
    try:
        app_id = factories.submitted(world)
        with pytest.raises(DomainError):  # an applicant may not approve: refused, no event
            cases.fire(world.uow(), world.id("hubei_applicant"), app_id, "approve", None)
    finally:
        stop()
    assert heard == [("submit", "provincially_reviewed", "provincially_reviewed")]


def test_events_of_a_unit_of_work_left_without_commit_are_dropped(
        world: factories.World) -> None:
    heard: list[str] = []
    stop = on_event(lambda name, _payload: heard.append(name))
    try:
        uow = world.uow()
        with uow:
            uow.record("application_created", application_id=1)
        with uow:  # entered again: a fresh transaction, the earlier event is gone
            uow.record("deputy_named", user_id=1)
            uow.commit()
    finally:
        stop()
    assert heard == ["deputy_named"]
