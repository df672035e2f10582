"""Delivery from the outbox to a real SMTP server (aiosmtpd): sent once, retried with
backoff while the server is away, dead (and shown to admins) when it can never work."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from config import Settings, for_tests
from tests import factories
from tests.smtp_sink import SmtpServer
from workflow.errors import Forbidden
from workflow.services import clock, mail, outbox
from workflow.services import reminders as svc
from workflow.services.mail_transport import SmtpLink
from workflow.storage.models import OutboxRow, UserRow

SCAN_AT = datetime(2006, 4, 7, 1, tzinfo=UTC)  # 09:00 in Beijing, 5 working days before 14 April


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def smtp_settings(server: SmtpServer, instance: Path, **changes: object) -> Settings:
    """The settings a worker sending to `server` runs with (retries after 60 s, doubling)."""
    return server.settings(instance, **{"mail_retry_base_seconds": 60, **changes})


@pytest.fixture
def settings(smtp: SmtpServer, tmp_path: Path) -> Settings:
    return smtp_settings(smtp, tmp_path)


pytestmark = pytest.mark.usefixtures("pinned_clock")  # the tests pin it; restored after each


def rows(world: factories.World) -> list[OutboxRow]:
    with world.uow() as u:
        return list(u.session.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def reminders_for(world: factories.World, *applicants: str) -> None:
    for a in applicants:
        factories.draft(world, a)
    svc.scan(world.uow(), SCAN_AT, base_url="http://eib.test")


def set_email(world: factories.World, username: str, email: str) -> None:
    with world.uow() as u:
        u.session.execute(update(UserRow).where(UserRow.username == username)
                          .values(email=email))
        u.commit()


def test_a_due_reminder_reaches_the_smtp_server_once(world: factories.World,
                                                     smtp: SmtpServer, settings: Settings) -> None:
    reminders_for(world, "hubei_applicant")
    first = mail.send_due(world.uow(), settings=settings)
    again = mail.send_due(world.uow(), settings=settings)
    (row,) = rows(world)
    (msg,) = smtp.sink.messages
    assert (first.sent, again.handled, row.status) == (1, 0, "sent")
    assert msg["Subject"] == row.subject and msg["To"] == "hubei_applicant@example.gov.cn"
    assert msg["Message-ID"].startswith(f"<outbox-{row.id}@")
    assert "剩余工作日：5" in msg.get_content()


def test_smtp_down_for_a_stretch_then_every_reminder_is_delivered(
        world: factories.World, smtp: SmtpServer, settings: Settings) -> None:
    reminders_for(world, "hubei_applicant", "hubei_applicant2", "hunan_applicant",
                  "hunan_applicant2", "sichuan_applicant")
    smtp.stop()
    t = datetime.now(UTC)
    for attempt in (1, 2, 3):
        clock.freeze(t)
        done = mail.send_due(world.uow(), settings=settings)
        assert done.failed == 5 and done.sent == 0
        assert {r.status for r in rows(world)} == {"failed"}
        assert {r.attempts for r in rows(world)} == {attempt}
        # backoff doubles: 60 s, 120 s, 240 s — nothing is tried before its time
        assert all(r.next_attempt_at >= t + timedelta(seconds=60 * 2 ** (attempt - 1)) - \
                   timedelta(seconds=1) for r in rows(world))
        clock.freeze(t + timedelta(seconds=30))
        assert mail.send_due(world.uow(), settings=settings).handled == 0
        t += timedelta(seconds=60 * 2 ** (attempt - 1) + 1)
    smtp.start()
    clock.freeze(t)
    assert mail.send_due(world.uow(), settings=settings).sent == 5
    assert {r.status for r in rows(world)} == {"sent"}
    assert sorted(smtp.sink.ids()) == sorted(str(r.id) for r in rows(world))  # each once


def test_invalid_addresses_are_dead_at_once_and_listed_for_the_admin(
        world: factories.World, smtp: SmtpServer, settings: Settings) -> None:
    set_email(world, "hubei_applicant", "not an address")
    set_email(world, "hunan_applicant", "bounce@example.gov.cn")
    reminders_for(world, "hubei_applicant", "hunan_applicant", "sichuan_applicant")
    done = mail.send_due(world.uow(), settings=settings)
    assert (done.sent, done.dead, done.failed) == (1, 2, 0)
    page = outbox.outbox_page(world.uow(), world.id("sysadmin"), status="dead")
    errors = {r.recipient_email: r.last_error for r in page.rows}
    assert "invalid address" in errors["not an address"]
    assert errors["bounce@example.gov.cn"].startswith("recipient refused: 550")
    assert page.counts == {"dead": 2, "sent": 1}
    assert mail.send_due(world.uow(), settings=settings).handled == 0  # never retried by itself


def test_a_4xx_reply_or_a_server_too_slow_to_answer_is_retried_later(
        world: factories.World, smtp: SmtpServer, settings: Settings) -> None:
    set_email(world, "hubei_applicant", "later@example.gov.cn")
    reminders_for(world, "hubei_applicant", "hunan_applicant")
    settings = replace(settings, smtp_timeout=1)
    smtp.sink.delay = 2.5
    done = mail.send_due(world.uow(), settings=settings)
    assert (done.failed, done.sent, done.dead) == (2, 0, 0)
    errors = {r.recipient_email: r.last_error or "" for r in rows(world)}
    assert errors["later@example.gov.cn"].startswith("recipient deferred: 451")
    assert "timed out" in errors["hunan_applicant@example.gov.cn"]


def test_temporary_failures_give_up_after_the_last_attempt_and_show_it(
        world: factories.World, smtp: SmtpServer, settings: Settings) -> None:
    settings = replace(settings, mail_max_attempts=2)
    reminders_for(world, "hubei_applicant")
    smtp.stop()
    t = datetime.now(UTC)
    clock.freeze(t)
    mail.send_due(world.uow(), settings=settings)
    clock.freeze(t + timedelta(hours=1))
    mail.send_due(world.uow(), settings=settings)
    (row,) = rows(world)
    assert row.status == "dead" and row.last_error.startswith("gave up after 2 attempts")


def test_the_admin_retries_a_dead_message_and_it_goes_out(
        world: factories.World, smtp: SmtpServer, settings: Settings) -> None:
    set_email(world, "hubei_applicant", "bounce@example.gov.cn")
    reminders_for(world, "hubei_applicant")
    mail.send_due(world.uow(), settings=settings)
    (row,) = rows(world)
    with world.uow() as u:  # the admin fixes the address in the queued message
        u.session.execute(update(OutboxRow).values(recipient_email="fixed@example.gov.cn"))
        u.commit()
    with pytest.raises(Forbidden):
        outbox.retry(world.uow(), world.id("hubei_reviewer"), row.id)
    outbox.retry(world.uow(), world.id("sysadmin"), row.id)
    assert mail.send_due(world.uow(), settings=settings).sent == 1
    assert smtp.sink.messages[0]["To"] == "fixed@example.gov.cn"


def test_without_smtp_host_mail_goes_to_eml_files(world: factories.World,
                                                  tmp_path: Path) -> None:
    settings = for_tests(tmp_path, smtp_host=None, mail_dir=tmp_path / "mail")
    reminders_for(world, "hubei_applicant")
    assert mail.send_due(world.uow(), settings=settings).sent == 1
    (eml,) = (tmp_path / "mail").glob("*.eml")
    assert "hubei_applicant@example.gov.cn" in eml.read_text()
    assert date(2006, 4, 14).isoformat() not in eml.name


@pytest.fixture
def tls_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, trusted through SSL_CERT_FILE."""
    import subprocess

    from tests.conftest import require_command

    require_command("openssl", "openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    return cert, key


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_mail_goes_out_over_starttls_or_implicit_tls(
        world: factories.World, tls_files: tuple[Path, Path], mode: str,
        tmp_path: Path) -> None:
    import ssl

    from aiosmtpd.controller import Controller

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(tls_files[0]), str(tls_files[1]))
    server = SmtpServer()
    kw = {"tls_context": ctx, "require_starttls": True} if mode == "starttls" \
        else {"ssl_context": ctx}
    server.controller = Controller(server.sink, hostname="127.0.0.1", port=server.port, **kw)
    server.controller.start()
    try:
        settings = smtp_settings(server, tmp_path, smtp_tls=mode)
        reminders_for(world, "hubei_applicant")
        assert mail.send_due(world.uow(), settings=settings).sent == 1
        assert len(server.sink.messages) == 1
        plain = replace(settings, smtp_tls="none")  # a server that insists on TLS refuses it
        if mode == "starttls":
            reminders_for(world, "hunan_applicant")
            done = mail.send_due(world.uow(), settings=plain)
            assert done.sent == 0 and done.failed + done.dead == 1
    finally:
        server.stop()


