"""The one place mail is sent: outbox rows out through SMTP, or as .eml files.

Delivery (`send_due`) claims due rows atomically (pending/failed → sending, with a lease;
up to CLAIM_BATCH per claim on PostgreSQL, one on SQLite), sends them one by one outside
any transaction — over one SMTP connection kept per worker process (`SmtpLink`) — and
records each outcome right after its own send, fenced on the claim: sent; failed
(temporary: connection refused, timeout, dropped connection, 4xx — retried with
exponential backoff through `next_attempt_at`, never through a broker ETA); or dead
(permanent: an invalid address, a 5xx reply, or too many attempts) — listed for admins.

The crash window: a worker killed after the SMTP server accepted a message and before
the database recorded it sends that message again once the lease runs out. Every message
carries a stable Message-ID (`<outbox-ID@host>`) so a mail system can drop the copy.
"""

from __future__ import annotations

import os
import re
import smtplib
import socket
import ssl
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.charset import Charset
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.support import Translations

from config import Settings
from workflow import permissions
from workflow.errors import NotFound, ValidationFailed, refuse
from workflow.services.clock import utcnow
from workflow.storage import reminders_repo as rr
from workflow.storage import users_repo
from workflow.storage.models import OutboxRow
from workflow.storage.uow import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "web" / "translations"
LOCALES = ("zh", "en")
_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


# --- language ----------------------------------------------------------------------------

@lru_cache(maxsize=4)
def _translations(locale: str) -> Translations:
    """Babel's catalogue for `locale` from web/translations (the one the web UI uses);
    Chinese, the msgids' language, needs none, and a missing catalogue falls back to it."""
    found = Translations.load(TRANSLATIONS, [locale])
    return found if isinstance(found, Translations) else Translations()


def translate(msgid: str, locale: str, **values: Any) -> str:
    """gettext for mail: the recipient's language, Chinese by default."""
    text = _translations(locale if locale in LOCALES else "zh").gettext(msgid)
    return text % values if values else text


def fmt_date(day: Any, locale: str) -> str:
    if locale == "en":
        return day.isoformat()
    return f"{day.year}年{day.month}月{day.day}日"


# --- transport -----------------------------------------------------------------------------

class Permanent(Exception):
    """Sending this message will never work (bad address, 5xx)."""


class Temporary(Exception):
    """Sending may work later (server down, timeout, dropped connection, 4xx)."""


def valid_address(address: str) -> bool:
    """A plain address we are willing to hand to SMTP (no display name, no header tricks)."""
    if not address or len(address) > 254 or "\n" in address or "\r" in address:
        return False
    return bool(_ADDRESS.match(address))


_BODY_8BIT = Charset("utf-8")
_BODY_8BIT.body_encoding = None  # type: ignore[assignment]  # UTF-8 text as is ("8bit"), readable in an .eml file
_BODY_B64 = Charset("utf-8")  # base64, for a body with a line longer than SMTP allows
_MAX_LINE = 998  # octets per line (RFC 5322)


@lru_cache(maxsize=8)
def _sender(mail_from: str) -> tuple[str, str]:
    """(the From header, RFC 2047-encoded; the domain for Message-IDs)."""
    name, address = parseaddr(mail_from)
    domain = address.rpartition("@")[2] or "localhost"
    return (formataddr((name, address), "utf-8") if address else mail_from), domain


def build_message(row: OutboxRow, settings: Settings) -> Message:
    """The message for an outbox row: UTF-8 text; Message-ID stable across resends.

    Built with the `compat32` classes (a MIMEText) rather than `EmailMessage`: the same
    headers and body on the wire, without parsing every header back through the header
    registry — that took over a millisecond per message, a third of a delivery's CPU."""
    body = row.body
    long_line = any(len(line.encode()) > _MAX_LINE for line in body.splitlines())
    msg = MIMEText(body, "plain", _BODY_B64 if long_line else _BODY_8BIT)  # type: ignore[arg-type]
    from_header, domain = _sender(settings.mail_from)
    msg["From"] = from_header
    msg["To"] = row.recipient_email
    msg["Subject"] = Header(" ".join(row.subject.splitlines()), "utf-8")  # type: ignore[assignment]
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = f"<outbox-{row.id}@{domain}>"  # stable: the same on a resend
    msg["X-Outbox-Id"] = str(row.id)
    msg["Content-Language"] = "en" if row.locale == "en" else "zh-CN"
    return msg


