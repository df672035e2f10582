"""POST /api/v1/auth/token: exchange a username and password for a bearer token."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from web.api.blueprint import Blueprint
from web.api.errors import too_many
from web.extensions import client_ip, settings, uow
from web.security import LOGIN_LIMITS
from workflow.services import authentication, tokens

bp = Blueprint("auth_api", __name__, url_prefix="/api/v1/auth",
               description="Tokens (令牌)")


class Credentials(Schema):
    username = fields.String(required=True, validate=validate.Length(1, 64),
                             metadata={"example": "hubei_reviewer"})
    password = fields.String(required=True, validate=validate.Length(1, 200),
                             metadata={"example": "demo-password-1"})
    otp = fields.String(load_default=None, validate=validate.Length(6, 24), metadata={
        "description": "the current one-time code, for users who enrolled a TOTP app "
                       "(admins must), or one of their recovery codes (spent by this use)",
        "example": "123456"})


class TokenOut(Schema):
    token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_at = fields.DateTime(allow_none=True)


@bp.route("/token")
class Token(MethodView):
    decorators = LOGIN_LIMITS  # type: ignore[assignment]  # brute force: per address and user name, then per address
    @bp.arguments(Credentials)
    @bp.response(201, TokenOut)
    @bp.alt_response(403, description="password_change_required: the password is temporary "
                     "(set by the system admin) or has expired; change it on the web first")
    @bp.alt_response(429, **too_many("too many attempts: 10 a minute per address and user "
                                     "name, 60 per address"))
    @bp.doc(security=[])
    def post(self, creds: dict[str, Any]) -> Any:
        """Log in and receive a bearer token (12 hours, or until you log out or change
        your password)."""
        uid = authentication.authenticate(uow(), creds["username"], creds["password"],
                                    ip=client_ip(), otp=creds.get("otp"),
                                    secret_key=settings().secret_key)
        issued = tokens.issue_token(uow(), uid)
        return {"token": issued.token, "token_type": "Bearer", "expires_at": issued.expires_at}