# --- one connection per worker, a nudge sends a batch (issue 9) ---------------------------

APPLICANTS = ("hubei_applicant", "hubei_applicant2", "hunan_applicant", "hunan_applicant2",
              "sichuan_applicant")


def test_one_smtp_session_carries_many_messages_and_a_restarted_server_costs_no_retry(
        world: factories.World, smtp: SmtpServer, settings: Settings) -> None:
    link = SmtpLink(watch=False)
    reminders_for(world, *APPLICANTS[:3])
    assert mail.send_due(world.uow(), settings=settings, link=link).sent == 3
    assert smtp.sink.sessions() == 1 and link.connected  # kept open for the next run
    smtp.stop()  # the server restarts while the worker holds its connection
    smtp.start()
    reminders_for(world, *APPLICANTS[3:])
    done = mail.send_due(world.uow(), settings=settings, link=link)
    # the dropped connection is noticed before DATA and the message sent on a new one:
    # delivered now, not failed and retried after a backoff
    assert (done.sent, done.failed) == (2, 0)
    assert {r.status for r in rows(world)} == {"sent"} and {r.attempts for r in rows(world)} == {1}
    assert sorted(smtp.sink.ids()) == sorted(str(r.id) for r in rows(world))
    assert smtp.sink.sessions() == 2
    link.close()
    assert smtp.sink.quits == 1 and not link.connected


