"""GET /metrics in Prometheus format, for loopback or a bearer token (METRICS_TOKEN).

Requests by route and status with latency histograms, transitions by trigger and
outcome (reported by `cases.fire` itself through workflow/services/observe.py, in the
web app and the worker alike), the outbox's depth and the age of its oldest unsent message, Celery task
outcomes (counted in the workers, see tasks/observe.py), reminder-scan and assessment
durations. Under gunicorn (several processes) set PROMETHEUS_MULTIPROC_DIR to an empty
directory shared by the web and worker processes of a host: every process writes there
and this endpoint adds them up.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from workflow.services import observe

bp = Blueprint("metrics", __name__)
LOOPBACK = {"127.0.0.1", "::1"}

REQUESTS = Counter("eib_http_requests_total", "HTTP requests by route, method and status",
                   ["route", "method", "status"])
LATENCY = Histogram("eib_http_request_seconds", "HTTP request latency by route",
                    ["route", "method"],
                    buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
TRANSITIONS = Counter("eib_transitions_total",
                      "Triggers fired (outcome=fired) or refused (outcome=the refusal code)",
                      ["trigger", "outcome"])
TASKS = Counter("eib_tasks_total", "Celery tasks by name and outcome "
                "(success, failure, retry)", ["task", "outcome"])
TASK_SECONDS = Histogram("eib_task_seconds", "Celery task run time", ["task"],
                         buckets=(.01, .05, .1, .5, 1, 5, 15, 60, 300, 1800))
SCAN_SECONDS = Histogram("eib_reminder_scan_seconds", "Reminder scan duration",
                         buckets=(.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60))
ASSESSMENT_SECONDS = Histogram("eib_assessment_seconds", "Assessment run duration",
                               buckets=(1, 5, 15, 60, 300, 900, 1800, 3600))


class OutboxCollector(Collector):
    """Outbox depth and the age of the oldest unsent message, and the same for webhook
    deliveries, read at scrape time."""

    def __init__(self, url_of: Any) -> None:
        self.url_of = url_of

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from workflow.services import ops
        from workflow.storage.uow import UnitOfWork

        depth = GaugeMetricFamily("eib_outbox_depth", "Messages waiting to be sent")
        age = GaugeMetricFamily("eib_outbox_oldest_unsent_seconds",
                                "Age of the oldest unsent message (0 when none)")
        backlog = ops.outbox_backlog(UnitOfWork(self.url_of()))
        depth.add_metric([], backlog.depth)
        age.add_metric([], backlog.oldest_seconds)
        yield depth
        yield age
        hooks = ops.webhook_backlog(UnitOfWork(self.url_of()))
        waiting = GaugeMetricFamily(
            "eib_webhook_deliveries", "Webhook deliveries not delivered yet, by status "
            "(pending, sending, failed = awaiting a retry, dead = gave up)", labels=["status"])
        for status, count in hooks.by_status.items():
            waiting.add_metric([status], count)
        yield waiting
        oldest = GaugeMetricFamily("eib_webhook_oldest_undelivered_seconds",
                                   "Age of the oldest webhook delivery still to go out "
                                   "(0 when none)")
        oldest.add_metric([], hooks.oldest_seconds)
        yield oldest


def count_call(call: observe.Call) -> None:
    """Count a transition by trigger and outcome: fired, or the refusal's code. Registered
    by the web app (`init_app`) and by the worker (tasks/observe.py) alike."""
    if call.operation == "transition":
        outcome = "fired" if call.outcome == observe.OK else call.outcome
        TRANSITIONS.labels(call.subject, outcome).inc()


def registry(app: Flask) -> CollectorRegistry:
    """What /metrics serves: this process, or every process of the host (multiprocess)."""
    reg = app.extensions.get("eib_metrics_registry")
    if reg is None:
        if app.config["SETTINGS"].prometheus_multiproc_dir:
            from prometheus_client import multiprocess

            reg = CollectorRegistry()
            multiprocess.MultiProcessCollector(reg)
        else:
            reg = CollectorRegistry()
            for collector in (REQUESTS, LATENCY, TRANSITIONS, TASKS, TASK_SECONDS,
                              SCAN_SECONDS, ASSESSMENT_SECONDS):
                reg.register(collector)
        reg.register(OutboxCollector(lambda: app.config["DATABASE_URL"]))
        app.extensions["eib_metrics_registry"] = reg
    return reg  # type: ignore[no-any-return]


def _allowed() -> bool:
    token = current_app.config["SETTINGS"].metrics_token
    if token:
        given = request.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return True
    return request.remote_addr in LOOPBACK


@bp.get("/metrics")
def metrics() -> Response:
    if not _allowed():
        abort(404)  # say nothing about what is here
    body = generate_latest(registry(current_app))
    return Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST,
                                   "Cache-Control": "no-store"})


def init_app(app: Flask) -> None:
    observe.add_observer(count_call)
    app.register_blueprint(bp)
    from web.extensions import csrf

    csrf.exempt(bp)

    @app.before_request
    def _start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.pop("metrics_started", None)
        req = request._get_current_object()  # type: ignore[attr-defined]
        rule = req.url_rule.rule if req.url_rule else "unmatched"
        if started is not None and rule != "/metrics":
            count, latency = _children(rule, req.method, response.status_code)
            count.inc()
            latency.observe(time.perf_counter() - started)
        return response


# (route, method, status) -> the two labelled series a request updates: looking them up
# by labels validates and locks on every request; the series themselves never change
_CHILDREN: dict[tuple[str, str, int], tuple[Any, Any]] = {}
_CHILDREN_MAX = 5_000  # routes × methods × statuses; unknown methods are not kept


def _children(rule: str, method: str, status: int) -> tuple[Any, Any]:
    key = (rule, method, status)
    found = _CHILDREN.get(key)
    if found is None:
        found = (REQUESTS.labels(rule, method, str(status)), LATENCY.labels(rule, method))
        if len(_CHILDREN) < _CHILDREN_MAX:
            _CHILDREN[key] = found
    return found
