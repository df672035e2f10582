"""Handing one message to the mail system: SMTP (one connection kept per worker
process, `SmtpLink`) or an .eml file under MAIL_DIR; each failure classified as
`Permanent` (bad address, 5xx) or `Temporary` (server down, timeout, 4xx).

Every message carries a stable Message-ID (`<outbox-ID@host>`), so a mail system can drop
the copy a crashed worker sends again (`workflow.services.mail`)."""

from __future__ import annotations

import os
import re
import smtplib
import socket
import ssl
import threading
import time
import weakref
from email.charset import Charset
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any

from config import Settings
from workflow.services.clock import utcnow
from workflow.storage.models import OutboxRow

_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


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

