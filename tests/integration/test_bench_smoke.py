"""`python -m bench --smoke`: every figure of docs/benchmarks.md is still produced
(tiny sizes; the full run is not a pass/fail test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


def test_the_smoke_benchmark_produces_every_figure(pg_server: str, redis_url: str,
                                                   tmp_path: Path) -> None:
    db = pg_server.rsplit("/", 1)[0] + "/" + pg_server.rsplit("/", 1)[1] + "_bench"
    out, raw = tmp_path / "benchmarks.md", tmp_path / "bench.json"
    broker = redis_url.rsplit("/", 1)[0] + "/10"
    try:
        run = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--db-url", db,
                              "--broker", broker, "--out", str(out), "--json", str(raw)],
                             cwd=ROOT, capture_output=True, text=True, timeout=600)
    finally:
        import psycopg

        with psycopg.connect(pg_server.replace("+psycopg", "").rsplit("/", 1)[0]
                             + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db.rsplit("/", 1)[1]}" WITH (FORCE)')
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    r = json.loads(raw.read_text())
    assert r["service_vs_raw"]["service_tps"] > 0 and r["service_vs_raw"]["raw_tps"] > 0
    # the service's own statements by psycopg: the figure that says how much of the gap to
    # the ceiling is the statements themselves
    assert r["service_vs_raw"]["statements_tps"] > 0
    assert "the service's own two statements by psycopg" in out.read_text()
    for c in r["clients"]:
        c = str(c)
        assert r["http"]["api"][c] > 0 and r["http"]["bare"][c] > 0 and r["pgbench"][c] > 0
    # a figure, never a note saying it was skipped (a renamed service must fail here)
    for n in r["sizes"]:
        assert r["scan"][str(n)].get("seconds", 0) > 0, r["scan"][str(n)]
    jump = r["scan_jump"]  # the scan twenty years on, beside the scan now
    assert jump["now"] > 0 and jump["plus_20_years"] > 0 and jump["ratio"] > 0, jump
    assert "reminder scan at now + 20 years vs at now" in out.read_text()
    assert r["assessment"].get("bases_per_s", 0) > 0, r["assessment"]
    assert r["inbox_small"]["p95_ms"] > 0 and r["inbox_large"]["p95_ms"] > 0
    assert r["celery_noop"] > 0
    assert r["reminder_delivery"].get("per_s", 0) > 0, r["reminder_delivery"]
    assert '"note"' not in raw.read_text(), "a benchmark gave a note instead of its figure"
    assert len(r["memory"]["rss_points_kb"]) == 5
    text = out.read_text()
    assert "## Summary against the targets" in text and "Command: `python -m bench" in text
