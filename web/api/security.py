"""Bearer-token authentication for the API: login tokens and personal API tokens alike."""

from __future__ import annotations

from flask import g, request
from werkzeug.exceptions import Unauthorized

from web.extensions import uow
from workflow.errors import Forbidden, refuse
from workflow.services import tokens

READ_METHODS = ("GET", "HEAD", "OPTIONS")


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
    principal = tokens.authenticate(uow(), token.strip())
    if principal is None:
        raise Unauthorized("the token is invalid, expired or revoked")
    if principal.scope == "read" and request.method not in READ_METHODS:
        raise Forbidden(refuse("token_read_only", "该令牌为只读令牌，不能修改数据",
                               "this token is read-only"))
    g.api_user_id = principal.user_id
    g.api_token_id = principal.token_id
    g.api_token_scope = principal.scope
    return principal.user_id
