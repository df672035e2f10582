"""Reference data read on every transition — the working-day calendar and reference
statistics — cached per process, and the calendar administration's reads."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, event, select
from sqlalchemy.orm import Session

from workflow.calendar import WorkCalendar
from workflow.rules import LocalityStat, ReferenceStats
from workflow.storage.models import (
    CalendarDayRow,
    CalendarYearRow,
    LocalityStatRow,
    ReferenceStatRow,
)

# Calendar overrides and reference statistics change a few times a year but are read on
# every transition: each process keeps them, keyed by database. Any write to those tables
# through SQLAlchemy in this process clears the cache at once (see `_invalidate_on_write`);
# other processes see a change within REFERENCE_CACHE_SECONDS.
REFERENCE_CACHE_SECONDS = 30.0


_CACHED_TABLES = ("calendar_days", "calendar_years", "reference_statistics",
                  "locality_statistics")


_cache: dict[tuple[str, str], tuple[float, Any]] = {}


_engine_keys: dict[int, tuple[Any, str]] = {}  # id(engine) -> (engine, its URL as text)


_watched: set[int] = set()


def _invalidate_on_write(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
    if _cache and not statement.lstrip()[:6].upper().startswith("SELECT") and any(
            t in statement for t in _CACHED_TABLES):
        clear_reference_cache()


def clear_reference_cache() -> None:
    """Forget cached calendars and reference statistics (the next read reloads them)."""
    _cache.clear()


def _cached(db: Session | Connection, what: str, load: Any) -> Any:
    """The cached `what`, loaded with `load(session)` when missing or stale. `db`: a
    session, or a connection with no session around it (a plain transition's, see
    `UnitOfWork.connection`), on which a miss opens a short session of its own."""
    engine = db.engine if isinstance(db, Connection) else db.get_bind().engine
    known = _engine_keys.get(id(engine))
    if known is None or known[0] is not engine:
        known = _engine_keys[id(engine)] = (engine, str(engine.url))  # holds the engine
    key = (known[1], what)
    hit = _cache.get(key)
    now = _monotonic()
    if hit is not None and now - hit[0] < REFERENCE_CACHE_SECONDS:
        return hit[1]
    if id(engine) not in _watched:
        event.listen(engine, "before_cursor_execute", _invalidate_on_write)
        _watched.add(id(engine))
    if isinstance(db, Connection):
        with Session(bind=db) as session:
            value = load(session)
    else:
        value = load(db)
    _cache[key] = (now, value)
    return value


def _monotonic() -> float:
    return time.monotonic()


def load_calendar(db: Session | Connection) -> WorkCalendar:
    """The working-day calendar with admin overrides (cached per process, see above)."""
    return _cached(db, "calendar", _load_calendar)  # type: ignore[no-any-return]


def _load_calendar(session: Session) -> WorkCalendar:
    overrides = {r.day: r.is_workday for r in session.scalars(select(CalendarDayRow))}
    years = frozenset(session.scalars(select(CalendarYearRow.year)))
    return WorkCalendar(overrides=overrides, complete_years=years)


def load_references(db: Session | Connection) -> dict[int, ReferenceStats]:
    """Reference statistics by year (cached per process; callers get their own dict)."""
    return dict(_cached(db, "references", _load_references))


def _load_references(session: Session) -> dict[int, ReferenceStats]:
    out = {}
    for r in session.scalars(select(ReferenceStatRow)):
        out[r.year] = ReferenceStats(
            year=r.year,
            national_hightech_exports_100m_usd=r.national_hightech_exports_100m_usd,
            national_hightech_growth_pct=r.national_hightech_growth_pct,
            region_export_growth_pct={k: Decimal(str(v))
                                      for k, v in (r.region_export_growth_pct or {}).items()
                                      if v is not None},
        )
    localities: dict[int, dict[str, LocalityStat]] = {}
    for row in session.scalars(select(LocalityStatRow)):
        a = row.authority
        localities.setdefault(row.year, {})[a.code] = LocalityStat(
            authority_code=a.code, year=row.year, export_growth_pct=row.export_growth_pct,
            source=row.source, catalogue=row.catalogue, name_zh=a.name_zh, name_en=a.name_en)
    for year, by_code in localities.items():
        ref = out.get(year) or ReferenceStats(year=year)
        out[year] = replace(ref, localities=by_code)
    return out


def reference_years(session: Session) -> set[int]:
    return set(session.scalars(select(ReferenceStatRow.year)))


def calendar_day(session: Session, day: date) -> CalendarDayRow | None:
    return session.get(CalendarDayRow, day)


def calendar_entries(session: Session, year: int) -> list[CalendarDayRow]:
    q = select(CalendarDayRow).where(CalendarDayRow.day >= date(year, 1, 1),
                                     CalendarDayRow.day <= date(year, 12, 31)).order_by(
        CalendarDayRow.day)
    return list(session.scalars(q))


def calendar_year(session: Session, year: int) -> CalendarYearRow | None:
    return session.get(CalendarYearRow, year)
