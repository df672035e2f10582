"""The stack ceiling: a bare Flask endpoint doing the transition's transaction by hand.

Served by gunicorn with the same settings as the real app (`bench.bare_app:app`). No
auth, no validation, no domain: one psycopg connection per worker, UPDATE-with-version +
INSERT history + COMMIT, JSON out.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

import psycopg
from flask import Flask, jsonify, request

from bench.transitions import INSERT, UPDATE

app = Flask(__name__)
_conn: psycopg.Connection | None = None


def _db() -> psycopg.Connection:
    global _conn
    if _conn is None or _conn.closed:
        _conn = psycopg.connect(os.environ["BENCH_PG"])
    return _conn


@app.post("/tx/<int:app_id>")
def fire(app_id: int) -> Any:
    version = int(request.get_json()["version"])
    now = datetime.now(UTC)
    conn = _db()
    with conn.transaction():
        cur = conn.execute(UPDATE, ("re_evaluated", now, now, app_id, version))
        if cur.rowcount != 1:
            return jsonify({"error": "version_conflict"}), 409
        conn.execute(INSERT, (app_id, version + 1, int(os.environ["BENCH_ACTOR"]), now,
                              json.dumps([]), "{}"))
    return jsonify({"id": app_id, "state": "re_evaluated", "version": version + 1})