def _classify(exc: BaseException) -> Exception:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _ in exc.recipients.values()]
        text = "; ".join(f"{c} {m.decode(errors='replace') if isinstance(m, bytes) else m}"
                         for c, m in exc.recipients.values())
        if codes and all(c >= 500 for c in codes):
            return Permanent(f"recipient refused: {text}")
        return Temporary(f"recipient deferred: {text}")
    if isinstance(exc, smtplib.SMTPResponseException):
        msg = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) \
            else str(exc.smtp_error)
        text = f"{exc.smtp_code} {msg}"
        # a refused login is the operator's to fix: retried (bounded), not blamed on the mail
        if exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPAuthenticationError):
            return Permanent(text)
        return Temporary(text)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return Temporary(f"connection dropped: {exc}")
    if isinstance(exc, socket.timeout | TimeoutError):
        return Temporary("timed out")
    if isinstance(exc, OSError | smtplib.SMTPException):
        return Temporary(f"{type(exc).__name__}: {exc}")
    return Temporary(f"{type(exc).__name__}: {exc}")


class _Tracked:
    """Remembers how far the current message got: a dropped connection before DATA means
    the server has nothing of it, so it can be sent again on a new connection."""

    stage = "idle"

    def mail(self, *args: Any, **kw: Any) -> Any:
        self.stage = "envelope"
        return super().mail(*args, **kw)  # type: ignore[misc]

    def data(self, *args: Any, **kw: Any) -> Any:
        self.stage = "data"
        return super().data(*args, **kw)  # type: ignore[misc]


class _SMTP(_Tracked, smtplib.SMTP):
    pass


class _SMTPSSL(_Tracked, smtplib.SMTP_SSL):
    pass


def _connect(settings: Settings) -> smtplib.SMTP:
    """A new SMTP session: connect (TLS none|starttls|ssl), EHLO, login if configured."""
    host = settings.smtp_host or ""
    if settings.smtp_tls == "ssl":
        conn: smtplib.SMTP = _SMTPSSL(host, settings.smtp_port,
                                      timeout=settings.smtp_timeout,
                                      context=ssl.create_default_context())
    else:
        conn = _SMTP(host, settings.smtp_port, timeout=settings.smtp_timeout)
    try:
        if settings.smtp_tls == "starttls":
            conn.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            conn.login(settings.smtp_user, settings.smtp_password or "")
    except BaseException:
        conn.close()
        raise
    return conn


def _dropped_before_data(conn: smtplib.SMTP | None, exc: BaseException) -> bool:
    """The server hung up (or said 421, closing) before it had any of the message."""
    if conn is None or getattr(conn, "stage", "data") == "data":
        return False
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return exc.smtp_code == 421
    return isinstance(exc, smtplib.SMTPServerDisconnected | ConnectionError)


