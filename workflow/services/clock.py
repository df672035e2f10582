"""Time in one place: UTC for storage, Asia/Shanghai for dates people see.

`APP_NOW` (ISO 8601 with offset, e.g. ``2006-04-20T09:00+08:00``) pins the clock for a
demo or an operator catching up; tests use `freeze`. Nothing else reads the wall clock.
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


def local_date(moment: datetime) -> date:
    """The calendar date in China at `moment`."""
    return moment.astimezone(CHINA).date()


def today() -> date:
    """Today in China."""
    return local_date(utcnow())
