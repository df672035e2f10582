"""Working days on China's official calendar, including adjusted working weekends (调休).

The State Council's holiday arrangements come from the `chinese_calendar` package (2004
onwards, up to the last year it ships). Years it does not cover can be filled in by an
admin (table ``calendar_days``); a computation that reaches a year with neither gives a
warning (``calendar_missing``) and falls back to Monday–Friday, never a crash.

Counting never walks the days: every day has a *working ordinal* (how many working days
there are from the beginning of the proleptic calendar up to it) — the Monday–Friday count,
which is arithmetic, plus the sum of the exceptions (holidays on weekdays, 调休 weekends,
admin overrides) up to that day, found by bisection in their sorted list. Counting between
two days is a subtraction; "the n-th working day after" is a bisection over ordinals. Both
cost O(log n) whatever the distance, so a clock twenty years ahead costs what today costs.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from itertools import accumulate

import chinese_calendar

_FIRST = min(chinese_calendar.holidays).year
_LAST = max(max(chinese_calendar.holidays), max(chinese_calendar.workdays)).year


def _weekdays_through(ordinal: int) -> int:
    """Mondays to Fridays among the days 1..ordinal (day 1, 0001-01-01, was a Monday)."""
    weeks, rest = divmod(ordinal, 7)
    return weeks * 5 + min(rest, 5)


def _package_exceptions() -> dict[int, int]:
    """ordinal -> (working day per the State Council) - (working day per Monday–Friday)."""
    out = {}
    for day in (*chinese_calendar.holidays, *chinese_calendar.workdays):
        delta = int(bool(chinese_calendar.is_workday(day))) - int(day.weekday() < 5)
        if delta:
            out[day.toordinal()] = delta
    return out


_PACKAGE_EXCEPTIONS = _package_exceptions()


@dataclass(frozen=True)
class _Index:
    ordinals: list[int]  # days whose status differs from Monday–Friday, in order
    running: list[int]  # running sum of their differences

    def working_ordinal(self, ordinal: int) -> int:
        """Working days among the days 1..ordinal."""
        i = bisect_right(self.ordinals, ordinal)
        return _weekdays_through(ordinal) + (self.running[i - 1] if i else 0)


@dataclass(eq=False)  # one calendar is one object: hashable by identity, for caches
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

    @cached_property
    def _index(self) -> _Index:
        exceptions = dict(_PACKAGE_EXCEPTIONS)
        for day, working in self.overrides.items():
            delta = int(bool(working)) - int(day.weekday() < 5)
            if delta:
                exceptions[day.toordinal()] = delta
            else:
                exceptions.pop(day.toordinal(), None)
        ordinals = sorted(exceptions)
        return _Index(ordinals, list(accumulate(exceptions[o] for o in ordinals)))

    def working_ordinal(self, day: date) -> int:
        """How many working days there are up to and including `day` (from year 1)."""
        return self._index.working_ordinal(day.toordinal())

    def nth_working_day(self, k: int) -> date:
        """The working day whose working ordinal is k (the first day that reaches it)."""
        index = self._index
        lo, hi = 1, date.max.toordinal()
        while lo < hi:  # the first ordinal whose working ordinal is >= k
            mid = (lo + hi) // 2
            if index.working_ordinal(mid) >= k:
                hi = mid
            else:
                lo = mid + 1
        return date.fromordinal(lo)

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (`start` itself not counted)."""
        if n < 0:
            raise ValueError("n must be >= 0")
        if n == 0:
            return start
        return self.nth_working_day(self.working_ordinal(start) + n)

    def working_days_before(self, deadline: date, n: int) -> date:
        """The working day with exactly n working days after it up to `deadline`."""
        if n < 0:
            raise ValueError("n must be >= 0")
        return self.nth_working_day(self.working_ordinal(deadline) - n)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end`; negative if `end` is earlier."""
        return self.working_ordinal(end) - self.working_ordinal(start)

    def working_days_left(self, today: date, deadline: date) -> int:
        """Working days from today to the deadline: 0 on the deadline day, < 0 once overdue."""
        return self.working_days_between(today, deadline)

    def next_workday(self, day: date) -> date:
        """`day` itself if it is a working day, else the next one."""
        if self.is_workday(day):
            return day
        return self.nth_working_day(self.working_ordinal(day) + 1)


DEFAULT_CALENDAR = WorkCalendar()
