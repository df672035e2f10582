"""The pages around reminders: a user's notifications and digest choice, the admin's
outbox with retry, and `flask reminders scan --at` run twice."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
from sqlalchemy import select, update

from config import for_tests
from tests import factories
from workflow.services import clock, mail, second_factor
from workflow.services import reminders as svc
from workflow.storage.models import OutboxRow, UserRow

SCAN_AT = datetime(2006, 4, 7, 1, tzinfo=UTC)  # 09:00 Beijing


def login(client: Any, username: str) -> None:
    client.post("/logout")
    factories.login(client, username)


def admin_login(client: Any, world: factories.World, username: str = "sysadmin") -> None:
    """Admins log in with a second factor (TOTP): enrol one, then pass the code."""
    t = datetime.now(UTC).replace(second=0, microsecond=0)
    clock.freeze(t)
    secret = second_factor.new_totp_secret()
    second_factor.enrol_totp(world.uow(), world.id(username), secret, pyotp.TOTP(secret).at(t),
                        secret_key=client.application.config["SETTINGS"].secret_key)
    clock.freeze(t + timedelta(minutes=1))
    client.post("/logout")
    client.post("/login", data={"username": username, "password": factories.PASSWORD})
    r = client.post("/login/otp", data={"otp": pyotp.TOTP(secret).at(clock.utcnow())})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]


pytestmark = pytest.mark.usefixtures("pinned_clock")  # the tests pin it; restored after each


def outbox(world: factories.World) -> list[OutboxRow]:
    with world.uow() as u:
        return list(u.session.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def test_a_user_reads_their_reminders_in_the_notification_list_and_marks_them_read(
        client: Any, world: factories.World) -> None:
    app_id = factories.draft(world, applicant_name="光谷基地")
    svc.scan(world.uow(), SCAN_AT, base_url="http://eib.test")
    login(client, "hubei_applicant")
    page = client.get("/notifications").get_data(as_text=True)
    assert "未读 1 条" in page and "【提醒】光谷基地：申报书尚未提交，还剩 5 个工作日" in page
    assert f'href="/cases/{app_id}"' in page
    client.post("/notifications/read", data={"all": "1"})
    assert "未读 0 条" in client.get("/notifications").get_data(as_text=True)
    login(client, "hubei_applicant2")  # nobody else sees it
    assert "光谷基地" not in client.get("/notifications").get_data(as_text=True)


def test_a_user_switches_to_the_daily_digest(client: Any, world: factories.World) -> None:
    login(client, "hubei_reviewer")
    r = client.post("/notifications/preference", data={"mail_digest": "1"})
    assert r.status_code == 302
    page = client.get("/notifications").get_data(as_text=True)
    assert 'value="1" checked' in page and "邮件提醒方式已保存" in page
    with world.uow() as u:
        assert u.session.scalars(select(UserRow.mail_digest).where(
            UserRow.username == "hubei_reviewer")).one() is True
    assert client.post("/notifications/preference", data={"mail_digest": "x"}).status_code == 400


def test_the_system_admin_sees_a_permanent_failure_and_retries_it(
        client: Any, world: factories.World, tmp_path: Any) -> None:
    settings = for_tests(tmp_path, mail_dir=tmp_path / "mail")  # no SMTP: .eml files
    with world.uow() as u:
        u.session.execute(update(UserRow).where(UserRow.username == "hubei_applicant")
                          .values(email="no-at-sign"))
        u.commit()
    factories.draft(world)
    svc.scan(world.uow(), SCAN_AT, base_url="http://eib.test")
    mail.send_due(world.uow(), settings=settings)
    (row,) = outbox(world)
    admin_login(client, world)
    page = client.get("/admin/outbox?status=dead").get_data(as_text=True)
    assert f'data-id="{row.id}" data-status="dead"' in page
    assert "invalid address" in page and "已放弃（永久失败）" in page
    r = client.post(f"/admin/outbox/{row.id}/retry")
    assert r.status_code == 302 and "done=retry" in r.headers["Location"]
    assert outbox(world)[0].status == "pending"
    r = client.post(f"/admin/outbox/{row.id}/retry", follow_redirects=True)  # not twice
    assert "只有发送失败、已放弃或已取消的邮件可以重发" in r.get_data(as_text=True)
    bad = client.get("/admin/outbox?status=bogus").get_data(as_text=True)
    assert 'data-code="invalid_choice" data-field="status"' in bad


def test_only_the_system_admin_may_open_the_outbox(client: Any, world: factories.World) -> None:
    for username in ("secadmin", "auditor"):
        admin_login(client, world, username)
        assert client.get("/admin/outbox").status_code == 403
        assert client.post("/admin/outbox/1/retry").status_code == 403
    for username in ("mofcom", "hubei_applicant"):
        login(client, username)
        assert client.get("/admin/outbox").status_code == 403
        assert client.post("/admin/outbox/1/retry").status_code == 403


def test_scanning_the_same_moment_twice_from_the_cli_writes_no_duplicates(
        app: Any, world: factories.World) -> None:
    factories.draft(world)
    factories.draft(world, "hunan_applicant")
    runner = app.test_cli_runner()
    outs = [runner.invoke(args=["reminders", "scan", "--at", "2006-04-07T09:00+08:00"])
            for _ in range(2)]
    assert [o.exit_code for o in outs] == [0, 0], outs[0].output
    first, second = (json.loads(o.output.splitlines()[0]) for o in outs)
    assert (first["written"], second["written"]) == (2, 0)
    assert len(outbox(world)) == 2
    bad = runner.invoke(args=["reminders", "scan", "--at", "20 April"])
    assert bad.exit_code == 2 and "--at" in bad.output


def test_beat_scans_every_reminder_scan_seconds_and_sweeps_the_outbox(tmp_path: Any) -> None:
    from config import for_tests
    from tasks.app import make_celery

    app = make_celery(for_tests(tmp_path, reminder_scan_seconds=120, mail_flush_seconds=30))
    beat = app.conf.beat_schedule
    assert beat["reminders-scan"]["task"] == "tasks.reminders.scan"
    assert beat["reminders-scan"]["schedule"] == timedelta(seconds=120)
    assert beat["mail-send-due"]["schedule"] == timedelta(seconds=30)
    routes = app.conf.task_routes
    assert routes["tasks.mail.*"]["queue"] == "mail" and routes["tasks.reminders.*"]["queue"] == "scans"
    app.loader.import_default_modules()
    assert {"tasks.reminders.scan", "tasks.mail.send_due", "tasks.mail.deliver"} <= set(app.tasks)
