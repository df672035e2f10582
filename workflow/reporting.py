"""When a base's reports are due (002 §四(四): data every quarter, the annual work report by
the end of the year) — one rule, used by the reminders, the assessment and the pages.

002 says only 每季度上报; the round sets how many *working* days after a quarter ends its
data are due (`RoundRules.quarterly_report_working_days`, 15 by default: Q3 2006 → 26
October, after the National Day week). A base that files when the reminder says it still
has time is never marked late by the assessment.
"""

from __future__ import annotations

from datetime import date

from workflow.calendar import WorkCalendar
from workflow.rules import RoundRules

QUARTER_END = {1: (3, 31), 2: (6, 30), 3: (9, 30), 4: (12, 31)}


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_end(year: int, quarter: int) -> date:
    """The last day of a quarter."""
    month, day = QUARTER_END[quarter]
    return date(year, month, day)


def quarterly_due(year: int, quarter: int, rules: RoundRules, cal: WorkCalendar) -> date:
    """The day a quarter's data are due: the round's N-th working day after it ends."""
    return cal.add_working_days(quarter_end(year, quarter), rules.quarterly_report_working_days)


def annual_due(year: int, rules: RoundRules) -> date:
    """The annual work report for `year` is due by 31 December of that year (002 §四(四))."""
    month, day = rules.annual_report_month_day
    return date(year, month, day)


def period_closes_on(period: int, rules: RoundRules, cal: WorkCalendar) -> date:
    """The day the last report of year `period` is due (Q4's data, in January): only after it
    can the year be assessed for real (issue: a May run of the same year proposed
    rectification for bases whose reports were simply not yet due)."""
    return max(quarterly_due(period, 4, rules, cal), annual_due(period, rules))


def quarter_has_ended(year: int, quarter: int, today: date) -> bool:
    """Data may be reported for a quarter only once it is over (no future quarters)."""
    return quarter_end(year, quarter) < today