def test_a_refused_message_on_a_kept_connection_is_classified_as_on_a_fresh_one(
        world: factories.World, smtp: SmtpServer, settings: Settings) -> None:
    set_email(world, "hunan_applicant", "bounce@example.gov.cn")
    set_email(world, "hunan_applicant2", "later@example.gov.cn")
    link = SmtpLink(watch=False)
    reminders_for(world, *APPLICANTS)
    try:
        done = mail.send_due(world.uow(), settings=settings, link=link)
    finally:
        link.close()  # as the worker does when it stops
    assert (done.sent, done.dead, done.failed) == (3, 1, 1)
    errors = {r.recipient_email: r.last_error or "" for r in rows(world)}
    assert errors["bounce@example.gov.cn"].startswith("recipient refused: 550")
    assert errors["later@example.gov.cn"].startswith("recipient deferred: 451")
    assert len(smtp.sink.messages) == 3


def test_a_nudge_for_one_message_sends_the_others_due_and_their_nudges_find_nothing(
        world: factories.World, smtp: SmtpServer, settings: Settings) -> None:
    reminders_for(world, *APPLICANTS)
    ids = [r.id for r in rows(world)]
    first = mail.send_due(world.uow(), settings=settings, only_id=ids[2], limit=21)
    later = [mail.send_due(world.uow(), settings=settings, only_id=i, limit=21) for i in ids]
    assert first.sent == 5 and all(d.handled == 0 for d in later)
    assert sorted(smtp.sink.ids()) == sorted(str(i) for i in ids)  # each exactly once
    assert smtp.sink.messages[0]["X-Outbox-Id"] == str(ids[2])  # its own message first


