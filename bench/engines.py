"""Figures of engines other engineers own: the reminder scan and the assessment run.

Each is measured only once its service exists (`workflow.services.reminders.scan`,
`workflow.services.assessment`); until then the figure is reported as skipped with why.
"""

from __future__ import annotations

import importlib
import inspect
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event

from bench.data import World

SCAN_NOW = datetime(2006, 4, 20, 1, tzinfo=UTC)  # a working morning of the 2006 round


def _find(module: str, names: tuple[str, ...]) -> Callable[..., Any] | str:
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        return f"skipped: {module} does not exist yet ({exc.name})"
    for name in names:
        fn = getattr(mod, name, None)
        if callable(fn):
            return fn  # type: ignore[no-any-return]
    return f"skipped: {module} has none of {', '.join(names)}"


BASE_URL = "http://127.0.0.1:8000"  # where the benchmark's reminders would link


def _call(fn: Callable[..., Any], world: World, now: datetime) -> Any:
    from workflow.storage.uow import UnitOfWork

    params = inspect.signature(fn).parameters
    kw: dict[str, Any] = {}
    for name in ("now", "at"):
        if name in params:
            kw[name] = now
    if "period" in params:
        kw["period"] = now.year - 1
    if "base_url" in params:  # the caller's settings give it (the reminders' links)
        kw["base_url"] = BASE_URL
    return fn(UnitOfWork(world.url), **kw)


class StatementCounter:
    """Counts SQL statements sent on the benchmark database's engine."""

    def __init__(self, url: str) -> None:
        from workflow.storage.db import get_engine

        self.engine = get_engine(url)
        self.count = 0

    def _on(self, *_: Any) -> None:
        self.count += 1

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *_: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._on)


def replan(world: World) -> None:
    """Let the reminder engine plan the current round's cases (COPY bypassed it)."""
    fn = _find("workflow.services.reminders", ("replan",))
    if isinstance(fn, str):  # without it the scan would time cases it never looks at
        raise RuntimeError(fn)
    from workflow.storage.uow import UnitOfWork

    fn(UnitOfWork(world.url), 2006, at=SCAN_NOW)


def scan_clock_jump(world: World, repeat: int = 2) -> dict[str, Any]:
    """Seconds for the reminder scan at SCAN_NOW and twenty years later, each right after
    a replan (every open case of the round due for a look): a scan after a long gap costs
    what today's does (best of `repeat`, interleaved)."""
    fn = _find("workflow.services.reminders", ("scan",))
    if isinstance(fn, str):
        raise RuntimeError(fn)
    from workflow.services.reminders import replan as replan_round
    from workflow.storage.uow import UnitOfWork

    later = SCAN_NOW.replace(year=SCAN_NOW.year + 20)
    best = {"now": float("inf"), "plus_20_years": float("inf")}
    for _ in range(repeat):
        for label, at in (("now", SCAN_NOW), ("plus_20_years", later)):
            replan_round(UnitOfWork(world.url), 2006, at=at)
            t = time.perf_counter()
            _call(fn, world, at)
            best[label] = min(best[label], time.perf_counter() - t)
    replan(world)  # as it was: the other figures scan at SCAN_NOW
    return {**best, "ratio": best["plus_20_years"] / best["now"]}


def reminder_scan(world: World) -> dict[str, Any]:
    """Seconds for one reminder scan over the whole database (best of 3; the first
    writes the day's reminders, the next find them written — both are real scans)."""
    fn = _find("workflow.services.reminders", ("scan",))
    if isinstance(fn, str):
        return {"note": fn}
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        _call(fn, world, SCAN_NOW)
        best = min(best, time.perf_counter() - t)
    return {"seconds": best}
