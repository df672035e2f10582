"""Bearer-token authentication for the API."""

from __future__ import annotations

from flask import g, request
from werkzeug.exceptions import Unauthorized

from web.extensions import uow
from workflow.services import accounts


def api_user_id() -> int:
    """The id of the user whose token authorises this request, or 401."""
    if "api_user_id" in g:
        return int(g.api_user_id)
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a bearer token is required (POST /api/v1/auth/token)")
    uid = accounts.user_for_token(uow(), token.strip())
    if uid is None:
        raise Unauthorized("the token is invalid, expired or revoked")
    g.api_user_id = uid
    return uid
