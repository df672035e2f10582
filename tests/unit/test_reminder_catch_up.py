"""After downtime or a clock jump: one reminder per obligation, one for every missing
report period, and a closed round's cases fall silent while its bases keep reporting."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from workflow.calendar import WorkCalendar
from workflow.programme import programme
from workflow.reminders import (
    Audience,
    CaseFacts,
    Days,
    plan,
    rules_of_round,
    still_open,
)
from workflow.reporting import quarterly_due
from workflow.rules import RoundRules
from workflow.states import State

CAL = WorkCalendar()
RULES = RoundRules.for_year(2006)
NOTICE_002 = programme().reminder_table  # programmes/mofcom-2006-6.toml [[reminders]]
TABLE = rules_of_round(NOTICE_002, RULES)
BASE = CaseFacts(id=3, state=State.APPROVED, approved_on=date(2006, 5, 15))


def quarters(first: tuple[int, int], last: tuple[int, int]) -> frozenset[tuple[int, int]]:
    out, (y, q) = set(), first
    while (y, q) <= last:
        out.add((y, q))
        y, q = (y, q + 1) if q < 4 else (y + 1, 1)
    return frozenset(out)


def test_a_base_that_missed_eleven_quarters_gets_one_escalation_naming_all_eleven() -> None:
    filed = quarters((2006, 2), (2009, 3))  # then nothing from 2009Q4 to 2012Q2
    base = replace(BASE, quarterly_filed=filed, annual_filed=frozenset(range(2006, 2013)))
    today = date(2012, 8, 20)  # 2012Q2 was due 15 working days after 30 June
    (due,) = [d for d in plan(base, TABLE, RULES, Days(CAL), today, since=date(2009, 10, 1)).due
              if d.rule.kind == "quarterly_report"]
    assert due.escalation and due.audience is Audience.PROVINCE_HEAD
    assert due.item.periods == ("2009Q4", "2010Q1", "2010Q2", "2010Q3", "2010Q4", "2011Q1",
                                "2011Q2", "2011Q3", "2011Q4", "2012Q1", "2012Q2")
    # how overdue: from the oldest missing quarter's deadline, in working days
    assert due.days_left == -CAL.working_days_between(quarterly_due(2009, 4, RULES, CAL), today)


def test_a_scan_after_a_year_of_downtime_sends_one_catch_up_per_obligation() -> None:
    review = CaseFacts(id=7, state=State.PROVINCIALLY_REVIEWED)
    p = plan(review, TABLE, RULES, Days(CAL), date(2007, 5, 8), since=date(2006, 4, 1))
    (due,) = p.due
    assert due.escalation and due.days_left == -CAL.working_days_between(date(2006, 4, 30),
                                                                         date(2007, 5, 8))
    # and it looks again on the next escalation day, not on every day it missed
    assert p.next_on is not None
    assert 1 <= CAL.working_days_between(date(2007, 5, 8), p.next_on) <= 3


def test_twenty_years_on_a_2006_base_owes_one_quarterly_and_one_annual_notice() -> None:
    today = date(2046, 6, 6)
    p = plan(BASE, TABLE, RULES, Days(CAL), today, since=date(2006, 6, 1))
    kinds = sorted(d.rule.kind for d in p.due)
    assert kinds == ["annual_report", "quarterly_report"]
    quarterly = next(d for d in p.due if d.rule.kind == "quarterly_report")
    assert quarterly.item.periods[0] == "2006Q2" and quarterly.item.periods[-1] == "2046Q1"
    assert len(quarterly.item.periods) == 160
    annual = next(d for d in p.due if d.rule.kind == "annual_report")
    assert annual.item.periods == tuple(str(y) for y in range(2006, 2046))


def test_a_notice_naming_several_quarters_stays_open_until_every_one_is_filed() -> None:
    today = date(2007, 8, 20)
    missing = replace(BASE, annual_filed=frozenset({2006}))
    (due,) = [d for d in plan(missing, TABLE, RULES, Days(CAL), today).due
              if d.rule.kind == "quarterly_report"]
    assert due.item.periods == ("2006Q2", "2006Q3", "2006Q4", "2007Q1", "2007Q2")
    named_until = due.item.latest  # what the outbox row keeps as its due date
    some = replace(missing, quarterly_filed=quarters((2006, 2), (2007, 1)))
    assert still_open("quarterly_report", named_until, some, TABLE, RULES, CAL, today)
    every = replace(missing, quarterly_filed=quarters((2006, 2), (2007, 2)))
    assert not still_open("quarterly_report", named_until, every, TABLE, RULES, CAL, today)


def test_once_its_round_has_closed_a_draft_gets_no_reminder_but_a_base_keeps_reporting() -> None:
    draft = CaseFacts(id=1, state=State.DRAFTED)
    after = date(2007, 3, 5)
    closed = rules_of_round(NOTICE_002, RULES, closed=True)
    assert plan(draft, closed, RULES, Days(CAL), after, since=date(2006, 4, 1)).due == []
    # while the round was open, the same draft was escalated
    assert plan(draft, rules_of_round(NOTICE_002, RULES), RULES, Days(CAL), after,
                since=date(2006, 4, 1)).due
    (due,) = plan(BASE, closed, RULES, Days(CAL), after, since=date(2006, 6, 1)).due[:1]
    assert due.rule.kind in ("quarterly_report", "annual_report") and due.escalation
