"""Flask extensions and the per-request unit of work."""

from __future__ import annotations

from flask import Flask, Request, Response, current_app, g, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask_babel import Babel
from flask_limiter import Limiter
from flask_wtf.csrf import CSRFProtect

from config import Settings
from workflow.storage.db import session_factory
from workflow.storage.uow import UnitOfWork

babel = Babel()
csrf = CSRFProtect()


def _limit_key() -> str:
    return request.remote_addr or "-"


# Rate limits (login, token creation, the public objection form): decorate a view with
# @limiter.limit("10 per minute"). Storage: Settings.ratelimit_storage_uri (redis://… in
# production).
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
    written back (no Set-Cookie, no Vary: Cookie).
    """

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
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["SETTINGS"].ratelimit_storage_uri)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # on by default for every app: Flask-Limiter otherwise keeps the previous app's
    # RATELIMIT_ENABLED=False (one shared `limiter`, e.g. a test server started before)
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)


def settings() -> Settings:
    """The settings this app was made with (`create_app(settings)`)."""
    return current_app.config["SETTINGS"]  # type: ignore[no-any-return]


def uow() -> UnitOfWork:
    """A new unit of work on the app's database (services open and close it)."""
    return UnitOfWork(factory=session_factory(current_app.config["DATABASE_URL"]))


def client_ip() -> str:
    return request.remote_addr or "-"
