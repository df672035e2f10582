"""The reminder scan on today's clock (SQLite and PostgreSQL): one mail per case and
recipient after any gap, a lease that a dead scanner cannot keep, closed rounds silent,
and the whole demo scanned now, a year on and twenty years on in seconds."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from config import for_tests
from tests import factories
from tests.integration.test_reminder_scan import BASE, at, make_heads, outbox
from workflow.errors import ValidationFailed
from workflow.services import cases, demo, mail
from workflow.services import reminders as svc
from workflow.services.clock import real_utcnow
from workflow.storage import reminders_repo as rr
from workflow.storage.models import AnnualReportRow, LockRow, QuarterlyReportRow, RoundRow


def _file(world: factories.World, app_id: int, quarters: list[tuple[int, int]],
          years: list[int]) -> None:
    with world.uow() as u:
        for y, q in quarters:
            u.session.add(QuarterlyReportRow(application_id=app_id, year=y, quarter=q))
        for y in years:
            u.session.add(AnnualReportRow(application_id=app_id, year=y, summary="总结",
                                          next_year_plan="思路"))
        u.commit()


def test_a_base_owing_quarterly_and_annual_reports_gets_one_mail_naming_both(
        world: factories.World) -> None:
    make_heads(world)
    app_id = factories.approved(world)  # 15 May 2006; nothing filed since
    result = svc.scan(world.uow(), at(date(2007, 3, 5)), base_url=BASE)
    (row,) = outbox(world)  # not one per quarter, not one per kind
    assert result.written == 1 and row.recipient_id == world.id("hubei_reviewer2")
    assert "2 项事项待办" in row.subject and "已逾期" in row.subject
    for period in ("2006年第2季度", "2006年第3季度", "2006年第4季度", "2006年度"):
        assert period in row.body
    assert sorted(a["kind"] for a in row.about) == ["annual_report", "quarterly_report"]
    # the next escalation days bring the next mail, not the stages that fell in the gap
    svc.scan(world.uow(), at(date(2007, 3, 6)), base_url=BASE)
    assert len(outbox(world)) == 1
    assert app_id


@pytest.mark.parametrize("also_annual", [False, True])
def test_a_combined_reminder_is_sent_while_any_obligation_it_names_is_open(
        world: factories.World, tmp_path: Path, also_annual: bool) -> None:
    settings = for_tests(tmp_path, mail_dir=tmp_path / "mail")  # no SMTP: .eml files
    make_heads(world)
    app_id = factories.approved(world)
    svc.scan(world.uow(), at(date(2007, 3, 5)), base_url=BASE)
    _file(world, app_id, [(2006, 2), (2006, 3), (2006, 4)], [2006] if also_annual else [])
    done = mail.send_due(world.uow(), settings=settings)
    (row,) = outbox(world)
    if also_annual:  # every obligation it named is met: not sent
        assert (done.sent, done.cancelled, row.status) == (0, 1, "cancelled")
    else:  # the annual report is still missing: the mail goes
        assert (done.sent, done.cancelled, row.status) == (1, 0, "sent")


def test_a_lease_left_by_a_dead_scan_blocks_the_next_one_only_until_it_expires(
        world: factories.World) -> None:
    factories.draft(world)
    with world.uow() as u:
        u.session.add(LockRow(name=rr.SCAN_LOCK, holder="scan-killed",
                              expires_at=real_utcnow() + timedelta(minutes=1)))
        u.commit()
    assert svc.scan(world.uow(), at(date(2006, 3, 31)), base_url=BASE).skipped == "locked"
    assert outbox(world) == []
    with world.uow() as u:
        u.session.execute(update(LockRow).values(expires_at=real_utcnow() - timedelta(seconds=1)))
        u.commit()
    result = svc.scan(world.uow(), at(date(2006, 3, 31)), base_url=BASE)
    assert result.skipped is None and result.written == 1
    with world.uow() as u:  # and it gave the lease back
        assert u.session.scalars(select(LockRow)).all() == []


def test_a_closed_round_takes_no_drafts_and_its_open_cases_leave_the_worklists(
        world: factories.World) -> None:
    old = factories.draft(world)  # drafted 10 March 2006
    with world.uow() as u:
        rnd = u.session.scalars(select(RoundRow)).one()
        rnd.closed_on = date(2006, 6, 30)
        u.commit()
    july = datetime(2006, 7, 3, 2, tzinfo=UTC)
    with pytest.raises(ValidationFailed) as refused:
        cases.create_draft(world.uow(), world.id("hubei_applicant"),
                           factories.form_data(round_year=2006), now=july)
    assert refused.value.first.code == "round_closed"
    assert refused.value.first.field == "round_year" and "2006" in refused.value.first.zh
    me = world.id("hubei_applicant")
    waiting = cases.list_applications(world.uow(), me, waiting_on_me=True, now=july)
    everything = cases.list_applications(world.uow(), me, now=july)
    assert [r.id for r in waiting.items] == [] and [r.id for r in everything.items] == [old]
    june = datetime(2006, 6, 1, 2, tzinfo=UTC)  # before it closed, the draft waited on them
    assert [r.id for r in cases.list_applications(world.uow(), me, waiting_on_me=True,
                                                  now=june).items] == [old]
    assert svc.scan(world.uow(), at(date(2006, 7, 3)), base_url=BASE).written == 0


@pytest.mark.slow
def test_the_demo_is_scanned_today_a_year_on_and_twenty_years_on_in_seconds(
        uow: Any, tmp_path: Path) -> None:
    assert demo.seed(uow(), for_tests(tmp_path))
    now = real_utcnow()
    for moment in (now, now + timedelta(days=366), now + timedelta(days=366 * 20 + 5)):
        # this process's CPU time, not the wall clock: what the scan costs here, which a
        # loaded machine (2 cores shared) does not stretch as it stretches the wall clock
        started = time.process_time()
        result = svc.scan(uow(), moment, base_url=BASE)
        took = time.process_time() - started
        assert took < 5, f"scan at {moment:%Y-%m-%d} took {took:.1f} s of CPU"
        assert result.skipped in (None, "holiday")
        with uow() as u:
            rows = outbox_of(u)
        per = Counter((r.application_id, r.recipient_id, r.created_at) for r in rows)
        assert max(per.values(), default=1) == 1  # one mail per case and recipient per scan


def outbox_of(u: Any) -> list[Any]:
    from workflow.storage.models import OutboxRow

    return list(u.session.scalars(select(OutboxRow)))
