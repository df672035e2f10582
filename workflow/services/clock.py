"""Time in one place: UTC for storage, Asia/Shanghai for dates people see.

Two clocks:
- `utcnow()` is the domain's clock: deadlines, reminders, working days, the dates a case
  records. `APP_NOW` (ISO 8601 with offset, e.g. ``2006-04-20T09:00+08:00``) pins it for a
  demo walkthrough or an operator catching up; tests use `freeze`.
- `real_utcnow()` is the machine's clock, never pinned by `APP_NOW`: security (TOTP codes,
  session timeouts, token expiry, lockouts, rate limits), leases between processes and log
  timestamps. `freeze` pins it too, so a test can step over an expiry.
Nothing else reads the wall clock.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")
_frozen: datetime | None = None


def freeze(moment: datetime | None) -> None:
    """Pin `utcnow()` to `moment` (None: back to the wall clock)."""
    global _frozen
    if moment is not None and moment.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = moment


def utcnow() -> datetime:
    if _frozen is not None:
        return _frozen.astimezone(UTC)
    pinned = os.environ.get("APP_NOW")
    if pinned:
        moment = datetime.fromisoformat(pinned)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=CHINA)
        return moment.astimezone(UTC)
    return datetime.now(UTC)


def real_utcnow() -> datetime:
    """The machine's time (UTC) for security and leases: `APP_NOW` does not move it."""
    if _frozen is not None:
        return _frozen.astimezone(UTC)
    return datetime.now(UTC)


def local_date(moment: datetime) -> date:
    """The calendar date in China at `moment`."""
    return moment.astimezone(CHINA).date()


def today() -> date:
    """Today in China."""
    return local_date(utcnow())