class SmtpLink:
    """One SMTP connection kept open across messages (a delivery worker holds one per
    process): connect, EHLO, STARTTLS and login once, then MAIL/RCPT/DATA per message.

    - A connection that failed in any way is dropped, and the next message opens a new
      one: a failure is classified (Permanent/Temporary) exactly as on a fresh session.
    - A reused connection the server dropped meanwhile (idle timeout, restart) is noticed
      when a message is started on it — before DATA, so the server has none of it — and
      that message is sent once more on a new connection.
    - `close_if_idle` (called by a timer thread every few seconds) says QUIT after
      `idle_seconds` without a message; `close` at worker shutdown.
    - Used from one thread at a time per process (a Celery prefork child runs one task at
      a time); a forked child never touches its parent's connection.
    """

    def __init__(self, idle_seconds: float = 30.0, watch: bool = True) -> None:
        self.idle_seconds, self.watch = idle_seconds, watch
        self._conn: smtplib.SMTP | None = None
        self._key: tuple[Any, ...] | None = None
        self._pid = os.getpid()
        self._used = 0.0
        self._lock = threading.Lock()
        self._timer: threading.Thread | None = None
        self.connects = 0  # sessions opened (tests and the benchmark read it)

    def send(self, msg: Message, settings: Settings) -> None:
        """Hand one message to the SMTP server; raise Permanent or Temporary."""
        key = (settings.smtp_host, settings.smtp_port, settings.smtp_tls, settings.smtp_user,
               settings.smtp_password, settings.smtp_timeout)
        with self._lock:
            try:
                try:
                    self._send(msg, settings, key)
                except _Attempt as failed:
                    if not (failed.reused and _dropped_before_data(failed.conn, failed.cause)):
                        raise _classify(failed.cause) from failed.cause
                    try:
                        self._send(msg, settings, key)  # once more, on a new connection
                    except _Attempt as again:
                        raise _classify(again.cause) from again.cause
            finally:
                self._used = time.monotonic()

    def _send(self, msg: Message, settings: Settings, key: tuple[Any, ...]) -> None:
        if self._pid != os.getpid():  # forked: the parent's socket is not ours to use
            self._conn, self._key, self._pid, self._timer = None, None, os.getpid(), None
        if self._conn is not None and (self._key != key or
                                       time.monotonic() - self._used > self.idle_seconds):
            self._quit()
        reused = self._conn is not None
        try:
            if self._conn is None:
                self._conn, self._key = _connect(settings), key
                self.connects += 1
                self._start_timer()
            conn = self._conn
            conn.stage = "idle"  # type: ignore[attr-defined]
            conn.send_message(msg)
        except Exception as exc:
            broken, self._conn = self._conn, None
            if broken is not None:
                _close_quietly(broken)
            raise _Attempt(exc, broken, reused) from exc

    def close_if_idle(self) -> None:
        if self._lock.acquire(blocking=False):
            try:
                if self._conn is not None and self._pid == os.getpid() and \
                        time.monotonic() - self._used >= self.idle_seconds:
                    self._quit()
            finally:
                self._lock.release()

    def close(self) -> None:
        """QUIT and forget the connection (worker shutdown; the end of a sweep)."""
        with self._lock:
            if self._pid == os.getpid():
                self._quit()
            self._conn = None

    @property
    def connected(self) -> bool:
        return self._conn is not None and self._pid == os.getpid()

    def _quit(self) -> None:
        conn, self._conn, self._key = self._conn, None, None
        if conn is not None:
            try:
                conn.quit()
            except Exception:  # noqa: BLE001 - a connection that is gone is closed anyway
                _close_quietly(conn)

    def _start_timer(self) -> None:
        if not self.watch or self._timer is not None and self._timer.is_alive():
            return
        period = max(0.5, min(5.0, self.idle_seconds / 2))
        link = weakref.ref(self)

        def watch() -> None:
            while True:
                time.sleep(period)
                me = link()
                if me is None or not me.connected:
                    return  # nothing to watch: the next connection starts a new timer
                me.close_if_idle()
                del me

        self._timer = threading.Thread(target=watch, name="smtp-idle", daemon=True)
        self._timer.start()


class _Attempt(Exception):
    """One try of one message failed: the cause, the connection and whether it was reused."""

    def __init__(self, cause: Exception, conn: smtplib.SMTP | None, reused: bool) -> None:
        super().__init__(cause)
        self.cause, self.conn, self.reused = cause, conn, reused


