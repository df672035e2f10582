"""docs/examples/push_application.py works against a live server (real HTTP, real DB)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

from tests import factories
from workflow.services import clock, tokens

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docs/examples/push_application.py"


def test_the_example_pushes_an_application_and_a_quarter(
        app: Any, world: factories.World, tmp_path: Path) -> None:
    base_id = factories.approved(world, "hubei_applicant2")
    clock.freeze(datetime(2006, 4, 20, 2, tzinfo=UTC))  # after Q1, before the deadline
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        token = tokens.create(world.uow(), world.id("hubei_applicant2"), "省平台").token
        for name in ("form.pdf", "plan.pdf"):
            (tmp_path / name).write_bytes(factories.PDF)
        env = {**os.environ, "API_URL": f"http://127.0.0.1:{server.server_port}",
               "API_TOKEN": token}
        run = subprocess.run(
            [sys.executable, str(SCRIPT), "--form", str(tmp_path / "form.pdf"),
             "--plan", str(tmp_path / "plan.pdf"), "--base-id", str(base_id)],
            env=env, capture_output=True, text=True, timeout=60, check=False)
        assert run.returncode == 0, run.stdout + run.stderr
        result = json.loads(run.stdout.strip().splitlines()[-1])
        assert result["state"] == "provincially_reviewed"
        assert result["quarter"] == {"year": 2006, "quarter": 1, "revision": 1}
        # a refusal is printed field by field, exit 1
        bad = subprocess.run(
            [sys.executable, str(SCRIPT), "--form", str(tmp_path / "form.pdf"),
             "--plan", str(SCRIPT), "--base-id", str(base_id)],
            env=env, capture_output=True, text=True, timeout=60, check=False)
        assert bad.returncode == 1 and "file: unsupported_type" in bad.stderr
    finally:
        server.shutdown()
        thread.join(5)
        clock.freeze(None)
