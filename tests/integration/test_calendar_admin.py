"""The system administrator fills in a year the official calendar package lacks."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from workflow.errors import Forbidden
from workflow.services import calendar_admin


def test_an_entered_year_counts_its_holidays_and_loses_its_warning(world: Any) -> None:
    status = calendar_admin.year_status(world.uow(), 2031)
    assert not status.covered
    calendar_admin.set_day(world.uow(), world.id("sysadmin"), date(2031, 1, 1), False, "元旦")
    calendar_admin.set_day(world.uow(), world.id("sysadmin"), date(2031, 1, 4), True, "调休")
    calendar_admin.confirm_year(world.uow(), world.id("sysadmin"), 2031)
    status = calendar_admin.year_status(world.uow(), 2031)
    assert status.covered
    assert status.entries == [(date(2031, 1, 1), False, "元旦"), (date(2031, 1, 4), True, "调休")]
    from workflow.storage import reference_repo

    with world.uow() as u:
        cal = reference_repo.load_calendar(u.session)
    assert not cal.is_workday(date(2031, 1, 1)) and cal.is_workday(date(2031, 1, 4))
    assert calendar_admin.warning_for(cal, date(2031, 5, 1)) is None
    warning = calendar_admin.warning_for(cal, date(2032, 5, 1))
    assert warning is not None and "2032" in warning["zh"]


@pytest.mark.parametrize("who", ["mofcom", "secadmin", "hubei_reviewer"])
def test_only_the_system_administrator_edits_the_calendar(world: Any, who: str) -> None:
    with pytest.raises(Forbidden):
        calendar_admin.set_day(world.uow(), world.id(who), date(2031, 1, 1), False)
    assert calendar_admin.year_status(world.uow(), 2031).entries == []
