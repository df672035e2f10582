"""Flask extensions and the per-request unit of work."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Flask, Request, Response, current_app, g, request, session
from flask.globals import request_ctx
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask_babel import Babel
from flask_limiter import Limiter
from flask_wtf.csrf import CSRFProtect
from itsdangerous import URLSafeTimedSerializer

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


class StatelessSession(SecureCookieSession):
    """The session of a bearer-authenticated API request: always empty, never saved."""


class Sessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except for the API called with a token.

    A request under /api/ carrying an Authorization header is stateless: its cookie is
    not read (the token alone says who calls: a browser's session cannot widen or
    narrow it, and a CSRF-protected view would find no token and refuse) and nothing is
    written back (no Set-Cookie, no Vary: Cookie). The signing serializer is built once
    per key set instead of on every request.
    """

    _serializers: dict[tuple[Any, ...], URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        found = self._serializers.get(key)
        if found is None:
            found = super().get_signing_serializer(app)
            if found is None:
                return None
            if len(self._serializers) > 16:
                self._serializers.clear()
            self._serializers[key] = found
        return found

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if "HTTP_AUTHORIZATION" in request.environ and request.path.startswith("/api/"):
            return StatelessSession()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if isinstance(session, StatelessSession):
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    app.session_interface = Sessions()
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI",
                          os.environ.get("RATELIMIT_STORAGE_URI", "memory://"))
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # on by default for every app: Flask-Limiter otherwise keeps the previous app's
    # RATELIMIT_ENABLED=False (one shared `limiter`, e.g. a test server started before)
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
    _limit_only_limited_routes(app)


def _limit_only_limited_routes(app: Flask) -> None:
    """Only requests that have a limit pay for the limiter.

    Flask-Limiter's own hooks run on every request: before it (app-wide, default and
    blueprint limits: this project has none, its limits decorate views, which check
    themselves when called), after it (rate-limit headers) and at teardown. Here the
    before hook runs only when such a limit exists or the endpoint is hinted, and the
    other two only when a limit was checked in this request (the limiter then keeps its
    per-request state on the request context). Decorated limits are untouched.
    """
    before = app.before_request_funcs.get(None, [])
    before[:] = [_limits_before_request if _is_limiter_hook(f) else f for f in before]
    for hooks in (app.after_request_funcs.get(None, []), app.teardown_request_funcs.get(None, [])):
        hooks[:] = [_if_checked(f) if _is_limiter_hook(f) else f for f in hooks]


def _is_limiter_hook(func: Any) -> bool:
    """A bound method of `limiter` or a partial of one of its methods bound to it."""
    owner = getattr(func, "__self__", None)
    if owner is None and isinstance(func, partial) and func.args:
        owner = func.args[0]
    return owner is limiter


def _limiter_needs_middleware(endpoint: str) -> bool:
    manager = limiter.limit_manager
    return bool(getattr(manager, "_application_limits", True)
                or getattr(manager, "_default_limits", True)
                or getattr(manager, "_blueprint_limits", True)
                or getattr(limiter, "_in_memory_fallback_enabled", True)
                or manager.has_hints(endpoint))


def _limits_before_request() -> None:
    if _limiter_needs_middleware(request.endpoint or ""):
        limiter._check_request_limit()


def _if_checked(hook: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The limiter's after-request or teardown hook, run when a limit was checked."""

    def run_if_checked(arg: Any) -> Any:
        if hasattr(request_ctx, _LIMITER_STATE):
            return hook(arg)
        return arg  # the response (after request); teardown's value is ignored

    return run_if_checked


_LIMITER_STATE = "_limiter_request_context"


def uow() -> UnitOfWork:
    """A new unit of work on the app's database (services open and close it)."""
    return UnitOfWork(factory=session_factory(current_app.config["DATABASE_URL"]))


def client_ip() -> str:
    return request.remote_addr or "-"