def _close_quietly(conn: smtplib.SMTP) -> None:
    try:
        conn.close()
    except Exception:  # noqa: BLE001 - closing a broken socket
        pass


def transmit(msg: Message, settings: Settings, link: SmtpLink | None = None) -> None:
    """Hand one message over: SMTP when SMTP_HOST is set (TLS none|starttls|ssl) — over
    `link`'s open connection if given, else a session of its own — or else an .eml file
    under MAIL_DIR (named by outbox id, so a resend overwrites it)."""
    if not settings.smtp_host:
        folder = Path(settings.mail_dir)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"outbox-{msg['X-Outbox-Id']}.eml"
        tmp = folder / f".{name}.tmp"
        tmp.write_bytes(bytes(msg))
        tmp.replace(folder / name)
        return
    if link is not None:
        link.send(msg, settings)
        return
    one = SmtpLink(watch=False)
    try:
        one.send(msg, settings)
    finally:
        one.close()


# --- delivery ------------------------------------------------------------------------------

@dataclass
class Delivery:
    """What one `send_due` run did."""

    sent: int = 0
    failed: int = 0
    dead: int = 0
    cancelled: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.failed + self.dead + self.cancelled


def backoff(attempts: int, settings: Settings) -> timedelta:
    """Exponential: base, 2×base, 4×base … capped at one hour."""
    return timedelta(seconds=min(3600, settings.mail_retry_base_seconds * 2 ** max(0, attempts - 1)))


CLAIM_BATCH = 20  # rows one claim takes on PostgreSQL (SQLite: one at a time)


def send_due(uow: UnitOfWork, *, settings: Settings, limit: int = 100,
             only_id: int | None = None, link: SmtpLink | None = None) -> Delivery:
    """Send up to `limit` due messages; safe to run in many workers at once.

    With `only_id` (the `deliver` task, "a nudge to look at the outbox"): that message
    first — and nothing at all if it is no longer due (sent, or another worker has it) —
    then, over the same SMTP connection, up to `limit - 1` other due messages.

    Claims take up to CLAIM_BATCH rows at once on PostgreSQL (SKIP LOCKED: workers take
    different rows), one on SQLite. Each message is recorded right after its own SMTP
    outcome, so a worker killed mid-batch can repeat at most the one message it was
    sending (the crash window); the rest of its claim is simply taken again when the
    lease runs out. A batch is sent only while half the lease is left; rows it does not
    reach in time are given back at once. `link` keeps one SMTP connection across runs
    (the worker's, per process); without it this run opens one and closes it at the end.
    `settings` (SMTP, sender, retries, lease) come from the caller: the worker's Celery
    app, the CLI's Flask app.
    """
    from workflow.services import reminders  # the relevance check of reminder rows

    lease = timedelta(seconds=settings.mail_lease_seconds)
    own_link = link is None
    link = link or SmtpLink(watch=False)
    done = Delivery()
    try:
        with uow:
            s = uow.session
            autocommit = rr.autocommit(s)
            batch = CLAIM_BATCH if rr.claims_batches(s) else 1
            first = only_id
            while done.handled < limit:
                now = utcnow()
                rows = rr.claim(s, now, lease, only_id=first,
                                limit=min(batch, limit - done.handled))
                if not rows:
                    break
                first = None
                gone = reminders.reasons_gone(s, rows, now)
                for row in rows:
                    if row.id in gone and rr.cancel(s, row.id, gone[row.id], row.attempts):
                        done.cancelled += 1
                if not autocommit:
                    uow.commit()  # the claim is taken: no lock is held while sending
                todo = [r for r in rows if r.id not in gone]
                if not _send_claimed(uow, todo, now + lease / 2, settings, link, done,
                                     autocommit):
                    break
    finally:
        if own_link:
            link.close()
    return done


