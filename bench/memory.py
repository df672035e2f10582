"""A worker's memory across many transitions: nothing per case may stay alive."""

from __future__ import annotations

from pathlib import Path

from bench.data import World
from bench.transitions import Versions, _service


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def across_transitions(world: World, total: int, samples: int = 5) -> dict[str, object]:
    """RSS (KB) after a warm-up and after each 1/`samples` of `total` service-layer
    transitions, in this process (the same code path as a web worker's request)."""
    lo, hi = world.pool
    versions = Versions(world.url, range(lo, hi + 1))
    it = versions.cycle()
    _service(world, versions, it, min(500, total))
    base = rss_kb()
    points = []
    step = max(1, total // samples)
    for _ in range(samples):
        _service(world, versions, it, step)
        points.append(rss_kb())
    return {"transitions": step * samples, "rss_start_kb": base, "rss_points_kb": points,
            "growth_kb": points[-1] - base}
