"""Services report what they do through `@observed`, to whoever registered to hear it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from workflow.errors import GuardFailed, refuse
from workflow.services import observe


@observe.observed("transition", subject="trigger")
def move(case: str, trigger: str, *, refuse_with: str | None = None) -> str:
    if refuse_with:
        raise GuardFailed(refuse(refuse_with, "不行", "no"))
    return f"{case} moved by {trigger}"


@pytest.fixture
def heard() -> Iterator[list[observe.Call]]:
    calls: list[observe.Call] = []
    observe.add_observer(calls.append)
    yield calls
    observe.remove_observer(calls.append)


def test_a_call_is_reported_with_its_subject_and_outcome(heard: list[observe.Call]) -> None:
    assert move("case 7", "submit") == "case 7 moved by submit"
    assert move("case 8", trigger="recommend") == "case 8 moved by recommend"
    assert [(c.operation, c.subject, c.outcome) for c in heard] == [
        ("transition", "submit", "ok"), ("transition", "recommend", "ok")]
    assert all(c.seconds >= 0 for c in heard)


def test_a_refusal_is_reported_by_its_code_and_still_raised(heard: list[observe.Call]) -> None:
    with pytest.raises(GuardFailed):
        move("case 7", "approve", refuse_with="notice_period_running")
    assert [(c.subject, c.outcome) for c in heard] == [("approve", "notice_period_running")]


def test_a_failing_observer_never_refuses_the_service(heard: list[observe.Call]) -> None:
    def broken(call: observe.Call) -> None:
        raise RuntimeError("metrics down")

    observe.add_observer(broken)
    try:
        assert move("case 7", "submit") == "case 7 moved by submit"
    finally:
        observe.remove_observer(broken)
    assert [c.outcome for c in heard] == ["ok"]
