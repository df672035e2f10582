"""Time in one place: UTC for storage, Asia/Shanghai for dates people see.

Two clocks:
- `utcnow()` is the domain's clock: deadlines, reminders, working days, the dates a case
  records. `APP_NOW` (ISO 8601 with offset, e.g. ``2006-04-20T09:00+08:00``, read into
  `Settings.app_now`) pins it for a demo walkthrough or an operator catching up: the web
  app and the worker call `pin` with it when they start. Tests use `freeze`.
- `real_utcnow()` is the machine's clock, never pinned by `APP_NOW`: security (TOTP codes,
  session timeouts, token expiry, lockouts, rate limits), leases between processes and log
  timestamps. `freeze` pins it too, so a test can step over an expiry.
Nothing else reads the wall clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")
_frozen: datetime | None = None
_pinned: datetime | None = None


def freeze(moment: datetime | None) -> None:
    """Pin `utcnow()` to `moment` (None: back to the wall clock)."""
    global _frozen
    if moment is not None and moment.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = moment


def pin(moment: datetime | None) -> None:
    """Pin the domain's clock (`utcnow`, not `real_utcnow`) to `moment`, as
    `Settings.app_now` says (None: the wall clock)."""
    global _pinned
    if moment is not None and moment.tzinfo is None:
        raise ValueError("pin() needs an aware datetime")
    _pinned = moment.astimezone(UTC) if moment is not None else None


def utcnow() -> datetime:
    if _frozen is not None:
        return _frozen.astimezone(UTC)
    if _pinned is not None:
        return _pinned
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
