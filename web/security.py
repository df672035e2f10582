"""Web hardening for every response: security headers, the client address for the audit
log, denied requests audited, rate-limit keys, and the `flask audit` commands.

GB/T 22239-2019 8.1.4.4 (入侵防范); OWASP ASVS 5.0 V3 (web frontend), V4, V8.
"""

from __future__ import annotations

import sys
from typing import Any

import click
from flask import (
    Flask,
    Response,
    current_app,
    g,
    make_response,
    render_template,
    request,
    session,
)
from flask.cli import AppGroup
from werkzeug.exceptions import HTTPException, TooManyRequests

from web.extensions import client_ip, limiter, uow
from workflow.errors import DomainError, Forbidden, NotFound
from workflow.services import audit

# No inline script or style, no plugins, never framed (clickjacking), forms post here only.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
HSTS = "max-age=31536000; includeSubDomains"


def _login_key() -> str:
    """Rate-limit key for logins: the address and the user name tried."""
    name = request.form.get("username") if request.form else None
    if name is None:
        body = request.get_json(silent=True)
        name = body.get("username") if isinstance(body, dict) else None
    return f"{client_ip()}|{str(name or '')[:64].lower()}"


def _address_key() -> str:
    return client_ip()


def _user_key() -> str:
    """Rate-limit key per user (token creation, uploads): the user (browser session or
    bearer token), so colleagues behind one office address do not share a budget and new
    tokens do not buy a fresh one; the address when nobody is logged in."""
    user_id = session.get("user_id")
    if user_id is None and request.headers.get("Authorization"):
        from web.api.security import api_user_id  # late: the API package imports this one

        try:
            user_id = api_user_id()
        except (HTTPException, DomainError):
            user_id = None  # the view answers 401/403 itself
    return f"user:{user_id}" if user_id is not None else f"address:{client_ip()}"


def _post_only() -> bool:
    return request.method != "POST"


# Brute force: 10 tries a minute per (address, user name), 60 a minute per address; the
# account lockout (security_policy.Policy) is the second line. Applied to the web and API logins.
LOGIN_LIMITS = [
    limiter.limit("10 per minute", key_func=_login_key, exempt_when=_post_only,
                  scope="login-user"),
    limiter.limit("60 per minute", key_func=_address_key, exempt_when=_post_only,
                  scope="login-address"),
]
# Token creation (POST /tokens, POST /api/v1/tokens; issue 8 §4): 20 an hour per user, the
# same budget on the page and the API. The public objection form uses its own limit.
TOKEN_LIMIT = limiter.shared_limit("20 per hour", scope="token-create",
                                   key_func=_user_key, exempt_when=_post_only)

# Uploads (attachments, the quarterly Excel import, annual reports; page and API alike):
# one budget per user, so nobody keeps the web workers unpacking and parsing files (issue
# "Hardening" 1). UPLOAD_RATE_LIMIT in the app's config overrides it (tests).
DEFAULT_UPLOAD_LIMIT = "6 per minute; 60 per hour"


def upload_limit() -> str:
    return str(current_app.config.get("UPLOAD_RATE_LIMIT") or DEFAULT_UPLOAD_LIMIT)


def _not_an_upload() -> bool:
    """A request that carries no file (a GET, a draft saved without one) is not counted."""
    return request.method != "POST" or not any(f.filename for f in request.files.values())


UPLOAD_TOO_MANY = "more uploads than 6 a minute or 60 an hour from one user"
UPLOAD_LIMIT = limiter.shared_limit(upload_limit, scope="uploads", key_func=_user_key,
                                    exempt_when=_not_an_upload)


def _bind_client() -> None:
    audit.bind_ip(client_ip())


# (lower-case name, name, value): every response gets those it does not set itself
_HARDENING = tuple((name.lower(), name, value) for name, value in HEADERS.items())


def _harden(resp: Response) -> Response:
    headers = resp.headers
    have = {key.lower() for key, _ in headers}
    headers.extend([(name, value) for low, name, value in _HARDENING if low not in have])
    if "strict-transport-security" not in have and (
            request.is_secure or current_app.config.get("SESSION_COOKIE_SECURE")):
        headers["Strict-Transport-Security"] = HSTS
    if "HTTP_AUTHORIZATION" in request.environ or "user_id" in session:
        # personal pages, exports and downloads stay out of every cache (send_file's own
        # "no-cache" still lets a shared cache store them); static files keep their own
        if request.endpoint == "static":
            headers.setdefault("Cache-Control", "no-store")
        elif "no-store" not in headers.get("Cache-Control", ""):
            headers["Cache-Control"] = "no-store"
    if resp.status_code == 403:
        _audit_denied(resp)
    return resp


def _audit_denied(resp: Response) -> None:
    """Every refused request is a security event (GB/T 22239 8.1.4.3 a)."""
    user = g.get("user")
    who = audit.Who.of(user) if user is not None else audit.Who(g.get("api_user_id"), None)
    try:
        audit.log(uow(), "access_denied", who=who, result="denied",
                  details={"method": request.method, "path": request.path[:200]})
    except Exception:  # noqa: BLE001 - the response goes out even if the log is down
        current_app.logger.exception("could not audit a denied request")


def _refused(err: DomainError) -> Any:
    """A refusal no view handled itself: problem+json under /api, else the error page in
    the user's language with the refusal's status, never a 500 (an admin opening a case
    export, say). The 403 is audited like any other (`_harden`)."""
    if request.path.startswith("/api/"):
        from web.api.errors import domain_problem

        return domain_problem(err)
    from web.i18n import lang

    return render_template("error.html", status=err.status,
                           message=err.first.message(lang())), err.status


def _too_many(err: TooManyRequests) -> Any:
    """Over a rate limit where no page answers it itself (uploads, the login form): the
    error page in the user's language with Retry-After; problem+json under /api."""
    if request.path.startswith("/api/"):
        from web.api.errors import http_problem

        return http_problem(err)
    from flask_babel import gettext as _

    resp = make_response(render_template("error.html", status=429,
                                         message=_("操作过于频繁，请稍后再试")), 429)
    retry = getattr(err, "retry_after", None)
    if retry:
        resp.headers["Retry-After"] = str(int(retry))
    return resp


# --- flask audit … -----------------------------------------------------------------------

audit_cli = AppGroup("audit", help="The audit log (append-only, hash-chained).")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Check the hash chain; name the first record modified, deleted or out of order."""
    report = audit.verify(uow())
    click.echo(report.describe())
    if not report.ok:
        sys.exit(1)


def init_app(app: Flask) -> None:
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.before_request(_bind_client)
    app.after_request(_harden)
    for refusal in (Forbidden, NotFound):
        app.register_error_handler(refusal, _refused)
    app.register_error_handler(TooManyRequests, _too_many)
    app.cli.add_command(audit_cli)

    from web import admin

    app.register_blueprint(admin.bp)