def test_a_nudge_for_a_message_not_due_sends_nothing(world: factories.World,
                                                     smtp: SmtpServer, settings: Settings) -> None:
    reminders_for(world, *APPLICANTS[:2])
    a, b = (r.id for r in rows(world))
    with world.uow() as u:  # a is waiting for its retry time
        u.session.execute(update(OutboxRow).where(OutboxRow.id == a).values(
            status="failed", next_attempt_at=datetime.now(UTC) + timedelta(hours=1)))
        u.commit()
    assert mail.send_due(world.uow(), settings=settings, only_id=a, limit=21).handled == 0
    assert smtp.sink.messages == [] and {r.status for r in rows(world)} == {"failed", "pending"}
    assert mail.send_due(world.uow(), settings=settings, only_id=b, limit=21).sent == 1


def test_a_batch_gives_back_what_it_cannot_send_within_half_the_lease(
        world: factories.World, smtp: SmtpServer, settings: Settings, db_url: str) -> None:
    settings = replace(settings, mail_lease_seconds=2)
    smtp.sink.delay = 0.4  # five messages take 2 s: longer than a claim's lease
    reminders_for(world, *APPLICANTS)
    first = mail.send_due(world.uow(), settings=settings)
    if db_url.startswith("postgresql"):
        # one claim took all five; those it could not start within 1 s went back at once:
        # the fourth could start 1.2 s in at the earliest, so at most three went out (fewer
        # on a slow machine, never none: the first is always sent)
        assert 1 <= first.sent <= 3
        assert {r.status for r in rows(world)} == {"sent", "pending"}
        assert {r.attempts for r in rows(world) if r.status == "pending"} == {0}
    else:
        assert first.sent == 5  # SQLite claims one row at a time: each has a fresh lease
    for _ in range(5):  # each later run sends at least one of those given back
        if mail.send_due(world.uow(), settings=settings).sent == 0:
            break
    assert {r.status for r in rows(world)} == {"sent"} and {r.attempts for r in rows(world)} == {1}
    assert sorted(smtp.sink.ids()) == sorted(str(r.id) for r in rows(world))  # none twice


def test_an_idle_connection_is_closed(world: factories.World, smtp: SmtpServer, settings: Settings) -> None:
    link = SmtpLink(idle_seconds=0.5)
    reminders_for(world, APPLICANTS[0])
    assert mail.send_due(world.uow(), settings=settings, link=link).sent == 1 and link.connected
    deadline = time.monotonic() + 60  # idle after 0.5 s; the bound only ends a failing run
    while link.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not link.connected and smtp.sink.quits == 1


def test_the_message_reads_the_same_on_the_other_side(world: factories.World,
                                                      smtp: SmtpServer, settings: Settings) -> None:
    reminders_for(world, APPLICANTS[0])
    long_line = "很长的一行" * 120  # 1,800 octets: more than SMTP allows on one line
    with world.uow() as u:
        u.session.execute(update(OutboxRow).values(body=f"第一行\n{long_line}\n"))
        u.commit()
    mail.send_due(world.uow(), settings=settings)
    (row,) = rows(world)
    (msg,) = smtp.sink.messages
    assert msg["Subject"] == row.subject and msg.get_content() == f"第一行\n{long_line}\n"
    assert str(msg["From"]) == settings.mail_from
    assert msg["Content-Language"] == "zh-CN"


def test_in_a_batch_only_the_reminder_whose_case_moved_on_is_cancelled(
        world: factories.World, smtp: SmtpServer, settings: Settings) -> None:
    from workflow.services import cases

    moved = factories.draft(world, "hubei_applicant")
    factories.attach_required(world, moved)
    for a in APPLICANTS[1:4]:
        factories.draft(world, a)
    svc.scan(world.uow(), SCAN_AT, base_url="http://eib.test")
    cases.fire(world.uow(), world.id("hubei_applicant"), moved, "submit", None,
               now=SCAN_AT + timedelta(hours=1))
    done = mail.send_due(world.uow(), settings=settings)
    assert (done.cancelled, done.sent) == (1, 3)
    by_case = {r.application_id: r.status for r in rows(world)}
    assert by_case.pop(moved) == "cancelled" and set(by_case.values()) == {"sent"}
    assert len(smtp.sink.messages) == 3
    assert svc.notifications(world.uow(), world.id("hubei_applicant")).items == []
    assert len(svc.notifications(world.uow(), world.id("hunan_applicant")).items) == 1
