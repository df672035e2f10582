"""Transitions per second: the service layer against raw psycopg and pgbench.

Every firing is `keep_designation` (复评保留) on a re-evaluated base: a real transition
through `workflow.services.cases.fire` (guards, eligibility snapshot, history row), and
the ceiling runs the same transaction by hand — UPDATE … WHERE id AND version, INSERT
the history row, COMMIT. The two alternate in short rounds so a noisy neighbour on the
machine slows both alike; the figure is total transitions ÷ total time of each.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg

from bench.data import World, psycopg_url

NOW = datetime(2007, 1, 15, 2, tzinfo=UTC)  # the day of the 2006 re-evaluation
UPDATE = ("UPDATE applications SET state = %s, state_changed_at = %s, updated_at = %s, "
          "due_on = NULL, version = version + 1 WHERE id = %s AND version = %s")
INSERT = ("INSERT INTO transition_history (application_id, version, trigger, from_state, "
          "to_state, actor_id, actor_role, actor_name, reason, at, eligibility, data) "
          "VALUES (%s, %s, 'keep_designation', 're_evaluated', 're_evaluated', %s, "
          "'ministry_reviewer', 'bench_mofcom', NULL, %s, %s, %s) RETURNING id")
PGBENCH_SCRIPT = """\\set id random({lo}, {hi})
BEGIN;
UPDATE applications SET state = 're_evaluated', state_changed_at = now(), updated_at = now(), due_on = NULL, version = version + 1 WHERE id = :id RETURNING version AS v \\gset
INSERT INTO transition_history (application_id, version, trigger, from_state, to_state, actor_id, actor_role, actor_name, at, eligibility, data) VALUES (:id, :v, 'keep_designation', 're_evaluated', 're_evaluated', {actor}, 'ministry_reviewer', 'bench_mofcom', now(), '[]', '{{}}');
END;
"""


class Versions:
    """What a client remembers about the cases it owns: id -> current version."""

    def __init__(self, url: str, ids: range) -> None:
        with psycopg.connect(psycopg_url(url)) as conn:
            rows = conn.execute("SELECT id, version FROM applications WHERE id BETWEEN %s "
                                "AND %s", (ids.start, ids.stop - 1)).fetchall()
        self.v: dict[int, int] = dict(rows)
        self._ids = list(ids)

    def cycle(self) -> Iterator[int]:
        while True:
            yield from self._ids


def _service(world: World, versions: Versions, ids: Iterator[int], n: int) -> float:
    from workflow.services import cases
    from workflow.storage.db import session_factory
    from workflow.storage.uow import UnitOfWork

    factory = session_factory(world.url)
    t = time.perf_counter()
    for _ in range(n):
        i = next(ids)
        fired = cases.fire(UnitOfWork(factory=factory), world.ministry_id, i,
                           "keep_designation", versions.v[i], now=NOW)
        versions.v[i] = fired.version
    return time.perf_counter() - t


def _raw(conn: psycopg.Connection, world: World, versions: Versions, ids: Iterator[int],
         n: int) -> float:
    eligibility = json.dumps([])
    t = time.perf_counter()
    for _ in range(n):
        i = next(ids)
        v = versions.v[i]
        with conn.transaction():
            cur = conn.execute(UPDATE, ("re_evaluated", NOW, NOW, i, v))
            if cur.rowcount != 1:
                raise RuntimeError("version conflict in the raw benchmark")
            conn.execute(INSERT, (i, v + 1, world.ministry_id, NOW, eligibility, "{}"))
        versions.v[i] = v + 1
    return time.perf_counter() - t


def service_vs_raw(world: World, total: int, rounds: int = 10) -> dict[str, float]:
    """Transitions/s at one client: the service layer and raw psycopg, interleaved."""
    lo, hi = world.pool
    half = (hi - lo + 1) // 2
    svc_ids, raw_ids = range(lo, lo + half), range(lo + half, hi + 1)
    sv, rv = Versions(world.url, svc_ids), Versions(world.url, raw_ids)
    s_it, r_it = sv.cycle(), rv.cycle()
    per = max(1, total // rounds)
    with psycopg.connect(psycopg_url(world.url)) as conn:
        _service(world, sv, s_it, min(50, per))  # warm: imports, pool, statement cache
        _raw(conn, world, rv, r_it, min(50, per))
        s_time = r_time = 0.0
        for _ in range(rounds):
            s_time += _service(world, sv, s_it, per)
            r_time += _raw(conn, world, rv, r_it, per)
    svc, raw = per * rounds / s_time, per * rounds / r_time
    return {"service_tps": svc, "raw_tps": raw, "ratio": svc / raw}


def pgbench(world: World, clients: int, seconds: float) -> float:
    """pgbench running the same UPDATE-with-version + INSERT transaction; tx/s."""
    lo, hi = world.pool
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(PGBENCH_SCRIPT.format(lo=lo, hi=hi, actor=world.ministry_id))
        script = f.name
    try:
        out = subprocess.run(
            ["pgbench", "-n", "-c", str(clients), "-j", str(min(clients, os.cpu_count() or 1)),
             "-T", str(max(1, round(seconds))), "-f", script, psycopg_url(world.url)],
            capture_output=True, text=True, timeout=seconds + 60, check=True)
    finally:
        os.unlink(script)
    m = re.search(r"tps = ([\d.]+)", out.stdout)
    if not m:
        raise RuntimeError(f"pgbench printed no tps: {out.stdout[-300:]} {out.stderr[-300:]}")
    return float(m.group(1))
