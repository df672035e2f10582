"""When a case became a base is read from its programme, not from a trigger named
`approve` (002 §六(三) 核准): a file whose approval is called something else enters the base
in the register with its designation decision on that day, and the reminder scan asks it for
quarterly data from then on. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests import factories
from workflow.programme import load, register
from workflow.services import clock, rounds
from workflow.storage import register_repo, reminders_repo

SOURCE = Path(__file__).resolve().parents[1] / "programmes" / "test-suspension.toml"
CODE = "test-granted"


@pytest.fixture
def granted_round(world: factories.World, tmp_path: Path) -> Iterator[int]:
    text = SOURCE.read_text(encoding="utf-8")
    text = text.replace('code = "test-suspension"', f'code = "{CODE}"')
    text = text.replace('trigger = "approve"', 'trigger = "grant_designation"')
    path = tmp_path / f"{CODE}.toml"
    path.write_text(text, encoding="utf-8")
    p = register(load(path))
    assert p.designating == {"grant_designation", "reinstate"}
    clock.freeze(datetime(2007, 3, 1, 1, tzinfo=UTC))
    try:
        rounds.plan(world.uow(), world.id("mofcom"), {
            "year": 2007, "programme": CODE, "submission_deadline": "2007-04-30",
            "approval_deadline": "2007-05-31"})
        rounds.open_round(world.uow(), world.id("mofcom"), 2007, code=CODE)
        yield 2007
    finally:
        clock.freeze(None)


def test_a_base_granted_under_another_trigger_name_is_registered_and_dated(
        world: factories.World, granted_round: int) -> None:
    w = world
    app_id = factories.designated_in_2007(w, CODE, "grant_designation")
    with w.uow() as u:
        entry = register_repo.entry_of_case(u.session, app_id)
        assert entry is not None and entry.status == "designated"
        assert entry.designated_on == date(2007, 5, 9)
        # the day's designation decision (授牌) numbers it, as notice 002's approval does
        assert entry.decision_id is not None and entry.designation_document
        granted = reminders_repo.approved_on(u.session, [app_id], {"grant_designation"})
        assert granted[app_id].date() == date(2007, 5, 9)
        # a trigger named approve is nowhere in this case's history
        assert reminders_repo.approved_on(u.session, [app_id], {"approve"}) == {}
