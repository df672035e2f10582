"""The admin-editable calendar for years the official calendar package does not cover.

The State Council publishes each year's holiday arrangement (节假日安排) in the autumn
before; until the `chinesecalendar` package ships it, the system administrator enters
the holidays and adjusted working days here and confirms the year complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from workflow import permissions
from workflow.calendar import WorkCalendar
from workflow.errors import ValidationFailed, refuse
from workflow.services.clock import utcnow
from workflow.storage import reference_repo, users_repo
from workflow.storage.models import CalendarDayRow, CalendarYearRow
from workflow.storage.uow import UnitOfWork


def set_day(uow: UnitOfWork, user_id: int, day: date, is_workday: bool,
            note: str | None = None) -> None:
    """Declare `day` a working day (e.g. an adjusted weekend, 调休) or a day off."""
    if note is not None and len(note) > 100:
        raise ValidationFailed(refuse("too_long", "备注不得超过 100 字",
                                      "the note is limited to 100 characters", field="note"))
    with uow:
        permissions.require(users_repo.user_by_id(uow.session, user_id), "calendar.edit")
        row = reference_repo.calendar_day(uow.session, day) or CalendarDayRow(day=day)
        row.is_workday, row.note = is_workday, note
        uow.session.add(row)
        uow.commit()


def confirm_year(uow: UnitOfWork, user_id: int, year: int) -> None:
    """Mark `year` as entered in full: its deadlines are then counted without a warning."""
    if not 2000 <= year <= 2200:
        raise ValidationFailed(refuse("invalid_year", "年份无效", "invalid year", field="year"))
    with uow:
        permissions.require(users_repo.user_by_id(uow.session, user_id), "calendar.edit")
        if reference_repo.calendar_year(uow.session, year) is None:
            uow.session.add(CalendarYearRow(year=year, confirmed_by_id=user_id,
                                            confirmed_at=utcnow()))
        uow.commit()


@dataclass
class YearStatus:
    year: int
    covered: bool  # by the official package or a confirmed admin entry
    entries: list[tuple[date, bool, str | None]]


def year_status(uow: UnitOfWork, year: int) -> YearStatus:
    """What the system knows of `year`: covered or not, and the admin's entries."""
    with uow.read():
        cal = reference_repo.load_calendar(uow.session)
        rows = reference_repo.calendar_entries(uow.session, year)
        return YearStatus(year, cal.covers(year), [(r.day, r.is_workday, r.note) for r in rows])


def warning_for(cal: WorkCalendar, *days: date | None) -> dict[str, str] | None:
    """A visible warning when a deadline falls in a year with no calendar data."""
    years = sorted({d.year for d in days if d is not None and not cal.covers(d.year)})
    if not years:
        return None
    ys = "、".join(str(y) for y in years)
    return {"code": "calendar_missing",
            "zh": f"{ys} 年的法定节假日安排尚未录入，工作日按周一至周五估算，请系统管理员补录",
            "en": f"no official holiday calendar for {', '.join(map(str, years))}: working days "
                  "are estimated as Monday–Friday until the system administrator enters it"}
