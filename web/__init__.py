"""Flask application factory: web UI, JSON API (/api/v1), health and CLI."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Settings, load_settings
from workflow.services import clock
from workflow.storage import db


class App(Flask):
    """Flask, running a view again when it lost its database connection before writing."""

    def dispatch_request(self) -> Any:
        """The view; run again, up to RUNS_AFTER_LOST_CONNECTION more times, when its
        database connection was lost (a killed server process, a restart, a cut) before
        it wrote anything: nothing of it happened, so the caller gets the answer of a
        clean run instead of a 500. A view that may have written is never run again."""
        for run in range(RUNS_AFTER_LOST_CONNECTION + 1):
            writes = db.watch_writes()
            try:
                return super().dispatch_request()
            except Exception as exc:
                if run == RUNS_AFTER_LOST_CONNECTION or not db.lost_before_writing(exc, writes):
                    raise
                self.logger.warning("%s %s lost its database connection before writing "
                                    "anything; running it again (%s)", request.method,
                                    request.path, type(exc.__cause__ or exc).__name__)
                for upload in request.files.values():  # read again from the start
                    upload.stream.seek(0)
        raise AssertionError("unreachable")


RUNS_AFTER_LOST_CONNECTION = 2


def _init_celery(app: Flask, settings: Settings) -> None:
    """The Celery app the web app publishes with (its tasks' nudges, /healthz's broker
    check): made from the web app's own settings, so both use the same broker."""
    from tasks.app import make_celery

    celery = make_celery(settings)
    celery.set_default()  # shared tasks published from any thread of this process use it
    app.extensions["celery"] = celery


def create_app(test_config: dict[str, Any] | None = None,
               settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    app = App(__name__, instance_path=str(settings.instance_path),
              instance_relative_config=True)
    app.config.from_mapping(
        SECRET_KEY=settings.secret_key,
        SETTINGS=settings,
        DATABASE_URL=settings.database_url,
        MAX_CONTENT_LENGTH=(settings.max_upload_mb + 1) * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https"),
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE="zh",
        BABEL_DEFAULT_TIMEZONE=settings.timezone,
        JSON_SORT_KEYS=False,
    )
    if test_config:
        app.config.update(test_config)
    clock.pin(settings.app_now)  # APP_NOW: the domain's clock for a demo walkthrough
    _init_celery(app, settings)
    if settings.trusted_proxies:
        # the client's address (lockout, rate limits, audit, /metrics' loopback check)
        # and scheme from the X-Forwarded-For / -Proto the trusted proxies appended
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]

    from web import boundary, extensions

    boundary.init_app(app)  # first: NUL, deep JSON -> 400 before any hook reads the request
    extensions.init_app(app)

    from web import auth, cli, health, i18n, views

    i18n.init_app(app)
    from web import audit_labels

    audit_labels.init_app(app)  # the audit log's events and details in words
    from web.api import register_api

    app.register_blueprint(health.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(views.bp)
    from web import deputies, forms

    app.register_blueprint(forms.bp)
    app.register_blueprint(deputies.bp)
    from web import dashboard, exports, objections, public

    for area in (public, objections, dashboard, exports):  # notice, objections, statistics
        app.register_blueprint(area.bp)
    from web import reports

    app.register_blueprint(reports.bp)  # quarterly data, annual reports, re-evaluation
    from web import bases_register

    app.register_blueprint(bases_register.bp)  # /bases-register: 出口基地名录
    from web import citations

    app.register_blueprint(citations.bp)  # what a page's footer cites: its programmes
    from web import notifications

    app.register_blueprint(notifications.bp)
    from web import collaboration

    app.register_blueprint(collaboration.bp)  # claims and comments on a case (issue 17)
    from web import supervision

    app.register_blueprint(supervision.bp)  # ad hoc reports, provinces' assessments
    register_api(app)
    from web import tokens

    app.register_blueprint(tokens.bp)  # /tokens: personal API tokens (issue 7)
    from web import webhooks_page

    app.register_blueprint(webhooks_page.bp)  # /webhooks: reviewers' webhooks (issue 7)
    from web import rounds_page

    app.register_blueprint(rounds_page.bp)  # /rounds: 申报年度, kept by the ministry
    from web import security

    security.init_app(app)  # headers, audit context, admin pages, `flask audit`
    from web import errors

    errors.init_app(app)  # 400…500 pages in the layout and the user's language
    from web import keep

    keep.init_app(app)  # typed text kept in the browser until saved
    cli.init_app(app)
    from web import metrics, requestlog

    requestlog.init_app(app)  # X-Request-ID, JSON access lines
    metrics.init_app(app)  # GET /metrics (loopback or METRICS_TOKEN)
    return app
