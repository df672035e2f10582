"""Transitions per second: the service layer against raw psycopg and pgbench.

Every firing is `keep_designation` (复评保留) on a re-evaluated base: a real transition
through `workflow.services.cases.fire` (guards, eligibility snapshot, history row), and
the ceiling runs the same transaction by hand — UPDATE … WHERE id AND version, INSERT
the history row, COMMIT. The two alternate in short rounds so a noisy neighbour on the
machine slows both alike; the figure is total transitions ÷ total time of each.

A third loop, interleaved with them, sends the service's own two statements (the case's
loader and the version-checked write with its history row and audit record, compiled
from the same Core statements) through psycopg with fixed values and no Python around
them: what the database work of a transition as the product records it costs, so the
report can say how much of the gap to the ceiling is the client code and how much is
the statements themselves.
"""

from __future__ import annotations

import hashlib
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
from workflow.storage.audit_repo import GENESIS

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


class SameStatements:
    """The service's read and write of `keep_designation` as SQL text and fixed values."""

    CHANGES = ("state", "due_on", "next_reminder_on", "updated_at", "state_changed_at")
    HISTORY = ("application_id", "version", "trigger", "from_state", "to_state", "actor_id",
               "actor_role", "actor_name", "on_behalf_of_id", "on_behalf_of_name", "reason",
               "at", "eligibility", "data")
    AUDIT = ("chain", "prev_hash", "hash", "at", "utc_offset", "actor_id", "actor_name",
             "actor_role", "on_behalf_of_id", "ip", "event", "object_type", "object_id",
             "result", "details")

    def __init__(self, world: World, eligibility: str) -> None:
        from sqlalchemy.dialects import postgresql

        from workflow.storage import cases_repo

        dialect = postgresql.psycopg.dialect()  # type: ignore[attr-defined]
        self.read, _ = cases_repo._compiled_once(cases_repo._read_statement("postgresql"),
                                                 dialect)
        write = cases_repo._write_statements(True, self.CHANGES, self.HISTORY, self.AUDIT)[0]
        self.write, _ = cases_repo._compiled_once(write, dialect)
        self.world, self.eligibility = world, psycopg.types.json.Jsonb(json.loads(eligibility))
        columns = list(cases_repo._read_statement("postgresql").selected_columns.keys())
        self.version_at = columns.index("app_version")

    def fire(self, conn: psycopg.Connection, i: int) -> None:
        w, chain = self.world, f"application:{i}"
        row = conn.execute(self.read, {"app_id": i, "user_id": w.ministry_id,
                                       "today": NOW.date(), "audit_chain": chain}).fetchone()
        assert row is not None
        version, head = row[self.version_at], row[-1]
        jsonb = psycopg.types.json.Jsonb
        params = {
            "app_id": i, "version": version, "new_version": version + 1,
            "chain_key": int.from_bytes(hashlib.sha256(chain.encode()).digest()[:8], "big",
                                        signed=True),
            "c_state": "re_evaluated", "c_due_on": None, "c_next_reminder_on": NOW.date(),
            "c_updated_at": NOW, "c_state_changed_at": NOW,
            "h_application_id": i, "h_version": version + 1, "h_trigger": "keep_designation",
            "h_from_state": "re_evaluated", "h_to_state": "re_evaluated",
            "h_actor_id": w.ministry_id, "h_actor_role": "ministry_reviewer",
            "h_actor_name": "bench_mofcom", "h_on_behalf_of_id": None,
            "h_on_behalf_of_name": None, "h_reason": None, "h_at": NOW,
            "h_eligibility": self.eligibility,
            "h_data": jsonb({"deadline": None, "notice_ends_on": None}),
            "a_chain": chain, "a_prev_hash": head or GENESIS,
            "a_hash": hashlib.sha256(f"{chain}:{version}:{head}".encode()).hexdigest(),
            "a_at": NOW, "a_utc_offset": "+08:00", "a_actor_id": w.ministry_id,
            "a_actor_name": "bench_mofcom", "a_actor_role": "ministry_reviewer",
            "a_on_behalf_of_id": None, "a_ip": None, "a_event": "case_action",
            "a_object_type": "application", "a_object_id": str(i), "a_result": "ok",
            "a_details": jsonb({"trigger": "keep_designation", "from": "re_evaluated",
                                "to": "re_evaluated", "version": version + 1})}
        if conn.execute(self.write, params).fetchone() is None:
            raise RuntimeError("version conflict in the same-statements benchmark")


def _same(conn: psycopg.Connection, same: SameStatements, ids: Iterator[int], n: int) -> float:
    t = time.perf_counter()
    for _ in range(n):
        same.fire(conn, next(ids))
    return time.perf_counter() - t


def service_vs_raw(world: World, total: int, rounds: int = 10) -> dict[str, float]:
    """Transitions/s at one client: the service layer, raw psycopg and the service's own
    statements sent by psycopg, interleaved."""
    lo, hi = world.pool
    third = (hi - lo + 1) // 3
    svc_ids, raw_ids = range(lo, lo + third), range(lo + third, lo + 2 * third)
    same_ids = range(lo + 2 * third, hi + 1)
    sv, rv = Versions(world.url, svc_ids), Versions(world.url, raw_ids)
    s_it, r_it, m_it = sv.cycle(), rv.cycle(), Versions(world.url, same_ids).cycle()
    per = max(1, total // rounds)
    with psycopg.connect(psycopg_url(world.url)) as conn, \
            psycopg.connect(psycopg_url(world.url), autocommit=True) as own:
        _service(world, sv, s_it, min(50, per))  # warm: imports, pool, statement cache
        _raw(conn, world, rv, r_it, min(50, per))
        same = SameStatements(world, _an_eligibility_snapshot(conn, svc_ids))
        _same(own, same, m_it, min(50, per))
        s_time = r_time = m_time = 0.0
        for _ in range(rounds):
            s_time += _service(world, sv, s_it, per)
            r_time += _raw(conn, world, rv, r_it, per)
            m_time += _same(own, same, m_it, per)
    n = per * rounds
    svc, raw, stmts = n / s_time, n / r_time, n / m_time
    return {"service_tps": svc, "raw_tps": raw, "ratio": svc / raw,
            "statements_tps": stmts, "statements_ratio": stmts / raw,
            "service_of_statements": svc / stmts}


def _an_eligibility_snapshot(conn: psycopg.Connection, ids: range) -> str:
    """The eligibility snapshot the service layer just wrote for one of its cases (JSON)."""
    row = conn.execute("SELECT eligibility::text FROM transition_history WHERE "
                       "application_id BETWEEN %s AND %s AND trigger = 'keep_designation' "
                       "ORDER BY id DESC LIMIT 1", (ids.start, ids.stop - 1)).fetchone()
    conn.rollback()
    return row[0] if row else "[]"


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
