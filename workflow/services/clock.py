"""Time in one place: UTC for storage, Asia/Shanghai for dates people see."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_date(moment: datetime) -> date:
    """The calendar date in China at `moment`."""
    return moment.astimezone(CHINA).date()
