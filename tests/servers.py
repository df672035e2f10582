"""The web app as deployed, for tests that need a real server: gunicorn with the
Procfile's two sync workers, on a free loopback port, against the test database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status == 200
    except (OSError, urllib.error.URLError):
        return False


@contextmanager
def gunicorn(db_url: str, tmp_path: Path, workers: int = 2, **env: str) -> Iterator[str]:
    """The base URL of gunicorn serving `web.wsgi:app` on `db_url` (stopped afterwards)."""
    port = free_port()
    log = tmp_path / "gunicorn.log"
    full = {**os.environ, "APP_ENV": "test", "DATABASE_URL": db_url,
            "INSTANCE_PATH": str(tmp_path / "instance"), "UPLOAD_DIR": str(tmp_path / "up"),
            "CELERY_BROKER_URL": "memory://", "CELERY_RESULT_BACKEND": "cache+memory://",
            "RATELIMIT_STORAGE_URI": "memory://", "PORT": str(port), **env}
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(GUNICORN), "--bind", f"127.0.0.1:{port}", "--workers",
                                 str(workers), "--graceful-timeout", "30", "web.wsgi:app"],
                                cwd=ROOT, env=full, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while not _answers(f"{base}/login"):
            assert proc.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, "gunicorn did not start: " + log.read_text()
            time.sleep(0.3)
        for _ in range(10):  # every worker past its first request
            _answers(f"{base}/login")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
