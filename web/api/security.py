"""Bearer-token authentication for the API: login tokens and personal API tokens alike."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, g, request
from werkzeug.exceptions import Unauthorized

from web.extensions import uow
from workflow import permissions
from workflow.errors import Forbidden, refuse
from workflow.services import audit, tokens
from workflow.services.clock import real_utcnow
from workflow.services.tokens import token_digest

READ_METHODS = ("GET", "HEAD", "OPTIONS")

# A token checked a moment ago is taken at its word for TOKEN_CACHE_SECONDS (by the
# machine's clock) instead of opening a transaction for it on every request: that lookup
# was a third of an API transition's time. Any audited change to a user or a token in
# this process (revoke, disable, role or password change…) drops the whole cache at once;
# other processes see it within TOKEN_CACHE_SECONDS. Only successes are kept.
TOKEN_CACHE_SECONDS = 2.0
_TOKEN_CACHE_MAX = 10_000
_recent: dict[tuple[str, str], tuple[datetime, tokens.Principal]] = {}
_ZERO, _TRUSTED_FOR = timedelta(0), timedelta(seconds=TOKEN_CACHE_SECONDS)


def _forget_on_change(_event: str, object_type: str | None) -> None:
    if object_type in ("user", "api_token"):
        _recent.clear()


audit.watch(_forget_on_change)


def _principal(token: str) -> tokens.Principal | None:
    key = (current_app.config["DATABASE_URL"], token_digest(token))
    now = real_utcnow()
    hit = _recent.get(key)
    if hit is not None and _ZERO <= now - hit[0] < _TRUSTED_FOR:
        return hit[1]
    principal = tokens.authenticate(uow(), token)
    if principal is None:
        _recent.pop(key, None)
        return None
    if len(_recent) >= _TOKEN_CACHE_MAX:
        _recent.clear()
    _recent[key] = (now, principal)
    return principal


class _TokenOwner:
    """The role a bearer token speaks with (what `workflow.permissions` asks)."""

    def __init__(self, role: str) -> None:
        self.role = role


def api_user_may(action: str) -> bool:
    """Whether the token's owner's role may take `action` (authenticating first: 401)."""
    api_user_id()
    return permissions.allowed(_TokenOwner(g.get("api_user_role", "")), action)


def api_user_id() -> int:
    """The id of the user whose token authorises this request, or 401.

    A token speaks for its owner with the owner's role and scope as they are now; a
    `read` token may only read (403 `token_read_only` otherwise)."""
    if "api_user_id" in g:
        return int(g.api_user_id)
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a bearer token is required (POST /api/v1/auth/token)")
    principal = _principal(token.strip())
    if principal is None:
        raise Unauthorized("the token is invalid, expired or revoked")
    if principal.scope == "read" and request.method not in READ_METHODS:
        raise Forbidden(refuse("token_read_only", "该令牌为只读令牌，不能修改数据",
                               "this token is read-only"))
    g.api_user_id = principal.user_id
    g.api_user_role = principal.role
    g.api_token_id = principal.token_id
    g.api_token_scope = principal.scope
    return principal.user_id
