"""Flask extensions and the per-request unit of work."""

from __future__ import annotations

import os

from flask import Flask, current_app, g, request, session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_wtf.csrf import CSRFProtect

from workflow.storage.db import session_factory
from workflow.storage.uow import UnitOfWork

babel = Babel()
csrf = CSRFProtect()


def _limit_key() -> str:
    return request.remote_addr or "-"


# Rate limits (login, token creation, the public objection form): decorate a view with
# @limiter.limit("10 per minute"). Storage from RATELIMIT_STORAGE_URI (redis://… in production).
limiter = Limiter(_limit_key)
LOCALES = ("zh", "en")


def select_locale() -> str:
    """The session's choice, else the logged-in user's saved `locale`, else Chinese."""
    lang = session.get("lang")
    if lang is None and session.get("user_id"):
        from web.auth import current_user  # late: auth imports this module

        current_user()
        lang = getattr(g, "user_locale", None)
    if lang in LOCALES:
        return lang
    return "zh"  # Chinese first, whatever the browser says


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI",
                          os.environ.get("RATELIMIT_STORAGE_URI", "memory://"))
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # on by default for every app: Flask-Limiter otherwise keeps the previous app's
    # RATELIMIT_ENABLED=False (one shared `limiter`, e.g. a test server started before)
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)


def uow() -> UnitOfWork:
    """A new unit of work on the app's database (services open and close it)."""
    return UnitOfWork(factory=session_factory(current_app.config["DATABASE_URL"]))


def client_ip() -> str:
    return request.remote_addr or "-"
