"""Working days on China's official calendar, including adjusted working weekends (调休).

The State Council's holiday arrangements come from the `chinese_calendar` package (2004
onwards, up to the last year it ships). Years it does not cover can be filled in by an
admin (table ``calendar_days``); a computation that reaches a year with neither gives a
warning (``calendar_missing``) and falls back to Monday–Friday, never a crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import chinese_calendar

_FIRST = min(chinese_calendar.holidays).year
_LAST = max(max(chinese_calendar.holidays), max(chinese_calendar.workdays)).year


@dataclass
class WorkCalendar:
    """Answers 'is this a working day' and counts working days.

    ``overrides`` maps a day to True (working day) / False (day off); it wins over the
    package. ``complete_years`` are years an admin has entered in full.
    """

    overrides: Mapping[date, bool] = field(default_factory=dict)
    complete_years: frozenset[int] = frozenset()

    def covers(self, year: int) -> bool:
        return _FIRST <= year <= _LAST or year in self.complete_years

    def missing_years(self, start: date, end: date) -> list[int]:
        lo, hi = sorted((start.year, end.year))
        return [y for y in range(lo, hi + 1) if not self.covers(y)]

    def is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if _FIRST <= day.year <= _LAST:
            return bool(chinese_calendar.is_workday(day))
        return day.weekday() < 5

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (`start` itself not counted)."""
        if n < 0:
            raise ValueError("n must be >= 0")
        day, left = start, n
        while left:
            day += timedelta(days=1)
            if self.is_workday(day):
                left -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end`; negative if `end` is earlier."""
        if end == start:
            return 0
        sign = 1 if end > start else -1
        lo, hi = (start, end) if sign > 0 else (end, start)
        count, day = 0, lo
        while day < hi:
            day += timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return sign * count

    def working_days_left(self, today: date, deadline: date) -> int:
        """Working days from today to the deadline: 0 on the deadline day, < 0 once overdue."""
        if deadline >= today:
            return self.working_days_between(today, deadline)
        return self.working_days_between(today, deadline)  # negative

    def next_workday(self, day: date) -> date:
        """`day` itself if it is a working day, else the next one."""
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day


DEFAULT_CALENDAR = WorkCalendar()
