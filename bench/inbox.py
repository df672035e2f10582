"""Inbox page latency: the query behind /inbox (`cases.list_applications`, waiting on me)."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime

from bench.data import World

NOW = datetime(2006, 4, 20, 2, tzinfo=UTC)


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 of `samples` (ms)."""
    qs = statistics.quantiles(samples, n=20, method="inclusive")
    return statistics.median(samples), qs[18]


def inbox_latency(world: World, user_ids: list[int], calls: int) -> dict[str, float]:
    """p50/p95 (ms) of the first inbox page, over `calls` calls spread across `user_ids`."""
    from workflow.services import cases
    from workflow.storage.db import session_factory
    from workflow.storage.uow import UnitOfWork

    factory = session_factory(world.url)
    for uid in user_ids:  # warm
        cases.list_applications(UnitOfWork(factory=factory), uid, waiting_on_me=True, now=NOW)
    samples = []
    for k in range(calls):
        uid = user_ids[k % len(user_ids)]
        t = time.perf_counter()
        page = cases.list_applications(UnitOfWork(factory=factory), uid, waiting_on_me=True,
                                       now=NOW)
        samples.append((time.perf_counter() - t) * 1000)
        assert page.total >= 0
    p50, p95 = percentiles(samples)
    return {"p50_ms": p50, "p95_ms": p95}
