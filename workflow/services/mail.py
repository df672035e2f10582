"""The one place mail is sent: outbox rows out through SMTP, or as .eml files.

Delivery (`send_due`) claims one row at a time atomically (pending/failed → sending, with
a lease), sends it outside any transaction, then records the outcome fenced on the claim:
sent; failed (temporary: connection refused, timeout, dropped connection, 4xx — retried
with exponential backoff through `next_attempt_at`, never through a broker ETA); or dead
(permanent: an invalid address, a 5xx reply, or too many attempts) — listed for admins.

The crash window: a worker killed after the SMTP server accepted a message and before
the database recorded it sends that message again once the lease runs out. Every message
carries a stable Message-ID (`<outbox-ID@host>`) so a mail system can drop the copy.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any

from config import Settings, load_settings
from workflow.errors import Forbidden, NotFound, ValidationFailed, refuse
from workflow.roles import Role
from workflow.services.clock import utcnow
from workflow.storage import reminders_repo as rr
from workflow.storage import repo
from workflow.storage.models import OutboxRow
from workflow.storage.uow import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "web" / "translations"
LOCALES = ("zh", "en")
_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


# --- language ----------------------------------------------------------------------------

@lru_cache(maxsize=4)
def _catalogue(locale: str) -> dict[str, str]:
    """msgid (Chinese) → text in `locale`, from web/translations (compiled .mo if built,
    else the .po source). Chinese needs none; a missing catalogue falls back to Chinese."""
    if locale == "zh":
        return {}
    folder = TRANSLATIONS / locale / "LC_MESSAGES"
    try:
        from babel.messages.mofile import read_mo
        from babel.messages.pofile import read_po

        if (folder / "messages.mo").exists():
            with open(folder / "messages.mo", "rb") as fh:
                cat = read_mo(fh)
        elif (folder / "messages.po").exists():
            with open(folder / "messages.po", "rb") as fh:
                cat = read_po(fh)
        else:
            return {}
    except Exception:  # noqa: BLE001 - a broken catalogue must not stop mail
        return {}
    return {str(m.id): str(m.string) for m in cat if m.id and isinstance(m.id, str) and m.string}


def translate(msgid: str, locale: str, **values: Any) -> str:
    """gettext for mail: the recipient's language, Chinese by default."""
    text = _catalogue(locale if locale in LOCALES else "zh").get(msgid, msgid)
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


def build_message(row: OutboxRow, settings: Settings) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = row.recipient_email
    msg["Subject"] = row.subject
    msg["Date"] = format_datetime(utcnow())
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "localhost"
    msg["Message-ID"] = f"<outbox-{row.id}@{domain}>"  # stable: the same on a resend
    msg["X-Outbox-Id"] = str(row.id)
    msg["Content-Language"] = "en" if row.locale == "en" else "zh-CN"
    msg.set_content(row.body, charset="utf-8")
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


def transmit(msg: EmailMessage, settings: Settings) -> None:
    """Hand one message over: SMTP when SMTP_HOST is set (TLS none|starttls|ssl), else an
    .eml file under MAIL_DIR (named by outbox id, so a resend overwrites it)."""
    if not settings.smtp_host:
        folder = Path(settings.mail_dir)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"outbox-{msg['X-Outbox-Id']}.eml"
        tmp = folder / f".{name}.tmp"
        tmp.write_bytes(bytes(msg))
        tmp.replace(folder / name)
        return
    try:
        if settings.smtp_tls == "ssl":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port,
                                                  timeout=settings.smtp_timeout,
                                                  context=ssl.create_default_context())
        else:
            conn = smtplib.SMTP(settings.smtp_host, settings.smtp_port,
                                timeout=settings.smtp_timeout)
        with conn:
            if settings.smtp_tls == "starttls":
                conn.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                conn.login(settings.smtp_user, settings.smtp_password or "")
            conn.send_message(msg)
    except Exception as exc:  # noqa: BLE001 - every failure becomes Permanent/Temporary
        raise _classify(exc) from exc


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


def send_due(uow: UnitOfWork, *, limit: int = 100, only_id: int | None = None,
             settings: Settings | None = None) -> Delivery:
    """Send up to `limit` due messages, one claim at a time; safe to run in many workers."""
    from workflow.services import reminders  # the relevance check of reminder rows

    settings = settings or load_settings()
    lease = timedelta(seconds=settings.mail_lease_seconds)
    done = Delivery()
    while done.handled < limit:
        now = utcnow()
        with uow:
            s = uow.session
            row = rr.claim(s, now, lease, only_id)
            if row is None:
                return done
            why_not = reminders.reason_gone(s, row, now)
            if why_not:
                rr.cancel(s, row.id, why_not)
                uow.commit()
                done.cancelled += 1
                continue
            uow.commit()
        attempt = row.attempts
        outcome: dict[str, Any]
        if not valid_address(row.recipient_email):
            outcome = {"status": "dead", "last_error": f"invalid address: {row.recipient_email!r}"}
        else:
            try:
                transmit(build_message(row, settings), settings)
                outcome = {"status": "sent", "sent_at": utcnow(), "last_error": None}
            except Permanent as exc:
                outcome = {"status": "dead", "last_error": str(exc)[:2000]}
            except Temporary as exc:
                if attempt >= settings.mail_max_attempts:
                    outcome = {"status": "dead",
                               "last_error": f"gave up after {attempt} attempts: {exc}"[:2000]}
                else:
                    outcome = {"status": "failed", "last_error": str(exc)[:2000],
                               "next_attempt_at": utcnow() + backoff(attempt, settings)}
        with uow:
            rr.finish(uow.session, row.id, attempt, **outcome)
            uow.commit()
        setattr(done, {"sent": "sent", "failed": "failed", "dead": "dead"}[outcome["status"]],
                getattr(done, outcome["status"]) + 1)
        if only_id is not None:
            return done
    return done


# --- admin: the outbox ---------------------------------------------------------------------

STATUSES = ("pending", "held", "sending", "sent", "failed", "dead", "digested", "cancelled")
RETRYABLE = ("failed", "dead", "cancelled")


def _require_system_admin(s: Any, user_id: int) -> None:
    user = repo.user_by_id(s, user_id)
    if Role(user.role) is not Role.SYSTEM_ADMIN:
        raise Forbidden(refuse("system_admin_only", "只有系统管理员可以管理发信队列",
                               "only the system admin can manage the outbox"))


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
    with uow:
        s = uow.session
        _require_system_admin(s, user_id)
        rows = rr.outbox_rows(s, status=status or None, kind=kind or None,
                              q=(q or "").strip() or None, limit=limit + 1, before_id=before_id)
        nxt = rows[limit - 1].id if len(rows) > limit else None
        return OutboxPage(rows[:limit], rr.outbox_counts(s), nxt)


def retry(uow: UnitOfWork, user_id: int, outbox_id: int, now: datetime | None = None) -> None:
    """Put a failed, dead or cancelled message back in the queue now (attempts restart)."""
    now = now or utcnow()
    with uow:
        s = uow.session
        _require_system_admin(s, user_id)
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
