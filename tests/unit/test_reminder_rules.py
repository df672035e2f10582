"""The reminder rules without a database: which day, which stage, and when they stop."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from workflow.calendar import WorkCalendar
from workflow.programme import programme
from workflow.reminders import (
    Audience,
    CaseFacts,
    Days,
    Deadline,
    ReminderRule,
    dedupe_key,
    plan,
    rules_of_round,
    still_open,
)
from workflow.reporting import quarterly_due
from workflow.rules import RoundRules
from workflow.states import State

RULES = RoundRules.for_year(2006)
NOTICE_002 = programme().reminder_table  # programmes/mofcom-2006-6.toml [[reminders]]
TABLE = rules_of_round(NOTICE_002, RULES)
DAYS = Days(WorkCalendar())
REVIEW = CaseFacts(id=7, state=State.PROVINCIALLY_REVIEWED)


def due_days(facts: CaseFacts, start: date, end: date, table: tuple[ReminderRule, ...] = TABLE
             ) -> list[tuple[date, str, str]]:
    """Step every day like the scan does — working days only, and only once the case's
    next reminder day has come — and collect (day, kind, stage)."""
    out: list[tuple[date, str, str]] = []
    nxt: date | None = start
    day = start
    while day <= end:
        if nxt is not None and day >= nxt and DAYS.is_workday(day):
            p = plan(facts, table, RULES, DAYS, day, since=nxt)
            out += [(day, d.rule.kind, d.stage) for d in p.due]
            nxt = p.next_on
        day = date.fromordinal(day.toordinal() + 1)
    return out


def test_provinces_are_reminded_10_5_2_and_1_working_days_before_30_april_2006() -> None:
    got = [(d, s) for d, k, s in due_days(REVIEW, date(2006, 4, 1), date(2006, 4, 30))]
    assert got == [(date(2006, 4, 18), "before10"), (date(2006, 4, 25), "before5"),
                   (date(2006, 4, 28), "before2"),
                   (date(2006, 4, 29), "before1")]  # Saturday 29 April 2006 was a working day


def test_nothing_is_due_during_the_may_day_holidays_and_escalation_starts_after_them() -> None:
    got = due_days(REVIEW, date(2006, 5, 1), date(2006, 5, 17))
    assert [(d, s) for d, _k, s in got] == [(date(2006, 5, 8), "overdue1"),
                                            (date(2006, 5, 11), "overdue4"),
                                            (date(2006, 5, 16), "overdue7")]


def test_an_escalation_goes_to_the_ministry_head_and_a_reminder_to_the_province() -> None:
    p = plan(REVIEW, TABLE, RULES, DAYS, date(2006, 5, 8))
    (esc,) = p.due
    assert esc.escalation and esc.audience is Audience.MINISTRY_HEAD and esc.days_left == -1
    (rem,) = plan(REVIEW, TABLE, RULES, DAYS, date(2006, 4, 25)).due
    assert not rem.escalation and rem.audience is Audience.PROVINCE and rem.days_left == 5


def test_a_holiday_scan_sends_nothing_and_keeps_the_missed_day_for_the_next_working_day() -> None:
    p = plan(REVIEW, TABLE, RULES, DAYS, date(2006, 5, 3), since=date(2006, 4, 29))
    assert p.due == [] and p.next_on == date(2006, 4, 29)


def test_a_late_scan_sends_the_latest_missed_stage_with_todays_days_left() -> None:
    (due,) = plan(REVIEW, TABLE, RULES, DAYS, date(2006, 4, 27), since=date(2006, 4, 18)).due
    assert (due.stage, due.days_left) == ("before5", 3)


def test_a_missed_reminder_is_not_sent_once_its_deadline_has_passed() -> None:
    notice = CaseFacts(id=1, state=State.PUBLICLY_SHOWN, notice_ends_on=date(2006, 5, 10))
    p = plan(notice, TABLE, RULES, DAYS, date(2006, 5, 11), since=date(2006, 5, 8))
    assert [d.rule.kind for d in p.due] == []  # "notice ends tomorrow" would be wrong now


def test_the_reminder_stops_once_the_case_moves_on() -> None:
    moved = replace(REVIEW, state=State.RECOMMENDED)
    assert [k for _d, k, _s in due_days(moved, date(2006, 4, 1), date(2006, 4, 30))] == []
    assert not still_open("provincial_review", date(2006, 4, 30), moved, TABLE, RULES,
                          DAYS.cal, date(2006, 4, 25))
    assert still_open("provincial_review", date(2006, 4, 30), REVIEW, TABLE, RULES, DAYS.cal,
                      date(2006, 4, 25))


def test_quarterly_data_are_due_the_15th_working_day_after_the_quarter() -> None:
    cal = WorkCalendar()
    assert quarterly_due(2006, 2, RULES, cal) == date(2006, 7, 21)
    # National Day 2006: 1–7 October off, Sunday 8 October a working day
    assert quarterly_due(2006, 3, RULES, cal) == date(2006, 10, 26)


def test_a_filed_quarter_is_no_longer_reminded_but_the_next_one_is() -> None:
    base = CaseFacts(id=3, state=State.APPROVED, approved_on=date(2006, 5, 15),
                     annual_filed=frozenset({2006}))
    filed = replace(base, quarterly_filed=frozenset({(2006, 2)}))
    assert [(d, k) for d, k, _s in due_days(base, date(2006, 7, 1), date(2006, 7, 10))] == [
        (date(2006, 7, 7), "quarterly_report")]
    assert due_days(filed, date(2006, 7, 1), date(2006, 7, 31)) == []
    assert [d for d, _k, _s in due_days(filed, date(2006, 10, 1), date(2006, 10, 13))] == [
        date(2006, 10, 12)]  # Q3: 10 working days before 26 October


def test_the_annual_report_is_reminded_on_a_working_saturday_before_31_december() -> None:
    base = CaseFacts(id=3, state=State.APPROVED, approved_on=date(2006, 5, 15),
                     quarterly_filed=frozenset({(2006, 2), (2006, 3), (2006, 4)}))
    got = [(d, s) for d, k, s in due_days(base, date(2006, 12, 20), date(2006, 12, 31))
           if k == "annual_report"]
    # 2007 New Year: 30 and 31 December 2006 (Sat, Sun) were working days
    assert got == [(date(2006, 12, 26), "before5"), (date(2006, 12, 29), "before2"),
                   (date(2006, 12, 30), "before1")]


def test_a_round_can_bring_its_own_reminder_table() -> None:
    own = ReminderRule("draft", frozenset({State.DRAFTED}), Audience.OWNER,
                       Deadline.SUBMISSION, (3,), None, 1)
    rules = RoundRules.from_json({**RULES.to_json(), "reminder_rules": [own.to_json()]})
    (ours,) = rules_of_round(NOTICE_002, rules)
    assert replace(ours, zh="", en="", action_zh="", action_en="") == own
    # worded as the programme words the same kind
    assert (ours.title("zh"), ours.title("en")) == ("申报书尚未提交", "application not yet submitted")
    draft = CaseFacts(id=2, state=State.DRAFTED)
    assert due_days(draft, date(2006, 4, 1), date(2006, 5, 31), rules_of_round(NOTICE_002, rules)) == [
        (date(2006, 4, 27), "draft", "before3")]  # and no escalation in this table


def test_the_outbox_key_names_case_recipient_kind_deadline_and_stage() -> None:
    (due,) = plan(REVIEW, TABLE, RULES, DAYS, date(2006, 4, 18)).due
    assert dedupe_key(7, 42, due) == "r|7|42|provincial_review|2006-04-30|before10"
