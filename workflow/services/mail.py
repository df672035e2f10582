"""The one place mail is sent: the outbox's due rows delivered (the worker's `send_due`
and `deliver` tasks, `flask reminders send`).

Delivery (`send_due`) claims due rows atomically (pending/failed → sending, with a lease;
up to CLAIM_BATCH per claim on PostgreSQL, one on SQLite), sends them one by one outside
any transaction — over one SMTP connection kept per worker process
(`mail_transport.SmtpLink`, which also writes .eml files when no SMTP server is set) — and
records each outcome right after its own send, fenced on the claim: sent; failed
(temporary: connection refused, timeout, dropped connection, 4xx — retried with
exponential backoff through `next_attempt_at`, never through a broker ETA); or dead
(permanent: an invalid address, a 5xx reply, or too many attempts) — listed for admins
(`outbox.py`). A reminder whose reason has gone meanwhile is cancelled, not sent
(`reminders.reasons_gone`).

The crash window: a worker killed after the SMTP server accepted a message and before
the database recorded it sends that message again once the lease runs out. Every message
carries a stable Message-ID (`<outbox-ID@host>`) so a mail system can drop the copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from config import Settings
from workflow.services import reminders  # the relevance check of reminder rows
from workflow.services.clock import utcnow
from workflow.services.mail_transport import (
    Permanent,
    SmtpLink,
    Temporary,
    build_message,
    transmit,
    valid_address,
)
from workflow.storage import reminders_repo as rr
from workflow.storage.models import OutboxRow
from workflow.storage.uow import UnitOfWork


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

