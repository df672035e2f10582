"""Personal API tokens: create (shown once), list, revoke — the same as the /tokens page."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from web.api.blueprint import Blueprint
from web.api.errors import too_many
from web.api.security import api_user_id
from web.auth import declares
from web.extensions import uow
from web.security import TOKEN_LIMIT
from workflow.services import tokens
from workflow.services.clock import real_utcnow

bp = Blueprint("tokens_api", __name__, url_prefix="/api/v1/tokens",
               description="Personal API tokens (个人访问令牌): stored hashed, optional expiry")


class TokenIn(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 100),
                         metadata={"example": "湖北省商务厅数据接口"})
    scope = fields.String(load_default="read_write", validate=validate.OneOf(tokens.SCOPES),
                          metadata={"description": "read: GET only; read_write: everything "
                                                   "the owner may do"})
    expires_on = fields.Date(allow_none=True, metadata={
        "description": f"last valid day (China time), at most {tokens.MAX_DAYS} days ahead; "
                       "null: no expiry", "example": "2006-12-31"})


class PersonalToken(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    prefix = fields.String(required=True, metadata={"example": "eib_AbCdEfGh"})
    scope = fields.String(required=True, validate=validate.OneOf(tokens.SCOPES))
    created_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)
    active = fields.Boolean(required=True)


class CreatedToken(PersonalToken):
    token = fields.String(required=True, metadata={
        "description": "the token itself — shown only now; send it as `Authorization: "
                       "Bearer …`", "example": "eib_AbCdEfGh…"})


def token_out(row: Any) -> dict[str, Any]:
    now = real_utcnow()
    return {"id": row.id, "name": row.name, "prefix": row.prefix, "scope": row.scope,
            "created_at": row.created_at, "expires_at": row.expires_at,
            "revoked_at": row.revoked_at, "last_used_at": row.last_used_at,
            "active": row.revoked_at is None and (row.expires_at is None
                                                  or row.expires_at > now)}


@bp.route("")
@declares(get="account.own", post="account.own")
class Tokens(MethodView):
    decorators = [TOKEN_LIMIT]  # POST only: 20 new tokens an hour per user (429 rate_limited)

    @bp.response(200, PersonalToken(many=True))
    def get(self) -> Any:
        """Your tokens, newest first (the token values are never shown again)."""
        return [token_out(r) for r in tokens.list_own(uow(), api_user_id())]

    @bp.arguments(TokenIn, example={"name": "湖北省商务厅数据接口", "scope": "read_write",
                                    "expires_on": "2006-12-31"})
    @bp.response(201, CreatedToken)
    @bp.alt_response(429, **too_many("more than 20 new tokens in an hour"))
    def post(self, data: dict[str, Any]) -> Any:
        """Create a personal token carrying your role and scope; copy it now."""
        made = tokens.create(uow(), api_user_id(), data["name"], data["scope"],
                             data.get("expires_on"))
        return {"id": made.id, "token": made.token, "name": made.name, "prefix": made.prefix,
                "scope": made.scope, "created_at": made.created_at,
                "expires_at": made.expires_at, "revoked_at": None, "last_used_at": None,
                "active": True}


@bp.route("/<int(max=2147483647):token_id>")
@declares(delete="account.own")
class OneToken(MethodView):
    @bp.response(204)
    def delete(self, token_id: int) -> Any:
        """Revoke one of your tokens (at once; requests with it then get 401)."""
        tokens.revoke(uow(), api_user_id(), token_id)
        return None