def _send_claimed(uow: UnitOfWork, rows: list[OutboxRow], send_by: datetime,
                  settings: Settings, link: SmtpLink, done: Delivery, autocommit: bool
                  ) -> bool:
    """Send claimed rows one by one, recording each outcome as soon as it is known.
    False if the run must stop: rows it could not start before `send_by` (half the
    lease) are given back, so no other worker can take one over while it is sent."""
    s = uow.session
    for k, row in enumerate(rows):
        if k and utcnow() >= send_by:
            rr.release(s, [(r.id, r.attempts) for r in rows[k:]], utcnow())
            if not autocommit:
                uow.commit()
            return False
        outcome = _deliver(row, settings, link)
        rr.finish(s, row.id, row.attempts, **outcome)
        if not autocommit:
            uow.commit()
        status = outcome["status"]
        setattr(done, status, getattr(done, status) + 1)
    return True


def _deliver(row: OutboxRow, settings: Settings, link: SmtpLink) -> dict[str, Any]:
    """Send one claimed row; the values that record its outcome."""
    attempt = row.attempts
    if not valid_address(row.recipient_email):
        return {"status": "dead", "last_error": f"invalid address: {row.recipient_email!r}"}
    try:
        transmit(build_message(row, settings), settings, link)
        return {"status": "sent", "sent_at": utcnow(), "last_error": None}
    except Permanent as exc:
        return {"status": "dead", "last_error": str(exc)[:2000]}
    except Temporary as exc:
        if attempt >= settings.mail_max_attempts:
            return {"status": "dead",
                    "last_error": f"gave up after {attempt} attempts: {exc}"[:2000]}
        return {"status": "failed", "last_error": str(exc)[:2000],
                "next_attempt_at": utcnow() + backoff(attempt, settings)}


# --- admin: the outbox ---------------------------------------------------------------------

STATUSES = ("pending", "held", "sending", "sent", "failed", "dead", "digested", "cancelled")
RETRYABLE = ("failed", "dead", "cancelled")


@dataclass
class OutboxPage:
    rows: list[OutboxRow]
    counts: dict[str, int]
    next_before: int | None


def outbox_page(uow: UnitOfWork, user_id: int, *, status: str | None = None,
                kind: str | None = None, q: str | None = None, limit: int = 50,
                before_id: int | None = None) -> OutboxPage:
    """The outbox for the system admin: newest first, filtered by status/kind/text."""
    if status and status not in STATUSES:
        raise ValidationFailed(refuse("invalid_choice", "状态不在可选范围内",
                                      "unknown status", field="status",
                                      details={"value": status[:30]}))
    limit = max(1, min(limit, 200))
    with uow.read():
        s = uow.session
        permissions.require(users_repo.user_by_id(s, user_id), "mail.admin")
        rows = rr.outbox_rows(s, status=status or None, kind=kind or None,
                              q=(q or "").strip() or None, limit=limit + 1, before_id=before_id)
        nxt = rows[limit - 1].id if len(rows) > limit else None
        return OutboxPage(rows[:limit], rr.outbox_counts(s), nxt)


def retry(uow: UnitOfWork, user_id: int, outbox_id: int, now: datetime | None = None) -> None:
    """Put a failed, dead or cancelled message back in the queue now (attempts restart)."""
    now = now or utcnow()
    with uow:
        s = uow.session
        permissions.require(users_repo.user_by_id(s, user_id), "mail.admin")
        row = s.get(OutboxRow, outbox_id)
        if row is None:
            raise NotFound(refuse("not_found", "未找到该邮件", "message not found"))
        if row.status not in RETRYABLE:
            raise ValidationFailed(refuse("not_retryable", "只有发送失败、已放弃或已取消的邮件可以重发",
                                          "only failed, dead or cancelled messages can be retried",
                                          field="status", details={"status": row.status}))
        row.status, row.attempts, row.next_attempt_at = "pending", 0, now
        row.last_error = f"retry requested by user {user_id}; was: {row.last_error or ''}"[:2000]
        uow.record("outbox_written", count=1)
        uow.commit()
