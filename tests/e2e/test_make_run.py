"""`make run` brings up web + worker + beat, /healthz turns 200, and Ctrl-C stops all three.

Runs the README's first command for real (embedded SQLite database and broker), and again
against PostgreSQL + Redis when those servers are here.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
STARTUP_LIMIT = 180  # seconds: the "within three minutes"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _health(port: int) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


IDLE_SECONDS = 150  # how long the log is watched with nobody using the system


def _run_make(env_extra: dict[str, str], tmp_path: Path, idle: bool = False) -> None:
    port = _free_port()
    env = {**os.environ, **env_extra, "PORT": str(port), "INSTANCE_PATH": str(tmp_path),
           "HEALTH_WORKER_TIMEOUT": "10"}
    for name in ("APP_NOW", "HOST", "BASE_URL", "LOG_LEVEL"):
        env.pop(name, None)
    log = open(tmp_path / "make-run.log", "w+")  # noqa: SIM115 - read back below
    proc = subprocess.Popen(["make", "-s", "run"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + STARTUP_LIMIT
        status, body = 0, {}
        while time.monotonic() < deadline:
            try:
                status, body = _health(port)
            except (urllib.error.URLError, ConnectionError, OSError):
                status, body = 0, {}
            if status == 200:
                break
            assert proc.poll() is None, (tmp_path / "make-run.log").read_text()[-3000:]
            time.sleep(2)
        output = (tmp_path / "make-run.log").read_text()
        assert status == 200, f"/healthz never turned 200: {status} {body}\n{output[-3000:]}"
        for _ in range(60):  # the banner polls /healthz on its own: it may be a moment behind
            if "Demo logins" in output:
                break
            time.sleep(1)
            output = (tmp_path / "make-run.log").read_text()
        assert body["database"] == body["broker"] == body["worker"] == "ok"
        assert "Demo-2006-pass" in output and f":{port}" in output  # URL and logins printed
        for name in ("web.1", "worker.1", "beat.1"):
            assert name in output, f"{name} did not start\n{output[-2000:]}"
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10).read()
        assert "登录".encode() in page
        # the URL and logins come last, once healthy: nothing of start-up scrolls them away
        banner = output.index("Demo logins")
        assert "Celery" not in output[banner:] and "transitions.core" not in output
        assert "127.0.0.1:" in output and "0.0.0.0" not in output  # HOST unset: loopback only
        if idle:  # idle, the three processes write at most a line a minute
            time.sleep(5)
            log.flush()
            before = len((tmp_path / "make-run.log").read_text().splitlines())
            time.sleep(IDLE_SECONDS)
            log.flush()
            lines = (tmp_path / "make-run.log").read_text().splitlines()[before:]
            assert len(lines) <= IDLE_SECONDS / 60 + 1, "\n".join(lines)
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does to the foreground group
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("make run did not stop on Ctrl-C within 60 s")
        finally:
            log.close()
    # honcho returns once its three children are gone; a worker's pool process may take a
    # moment more to exit: none may still be there ten seconds later
    for _ in range(20):
        leftover = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True,
                                  text=True).stdout.split()
        if not leftover:
            break
        time.sleep(0.5)
    described = subprocess.run(["ps", "-o", "pid=,args=", "-p", ",".join(leftover) or "0"],
                               capture_output=True, text=True).stdout if leftover else ""
    assert not leftover, f"processes survived Ctrl-C:\n{described}"


def test_make_run_on_the_embedded_defaults(tmp_path: Path) -> None:
    env = {k: "" for k in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")}
    _run_make(env, tmp_path, idle=True)
    assert (tmp_path / "app.db").exists() and (tmp_path / "broker.db").exists()


def test_make_run_on_postgresql_and_redis(tmp_path: Path, own_pg: str, redis_url: str) -> None:
    _run_make({"DATABASE_URL": own_pg, "CELERY_BROKER_URL": redis_url.rsplit("/", 1)[0] + "/5",
               "CELERY_RESULT_BACKEND": ""}, tmp_path)
