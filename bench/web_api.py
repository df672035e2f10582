"""Transitions through HTTP under gunicorn: the real API against a bare Flask endpoint.

Both run under the same gunicorn settings as the Procfile (sync workers,
WEB_CONCURRENCY=2). Clients are threads, each owning its own cases and remembering
their versions, like a reviewer's browser; requests are one per connection (sync
workers do not keep connections alive).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.data import World, psycopg_url
from bench.transitions import Versions

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = ["--workers", os.environ.get("WEB_CONCURRENCY", "2"), "--worker-class", "sync",
            "--graceful-timeout", "30", "--log-level", "warning"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gunicorn(target: str, env: dict[str, str]) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """Run `gunicorn target` on a free loopback port until the block ends."""
    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}",
         *GUNICORN, target], cwd=ROOT, env={**os.environ, **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode()[-800:] if proc.stderr else ""
                    raise RuntimeError(f"gunicorn {target} did not start: {err}") from None
                time.sleep(0.1)
        yield port, proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=35)
        except subprocess.TimeoutExpired:
            proc.kill()


def worker_rss_kb(master: subprocess.Popen[bytes]) -> list[int]:
    """Resident memory of each gunicorn worker (children of the master), in KB."""
    out = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)
        if fields.get("PPid", "").strip() == str(master.pid):
            out.append(int(fields.get("VmRSS", "0 kB").split()[0]))
    return out


def workers_cpu_seconds(master: subprocess.Popen[bytes]) -> float:
    """User + system CPU time used so far by the gunicorn workers (children of the master)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) "
        if fields[1] == str(master.pid):
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def measured(port: int, master: subprocess.Popen[bytes], world: World, clients: int,
             seconds: float, real_api: bool, headers: dict[str, str],
             ids: range) -> tuple[float, float]:
    """(requests/s, worker CPU milliseconds per request) of one `load`."""
    cpu = workers_cpu_seconds(master)
    requests, elapsed = load_counted(port, world, clients, seconds, real_api, headers, ids)
    return requests / elapsed, (workers_cpu_seconds(master) - cpu) * 1000 / max(requests, 1)


def _post(port: int, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", path, json.dumps(body),
                     {"Content-Type": "application/json", **headers})
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            raise RuntimeError(f"POST {path}: {r.status} {data[:300]!r}")
        return json.loads(data)  # type: ignore[no-any-return]
    finally:
        conn.close()


def load(port: int, world: World, clients: int, seconds: float, real_api: bool,
         headers: dict[str, str], ids: range) -> float:
    """Requests/s with `clients` concurrent clients for `seconds`."""
    requests, elapsed = load_counted(port, world, clients, seconds, real_api, headers, ids)
    return requests / elapsed


def load_counted(port: int, world: World, clients: int, seconds: float, real_api: bool,
                 headers: dict[str, str], ids: range) -> tuple[int, float]:
    """(requests answered, seconds taken) with `clients` concurrent clients."""
    per = len(ids) // clients
    done = [0] * clients
    errors: list[BaseException] = []
    stop = time.monotonic() + seconds

    def client(k: int) -> None:
        mine = range(ids.start + k * per, ids.start + (k + 1) * per)
        versions = Versions(world.url, mine)
        cycle = versions.cycle()
        try:
            while time.monotonic() < stop:
                i = next(cycle)
                if real_api:
                    out = _post(port, f"/api/v1/applications/{i}/transitions",
                                {"trigger": "keep_designation", "version": versions.v[i]},
                                headers)
                else:
                    out = _post(port, f"/tx/{i}", {"version": versions.v[i]}, headers)
                versions.v[i] = out["version"]
                done[k] += 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t
    if errors:
        raise RuntimeError(f"{len(errors)} client(s) failed: {errors[0]}")
    return sum(done), elapsed


def app_env(world: World, instance: Path, broker: str) -> dict[str, str]:
    return {"DATABASE_URL": world.url, "APP_ENV": "development",
            "INSTANCE_PATH": str(instance), "CELERY_BROKER_URL": broker,
            "CELERY_RESULT_BACKEND": broker, "LOG_LEVEL": "WARNING"}


def api_token(world: World) -> str:
    from workflow.services import tokens
    from workflow.storage.uow import UnitOfWork

    return tokens.issue_token(UnitOfWork(world.url), world.ministry_id, name="bench").token


def run(world: World, concurrency: list[int], seconds: float, instance: Path,
        broker: str) -> dict[str, Any]:
    """For each concurrency: API tx/s, bare endpoint tx/s (same gunicorn settings), and
    the CPU time the gunicorn workers spent per request (cpu_ms: steadier than the rates
    on a shared machine)."""
    lo, hi = world.pool
    third = (hi - lo + 1) // 3
    api_ids, bare_ids = range(lo, lo + third), range(lo + third, lo + 2 * third)
    token = api_token(world)
    out: dict[str, Any] = {"api": {}, "bare": {}, "rss_kb": {},
                           "cpu_ms": {"api": {}, "bare": {}}}
    auth = {"Authorization": f"Bearer {token}"}
    with gunicorn("web.wsgi:app", app_env(world, instance, broker)) as (port, master):
        # warm every worker (one client may keep hitting the same one, leaving the other
        # to pay its first-request costs inside a measured point)
        load(port, world, max(concurrency), min(2.0, seconds), True, auth, api_ids)
        out["rss_kb"]["api_before"] = worker_rss_kb(master)
        for c in concurrency:
            out["api"][c], out["cpu_ms"]["api"][c] = measured(
                port, master, world, c, seconds, True, auth, api_ids)
        out["rss_kb"]["api_after"] = worker_rss_kb(master)
    bare_env = {"BENCH_PG": psycopg_url(world.url), "BENCH_ACTOR": str(world.ministry_id)}
    with gunicorn("bench.bare_app:app", bare_env) as (port, master):
        load(port, world, max(concurrency), min(2.0, seconds), False, {}, bare_ids)
        for c in concurrency:
            out["bare"][c], out["cpu_ms"]["bare"][c] = measured(
                port, master, world, c, seconds, False, {}, bare_ids)
    return out
