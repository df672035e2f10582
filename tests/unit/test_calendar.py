"""Working days on China's official calendar (adjusted weekends and holidays)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.calendar import WorkCalendar
from workflow.roles import Actor, Role
from workflow.rules import RoundRules

CAL = WorkCalendar()


def test_may_day_2006_weekend_before_was_worked_and_the_week_after_was_off() -> None:
    assert CAL.is_workday(date(2006, 4, 29))  # Saturday, adjusted working day (调休)
    assert CAL.is_workday(date(2006, 4, 30))  # Sunday, adjusted working day
    assert not any(CAL.is_workday(date(2006, 5, d)) for d in range(1, 8))


def test_notice_published_friday_28_april_2006_for_5_working_days_ends_wednesday_10_may() -> None:
    # 29 and 30 April were working weekend days; 1–7 May were holidays (002 公示, 5 days)
    end = CAL.add_working_days(date(2006, 4, 28), 5)
    assert end == date(2006, 5, 10)
    assert CAL.working_days_between(date(2006, 4, 28), end) == 5


def test_working_days_left_is_zero_on_the_deadline_and_negative_after_it() -> None:
    assert CAL.working_days_left(date(2006, 5, 10), date(2006, 5, 10)) == 0
    assert CAL.working_days_left(date(2006, 5, 8), date(2006, 5, 10)) == 2
    assert CAL.working_days_left(date(2006, 5, 12), date(2006, 5, 10)) == -2


def test_a_year_without_official_data_is_reported_missing_not_crashed_on() -> None:
    assert not CAL.covers(2031)
    assert CAL.missing_years(date(2026, 12, 20), date(2028, 1, 10)) == [2027, 2028]
    # the fallback still counts Monday–Friday instead of raising
    assert CAL.add_working_days(date(2031, 1, 3), 1) == date(2031, 1, 6)


def test_admin_entered_days_override_the_package_and_complete_a_year() -> None:
    cal = WorkCalendar(overrides={date(2031, 1, 1): False, date(2031, 1, 4): True},
                       complete_years=frozenset({2031}))
    assert cal.covers(2031)
    assert not cal.is_workday(date(2031, 1, 1))
    assert cal.is_workday(date(2031, 1, 4))  # a Saturday declared a working day


def test_publishing_a_notice_that_runs_into_an_uncovered_year_is_refused_with_a_code() -> None:
    from datetime import UTC, datetime

    from workflow import guards
    from workflow.model import Case, Context
    from workflow.regions import Region
    from workflow.states import BY_TRIGGER, State

    case = Case(1, State.RECOMMENDED, 3, "new_base", "420000", Region.CENTRAL, True, 2031, 7)
    ctx = Context(Actor(9, Role.MINISTRY_REVIEWER), datetime(2030, 12, 24, tzinfo=UTC),
                  RoundRules.for_year(2031), calendar=CAL, local_today=date(2030, 12, 24))
    refusal = guards.calendar_known(case, ctx, BY_TRIGGER["publish_notice"])
    assert refusal is not None and refusal.code == "calendar_missing"
    assert "2031" in refusal.zh and "2031" in refusal.en


# --- counting without walking: the same answers as a day-by-day walk, at any distance ---

WALKED = WorkCalendar(overrides={date(2031, 1, 1): False, date(2031, 1, 4): True,
                                 date(2010, 10, 2): True, date(2010, 10, 8): False})


def walk_after(cal: WorkCalendar, start: date, n: int) -> date:
    day = start
    while n:
        day += timedelta(days=1)
        n -= cal.is_workday(day)
    return day


def walk_between(cal: WorkCalendar, start: date, end: date) -> int:
    lo, hi = sorted((start, end))
    count = sum(cal.is_workday(lo + timedelta(days=i + 1)) for i in range((hi - lo).days))
    return count if end >= start else -count


days = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))


@settings(max_examples=150, deadline=None)
@given(start=days, n=st.integers(0, 400))
def test_the_nth_working_day_after_is_what_a_walk_over_the_days_finds(start: date, n: int) -> None:
    got = WALKED.add_working_days(start, n)
    assert got == walk_after(WALKED, start, n)
    assert n == 0 or WALKED.is_workday(got)


@settings(max_examples=150, deadline=None)
@given(start=days, span=st.integers(-800, 800))
def test_working_days_between_two_days_are_what_a_walk_counts(start: date, span: int) -> None:
    end = start + timedelta(days=span)
    assert WALKED.working_days_between(start, end) == walk_between(WALKED, start, end)


@settings(max_examples=100, deadline=None)
@given(deadline=days, n=st.integers(0, 60))
def test_the_day_n_working_days_before_a_deadline_has_n_working_days_after_it(
        deadline: date, n: int) -> None:
    day = WALKED.working_days_before(deadline, n)
    assert WALKED.is_workday(day) and day <= deadline
    assert walk_between(WALKED, day, deadline) == n  # a working day: the only one with n


def test_twenty_years_of_working_days_are_counted_exactly_across_holidays_and_overrides() -> None:
    start, end = date(2006, 5, 15), date(2046, 5, 15)
    assert WALKED.working_days_between(start, end) == walk_between(WALKED, start, end)
    assert WALKED.add_working_days(start, 5000) == walk_after(WALKED, start, 5000)
