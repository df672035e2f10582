"""Request ids and one JSON access line per request (see config/logs.py)."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

from config import logs

log = logging.getLogger("web.access")


def init_app(app: Flask) -> None:
    """X-Request-ID in (or a new one), the same id out, on every log line and task."""
    if not app.testing:
        logs.configure("web")

    @app.before_request
    def _start() -> None:
        g.request_id = logs.new_request_id(request.headers.get("X-Request-ID"))
        g.request_token = logs.request_id.set(g.request_id)
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        rid = g.get("request_id")
        if rid:
            response.headers["X-Request-ID"] = rid
            if log.isEnabledFor(logging.INFO):  # LOG_LEVEL=WARNING: no access lines
                req = request._get_current_object()  # type: ignore[attr-defined]
                elapsed = time.perf_counter() - g.get("request_started", time.perf_counter())
                log.info("%s %s %s", req.method, req.path, response.status_code,
                         extra={"method": req.method, "path": req.path,
                                "status": response.status_code,
                                "ms": round(elapsed * 1000, 1), "ip": req.remote_addr})
        return response

    @app.teardown_request
    def _reset(_exc: BaseException | None) -> None:
        token = g.pop("request_token", None)
        if token is not None:
            logs.request_id.reset(token)
