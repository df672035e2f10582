"""GET /healthz: database, broker and a worker round trip, each 'ok' or what is wrong."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify

from workflow.services import health

bp = Blueprint("health", __name__)


def _broker_ok(timeout: float) -> str:
    with current_app.extensions["celery"].connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=timeout)
    return "ok"


def _worker_ok(timeout: float) -> str:
    from tasks.health import ping

    result = ping.apply_async(expires=timeout + 5)
    try:
        answer = result.get(timeout=timeout, disable_sync_subtasks=False)
    finally:
        result.forget()
    return "ok" if answer == "pong" else f"unexpected answer {answer!r}"


@bp.get("/healthz")
def healthz() -> Any:
    from web.extensions import uow

    out: dict[str, str] = {}
    try:
        health.database_ok(uow())
        out["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - report, never crash
        out["database"] = f"error: {type(exc).__name__}"
    try:
        out["broker"] = _broker_ok(3)
    except Exception as exc:  # noqa: BLE001
        out["broker"] = f"error: {type(exc).__name__}"
    if out["broker"] == "ok":
        try:
            out["worker"] = _worker_ok(float(current_app.config.get("HEALTH_WORKER_TIMEOUT", 5)))
        except Exception as exc:  # noqa: BLE001
            out["worker"] = f"error: no answer ({type(exc).__name__})"
    else:
        out["worker"] = "unknown: broker unreachable"
    ok = all(v == "ok" for v in out.values())
    body = {**out, "status": "ok" if ok else "degraded"}
    return jsonify(body), 200 if ok else 503
