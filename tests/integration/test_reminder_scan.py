"""The reminder scan on a real database (SQLite and PostgreSQL): what is due when, once."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, update

from config import for_tests
from tests import factories
from tests.factories import at
from workflow.calendar import WorkCalendar
from workflow.services import cases, files
from workflow.services import reminders as svc
from workflow.storage.models import (
    ApplicationRow,
    NotificationRow,
    OutboxRow,
    QuarterlyReportRow,
    UserRow,
)

HEADS = ("hubei_reviewer2", "hunan_reviewer2", "sichuan_reviewer2", "yunnan_reviewer2",
         "liaoning_reviewer2", "mofcom2")
BASE = "http://eib.test"


def make_heads(world: factories.World) -> None:
    with world.uow() as u:
        u.session.execute(update(UserRow).where(UserRow.username.in_(HEADS)).values(is_head=True))
        u.commit()


def outbox(world: factories.World) -> list[OutboxRow]:
    with world.uow() as u:
        return list(u.session.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def names(world: factories.World) -> dict[int, str]:
    return {v: k for k, v in world.ids.items()}


class Round2006:
    """The 2006 round acted out day by day: five cases, each on its own path."""

    def __init__(self, world: factories.World) -> None:
        self.w = world
        self.ids: dict[str, int] = {}

    def fire(self, case: str, user: str, trigger: str, day: date, **kw: Any) -> None:
        cases.fire(self.w.uow(), self.w.id(user), self.ids[case], trigger, None,
                   now=at(day, 8), **kw)

    def letter(self, case: str, reviewer: str) -> None:
        files.attach(self.w.uow(), self.w.id(reviewer), self.ids[case], "recommendation_letter",
                     "letter.pdf", factories.PDF, self.w.upload_dir, 10 << 20, now=factories.T0)

    def act(self, day: date) -> None:
        w = self.w
        if day == date(2006, 3, 1):
            for case, who in (("A", "hubei"), ("B", "hunan"), ("C", "sichuan"),
                              ("D", "yunnan"), ("E", "liaoning")):
                self.ids[case] = cases.create_draft(
                    w.uow(), w.id(f"{who}_applicant"),
                    factories.form_data(applicant_name=f"{case}基地"), now=at(day, 8))
                factories.attach_required(w, self.ids[case], f"{who}_applicant")
        elif day == date(2006, 4, 3):
            for case, who in (("C", "sichuan"), ("D", "yunnan"), ("E", "liaoning")):
                self.fire(case, f"{who}_applicant", "submit", day)
        elif day == date(2006, 4, 10):
            self.fire("B", "hunan_applicant", "submit", day)
        elif day == date(2006, 4, 20):
            for case, who in (("C", "sichuan"), ("D", "yunnan"), ("E", "liaoning")):
                self.letter(case, f"{who}_reviewer")
                self.fire(case, f"{who}_reviewer", "recommend", day)
        elif day == date(2006, 4, 24):
            self.fire("A", "hubei_applicant", "withdraw", day, reason="本年度不再申报")
        elif day == date(2006, 4, 28):
            self.fire("C", "mofcom", "publish_notice", day)
            self.fire("E", "mofcom", "publish_notice", day)
        elif day == date(2006, 5, 15):
            self.fire("C", "mofcom2", "approve", day)
            self.fire("E", "mofcom2", "approve", day)
        elif day == date(2006, 5, 17):
            self.fire("B", "hunan_reviewer", "decline", day, reason="出口额未位居本地区前列")
        elif day == date(2006, 5, 22):
            self.fire("E", "mofcom", "order_rectification", day, reason="季度数据缺失",
                      deadline=date(2006, 6, 16))
        elif day == date(2006, 6, 7):
            self.fire("D", "mofcom", "reject", day, reason="发展方案缺少量化目标")


D = date
# (day, case, kind, stage, recipient) — worked out by hand from the 2006 calendar:
# May Day holidays 1–7 May; Saturday 29 and Sunday 30 April were working days.
EXPECTED = {
    # drafts, due at the province's internal date Fri 14 April
    (D(2006, 3, 31), "A", "draft", "before10", "hubei_applicant"),
    (D(2006, 3, 31), "B", "draft", "before10", "hunan_applicant"),
    (D(2006, 3, 31), "C", "draft", "before10", "sichuan_applicant"),
    (D(2006, 3, 31), "D", "draft", "before10", "yunnan_applicant"),
    (D(2006, 3, 31), "E", "draft", "before10", "liaoning_applicant"),
    (D(2006, 4, 7), "A", "draft", "before5", "hubei_applicant"),
    (D(2006, 4, 7), "B", "draft", "before5", "hunan_applicant"),  # B submits on 10 April
    (D(2006, 4, 12), "A", "draft", "before2", "hubei_applicant"),
    (D(2006, 4, 13), "A", "draft", "before1", "hubei_applicant"),
    # A is late: escalated to the province head on the 1st and 4th working day overdue,
    # then withdrawn on 24 April (the 7th, 25 April, never comes)
    (D(2006, 4, 17), "A", "draft", "overdue1", "hubei_reviewer2"),
    (D(2006, 4, 20), "A", "draft", "overdue4", "hubei_reviewer2"),
    # provincial review, due at the ministry on Sunday 30 April (a working day in 2006)
    (D(2006, 4, 18), "B", "provincial_review", "before10", "hunan_reviewer"),
    (D(2006, 4, 18), "C", "provincial_review", "before10", "sichuan_reviewer"),
    (D(2006, 4, 18), "D", "provincial_review", "before10", "yunnan_reviewer"),
    (D(2006, 4, 18), "E", "provincial_review", "before10", "liaoning_reviewer"),
    (D(2006, 4, 25), "B", "provincial_review", "before5", "hunan_reviewer"),
    (D(2006, 4, 28), "B", "provincial_review", "before2", "hunan_reviewer"),
    (D(2006, 4, 29), "B", "provincial_review", "before1", "hunan_reviewer"),  # a Saturday
    # Hunan is late: to the ministry head after the May Day week, until it declines on 17 May
    (D(2006, 5, 8), "B", "provincial_review", "overdue1", "mofcom2"),
    (D(2006, 5, 11), "B", "provincial_review", "overdue4", "mofcom2"),
    (D(2006, 5, 16), "B", "provincial_review", "overdue7", "mofcom2"),
    # the notice published Fri 28 April ends Wed 10 May
    (D(2006, 5, 8), "C", "notice_end", "before2", "mofcom"),
    (D(2006, 5, 8), "E", "notice_end", "before2", "mofcom"),
    (D(2006, 5, 9), "C", "notice_end", "before1", "mofcom"),
    (D(2006, 5, 9), "E", "notice_end", "before1", "mofcom"),
    # D waits for approval (due Wed 31 May), is escalated, then rejected on 7 June
    (D(2006, 5, 17), "D", "approval", "before10", "mofcom"),
    (D(2006, 5, 24), "D", "approval", "before5", "mofcom"),
    (D(2006, 5, 29), "D", "approval", "before2", "mofcom"),
    (D(2006, 5, 30), "D", "approval", "before1", "mofcom"),
    (D(2006, 6, 1), "D", "approval", "overdue1", "mofcom2"),
    (D(2006, 6, 6), "D", "approval", "overdue4", "mofcom2"),
    # E rectifies by Fri 16 June and does not: escalated every 3 working days
    (D(2006, 6, 2), "E", "rectification", "before10", "liaoning_applicant"),
    (D(2006, 6, 9), "E", "rectification", "before5", "liaoning_applicant"),
    (D(2006, 6, 14), "E", "rectification", "before2", "liaoning_applicant"),
    (D(2006, 6, 15), "E", "rectification", "before1", "liaoning_applicant"),
    (D(2006, 6, 19), "E", "rectification", "overdue1", "liaoning_reviewer2"),
    (D(2006, 6, 22), "E", "rectification", "overdue4", "liaoning_reviewer2"),
    (D(2006, 6, 27), "E", "rectification", "overdue7", "liaoning_reviewer2"),
    (D(2006, 6, 30), "E", "rectification", "overdue10", "liaoning_reviewer2"),
}


def test_the_2006_round_gets_exactly_the_expected_reminders_on_working_days_only(
        world: factories.World) -> None:
    make_heads(world)
    play = Round2006(world)
    cal = WorkCalendar()
    got: set[tuple[date, str, str, str, str]] = set()
    who = names(world)
    seen = 0
    day = date(2006, 3, 1)
    while day <= date(2006, 6, 30):
        play.act(day)
        result = svc.scan(world.uow(), at(day, 9), base_url=BASE)
        rows = outbox(world)
        new, seen = rows[seen:], len(rows)
        if not cal.is_workday(day):
            assert result.skipped == "holiday" and new == [], f"reminder on holiday {day}"
        case_of = {v: k for k, v in play.ids.items()}
        for r in new:
            stage = r.dedupe_key.rsplit("|", 1)[1]
            got.add((day, case_of[r.application_id], r.kind, stage, who[r.recipient_id]))
        day += timedelta(days=1)
    assert sorted(got - EXPECTED) == [], "reminders nobody expected"
    assert sorted(EXPECTED - got) == [], "expected reminders that never came"
    assert len(outbox(world)) == len(EXPECTED)  # none twice


def test_a_reminder_names_the_case_deadline_days_left_and_link_in_chinese(
        world: factories.World) -> None:
    app_id = factories.draft(world, applicant_name="武汉光谷基地")
    svc.scan(world.uow(), at(date(2006, 4, 7), 9), base_url=BASE)
    (row,) = outbox(world)
    assert row.subject == "【提醒】武汉光谷基地：申报书尚未提交，还剩 5 个工作日"
    assert "截止日期：2006年4月14日" in row.body
    assert "剩余工作日：5" in row.body
    assert f"{BASE}/cases/{app_id}" in row.body
    assert row.recipient_email == "hubei_applicant@example.gov.cn"


def test_each_mail_has_an_in_app_notification_for_its_recipient(
        world: factories.World) -> None:
    factories.draft(world)
    svc.scan(world.uow(), at(date(2006, 4, 7), 9), base_url=BASE)
    inbox = svc.notifications(world.uow(), world.id("hubei_applicant"))
    (row,) = outbox(world)
    assert inbox.unread == 1
    assert inbox.items[0].outbox_id == row.id and inbox.items[0].title == row.subject
    assert svc.mark_read(world.uow(), world.id("hubei_applicant")) == 1
    assert svc.notifications(world.uow(), world.id("hubei_applicant")).unread == 0


def test_scanning_the_same_moment_twice_writes_nothing_new(world: factories.World) -> None:
    factories.draft(world)
    first = svc.scan(world.uow(), at(date(2006, 4, 7), 9), base_url=BASE)
    with world.uow() as u:  # the clock jumps back: the case is due again
        u.session.execute(update(ApplicationRow).values(next_reminder_on=date(2006, 4, 7)))
        u.commit()
    second = svc.scan(world.uow(), at(date(2006, 4, 7), 10), base_url=BASE)
    assert (first.written, second.due, second.written) == (1, 1, 0)
    assert len(outbox(world)) == 1
    with world.uow() as u:
        assert len(list(u.session.scalars(select(NotificationRow)))) == 1


def test_a_late_scan_sends_only_the_latest_missed_reminder(world: factories.World) -> None:
    factories.draft(world)  # created 10 March: reminders on 31 March, 7 and 12 April…
    result = svc.scan(world.uow(), at(date(2006, 4, 11), 9), base_url=BASE)  # down until 11 April
    (row,) = outbox(world)
    assert result.written == 1 and row.dedupe_key.endswith("|before5")
    assert "剩余工作日：3" in row.body  # the days left as of today, not as of 7 April


def test_a_scan_on_a_holiday_sends_nothing_and_the_next_working_day_catches_up(
        world: factories.World) -> None:
    make_heads(world)
    factories.published(world)  # notice ends Wed 10 May; reminders due Mon 8 and Tue 9 May
    with world.uow() as u:
        u.session.execute(update(ApplicationRow).values(next_reminder_on=date(2006, 5, 3)))
        u.commit()
    assert svc.scan(world.uow(), at(date(2006, 5, 3), 9), base_url=BASE).skipped == "holiday"
    assert outbox(world) == []
    svc.scan(world.uow(), at(date(2006, 5, 8), 9), base_url=BASE)
    assert [(r.dedupe_key.rsplit("|", 1)[1], r.recipient_id) for r in outbox(world)] == [
        ("before2", world.id("mofcom"))]


def test_filing_the_quarterly_data_stops_its_reminder(world: factories.World) -> None:
    app_id = factories.approved(world)  # 15 May 2006: Q2 data due 21 July, reminders from 7 July
    svc.scan(world.uow(), at(date(2006, 7, 7), 9), base_url=BASE)
    (row,) = outbox(world)
    assert row.kind == "quarterly_report" and row.due_on == date(2006, 7, 21)
    assert "报告期：2006年第2季度" in row.body
    with world.uow() as u:
        u.session.add(QuarterlyReportRow(application_id=app_id, year=2006, quarter=2))
        u.commit()
    for day in (date(2006, 7, 14), date(2006, 7, 18), date(2006, 7, 20), date(2006, 7, 24)):
        svc.scan(world.uow(), at(day, 9), base_url=BASE)
    assert len(outbox(world)) == 1


def test_a_queued_reminder_whose_case_moved_on_is_cancelled_not_sent(
        world: factories.World, tmp_path: Any) -> None:
    from workflow.services import mail

    settings = for_tests(tmp_path, mail_dir=tmp_path / "mail")  # no SMTP: .eml files
    app_id = factories.draft(world)
    factories.attach_required(world, app_id)
    svc.scan(world.uow(), at(date(2006, 4, 7), 9), base_url=BASE)
    cases.fire(world.uow(), world.id("hubei_applicant"), app_id, "submit", None,
               now=at(date(2006, 4, 7), 10))
    done = mail.send_due(world.uow(), settings=settings)
    (row,) = outbox(world)
    assert (done.cancelled, done.sent, row.status) == (1, 0, "cancelled")
    assert not list((tmp_path / "mail").glob("*.eml")) if (tmp_path / "mail").exists() else True
    assert svc.notifications(world.uow(), world.id("hubei_applicant")).items == []


def test_a_digest_user_gets_one_mail_a_day_listing_their_reminders(
        world: factories.World) -> None:
    for applicant in ("hubei_applicant", "hubei_applicant2"):
        factories.draft(world, applicant)
    factories.draft(world, "hubei_applicant", applicant_name="第二个基地")
    svc.set_mail_digest(world.uow(), world.id("hubei_applicant"), True)
    result = svc.scan(world.uow(), at(date(2006, 4, 7), 9), base_url=BASE)
    rows = outbox(world)
    mine = [r for r in rows if r.recipient_id == world.id("hubei_applicant")]
    digest = [r for r in mine if r.kind == "digest"]
    assert result.digests == 1 and len(digest) == 1
    assert digest[0].subject == "【每日提醒】2006年4月7日 您有 2 项待办提醒"
    assert {r.status for r in mine if r.kind == "draft"} == {"digested"}
    assert all(r.digest_id == digest[0].id for r in mine if r.kind == "draft")
    other = [r for r in rows if r.recipient_id == world.id("hubei_applicant2")]
    assert [r.status for r in other] == ["pending"]  # immediate mail for everyone else
    # the same day's scans later on add no second digest
    svc.scan(world.uow(), at(date(2006, 4, 7), 15), base_url=BASE)
    assert len(outbox(world)) == len(rows)


def test_an_english_speaking_recipient_gets_the_reminder_in_english(
        world: factories.World) -> None:
    with world.uow() as u:
        u.session.execute(update(UserRow).where(UserRow.username == "hubei_applicant")
                          .values(locale="en"))
        u.commit()
    factories.draft(world, applicant_name="Optics Valley")
    svc.scan(world.uow(), at(date(2006, 4, 7), 9), base_url=BASE)
    (row,) = outbox(world)
    assert row.locale == "en"
    assert "5 working days left" in row.subject and "Deadline: 2006-04-14" in row.body
